// Package prompts simulates click prompts from ground-truth masks: the
// evaluation protocol of method.md §4, the trainer's random sampler and
// SAM-style error-driven refinement clicks.
package prompts

import (
	"errors"
	"fmt"
	"hash/fnv"
	"image"
	"math"
	"math/rand/v2"

	"github.com/synthfm/synthfm/internal/splitmix"
	"github.com/synthfm/synthfm/maskops"
)

// Click is one point prompt at pixel (column X, row Y) of the mask's own grid.
type Click struct {
	X, Y     int
	Positive bool
}

// Protocol parameters of method.md §4 (all in pixels).
const (
	// InteriorDepth: the first and further positives come from pixels more
	// than this far (Euclidean, pixel centres) from the nearest pixel
	// outside the mask, when any exist.
	InteriorDepth = 2.0
	// MinPositiveGap and PositiveGapFraction: further positives stay at
	// least max(MinPositiveGap, PositiveGapFraction·√|M|) from earlier clicks.
	MinPositiveGap      = 3.0
	PositiveGapFraction = 0.1
	// MinBand and BandFraction: the negative band is dilate(M, r) \ M with
	// r = max(MinBand, BandFraction·√|M|).
	MinBand      = 5.0
	BandFraction = 0.1
)

// CaseSeed derives the generator seed of one case: the 64-bit FNV-1a hash of
// the case id, mixed with seed by one SplitMix64 step. Clicks are therefore
// reproducible from (case id, seed) on any machine.
func CaseSeed(caseID string, seed uint64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(caseID))
	return splitmix.Mix(h.Sum64() ^ seed)
}

// NewRand returns the generator Simulate uses for a seed.
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, splitmix.Mix(seed))) }

// Simulate places nPos positive and nNeg negative clicks on mask (non-zero
// = inside) by the evaluation protocol of method.md §4; the same (mask,
// counts, seed) gives the same clicks. Positives come first. When the band
// around the mask has fewer than nNeg pixels (a mask filling the image),
// fewer negatives are returned.
func Simulate(mask *image.Gray, nPos, nNeg int, seed uint64) ([]Click, error) {
	return simulate(maskops.FromGray(mask), nPos, nNeg, NewRand(seed))
}

func simulate(m maskops.Grid, nPos, nNeg int, rng *rand.Rand) ([]Click, error) {
	if nPos < 1 || nNeg < 0 {
		return nil, fmt.Errorf("need at least one positive and no negative count of negatives, got (%d,%d)", nPos, nNeg)
	}
	area := m.Count()
	if area == 0 {
		return nil, errors.New("empty mask: no clicks can be placed")
	}
	cx, cy, _ := m.Centroid()
	inside := maskops.InsideDistance(m)
	pool := make([]int, 0, area)
	for i, d := range inside {
		if d > InteriorDepth {
			pool = append(pool, i)
		}
	}
	if len(pool) == 0 {
		for i, in := range m.Pix {
			if in {
				pool = append(pool, i)
			}
		}
	}
	clicks := make([]Click, 0, nPos+nNeg)
	// Positive 1: the pool pixel nearest the centroid (first in raster order on ties).
	best, bestD := -1, math.Inf(1)
	for _, i := range pool {
		if d := sqDist(i, m.W, cx, cy); d < bestD {
			best, bestD = i, d
		}
	}
	clicks = append(clicks, Click{X: best % m.W, Y: best / m.W, Positive: true})
	gap := max(MinPositiveGap, PositiveGapFraction*math.Sqrt(float64(area)))
	for len(clicks) < nPos {
		clicks = append(clicks, farEnough(pool, m.W, clicks, gap, rng))
	}
	clicks = append(clicks, negatives(m, area, cx, cy, nNeg)...)
	return clicks, nil
}

// farEnough draws a pool pixel uniformly among those at least gap from all
// clicks; if none is, among those not yet clicked; if none is, from the pool.
func farEnough(pool []int, w int, clicks []Click, gap float64, rng *rand.Rand) Click {
	var far, unused []int
	for _, i := range pool {
		near, taken := false, false
		for _, c := range clicks {
			d := sqDist(i, w, float64(c.X), float64(c.Y))
			near = near || d < gap*gap
			taken = taken || d == 0
		}
		if !near {
			far = append(far, i)
		}
		if !taken {
			unused = append(unused, i)
		}
	}
	from := pool
	switch {
	case len(far) > 0:
		from = far
	case len(unused) > 0:
		from = unused
	}
	i := from[rng.IntN(len(from))]
	return Click{X: i % w, Y: i / w, Positive: true}
}

// negatives places n clicks in the band by farthest-point sampling, the
// first farthest from the centroid.
func negatives(m maskops.Grid, area int, cx, cy float64, n int) []Click {
	if n == 0 {
		return nil
	}
	r := max(MinBand, BandFraction*math.Sqrt(float64(area)))
	dist := maskops.Distance(m, 1, 1)
	var band []int
	for i, d := range dist {
		if d > 0 && d <= r {
			band = append(band, i)
		}
	}
	// minD[b] is the squared distance from band pixel b to the nearest
	// negative placed so far (to the centroid before the first).
	minD := make([]float64, len(band))
	for b, i := range band {
		minD[b] = sqDist(i, m.W, cx, cy)
	}
	var out []Click
	for len(out) < n && len(out) < len(band) {
		best := 0
		for b := range band {
			if minD[b] > minD[best] {
				best = b
			}
		}
		c := Click{X: band[best] % m.W, Y: band[best] / m.W}
		out = append(out, c)
		for b, i := range band {
			d := sqDist(i, m.W, float64(c.X), float64(c.Y))
			if len(out) == 1 || d < minD[b] {
				minD[b] = d
			}
		}
	}
	return out
}

func sqDist(i, w int, x, y float64) float64 {
	dx, dy := float64(i%w)-x, float64(i/w)-y
	return dx*dx + dy*dy
}
