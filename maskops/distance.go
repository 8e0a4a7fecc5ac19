package maskops

import "math"

// Distance returns, for every pixel, the Euclidean distance from its centre
// to the centre of the nearest pixel of g, with pixel sizes sx (columns) and
// sy (rows). Pixels of g get 0; with g empty every distance is +Inf.
//
// It is the exact linear-time transform of Felzenszwalb and Huttenlocher
// (2012): a 1-D lower envelope of parabolas along columns, then rows.
func Distance(g Grid, sx, sy float64) []float64 {
	inf := math.Inf(1)
	d := make([]float64, len(g.Pix))
	for i, in := range g.Pix {
		if !in {
			d[i] = inf
		}
	}
	n := max(g.W, g.H)
	f := make([]float64, n)
	out := make([]float64, n)
	v := make([]int, n)
	z := make([]float64, n+1)
	for x := 0; x < g.W; x++ {
		for y := 0; y < g.H; y++ {
			f[y] = d[x+y*g.W]
		}
		envelope(f[:g.H], out[:g.H], v, z, sy*sy)
		for y := 0; y < g.H; y++ {
			d[x+y*g.W] = out[y]
		}
	}
	for y := 0; y < g.H; y++ {
		row := d[y*g.W : (y+1)*g.W]
		copy(f, row)
		envelope(f[:g.W], out[:g.W], v, z, sx*sx)
		for x := range row {
			row[x] = math.Sqrt(out[x])
		}
	}
	return d
}

// InsideDistance returns, for pixels of g, the distance to the nearest pixel
// outside g, counting everything beyond the image border as outside; pixels
// outside g get 0.
func InsideDistance(g Grid) []float64 {
	// Pad by one pixel of background so that the border counts as outside.
	p := NewGrid(g.W+2, g.H+2)
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			p.Pix[(x+1)+(y+1)*p.W] = !g.Pix[x+y*g.W]
		}
	}
	for x := 0; x < p.W; x++ {
		p.Pix[x], p.Pix[x+(p.H-1)*p.W] = true, true
	}
	for y := 0; y < p.H; y++ {
		p.Pix[y*p.W], p.Pix[p.W-1+y*p.W] = true, true
	}
	dp := Distance(p, 1, 1)
	d := make([]float64, len(g.Pix))
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			d[x+y*g.W] = dp[(x+1)+(y+1)*p.W]
		}
	}
	return d
}

// envelope computes out[q] = min_p (f[p] + w·(q−p)²) for squared distances f.
func envelope(f, out []float64, v []int, z []float64, w float64) {
	n := len(f)
	k := -1
	for q := 0; q < n; q++ {
		if math.IsInf(f[q], 1) {
			continue
		}
		for k >= 0 {
			p := v[k]
			s := ((f[q] + w*float64(q*q)) - (f[p] + w*float64(p*p))) / (2 * w * float64(q-p))
			if s > z[k] {
				k++
				v[k] = q
				z[k] = s
				z[k+1] = math.Inf(1)
				break
			}
			k--
		}
		if k < 0 {
			k = 0
			v[0] = q
			z[0] = math.Inf(-1)
			z[1] = math.Inf(1)
		}
	}
	if k < 0 {
		for q := range out {
			out[q] = math.Inf(1)
		}
		return
	}
	j := 0
	for q := 0; q < n; q++ {
		for z[j+1] < float64(q) {
			j++
		}
		p := v[j]
		out[q] = f[p] + w*float64((q-p)*(q-p))
	}
}
