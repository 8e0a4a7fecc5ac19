package shape

import (
	"math"
	"slices"
)

// Span is the run of pixels [X0, X1) of row Y.
type Span struct{ Y, X0, X1 int }

// Area returns the number of pixels covered by spans (which must not overlap).
func Area(spans []Span) int {
	n := 0
	for _, s := range spans {
		n += s.X1 - s.X0
	}
	return n
}

// Bounds returns the smallest rectangle [x0,x1)×[y0,y1) holding spans.
func Bounds(spans []Span) (x0, y0, x1, y1 int) {
	if len(spans) == 0 {
		return 0, 0, 0, 0
	}
	x0, y0, x1, y1 = math.MaxInt, math.MaxInt, math.MinInt, math.MinInt
	for _, s := range spans {
		x0, x1 = min(x0, s.X0), max(x1, s.X1)
		y0, y1 = min(y0, s.Y), max(y1, s.Y+1)
	}
	return x0, y0, x1, y1
}

// FillPolygon rasterises the closed polygon poly on a w×h canvas with the
// even-odd rule: a pixel is inside when a ray from its centre crosses the
// outline an odd number of times. Spans come row by row, left to right.
//
// Each edge drops its crossings into per-row buckets, so the cost is the
// number of edges plus the number of crossings, not rows × edges.
func FillPolygon(poly []Point, w, h int) []Span {
	n := len(poly)
	if n < 3 {
		return nil
	}
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, p := range poly {
		ymin, ymax = math.Min(ymin, p.Y), math.Max(ymax, p.Y)
	}
	// Rows whose centre line y+0.5 lies in [ymin, ymax].
	row0 := max(0, int(math.Ceil(ymin-0.5)))
	row1 := min(h, int(math.Floor(ymax-0.5))+1)
	if row0 >= row1 {
		return nil
	}
	crossings := make([][]float64, row1-row0)
	for i := range n {
		p, q := poly[i], poly[(i+1)%n]
		if p.Y == q.Y {
			continue
		}
		if p.Y > q.Y {
			p, q = q, p
		}
		// Half-open rule: the edge covers centre lines with p.Y ≤ yc < q.Y.
		first := max(row0, int(math.Ceil(p.Y-0.5)))
		last := min(row1, int(math.Ceil(q.Y-0.5))) // exclusive
		slope := (q.X - p.X) / (q.Y - p.Y)
		for y := first; y < last; y++ {
			yc := float64(y) + 0.5
			crossings[y-row0] = append(crossings[y-row0], p.X+(yc-p.Y)*slope)
		}
	}
	var spans []Span
	for r, xs := range crossings {
		slices.Sort(xs)
		for i := 0; i+1 < len(xs); i += 2 {
			// Pixels whose centre x+0.5 lies in [xs[i], xs[i+1]).
			x0 := max(0, int(math.Ceil(xs[i]-0.5)))
			x1 := min(w, int(math.Ceil(xs[i+1]-0.5)))
			if x0 < x1 {
				spans = append(spans, Span{Y: row0 + r, X0: x0, X1: x1})
			}
		}
	}
	return spans
}

// Ellipse describes a filled ellipse centred at C with radii RX, RY along
// axes rotated by Angle radians.
type Ellipse struct {
	C      Point
	RX, RY float64
	Angle  float64
}

// Contains reports whether the point p lies inside the ellipse.
func (e Ellipse) Contains(p Point) bool {
	s, c := math.Sincos(e.Angle)
	dx, dy := p.X-e.C.X, p.Y-e.C.Y
	u := (dx*c + dy*s) / e.RX
	v := (-dx*s + dy*c) / e.RY
	return u*u+v*v <= 1
}

// Fill rasterises the ellipse on a w×h canvas: each row's centre line
// meets the ellipse in one interval, found in closed form.
func (e Ellipse) Fill(w, h int) []Span {
	s, c := math.Sincos(e.Angle)
	// Implicit form A·dx² + B·dx·dy + C·dy² = 1.
	a := c*c/(e.RX*e.RX) + s*s/(e.RY*e.RY)
	b := 2 * c * s * (1/(e.RX*e.RX) - 1/(e.RY*e.RY))
	cc := s*s/(e.RX*e.RX) + c*c/(e.RY*e.RY)
	var spans []Span
	for y := range h {
		dy := float64(y) + 0.5 - e.C.Y
		// a·dx² + (b·dy)·dx + (cc·dy² − 1) = 0
		disc := b*b*dy*dy - 4*a*(cc*dy*dy-1)
		if disc < 0 {
			continue
		}
		root := math.Sqrt(disc)
		xa := e.C.X + (-b*dy-root)/(2*a)
		xb := e.C.X + (-b*dy+root)/(2*a)
		x0 := max(0, int(math.Ceil(xa-0.5)))
		x1 := min(w, int(math.Floor(xb-0.5))+1)
		if x0 < x1 {
			spans = append(spans, Span{Y: y, X0: x0, X1: x1})
		}
	}
	return spans
}
