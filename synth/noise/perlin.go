package noise

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// PerlinParams selects a fractal Perlin field (method.md §3).
type PerlinParams struct {
	Cells       int     // lattice cells along the longer side for the first octave
	Octaves     int     // octaves summed, finer octaves skipped below MinCellPixels
	Persistence float64 // amplitude factor per octave (0.5)
	Lacunarity  float64 // frequency factor per octave (2)
}

// MinCellPixels is the finest lattice cell, in pixels, that an octave may
// have; finer octaves are skipped (method.md §3).
const MinCellPixels = 2

// gradientDirections is the number of equally spaced unit gradients a
// lattice point chooses from; 256 directions make the angle effectively
// continuous while a lattice point costs one byte of randomness.
const gradientDirections = 256

// Validate reports parameters that cannot produce a field.
func (p PerlinParams) Validate() error {
	switch {
	case p.Cells < 1:
		return fmt.Errorf("perlin cells %d must be at least 1", p.Cells)
	case p.Octaves < 1:
		return fmt.Errorf("perlin octaves %d must be at least 1", p.Octaves)
	case !(p.Persistence > 0):
		return fmt.Errorf("perlin persistence %g must be positive", p.Persistence)
	case !(p.Lacunarity >= 1):
		return fmt.Errorf("perlin lacunarity %g must be at least 1", p.Lacunarity)
	}
	return nil
}

// Lattice is one octave's grid of random unit gradients covering a w×h
// field with square cells of CellPixels pixels.
type Lattice struct {
	CellPixels float64
	NX, NY     int       // lattice points per row and per column
	GX, GY     []float32 // gradient of point (i, j) at index j*NX+i
}

// NewLattice draws the gradients of a lattice whose cells are cellPixels
// wide over a w×h field.
func NewLattice(w, h int, cellPixels float64, rng *rand.Rand) *Lattice {
	nx := int(math.Ceil(float64(w)/cellPixels)) + 1
	ny := int(math.Ceil(float64(h)/cellPixels)) + 1
	l := &Lattice{CellPixels: cellPixels, NX: nx, NY: ny,
		GX: make([]float32, nx*ny), GY: make([]float32, nx*ny)}
	var bits uint64
	for i := range l.GX {
		if i%8 == 0 {
			bits = rng.Uint64()
		}
		angle := 2 * math.Pi * float64(bits&(gradientDirections-1)) / gradientDirections
		bits >>= 8
		s, c := math.Sincos(angle)
		l.GX[i], l.GY[i] = float32(c), float32(s)
	}
	return l
}

// fade is Perlin's quintic 6t⁵−15t⁴+10t³.
func fade(t float32) float32 { return t * t * t * (t*(t*6-15) + 10) }

// At evaluates the gradient noise of the lattice at the continuous pixel
// coordinate (x, y) the textbook way: the four corner gradients dotted
// with the offsets, blended with the fade curve. AddOctave computes the
// same values faster; At is its readable reference.
func (l *Lattice) At(x, y float64) float32 {
	gx, gy := x/l.CellPixels, y/l.CellPixels
	i, j := int(math.Floor(gx)), int(math.Floor(gy))
	fx, fy := float32(gx-float64(i)), float32(gy-float64(j))
	dot := func(ci, cj int, ox, oy float32) float32 {
		k := cj*l.NX + ci
		return l.GX[k]*ox + l.GY[k]*oy
	}
	d00 := dot(i, j, fx, fy)
	d10 := dot(i+1, j, fx-1, fy)
	d01 := dot(i, j+1, fx, fy-1)
	d11 := dot(i+1, j+1, fx-1, fy-1)
	u, v := fade(fx), fade(fy)
	top := d00 + u*(d10-d00)
	bottom := d01 + u*(d11-d01)
	return top + v*(bottom-top)
}

// AddOctave adds amplitude × the lattice's noise at every pixel centre of
// the w×h field dst.
//
// Along one row the y offset is fixed, so within a lattice cell the noise
// reduces to L + u(x)·(R−L) with L and R linear in the x offset: the cost
// per pixel is four multiply-adds plus a table lookup for fade(x).
func (l *Lattice) AddOctave(dst []float32, w, h int, amplitude float32) {
	cell := l.CellPixels
	// Column tables: lattice column, x offset in the cell, fade of it.
	col := make([]int32, w)
	fx := make([]float32, w)
	ux := make([]float32, w)
	for x := range w {
		g := (float64(x) + 0.5) / cell
		i := math.Floor(g)
		col[x] = int32(i)
		fx[x] = float32(g - i)
		ux[x] = fade(fx[x])
	}
	// Per-cell coefficients for the current row: L = a0·fx + b0,
	// R = a1·(fx−1) + b1.
	cells := l.NX - 1
	a0 := make([]float32, cells)
	b0 := make([]float32, cells)
	a1 := make([]float32, cells)
	b1 := make([]float32, cells)
	for y := range h {
		g := (float64(y) + 0.5) / cell
		j := int(math.Floor(g))
		fy := float32(g - float64(j))
		v := fade(fy)
		top, bottom := j*l.NX, (j+1)*l.NX
		for i := range cells {
			// left corners (i) and right corners (i+1), blended in y.
			a0[i] = (1-v)*l.GX[top+i] + v*l.GX[bottom+i]
			b0[i] = (1-v)*l.GY[top+i]*fy + v*l.GY[bottom+i]*(fy-1)
			a1[i] = (1-v)*l.GX[top+i+1] + v*l.GX[bottom+i+1]
			b1[i] = (1-v)*l.GY[top+i+1]*fy + v*l.GY[bottom+i+1]*(fy-1)
		}
		row := dst[y*w : y*w+w]
		for x := range row {
			i := col[x]
			f := fx[x]
			left := a0[i]*f + b0[i]
			right := a1[i]*(f-1) + b1[i]
			row[x] += amplitude * (left + ux[x]*(right-left))
		}
	}
}

// Perlin fills dst (w×h) with fractal Perlin noise shifted to zero mean
// and scaled to unit standard deviation (method.md §3). The first octave
// has p.Cells cells along the longer side; each further octave multiplies
// the frequency by p.Lacunarity and the amplitude by p.Persistence.
// Octaves whose cells would be finer than MinCellPixels are skipped.
func Perlin(dst []float32, w, h int, p PerlinParams, rng *rand.Rand) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if w < 1 || h < 1 || len(dst) < w*h {
		return fmt.Errorf("perlin field %d×%d does not fit a buffer of %d", w, h, len(dst))
	}
	dst = dst[:w*h]
	clear(dst)
	side := float64(max(w, h))
	amplitude, cells := 1.0, float64(p.Cells)
	for range p.Octaves {
		cellPixels := side / cells
		if cellPixels < MinCellPixels {
			break
		}
		NewLattice(w, h, cellPixels, rng).AddOctave(dst, w, h, float32(amplitude))
		amplitude *= p.Persistence
		cells *= p.Lacunarity
	}
	Standardize(dst)
	return nil
}

// Standardize shifts v to zero mean and scales it to unit standard
// deviation; a constant v becomes all zeros.
func Standardize(v []float32) {
	mean, std := MeanStd(v)
	if std == 0 {
		clear(v)
		return
	}
	m, inv := float32(mean), float32(1/std)
	for i := range v {
		v[i] = (v[i] - m) * inv
	}
}

// MeanStd returns the mean and the population standard deviation of v.
func MeanStd(v []float32) (mean, std float64) {
	if len(v) == 0 {
		return 0, 0
	}
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	mean = s / float64(len(v))
	var ss float64
	for _, x := range v {
		d := float64(x) - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(len(v)))
}
