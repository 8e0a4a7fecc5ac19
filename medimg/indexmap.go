package medimg

import (
	"fmt"
	"math"
)

// IndexMap sends voxel indices of one volume to those of another that
// holds the same voxels with its axes permuted and flipped (the view of a
// volume that ToLPS returns): to = M·from + T.
type IndexMap struct {
	M [3][3]int
	T [3]int
}

// NewIndexMap derives the map from the two grids' geometry: a voxel's world
// position Origin + Direction·(Spacing ⊙ index) is the same in both. It
// fails when the grids are not such a permutation of each other.
func NewIndexMap(from, to *Volume) (IndexMap, error) {
	inv, ok := inverse3(to.affine())
	if !ok {
		return IndexMap{}, fmt.Errorf("the image's axes are degenerate (direction %v, spacing %v)", to.Direction, to.Spacing)
	}
	af := from.affine()
	var m IndexMap
	var d [3]float64
	for r := 0; r < 3; r++ {
		d[r] = from.Origin[r] - to.Origin[r]
	}
	for r := 0; r < 3; r++ {
		var t float64
		for c := 0; c < 3; c++ {
			var x float64
			for k := 0; k < 3; k++ {
				x += inv[r][k] * af[k][c]
			}
			m.M[r][c] = int(math.Round(x))
			if math.Abs(x-float64(m.M[r][c])) > 1e-3 {
				return IndexMap{}, fmt.Errorf("the reoriented grid is not a permutation of the uploaded one")
			}
			t += inv[r][c] * d[c]
		}
		m.T[r] = int(math.Round(t))
		if math.Abs(t-float64(m.T[r])) > 1e-3 {
			return IndexMap{}, fmt.Errorf("the reoriented grid is shifted from the uploaded one by a fraction of a voxel")
		}
	}
	return m, nil
}

// Apply maps the voxel index q.
func (m IndexMap) Apply(q [3]int) [3]int {
	var out [3]int
	for r := 0; r < 3; r++ {
		out[r] = m.T[r] + m.M[r][0]*q[0] + m.M[r][1]*q[1] + m.M[r][2]*q[2]
	}
	return out
}

// WorldToIndex returns the (fractional) voxel index at world position p, the
// inverse of world = Origin + Direction · (Spacing ⊙ index); ok is false
// when the grid's axes are degenerate.
func (v *Volume) WorldToIndex(p [3]float64) (q [3]float64, ok bool) {
	inv, ok := inverse3(v.affine())
	if !ok {
		return q, false
	}
	for r := 0; r < 3; r++ {
		for c := 0; c < 3; c++ {
			q[r] += inv[r][c] * (p[c] - v.Origin[c])
		}
	}
	return q, true
}

// affine returns Direction · diag(Spacing).
func (v *Volume) affine() [3][3]float64 {
	var a [3][3]float64
	for r := 0; r < 3; r++ {
		for c := 0; c < 3; c++ {
			a[r][c] = v.Direction[r][c] * v.Spacing[c]
		}
	}
	return a
}

// inverse3 inverts a 3×3 matrix by its adjugate.
func inverse3(a [3][3]float64) ([3][3]float64, bool) {
	det := det3(a)
	if math.Abs(det) < 1e-12 {
		return [3][3]float64{}, false
	}
	var inv [3][3]float64
	for r := 0; r < 3; r++ {
		for c := 0; c < 3; c++ {
			// cofactor of (c, r), for the transpose
			r1, r2 := (c+1)%3, (c+2)%3
			c1, c2 := (r+1)%3, (r+2)%3
			inv[r][c] = (a[r1][c1]*a[r2][c2] - a[r1][c2]*a[r2][c1]) / det
		}
	}
	return inv, true
}
