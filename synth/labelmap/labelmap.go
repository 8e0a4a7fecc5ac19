package labelmap

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Params fixes one label map; the synth package draws them from its
// configuration. Spacings and sigmas are in pixels of this canvas.
type Params struct {
	Labels        int       // J, at most 255
	NoiseSpacings []float64 // node spacing of each smooth-noise scale
	NoiseSigmas   []float64 // one σ per noise scale, shared by all labels
	WarpSpacings  []float64 // node spacing of each displacement scale
	WarpSigmas    []float64 // one σ per displacement scale, shared by both axes
}

// Validate reports parameters that cannot make a label map.
func (p Params) Validate() error {
	switch {
	case p.Labels < 1 || p.Labels > 255:
		return fmt.Errorf("label count %d outside 1..255", p.Labels)
	case len(p.NoiseSpacings) == 0 || len(p.NoiseSpacings) != len(p.NoiseSigmas):
		return fmt.Errorf("%d noise spacings for %d sigmas", len(p.NoiseSpacings), len(p.NoiseSigmas))
	case len(p.WarpSpacings) != len(p.WarpSigmas):
		return fmt.Errorf("%d warp spacings for %d sigmas", len(p.WarpSpacings), len(p.WarpSigmas))
	}
	for _, s := range append(append([]float64(nil), p.NoiseSpacings...), p.WarpSpacings...) {
		if !(s > 0) {
			return fmt.Errorf("grid spacing %g must be positive", s)
		}
	}
	return nil
}

// Fields draws the label noise (Labels channels) and the displacement
// (2 channels: x then y) of a side×side label map.
func Fields(side int, p Params, rng *rand.Rand) (noise, warp *Field) {
	var layers []Layer
	for i, s := range p.NoiseSpacings {
		layers = append(layers, RandomLayer(GridPoints(side, s), p.Labels, p.NoiseSigmas[i], rng))
	}
	noise = NewField(side, layers, argmaxIntervals)
	if len(p.WarpSpacings) == 0 {
		return noise, nil
	}
	layers = layers[:0]
	for i, s := range p.WarpSpacings {
		layers = append(layers, RandomLayer(GridPoints(side, s), 2, p.WarpSigmas[i], rng))
	}
	return noise, NewField(side, layers, 1)
}

// argmaxIntervals is the minimum number of partition intervals per axis
// for the label noise: smaller rectangles leave fewer candidate labels.
const argmaxIntervals = 32

// pruneMargin keeps labels whose best corner falls short of the
// threshold by less than float32 rounding could explain.
const pruneMargin = 1e-5

// Generate draws a side×side label map (method.md §2): each pixel takes
// the label whose smooth noise, pulled at the displaced position x+u(x)
// clamped to the canvas, is largest. Ties go to the lower label.
func Generate(side int, p Params, rng *rand.Rand) ([]uint8, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	noise, warp := Fields(side, p, rng)
	return Argmax(noise, warp), nil
}

// Argmax labels every pixel with the channel of noise that is largest at
// the pixel's displaced position (warp may be nil for no displacement).
//
// A bilinear patch takes its extremes at the rectangle's corners, so a
// label whose largest corner value is below another label's smallest
// corner value can never win inside that rectangle: each rectangle keeps
// only its candidate labels, typically one to three.
func Argmax(noise, warp *Field) []uint8 {
	return argmax(noise, warp, noise.candidates())
}

// argmax labels pixels choosing among candidates[rectangle].
func argmax(noise, warp *Field, candidates [][]candidate) []uint8 {
	side := noise.side
	n := noise.Intervals()
	out := make([]uint8, side*side)
	ux := make([]float32, side)
	uy := make([]float32, side)
	span := float32(side - 1)
	breaks := make([]float32, len(noise.breaks))
	for i, b := range noise.breaks {
		breaks[i] = float32(b)
	}
	last := int32(n - 1)
	// locate finds the interval of v in [0, side−1] and the offset in it.
	locate := func(v float32) (int32, float32) {
		k := noise.cellOf[int(v)]
		for k < last && v >= breaks[k+1] {
			k++
		}
		return k, v - breaks[k]
	}
	for y := range side {
		if warp != nil {
			warp.Row(y, 0, ux)
			warp.Row(y, 1, uy)
		}
		row := out[y*side : (y+1)*side]
		fy := float32(y)
		for x := range row {
			px := min(max(float32(x)+ux[x], 0), span)
			py := min(max(fy+uy[x], 0), span)
			rx, dx := locate(px)
			ry, dy := locate(py)
			cand := candidates[int(ry)*n+int(rx)]
			best := cand[0].label
			if len(cand) > 1 {
				bestVal := cand[0].at(dx, dy)
				for _, c := range cand[1:] {
					if v := c.at(dx, dy); v > bestVal { // candidates ascend, so ties keep the lower label
						best, bestVal = c.label, v
					}
				}
			}
			row[x] = best
		}
	}
	return out
}

// candidate is a label that may win in a rectangle, with its bilinear
// patch a + b·dx + c·dy + d·dx·dy there.
type candidate struct {
	a, b, c, d float32
	label      uint8
}

func (c *candidate) at(dx, dy float32) float32 { return c.a + c.b*dx + dy*(c.c+c.d*dx) }

// candidates lists, per rectangle, the labels that can be the largest
// somewhere inside it, in increasing order.
func (f *Field) candidates() [][]candidate { return f.candidateLists(true) }

// candidateLists is candidates, or every label everywhere without prune
// (the baseline of BenchmarkArgmax).
func (f *Field) candidateLists(prune bool) [][]candidate {
	n, ch := f.Intervals(), f.channels
	out := make([][]candidate, n*n)
	lo := make([]float32, ch)
	hi := make([]float32, ch)
	for ry := range n {
		for rx := range n {
			c := f.coef[(ry*n+rx)*4*ch:][:4*ch]
			w := float32(f.breaks[rx+1] - f.breaks[rx])
			h := float32(f.breaks[ry+1] - f.breaks[ry])
			threshold := float32(math.Inf(-1))
			for l := range ch {
				v00 := c[l]
				v10 := c[l] + c[ch+l]*w
				v01 := c[l] + c[2*ch+l]*h
				v11 := c[l] + c[ch+l]*w + h*(c[2*ch+l]+c[3*ch+l]*w)
				lo[l] = min(v00, v10, v01, v11)
				hi[l] = max(v00, v10, v01, v11)
				threshold = max(threshold, lo[l])
			}
			var keep []candidate
			for l := range ch {
				if hi[l] >= threshold-pruneMargin || !prune {
					keep = append(keep, candidate{c[l], c[ch+l], c[2*ch+l], c[3*ch+l], uint8(l)})
				}
			}
			out[ry*n+rx] = keep
		}
	}
	return out
}
