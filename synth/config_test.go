package synth

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPresets(t *testing.T) {
	want := map[string]float64{"default": 0.5, "shape-only": 1, "boundary-only": 0}
	for _, name := range PresetNames() {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if c.PShape != want[name] {
			t.Errorf("%s: p_shape %g, want %g", name, c.PShape, want[name])
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s does not validate: %v", name, err)
		}
	}
	if _, err := Preset("shapes"); err == nil || !strings.Contains(err.Error(), `unknown preset "shapes"`) {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestDefaultsAreMethodValues(t *testing.T) {
	c := DefaultConfig()
	// A few of method.md's numbers, spelled out independently.
	checks := []struct {
		name      string
		got, want any
	}{
		{"objects", c.Shape.Objects, IntRange{1, 5}},
		{"control points", c.Shape.ControlPoints, IntRange{3, 12}},
		{"object radius", c.Shape.Radius, Range{0.03, 0.55}},
		{"radius log-uniform", c.Shape.RadiusLogUniform, true},
		{"target area", c.TargetArea, Range{0.001, 0.6}},
		{"phantom radius", c.Shape.PhantomRadius, Range{0.30, 0.48}},
		{"contrast", c.Shape.Contrast, Range{0.02, 0.6}},
		{"labels", c.Boundary.Labels, IntRange{3, 15}},
		{"noise scales", c.Boundary.NoiseScales, []float64{32, 64}},
		{"large scale", c.Boundary.LargeScale, 128.0},
		{"p large scale", c.Boundary.PLargeScale, 0.5},
		{"warp scales", c.Boundary.WarpScales, []float64{16, 32, 64}},
		{"poisson peak", c.Noise.Poisson.Peak, Range{10, 1000}},
		{"rician", c.Noise.Rician.Sigma, Range{0, 0.1}},
		{"min area", c.MinArea, 0.001},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestConfigRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c, _ := Preset("boundary-only")
	c.Size = 320
	c.Noise.Perlin.Cells = IntRange{3, 9}
	c.Boundary.WarpScales = []float64{20, 40}

	y, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	yamlPath := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(yamlPath, y, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := LoadConfig(yamlPath, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("YAML round trip changed the config:\n%s", y)
	}

	j, _ := json.Marshal(c)
	jsonPath := filepath.Join(dir, "c.json")
	os.WriteFile(jsonPath, j, 0o644)
	back, err = LoadConfig(jsonPath, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("JSON round trip changed the config: %s", j)
	}
}

func TestLoadConfigOverridesOnlyGivenFields(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yml")
	os.WriteFile(path, []byte("size: 128\nshape:\n  objects: {min: 2, max: 3}\n"), 0o644)
	c, err := LoadConfig(path, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Size = 128
	want.Shape.Objects = IntRange{2, 3}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v", c)
	}
}

func TestLoadConfigErrorsNameTheProblem(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ file, body, want string }{
		{"a.yaml", "sise: 12\n", "field sise not found"},
		{"b.json", `{"p_shape": 0.5, "colour": 1}`, `unknown field "colour"`},
		{"c.yaml", "shape:\n  radius: {min: 0.5, max: 0.1}\n", "shape.radius: min 0.5 > max 0.1"},
		{"d.yaml", "noise:\n  p: 1.5\n", "noise.p = 1.5 is not a probability"},
		{"e.yaml", "size: 16\n", "size 16 outside [32, 16384]"},
		{"f.toml", "size = 3", "unknown extension"},
		{"g.yaml", "size: [1, 2]\n", "cannot unmarshal"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.file)
		os.WriteFile(path, []byte(c.body), 0o644)
		_, err := LoadConfig(path, DefaultConfig())
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", c.file, err, c.want)
		}
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml"), DefaultConfig()); err == nil {
		t.Error("missing file accepted")
	}
}

func TestValidateRejectsEachBadSetting(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"small", func(c *Config) { c.Size = 31 }, "size 31"},
		{"huge", func(c *Config) { c.Size = 1 << 20 }, "size 1048576"},
		{"p_shape", func(c *Config) { c.PShape = -0.1 }, "p_shape"},
		{"min_area", func(c *Config) { c.MinArea = 0 }, "min_area"},
		{"tries", func(c *Config) { c.MaxTries = 0 }, "max_tries"},
		{"objects", func(c *Config) { c.Shape.Objects = IntRange{4, 2} }, "shape.objects: min 4 > max 2"},
		{"objects 0", func(c *Config) { c.Shape.Objects = IntRange{0, 2} }, "shape.objects"},
		{"phantom p", func(c *Config) { c.Shape.PPhantom = 2 }, "shape.p_phantom"},
		{"contrast", func(c *Config) { c.Shape.Contrast = Range{0.2, 1.5} }, "shape.contrast"},
		{"labels", func(c *Config) { c.Boundary.Labels = IntRange{10, 300} }, "boundary.labels"},
		{"scales", func(c *Config) { c.Boundary.NoiseScales = nil }, "boundary.noise_scales is empty"},
		{"neg scale", func(c *Config) { c.Boundary.WarpScales = []float64{-1} }, "boundary.warp_scales: -1 outside [4, 4096]"},
		{"tiny scale", func(c *Config) { c.Boundary.NoiseScales = []float64{32, 0.001} }, "boundary.noise_scales: 0.001 outside"},
		{"many scales", func(c *Config) { c.Boundary.NoiseScales = []float64{8, 8, 8, 8, 8, 8, 8, 8, 8} }, "at most 8"},
		{"huge blur", func(c *Config) { c.Noise.Blur.Sigma = Range{0, 1e6} }, "noise.blur.sigma"},
		{"huge speckle blur", func(c *Config) { c.Noise.Speckle.SmoothSigma = Range{0, 100} }, "noise.speckle.smooth_sigma"},
		{"huge objects", func(c *Config) { c.Shape.Radius = Range{0.1, 50} }, "shape.radius"},
		{"erode p", func(c *Config) { c.Boundary.PErode = 1.01 }, "boundary.p_erode"},
		{"peak", func(c *Config) { c.Noise.Poisson.Peak = Range{0, 10} }, "noise.poisson.peak min"},
		{"octaves", func(c *Config) { c.Noise.Perlin.Octaves = IntRange{3, 1} }, "noise.perlin.octaves"},
		{"lacunarity", func(c *Config) { c.Noise.Perlin.Lacunarity = 0.5 }, "noise.perlin.lacunarity"},
		{"beta", func(c *Config) { c.Noise.Speckle.Beta = Range{0, 2} }, "noise.speckle.beta"},
		{"target area", func(c *Config) { c.TargetArea = Range{0.01, 2} }, "target_area"},
		{"target area 0", func(c *Config) { c.TargetArea = Range{0, 0.5} }, "target_area min"},
		{"log radius 0", func(c *Config) { c.Shape.Radius = Range{0, 0.5} }, "shape.radius min (log-uniform)"},
		{"p large", func(c *Config) { c.Boundary.PLargeScale = 1.5 }, "boundary.p_large_scale"},
		{"large scale", func(c *Config) { c.Boundary.LargeScale = 0 }, "boundary.large_scale: 0 outside"},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		tc.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
		if _, gerr := NewGenerator(c); gerr == nil {
			t.Errorf("%s: NewGenerator accepted the config", tc.name)
		}
	}
}
