package synth

import (
	"fmt"
	"math"
)

// validator collects the first problem found while checking a Config.
type validator struct{ err error }

func (v *validator) fail(format string, args ...any) {
	if v.err == nil {
		v.err = fmt.Errorf(format, args...)
	}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (v *validator) prob(name string, p float64) {
	if !(p >= 0 && p <= 1) {
		v.fail("%s = %g is not a probability in [0,1]", name, p)
	}
}

// rng checks lo ≤ min ≤ max ≤ hi.
func (v *validator) rng(name string, r Range, lo, hi float64) {
	switch {
	case !finite(r.Min) || !finite(r.Max):
		v.fail("%s [%g, %g] is not finite", name, r.Min, r.Max)
	case r.Min > r.Max:
		v.fail("%s: min %g > max %g", name, r.Min, r.Max)
	case r.Min < lo || r.Max > hi:
		v.fail("%s [%g, %g] outside [%g, %g]", name, r.Min, r.Max, lo, hi)
	}
}

func (v *validator) intRange(name string, r IntRange, lo, hi int) {
	switch {
	case r.Min > r.Max:
		v.fail("%s: min %d > max %d", name, r.Min, r.Max)
	case r.Min < lo || r.Max > hi:
		v.fail("%s [%d, %d] outside [%d, %d]", name, r.Min, r.Max, lo, hi)
	}
}

func (v *validator) positive(name string, x float64) {
	if !(x > 0) || !finite(x) {
		v.fail("%s = %g must be positive", name, x)
	}
}

// scales checks a list of grid spacings (px at 256²). At least minScale
// keeps every grid at most 256/minScale nodes a side, whatever the size.
func (v *validator) scales(name string, s []float64, allowEmpty bool) {
	if len(s) == 0 && !allowEmpty {
		v.fail("%s is empty", name)
	}
	if len(s) > maxScales {
		v.fail("%s has %d scales, at most %d", name, len(s), maxScales)
	}
	for _, x := range s {
		if !(x >= minScale && x <= 4096) {
			v.fail("%s: %g outside [%d, 4096] px", name, x, minScale)
		}
	}
}

// Bounds that keep a typo in a config file from exhausting memory or
// time; they are far outside any useful setting.
const (
	minScale  = 4  // smallest grid spacing, px at 256²
	maxScales = 8  // most grid scales per field
	maxSigma  = 64 // largest blur or smoothing σ, px at the reference size
)

// Validate reports the first setting that cannot work, naming it.
func (c Config) Validate() error {
	var v validator
	if c.Size < MinSize || c.Size > MaxSize {
		v.fail("size %d outside [%d, %d]", c.Size, MinSize, MaxSize)
	}
	v.prob("p_shape", c.PShape)
	if !(c.MinArea > 0 && c.MinArea < 0.5) {
		v.fail("min_area = %g must be a fraction of the canvas in (0, 0.5)", c.MinArea)
	}
	if c.MaxTries < 1 {
		v.fail("max_tries = %d must be at least 1", c.MaxTries)
	}
	if c.TargetArea != (Range{}) {
		v.rng("target_area", c.TargetArea, 0, 1)
		v.positive("target_area min", c.TargetArea.Min)
	}
	inf := math.Inf(1)
	s := c.Shape
	v.intRange("shape.objects", s.Objects, 1, 127)
	v.intRange("shape.control_points", s.ControlPoints, 3, 1000)
	v.rng("shape.radius_jitter", s.RadiusJitter, 0, 1)
	if !(s.MinPointGap >= 0) || !finite(s.MinPointGap) {
		v.fail("shape.min_point_gap = %g must be ≥ 0", s.MinPointGap)
	}
	v.rng("shape.rad", s.Rad, 0, 2)
	v.rng("shape.edgy", s.Edgy, 0, 100)
	v.rng("shape.radius", s.Radius, 0, 1)
	v.positive("shape.radius max", s.Radius.Max)
	if s.RadiusLogUniform {
		v.positive("shape.radius min (log-uniform)", s.Radius.Min)
	}
	v.prob("shape.p_phantom", s.PPhantom)
	v.prob("shape.p_ellipse", s.PEllipse)
	v.rng("shape.phantom_offset", Range{0, s.PhantomOffset}, 0, 0.5)
	v.rng("shape.phantom_radius", s.PhantomRadius, 0, 1)
	v.positive("shape.phantom_radius max", s.PhantomRadius.Max)
	v.rng("shape.phantom_intensity", s.PhantomIntensity, 0, 1)
	v.prob("shape.p_inside_phantom", s.PInsidePhantom)
	v.rng("shape.contrast", s.Contrast, 0, 1)
	v.rng("shape.texture_amplitude", s.TextureAmplitude, 0, inf)

	b := c.Boundary
	v.intRange("boundary.labels", b.Labels, 1, 255)
	v.scales("boundary.noise_scales", b.NoiseScales, false)
	v.rng("boundary.noise_sigma", b.NoiseSigma, 0, inf)
	v.prob("boundary.p_large_scale", b.PLargeScale)
	if b.PLargeScale > 0 {
		v.scales("boundary.large_scale", append(append([]float64(nil), b.NoiseScales...), b.LargeScale), false)
	}
	v.scales("boundary.warp_scales", b.WarpScales, true)
	v.rng("boundary.warp_sigma", b.WarpSigma, 0, inf)
	v.prob("boundary.p_erode", b.PErode)
	if !(b.ErodeMax >= 0) || !finite(b.ErodeMax) {
		v.fail("boundary.erode_max = %g must be ≥ 0", b.ErodeMax)
	}
	v.rng("boundary.canvas_mean", b.CanvasMean, 0, 1)
	v.rng("boundary.canvas_width", b.CanvasWidth, 0, 1)
	v.rng("boundary.outliers", b.Outliers, 0, 1)
	v.rng("boundary.gap_contrast", b.GapContrast, 0, 1)
	v.prob("boundary.p_noise", b.PNoise)

	n := c.Noise
	v.prob("noise.p", n.P)
	v.rng("noise.blur.sigma", n.Blur.Sigma, 0, maxSigma)
	v.rng("noise.perlin.amplitude", n.Perlin.Amplitude, 0, inf)
	v.intRange("noise.perlin.cells", n.Perlin.Cells, 1, 1<<20)
	v.intRange("noise.perlin.octaves", n.Perlin.Octaves, 1, 32)
	v.positive("noise.perlin.persistence", n.Perlin.Persistence)
	if !(n.Perlin.Lacunarity >= 1) || !finite(n.Perlin.Lacunarity) {
		v.fail("noise.perlin.lacunarity = %g must be at least 1", n.Perlin.Lacunarity)
	}
	v.rng("noise.speckle.beta", n.Speckle.Beta, 0, 1)
	v.prob("noise.speckle.p_smooth", n.Speckle.PSmooth)
	v.rng("noise.speckle.smooth_sigma", n.Speckle.SmoothSigma, 0, maxSigma)
	v.rng("noise.poisson.peak", n.Poisson.Peak, 0, inf)
	v.positive("noise.poisson.peak min", n.Poisson.Peak.Min)
	v.rng("noise.gaussian.sigma", n.Gaussian.Sigma, 0, inf)
	v.rng("noise.rician.sigma", n.Rician.Sigma, 0, inf)
	return v.err
}
