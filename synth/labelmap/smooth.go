package labelmap

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Layer is a square grid of N×N nodes spanning [0, side−1] on both axes
// with corners aligned (node i at i·(side−1)/(N−1)), holding Channels
// values per node at Values[(j*N+i)*Channels+c].
type Layer struct {
	N        int
	Channels int
	Values   []float32
}

// GridPoints is the number of nodes ⌈side/spacing⌉ (at least 2) of a
// layer whose nodes are about spacing pixels apart (method.md §2).
func GridPoints(side int, spacing float64) int {
	return max(2, int(math.Ceil(float64(side)/spacing)))
}

// RandomLayer draws a layer of N(0, sigma²) node values.
func RandomLayer(n, channels int, sigma float64, rng *rand.Rand) Layer {
	v := make([]float32, n*n*channels)
	for i := range v {
		v[i] = float32(sigma * rng.NormFloat64())
	}
	return Layer{N: n, Channels: channels, Values: v}
}

// nodePosition is the pixel coordinate of node i of an n-node layer.
func nodePosition(i, n, side int) float64 {
	return float64(i) * float64(side-1) / float64(n-1)
}

// Field is the sum of several layers upsampled bilinearly to a side×side
// canvas, stored as one bilinear patch per rectangle of a partition that
// refines every layer's grid.
type Field struct {
	side     int
	channels int
	breaks   []float64 // partition of [0, side−1] on each axis
	cellOf   []int32   // interval holding each integer coordinate
	// coef holds, per rectangle (ry*len(intervals)+rx), 4 blocks of
	// channels values: f = a + b·dx + c·dy + d·dx·dy with (dx, dy) the
	// offset from the rectangle's low corner.
	coef []float32
}

// NewField sums layers (all with the same channel count) over a side×side
// canvas. Each axis is cut at every layer's node positions and, in
// addition, into at least minIntervals equal parts.
func NewField(side int, layers []Layer, minIntervals int) *Field {
	channels := layers[0].Channels
	span := float64(side - 1)
	breaks := []float64{0, span}
	for _, l := range layers {
		for i := 1; i < l.N-1; i++ {
			breaks = append(breaks, nodePosition(i, l.N, side))
		}
	}
	for i := 1; i < minIntervals; i++ {
		breaks = append(breaks, span*float64(i)/float64(minIntervals))
	}
	slices.Sort(breaks)
	breaks = slices.CompactFunc(breaks, func(a, b float64) bool { return math.Abs(b-a) < 1e-9 })
	f := &Field{side: side, channels: channels, breaks: breaks}
	intervals := len(breaks) - 1
	f.cellOf = make([]int32, side)
	k := 0
	for p := range side {
		for k+1 < intervals && float64(p) >= breaks[k+1] {
			k++
		}
		f.cellOf[p] = int32(k)
	}
	f.coef = make([]float32, intervals*intervals*4*channels)
	acc := make([]float64, 4*channels)
	for ry := range intervals {
		for rx := range intervals {
			clear(acc)
			x0, y0 := breaks[rx], breaks[ry]
			// Midpoint of the rectangle picks each layer's cell.
			mx, my := (x0+breaks[rx+1])/2, (y0+breaks[ry+1])/2
			for _, l := range layers {
				h := span / float64(l.N-1)
				i := min(l.N-2, int(mx/h))
				j := min(l.N-2, int(my/h))
				tx0, ty0 := (x0-float64(i)*h)/h, (y0-float64(j)*h)/h
				for c := range channels {
					v00 := float64(l.Values[(j*l.N+i)*channels+c])
					v10 := float64(l.Values[(j*l.N+i+1)*channels+c])
					v01 := float64(l.Values[((j+1)*l.N+i)*channels+c])
					v11 := float64(l.Values[((j+1)*l.N+i+1)*channels+c])
					// f = P + Q·tx + R·ty + S·tx·ty with tx = tx0 + dx/h.
					p, q, r, s := v00, v10-v00, v01-v00, v11-v10-v01+v00
					acc[c] += p + q*tx0 + r*ty0 + s*tx0*ty0
					acc[channels+c] += (q + s*ty0) / h
					acc[2*channels+c] += (r + s*tx0) / h
					acc[3*channels+c] += s / (h * h)
				}
			}
			base := (ry*intervals + rx) * 4 * channels
			for i, v := range acc {
				f.coef[base+i] = float32(v)
			}
		}
	}
	return f
}

// Intervals is the number of partition intervals per axis.
func (f *Field) Intervals() int { return len(f.breaks) - 1 }

// locate returns the interval holding coordinate v in [0, side−1] and the
// offset of v from the interval's start.
func (f *Field) locate(v float64) (int, float64) {
	k := int(f.cellOf[int(v)])
	for k+1 < len(f.breaks)-1 && v >= f.breaks[k+1] {
		k++
	}
	return k, v - f.breaks[k]
}

// At writes the field's channels at (x, y), clamped to the canvas, into out.
func (f *Field) At(x, y float64, out []float32) {
	span := float64(f.side - 1)
	rx, dx := f.locate(math.Min(math.Max(x, 0), span))
	ry, dy := f.locate(math.Min(math.Max(y, 0), span))
	ch := f.channels
	c := f.coef[(ry*f.Intervals()+rx)*4*ch:][:4*ch]
	ddx, ddy := float32(dx), float32(dy)
	for k := range ch {
		out[k] = c[k] + c[ch+k]*ddx + ddy*(c[2*ch+k]+c[3*ch+k]*ddx)
	}
}

// Row writes channel ch of the field along row y (integer x = 0..side−1)
// into out; within each interval the row is linear in x, so it costs one
// multiply-add per pixel.
func (f *Field) Row(y int, ch int, out []float32) {
	ry := int(f.cellOf[y])
	dy := float64(y) - f.breaks[ry]
	n, chs := f.Intervals(), f.channels
	x := 0
	for rx := range n {
		c := f.coef[(ry*n+rx)*4*chs:]
		a := c[ch] + c[2*chs+ch]*float32(dy)
		b := c[chs+ch] + c[3*chs+ch]*float32(dy)
		x0 := f.breaks[rx]
		for ; x < f.side && int(f.cellOf[x]) == rx; x++ {
			out[x] = a + b*float32(float64(x)-x0)
		}
	}
}
