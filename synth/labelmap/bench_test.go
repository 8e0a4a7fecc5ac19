package labelmap

import (
	"fmt"
	"testing"
)

// BenchmarkArgmax compares the per-rectangle candidate pruning with
// evaluating every label at every pixel, on a default 1024² label map.
func BenchmarkArgmax(b *testing.B) {
	const side = 1024
	s := side / 256.0
	p := Params{Labels: 15, NoiseSpacings: []float64{32 * s, 64 * s}, NoiseSigmas: []float64{0.7, 0.5},
		WarpSpacings: []float64{16 * s, 32 * s, 64 * s}, WarpSigmas: []float64{8 * s, 8 * s, 8 * s}}
	noise, warp := Fields(side, p, testRNG(1))
	for _, prune := range []bool{true, false} {
		b.Run(fmt.Sprintf("pruned=%v", prune), func(b *testing.B) {
			cands := noise.candidateLists(prune)
			for b.Loop() {
				argmax(noise, warp, cands)
			}
		})
	}
}

func BenchmarkErode(b *testing.B) {
	const side = 1024
	s := side / 256.0
	p := Params{Labels: 15, NoiseSpacings: []float64{32 * s, 64 * s}, NoiseSigmas: []float64{0.7, 0.5},
		WarpSpacings: []float64{16 * s}, WarpSigmas: []float64{8 * s}}
	labels, _ := Generate(side, p, testRNG(2))
	iters := make([]int, 15)
	for l := range iters {
		iters[l] = l % 5
	}
	for b.Loop() {
		Erode(labels, side, side, iters)
	}
}
