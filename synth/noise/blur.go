package noise

import (
	"math"

	"gonum.org/v1/gonum/blas/blas32"
)

// GaussianKernel returns the normalised 1-D Gaussian kernel of standard
// deviation sigma pixels and width 2⌈3σ⌉+1 (method.md §1). A sigma of
// zero or less gives the identity kernel [1].
func GaussianKernel(sigma float64) []float32 {
	if !(sigma > 0) {
		return []float32{1}
	}
	radius := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*radius+1)
	var sum float64
	for i := range k {
		d := float64(i - radius)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	out := make([]float32, len(k))
	for i, v := range k {
		out[i] = float32(v / sum)
	}
	return out
}

// reflect maps an index outside [0,n) back inside by half-sample
// symmetric reflection (…, 1, 0 | 0, 1, …, n−1 | n−1, n−2, …). With a
// symmetric kernel this boundary keeps the image mean exactly.
func reflect(i, n int) int {
	period := 2 * n
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - 1 - i
	}
	return i
}

// GaussianBlur blurs the w×h image pix in place with a separable Gaussian
// of standard deviation sigma pixels and half-sample symmetric borders.
// scratch must hold at least w*h values; it is overwritten.
//
// Both passes are written as one vector update y += c·x per kernel tap
// over a whole row, which gonum's BLAS runs with SIMD instructions.
func GaussianBlur(pix []float32, w, h int, sigma float64, scratch []float32) {
	kernel := GaussianKernel(sigma)
	if len(kernel) == 1 {
		return
	}
	radius := len(kernel) / 2
	tmp := scratch[:w*h]
	// Horizontal pass into tmp through a padded copy of each row.
	padded := make([]float32, w+2*radius)
	for y := range h {
		row := pix[y*w : y*w+w]
		for i := range radius {
			padded[i] = row[reflect(i-radius, w)]
			padded[radius+w+i] = row[reflect(w+i, w)]
		}
		copy(padded[radius:], row)
		out := tmp[y*w : y*w+w]
		clear(out)
		for k, c := range kernel {
			axpy(c, padded[k:k+w], out)
		}
	}
	// Vertical pass back into pix.
	for y := range h {
		out := pix[y*w : y*w+w]
		clear(out)
		for k, c := range kernel {
			axpy(c, tmp[reflect(y+k-radius, h)*w:][:w], out)
		}
	}
}

// axpy computes y += alpha·x for equally long x and y.
func axpy(alpha float32, x, y []float32) {
	blas32.Axpy(alpha, blas32.Vector{N: len(x), Inc: 1, Data: x}, blas32.Vector{N: len(y), Inc: 1, Data: y})
}
