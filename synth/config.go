package synth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Range is a closed interval [Min, Max] of real values.
type Range struct {
	Min float64 `yaml:"min" json:"min"`
	Max float64 `yaml:"max" json:"max"`
}

// IntRange is a closed interval [Min, Max] of integers.
type IntRange struct {
	Min int `yaml:"min" json:"min"`
	Max int `yaml:"max" json:"max"`
}

// Config holds every size, range and probability of the data engine.
// DefaultConfig gives method.md's values; lengths marked "at 256²" or
// "at 1024²" scale linearly with Size.
type Config struct {
	Size    int     `yaml:"size" json:"size"`         // image side in pixels
	PShape  float64 `yaml:"p_shape" json:"p_shape"`   // probability of the shape module
	MinArea float64 `yaml:"min_area" json:"min_area"` // smallest target / visible object, fraction of the canvas
	// TargetArea is the range of the desired target area a*, a fraction
	// of the canvas drawn log-uniformly per sample (method.md §2b): of the
	// candidates a module makes, the one closest to a* in log area becomes
	// the target. {0, 0} turns the rule off: the target is then a
	// uniformly random candidate, as in the first generator.
	TargetArea Range `yaml:"target_area,flow" json:"target_area"`
	// MaxTries bounds every redraw loop (object placement, point sets,
	// boundary label maps without a large enough region).
	MaxTries int            `yaml:"max_tries" json:"max_tries"`
	Shape    ShapeConfig    `yaml:"shape" json:"shape"`
	Boundary BoundaryConfig `yaml:"boundary" json:"boundary"`
	Noise    NoiseConfig    `yaml:"noise" json:"noise"`
}

// ShapeConfig is the shape-aware module (method.md §1).
type ShapeConfig struct {
	Objects       IntRange `yaml:"objects,flow" json:"objects"`               // K
	ControlPoints IntRange `yaml:"control_points,flow" json:"control_points"` // n
	RadiusJitter  Range    `yaml:"radius_jitter,flow" json:"radius_jitter"`   // r_i / R
	MinPointGap   float64  `yaml:"min_point_gap" json:"min_point_gap"`        // × R/n
	Rad           Range    `yaml:"rad,flow" json:"rad"`                       // handle length / edge
	Edgy          Range    `yaml:"edgy,flow" json:"edgy"`
	Radius        Range    `yaml:"radius,flow" json:"radius"` // R, fraction of the side
	// RadiusLogUniform draws R log-uniformly in Radius (method.md §2b);
	// false draws it uniformly (the first generator).
	RadiusLogUniform bool `yaml:"radius_log_uniform" json:"radius_log_uniform"`
	Rotate           bool `yaml:"rotate" json:"rotate"` // random rotation of each object
	// Background: a phantom on the black canvas with probability PPhantom.
	PPhantom         float64 `yaml:"p_phantom" json:"p_phantom"`
	PEllipse         float64 `yaml:"p_ellipse" json:"p_ellipse"`                      // ellipse rather than circle
	PhantomOffset    float64 `yaml:"phantom_offset" json:"phantom_offset"`            // centre within ± this × side
	PhantomRadius    Range   `yaml:"phantom_radius,flow" json:"phantom_radius"`       // × side
	PhantomIntensity Range   `yaml:"phantom_intensity,flow" json:"phantom_intensity"` // I_b
	PInsidePhantom   float64 `yaml:"p_inside_phantom" json:"p_inside_phantom"`        // object centre inside it
	Contrast         Range   `yaml:"contrast,flow" json:"contrast"`                   // α
	TextureAmplitude Range   `yaml:"texture_amplitude,flow" json:"texture_amplitude"` // a in (1 + a·T)
}

// BoundaryConfig is the boundary-aware module (method.md §2).
type BoundaryConfig struct {
	Labels      IntRange  `yaml:"labels,flow" json:"labels"`             // J
	NoiseScales []float64 `yaml:"noise_scales,flow" json:"noise_scales"` // px at 256²
	NoiseSigma  Range     `yaml:"noise_sigma,flow" json:"noise_sigma"`   // per scale
	// With probability PLargeScale one more noise scale, LargeScale px at
	// 256², joins NoiseScales for the sample, so that large regions exist
	// (method.md §2b). PLargeScale 0 never adds it (the first generator).
	LargeScale  float64   `yaml:"large_scale" json:"large_scale"`
	PLargeScale float64   `yaml:"p_large_scale" json:"p_large_scale"`
	WarpScales  []float64 `yaml:"warp_scales,flow" json:"warp_scales"`   // px at 256²
	WarpSigma   Range     `yaml:"warp_sigma,flow" json:"warp_sigma"`     // px at 256², per scale
	PErode      float64   `yaml:"p_erode" json:"p_erode"`                // per label
	ErodeMax    float64   `yaml:"erode_max" json:"erode_max"`            // k_max at 256²
	CanvasMean  Range     `yaml:"canvas_mean,flow" json:"canvas_mean"`   // μ
	CanvasWidth Range     `yaml:"canvas_width,flow" json:"canvas_width"` // w
	Outliers    Range     `yaml:"outliers,flow" json:"outliers"`         // ρ
	GapContrast Range     `yaml:"gap_contrast,flow" json:"gap_contrast"` // |δ|
	PNoise      float64   `yaml:"p_noise" json:"p_noise"`                // apply the noise library
}

// NoiseConfig is the noise library (method.md §1) and the Perlin field
// it shares with the object texture (§3).
type NoiseConfig struct {
	P        float64       `yaml:"p" json:"p"` // each model is switched on with this probability
	Blur     BlurConfig    `yaml:"blur" json:"blur"`
	Perlin   PerlinConfig  `yaml:"perlin" json:"perlin"`
	Speckle  SpeckleConfig `yaml:"speckle" json:"speckle"`
	Poisson  PoissonConfig `yaml:"poisson" json:"poisson"`
	Gaussian SigmaConfig   `yaml:"gaussian" json:"gaussian"`
	Rician   SigmaConfig   `yaml:"rician" json:"rician"`
}

// BlurConfig is the Gaussian blur.
type BlurConfig struct {
	Sigma Range `yaml:"sigma,flow" json:"sigma"` // px at 1024²
}

// PerlinConfig is the fractal Perlin field of the shading model and the texture.
type PerlinConfig struct {
	Amplitude   Range    `yaml:"amplitude,flow" json:"amplitude"` // a in y = x + a·P
	Cells       IntRange `yaml:"cells,flow" json:"cells"`         // base cells per side
	Octaves     IntRange `yaml:"octaves,flow" json:"octaves"`
	Persistence float64  `yaml:"persistence" json:"persistence"`
	Lacunarity  float64  `yaml:"lacunarity" json:"lacunarity"`
}

// SpeckleConfig is the Rayleigh speckle.
type SpeckleConfig struct {
	Beta        Range   `yaml:"beta,flow" json:"beta"`
	PSmooth     float64 `yaml:"p_smooth" json:"p_smooth"`
	SmoothSigma Range   `yaml:"smooth_sigma,flow" json:"smooth_sigma"` // px at 256²
}

// PoissonConfig is the shot noise.
type PoissonConfig struct {
	Peak Range `yaml:"peak,flow" json:"peak"` // λ, drawn log-uniformly
}

// SigmaConfig is a noise model with one standard deviation.
type SigmaConfig struct {
	Sigma Range `yaml:"sigma,flow" json:"sigma"`
}

// Size limits; MaxSize keeps one sample's buffers (about 40 bytes per
// pixel) under 10 GiB.
const (
	MinSize = 32
	MaxSize = 16384
)

// DefaultConfig returns method.md's defaults at 1024², the paper's
// training resolution.
func DefaultConfig() Config {
	return Config{
		Size: 1024, PShape: 0.5, MinArea: 0.001, MaxTries: 50, TargetArea: Range{0.001, 0.6},
		Shape: ShapeConfig{
			Objects: IntRange{1, 5}, ControlPoints: IntRange{3, 12},
			RadiusJitter: Range{0.35, 1.0}, MinPointGap: 0.7,
			Rad: Range{0.05, 0.4}, Edgy: Range{0, 1}, Radius: Range{0.03, 0.55}, RadiusLogUniform: true, Rotate: true,
			PPhantom: 0.5, PEllipse: 0.5, PhantomOffset: 0.05, PhantomRadius: Range{0.30, 0.48},
			PhantomIntensity: Range{0, 1}, PInsidePhantom: 0.8,
			Contrast: Range{0.02, 0.6}, TextureAmplitude: Range{0, 0.3},
		},
		Boundary: BoundaryConfig{
			Labels: IntRange{3, 15}, NoiseScales: []float64{32, 64}, NoiseSigma: Range{0, 1},
			LargeScale: 128, PLargeScale: 0.5,
			WarpScales: []float64{16, 32, 64}, WarpSigma: Range{0, 16},
			PErode: 0.5, ErodeMax: 4,
			CanvasMean: Range{0.1, 0.9}, CanvasWidth: Range{0.02, 0.3}, Outliers: Range{0, 0.05},
			GapContrast: Range{0.01, 0.15}, PNoise: 0.5,
		},
		Noise: NoiseConfig{
			P:    0.5,
			Blur: BlurConfig{Sigma: Range{0, 3}},
			Perlin: PerlinConfig{Amplitude: Range{0, 0.2}, Cells: IntRange{2, 32}, Octaves: IntRange{1, 5},
				Persistence: 0.5, Lacunarity: 2},
			Speckle:  SpeckleConfig{Beta: Range{0, 1}, PSmooth: 0.5, SmoothSigma: Range{0, 1.5}},
			Poisson:  PoissonConfig{Peak: Range{10, 1000}},
			Gaussian: SigmaConfig{Sigma: Range{0, 0.15}},
			Rician:   SigmaConfig{Sigma: Range{0, 0.1}},
		},
	}
}

// PresetNames lists the presets Preset accepts.
func PresetNames() []string { return []string{"default", "shape-only", "boundary-only"} }

// Preset returns a named configuration: "default" mixes both modules,
// "shape-only" and "boundary-only" are the paper's two ablations.
func Preset(name string) (Config, error) {
	c := DefaultConfig()
	switch name {
	case "default":
	case "shape-only":
		c.PShape = 1
	case "boundary-only":
		c.PShape = 0
	default:
		return Config{}, fmt.Errorf("%w %q (choose %s)", ErrUnknownPreset, name, strings.Join(PresetNames(), ", "))
	}
	return c, nil
}

// LoadConfig reads a YAML (.yaml, .yml) or JSON (.json) file over base:
// fields the file leaves out keep base's values; unknown fields are errors.
// The result is validated. Commands layer a file over a preset with
// Resolve instead.
func LoadConfig(path string, base Config) (Config, error) {
	c, err := decodeConfigFile(path, base)
	if err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// decodeConfigFile is LoadConfig without the validation.
func decodeConfigFile(path string, base Config) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	c := base
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(&c)
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		err = dec.Decode(&c)
		if errors.Is(err, io.EOF) { // an empty file changes nothing
			err = nil
		}
	default:
		return Config{}, fmt.Errorf("config %s: unknown extension (use .yaml, .yml or .json)", path)
	}
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %s", path, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return c, nil
}

// YAML returns the configuration as a YAML document that LoadConfig reads back.
func (c Config) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
