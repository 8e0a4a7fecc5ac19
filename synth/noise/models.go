package noise

import (
	"math"
	"math/rand/v2"
)

// AddPerlin adds amplitude × a standardized fractal Perlin field to pix
// (low-frequency shading). scratch must hold w*h values.
func AddPerlin(pix []float32, w, h int, amplitude float64, p PerlinParams, rng *rand.Rand, scratch []float32) error {
	field := scratch[:w*h]
	if err := Perlin(field, w, h, p, rng); err != nil {
		return err
	}
	a := float32(amplitude)
	for i, v := range field {
		pix[i] += a * v
	}
	return nil
}

// rayleighScale is the Rayleigh scale √(2/π) that gives E[r] = 1.
const rayleighScale = 0.79788456080286535588

// Rayleigh fills r with Rayleigh variates of unit mean. A Rayleigh variate
// of scale s is s·√(2E) with E exponential of unit mean.
func Rayleigh(r []float32, rng *rand.Rand) {
	for i := range r {
		r[i] = float32(rayleighScale * math.Sqrt(2*rng.ExpFloat64()))
	}
}

// Speckle applies ultrasound-like multiplicative speckle: a unit-mean
// Rayleigh field r, blurred with smoothSigma pixels when smoothSigma > 0
// to correlate it, blended as y = (1−β)x + β·x·r. scratch must hold 2*w*h
// values.
func Speckle(pix []float32, w, h int, beta, smoothSigma float64, rng *rand.Rand, scratch []float32) {
	n := w * h
	r := scratch[:n]
	Rayleigh(r, rng)
	if smoothSigma > 0 {
		GaussianBlur(r, w, h, smoothSigma, scratch[n:2*n])
	}
	b := float32(beta)
	for i, x := range pix {
		pix[i] = x * (1 - b + b*r[i])
	}
}

// Poisson applies shot noise y = Poisson(λ·max(x,0))/λ where lambda is the
// expected count at intensity 1.
func Poisson(pix []float32, lambda float64, rng *rand.Rand) {
	inv := 1 / lambda
	sampler := newPoissonSampler()
	for i, x := range pix {
		if x <= 0 {
			pix[i] = 0
			continue
		}
		pix[i] = float32(sampler.variate(lambda*float64(x), rng) * inv)
	}
}

// Gaussian adds independent N(0, σ²) noise to every pixel.
func Gaussian(pix []float32, sigma float64, rng *rand.Rand) {
	for i := range pix {
		pix[i] += float32(sigma * rng.NormFloat64())
	}
}

// Rician replaces x by the magnitude √((x+n₁)² + n₂²) with n₁, n₂ ~ N(0,σ²),
// the noise of an MR magnitude image.
func Rician(pix []float32, sigma float64, rng *rand.Rand) {
	for i, x := range pix {
		re := float64(x) + sigma*rng.NormFloat64()
		im := sigma * rng.NormFloat64()
		pix[i] = float32(math.Sqrt(re*re + im*im))
	}
}
