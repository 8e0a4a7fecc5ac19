package shape

import (
	"math"
	"math/rand/v2"
	"slices"
)

// RandomPoints draws n points at sorted uniform angles around centre with
// radii R·U(rmin, rmax) (method.md §1 step 1). A set in which two
// consecutive points (the last joins the first) are closer than minGap
// is redrawn, up to tries times; ok reports whether the last set drawn
// met the condition.
func RandomPoints(rng *rand.Rand, n int, centre Point, R, rmin, rmax, minGap float64, tries int) (points []Point, ok bool) {
	angles := make([]float64, n)
	points = make([]Point, n)
	for range max(1, tries) {
		for i := range angles {
			angles[i] = 2 * math.Pi * rng.Float64()
		}
		slices.Sort(angles)
		for i, a := range angles {
			r := R * (rmin + (rmax-rmin)*rng.Float64())
			points[i] = centre.add(polar(r, a))
		}
		if minConsecutiveGap(points) >= minGap {
			return points, true
		}
	}
	return points, false
}

func minConsecutiveGap(points []Point) float64 {
	gap := math.Inf(1)
	for i, p := range points {
		gap = math.Min(gap, p.dist(points[(i+1)%len(points)]))
	}
	return gap
}

// Rotate turns points about centre by angle radians, in place.
func Rotate(points []Point, centre Point, angle float64) {
	s, c := math.Sincos(angle)
	for i, p := range points {
		d := p.sub(centre)
		points[i] = centre.add(Point{d.X*c - d.Y*s, d.X*s + d.Y*c})
	}
}
