package noise

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
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

func benchRNG() *rand.Rand { return rand.New(rand.NewPCG(3, 4)) }

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

// BenchmarkPoisson runs the shot noise at a low and a high peak count on
// a uniform [0,1) image; the image is refreshed each round so that every
// round draws the same means.
func BenchmarkPoisson(b *testing.B) {
	for _, lambda := range []float64{20, 300} {
		b.Run(fmt.Sprintf("lambda=%g", lambda), func(b *testing.B) {
			src, rng := benchImage(), benchRNG()
			pix := make([]float32, len(src))
			for b.Loop() {
				copy(pix, src)
				Poisson(pix, lambda, rng)
			}
		})
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

// BenchmarkPoissonGonum is the baseline for BenchmarkPoisson: gonum's
// distuv.Poisson drawing the same per-pixel means.
func BenchmarkPoissonGonum(b *testing.B) {
	for _, lambda := range []float64{20, 300} {
		b.Run(fmt.Sprintf("lambda=%g", lambda), func(b *testing.B) {
			src, rng := benchImage(), benchRNG()
			pix := make([]float32, len(src))
			for b.Loop() {
				copy(pix, src)
				dist := distuv.Poisson{Src: rng}
				for i, x := range pix {
					if x <= 0 {
						pix[i] = 0
						continue
					}
					dist.Lambda = lambda * float64(x)
					pix[i] = float32(dist.Rand() / lambda)
				}
			}
		})
	}
}
