// Package metrics scores segmentations against ground truth (Dice, surface
// Dice) and compares two runs with a paired Student t-test.
package metrics

import (
	"image"
	"math"

	"github.com/synthfm/synthfm/maskops"
)

// Dice returns the Dice similarity coefficient 2|G∧P| / (|G|+|P|) of two
// masks (non-zero = inside), NaN when both are empty (as MedSAM's
// compute_dice_coefficient). Masks are compared pixel by pixel in image
// coordinates; parts of one lying outside the other's bounds count as
// non-overlapping.
func Dice(gt, pred *image.Gray) float64 {
	g, p := count(gt), count(pred)
	if g+p == 0 {
		return math.NaN()
	}
	inter := 0
	r := gt.Bounds().Intersect(pred.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if gt.GrayAt(x, y).Y != 0 && pred.GrayAt(x, y).Y != 0 {
				inter++
			}
		}
	}
	return 2 * float64(inter) / float64(g+p)
}

func count(m *image.Gray) int {
	n := 0
	b := m.Bounds()
	for y := 0; y < b.Dy(); y++ {
		for _, v := range m.Pix[y*m.Stride : y*m.Stride+b.Dx()] {
			if v != 0 {
				n++
			}
		}
	}
	return n
}

// NSD returns the normalised surface Dice at tolerance tol: the fraction of
// boundary pixels of either mask lying within tol of the other mask's
// boundary, (|{b∈∂G : d(b,∂P) ≤ tol}| + |{b∈∂P : d(b,∂G) ≤ tol}|) / (|∂G|+|∂P|).
// Distances use pixel sizes sx (columns) and sy (rows), so tol is in mm when
// they are (pass 1, 1 for pixels). Boundaries are the inside pixels with a
// 4-neighbour outside; each boundary pixel weighs one (DeepMind's
// surface-distance weighs surfels by their length, which differs slightly on
// anisotropic grids). NaN when both masks are empty, 0 when one is. The
// masks must have the same size; otherwise NaN.
func NSD(gt, pred *image.Gray, tol, sx, sy float64) float64 {
	if gt.Bounds().Size() != pred.Bounds().Size() {
		return math.NaN()
	}
	bg, bp := maskops.FromGray(gt).Boundary(), maskops.FromGray(pred).Boundary()
	ng, np := bg.Count(), bp.Count()
	switch {
	case ng+np == 0:
		return math.NaN()
	case ng == 0 || np == 0:
		return 0
	}
	dg, dp := maskops.Distance(bg, sx, sy), maskops.Distance(bp, sx, sy)
	within := 0
	for i := range bg.Pix {
		if bg.Pix[i] && dp[i] <= tol+1e-9 {
			within++
		}
		if bp.Pix[i] && dg[i] <= tol+1e-9 {
			within++
		}
	}
	return float64(within) / float64(ng+np)
}
