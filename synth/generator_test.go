package synth

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func generator(t testing.TB, preset string, size int, edit ...func(*Config)) *Generator {
	t.Helper()
	c, err := Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	c.Size = size
	for _, e := range edit {
		e(&c)
	}
	g, err := NewGenerator(c)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func sample(t testing.TB, g *Generator, seed uint64, index int) *Sample {
	t.Helper()
	s, err := g.Sample(seed, index)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameSample(a, b *Sample) bool {
	ma, _ := json.Marshal(a.Meta)
	mb, _ := json.Marshal(b.Meta)
	return bytes.Equal(a.Image.Pix, b.Image.Pix) && bytes.Equal(a.Mask.Pix, b.Mask.Pix) && bytes.Equal(ma, mb)
}

func TestSampleIsAPureFunctionOfSeedAndIndex(t *testing.T) {
	g := generator(t, "default", 96)
	a := sample(t, g, 42, 7)
	sample(t, g, 42, 8) // other work in between must not matter
	b := sample(t, g, 42, 7)
	if !sameSample(a, b) {
		t.Fatal("the same (seed, index) gave different samples")
	}
	// A fresh generator from an equal config agrees too.
	if c := sample(t, generator(t, "default", 96), 42, 7); !sameSample(a, c) {
		t.Fatal("a second generator gave a different sample")
	}
	if c := sample(t, g, 43, 7); bytes.Equal(a.Image.Pix, c.Image.Pix) {
		t.Error("seeds 42 and 43 gave the same image")
	}
	if c := sample(t, g, 42, 6); bytes.Equal(a.Image.Pix, c.Image.Pix) {
		t.Error("indices 6 and 7 gave the same image")
	}
	if a.Meta.Seed != 42 || a.Meta.Index != 7 || a.Meta.Size != 96 {
		t.Errorf("metadata %+v", a.Meta)
	}
	if _, err := g.Sample(1, -1); err == nil {
		t.Error("negative index accepted")
	}
}

func TestSampleShapes(t *testing.T) {
	for _, preset := range PresetNames() {
		g := generator(t, preset, 80)
		for i := range 6 {
			s := sample(t, g, 3, i)
			if b := s.Image.Bounds(); b.Dx() != 80 || b.Dy() != 80 || s.Mask.Bounds() != b {
				t.Fatalf("%s: image %v mask %v", preset, b, s.Mask.Bounds())
			}
			area := 0
			for _, m := range s.Mask.Pix {
				if m != 0 && m != 255 {
					t.Fatalf("%s: mask value %d", preset, m)
				}
				if m == 255 {
					area++
				}
			}
			if area != s.Meta.TargetArea || area < g.minAreaPixels() {
				t.Errorf("%s #%d: mask area %d, metadata %d, min %d", preset, i, area, s.Meta.TargetArea, g.minAreaPixels())
			}
			f := s.ImageFloat32(nil)
			if len(f) != 80*80 || f[0] != float32(s.Image.Pix[0])/255 {
				t.Errorf("ImageFloat32 %d values, first %g", len(f), f[0])
			}
		}
	}
}

func TestModuleMixFollowsPShape(t *testing.T) {
	g := generator(t, "default", 48)
	shapes := 0
	const n = 400
	for i := range n {
		d := draw{sampleRNG(5, i)}
		if d.bernoulli(g.cfg.PShape) {
			shapes++
		}
	}
	// Binomial(400, 0.5): sd 10.
	if shapes < 160 || shapes > 240 {
		t.Errorf("%d of %d shape draws, want about half", shapes, n)
	}
	for _, preset := range []string{"shape-only", "boundary-only"} {
		g := generator(t, preset, 48)
		for i := range 10 {
			s := sample(t, g, 5, i)
			if (s.Meta.Module == ModuleShape) != (preset == "shape-only") {
				t.Fatalf("%s gave a %s sample", preset, s.Meta.Module)
			}
		}
	}
}

func TestSampleRNGStreamsDiffer(t *testing.T) {
	// Neighbouring indices and seeds start on unrelated draws.
	first := map[uint64]bool{}
	for seed := range uint64(4) {
		for i := range 50 {
			v := sampleRNG(seed, i).Uint64()
			if first[v] {
				t.Fatalf("seed %d index %d repeats a first draw", seed, i)
			}
			first[v] = true
		}
	}
	var sum float64
	for i := range 1000 {
		sum += sampleRNG(1, i).Float64()
	}
	if m := sum / 1000; math.Abs(m-0.5) > 0.05 {
		t.Errorf("mean first draw over indices %.3f", m)
	}
}

func TestConfigCopiedByGenerator(t *testing.T) {
	c := DefaultConfig()
	c.Size = 64
	g, err := NewGenerator(c)
	if err != nil {
		t.Fatal(err)
	}
	c.Boundary.NoiseScales[0] = 1
	if !reflect.DeepEqual(g.Config().Boundary.NoiseScales, []float64{32, 64}) {
		t.Error("changing the caller's config changed the generator's")
	}
}

func TestBoundaryModuleWithoutDisplacement(t *testing.T) {
	g := generator(t, "boundary-only", 64, func(c *Config) { c.Boundary.WarpScales = nil })
	for i := range 5 {
		s := sample(t, g, 2, i)
		if len(s.Meta.Boundary.WarpSigmas) != 0 || s.Meta.TargetArea < g.minAreaPixels() {
			t.Fatalf("#%d: %+v", i, s.Meta.Boundary)
		}
	}
}
