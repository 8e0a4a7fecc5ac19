package noise

import (
	"math/rand/v2"
	"testing"
)

const benchSide = 1024

func benchImage() []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	pix := make([]float32, benchSide*benchSide)
	for i := range pix {
		pix[i] = float32(rng.Float64())
	}
	return pix
}

func benchRNG() *rand.Rand { return rand.New(rand.NewChaCha8([32]byte{1})) }

func BenchmarkBlurSigma3(b *testing.B) {
	pix, scratch := benchImage(), make([]float32, benchSide*benchSide)
	for b.Loop() {
		GaussianBlur(pix, benchSide, benchSide, 3, scratch)
	}
}

func BenchmarkPerlin5Octaves32Cells(b *testing.B) {
	pix, rng := make([]float32, benchSide*benchSide), benchRNG()
	p := PerlinParams{Cells: 32, Octaves: 5, Persistence: 0.5, Lacunarity: 2}
	for b.Loop() {
		if err := Perlin(pix, benchSide, benchSide, p, rng); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSpeckleSmoothed(b *testing.B) {
	pix, rng, scratch := benchImage(), benchRNG(), make([]float32, 2*benchSide*benchSide)
	for b.Loop() {
		Speckle(pix, benchSide, benchSide, 0.5, 4, rng, scratch)
	}
}

func BenchmarkPoisson(b *testing.B) {
	pix, rng := benchImage(), benchRNG()
	for b.Loop() {
		Poisson(pix, 300, rng)
	}
}

func BenchmarkGaussian(b *testing.B) {
	pix, rng := benchImage(), benchRNG()
	for b.Loop() {
		Gaussian(pix, 0.1, rng)
	}
}

func BenchmarkRician(b *testing.B) {
	pix, rng := benchImage(), benchRNG()
	for b.Loop() {
		Rician(pix, 0.05, rng)
	}
}
