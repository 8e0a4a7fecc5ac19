// Package maskops holds the binary-mask operations that click simulation,
// metrics, datasets and the baseline share: distance transforms, connected
// components and boundaries, on flat row-major boolean grids.
package maskops

import "image"

// Grid is a binary mask: Pix[x + y*W] is true inside.
type Grid struct {
	W, H int
	Pix  []bool
}

// NewGrid returns an empty grid.
func NewGrid(w, h int) Grid { return Grid{W: w, H: h, Pix: make([]bool, w*h)} }

// FromGray reads a mask (non-zero = inside) into a grid.
func FromGray(m *image.Gray) Grid {
	b := m.Bounds()
	g := NewGrid(b.Dx(), b.Dy())
	for y := 0; y < g.H; y++ {
		row := m.Pix[y*m.Stride : y*m.Stride+g.W]
		for x, v := range row {
			g.Pix[x+y*g.W] = v != 0
		}
	}
	return g
}

// Gray returns the grid as a mask with 255 inside and 0 outside.
func (g Grid) Gray() *image.Gray {
	m := image.NewGray(image.Rect(0, 0, g.W, g.H))
	for i, in := range g.Pix {
		if in {
			m.Pix[i] = 255
		}
	}
	return m
}

// Count returns the number of pixels inside.
func (g Grid) Count() int {
	n := 0
	for _, in := range g.Pix {
		if in {
			n++
		}
	}
	return n
}

// Not returns the complement.
func (g Grid) Not() Grid {
	out := NewGrid(g.W, g.H)
	for i, in := range g.Pix {
		out.Pix[i] = !in
	}
	return out
}

// AndNot returns the pixels in g and not in h (same size).
func (g Grid) AndNot(h Grid) Grid {
	out := NewGrid(g.W, g.H)
	for i, in := range g.Pix {
		out.Pix[i] = in && !h.Pix[i]
	}
	return out
}

// Centroid returns the mean pixel position (x, y) and false when empty.
func (g Grid) Centroid() (float64, float64, bool) {
	var sx, sy float64
	n := 0
	for i, in := range g.Pix {
		if in {
			sx += float64(i % g.W)
			sy += float64(i / g.W)
			n++
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	return sx / float64(n), sy / float64(n), true
}

// Boundary returns the inside pixels with a 4-neighbour outside the mask
// (the image border counts as outside).
func (g Grid) Boundary() Grid {
	out := NewGrid(g.W, g.H)
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			i := x + y*g.W
			if !g.Pix[i] {
				continue
			}
			out.Pix[i] = x == 0 || y == 0 || x == g.W-1 || y == g.H-1 ||
				!g.Pix[i-1] || !g.Pix[i+1] || !g.Pix[i-g.W] || !g.Pix[i+g.W]
		}
	}
	return out
}
