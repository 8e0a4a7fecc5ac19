package prompts

import (
	"fmt"
	"image"
	"math/rand/v2"

	"github.com/synthfm/synthfm/maskops"
)

// Sampler draws training prompts: p positives and n negatives, uniform in
// [MinPos, MaxPos] and [MinNeg, MaxNeg], placed by the evaluation samplers.
type Sampler struct {
	MinPos, MaxPos int
	MinNeg, MaxNeg int
}

// DefaultSampler is method.md §4's training range: p ∈ 1..5, n ∈ 0..5.
func DefaultSampler() Sampler { return Sampler{MinPos: 1, MaxPos: 5, MinNeg: 0, MaxNeg: 5} }

// Sample draws (p, n) and places the clicks, all from rng.
func (s Sampler) Sample(mask *image.Gray, rng *rand.Rand) ([]Click, error) {
	if s.MinPos < 1 || s.MaxPos < s.MinPos || s.MinNeg < 0 || s.MaxNeg < s.MinNeg {
		return nil, fmt.Errorf("invalid sampler ranges %+v", s)
	}
	p := s.MinPos + rng.IntN(s.MaxPos-s.MinPos+1)
	n := s.MinNeg + rng.IntN(s.MaxNeg-s.MinNeg+1)
	return simulate(maskops.FromGray(mask), p, n, rng)
}

// RefineClick returns the SAM-style correction click for a prediction: at
// the interior-most pixel (largest distance to the region's outside, the
// image border counting as outside) of the largest 4-connected error region.
// It is positive when that region is missed foreground and negative when it
// is a false positive. It reports false when the prediction has no error or
// the two masks differ in size.
func RefineClick(gt, pred *image.Gray) (Click, bool) {
	if gt.Bounds().Size() != pred.Bounds().Size() {
		return Click{}, false
	}
	g, p := maskops.FromGray(gt), maskops.FromGray(pred)
	missed, extra := g.AndNot(p), p.AndNot(g)
	region, positive := largestRegion(missed), true
	if r := largestRegion(extra); r.Count() > region.Count() {
		region, positive = r, false
	}
	if region.Count() == 0 {
		return Click{}, false
	}
	depth := maskops.InsideDistance(region)
	best := -1
	for i, d := range depth {
		if region.Pix[i] && (best < 0 || d > depth[best]) {
			best = i
		}
	}
	return Click{X: best % region.W, Y: best / region.W, Positive: positive}, true
}

// largestRegion returns the largest 4-connected component of g (first in
// raster order on ties).
func largestRegion(g maskops.Grid) maskops.Grid {
	labels, sizes := maskops.Components(g, false)
	out := maskops.NewGrid(g.W, g.H)
	if len(sizes) == 0 {
		return out
	}
	best := 0
	for l, s := range sizes {
		if s > sizes[best] {
			best = l
		}
	}
	for i, l := range labels {
		out.Pix[i] = int(l) == best+1
	}
	return out
}
