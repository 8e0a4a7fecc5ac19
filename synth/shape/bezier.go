package shape

import "math"

// Point is a position in continuous pixel coordinates.
type Point struct{ X, Y float64 }

func (p Point) add(q Point) Point         { return Point{p.X + q.X, p.Y + q.Y} }
func (p Point) sub(q Point) Point         { return Point{p.X - q.X, p.Y - q.Y} }
func (p Point) scale(s float64) Point     { return Point{p.X * s, p.Y * s} }
func (p Point) dist(q Point) float64      { return math.Hypot(p.X-q.X, p.Y-q.Y) }
func polar(r, angle float64) Point        { s, c := math.Sincos(angle); return Point{r * c, r * s} }
func (p Point) angle() float64            { return math.Atan2(p.Y, p.X) }
func wrapAngle(a float64) float64         { return a - 2*math.Pi*math.Floor((a+math.Pi)/(2*math.Pi)) }
func lerp(p, q Point, t float64) Point    { return p.add(q.sub(p).scale(t)) }
func cubicAt(c [4]Point, t float64) Point { return deCasteljau(c[:], t) }

// deCasteljau evaluates the Bézier curve with control points c at t by
// repeated linear interpolation (numerically stable, any degree).
func deCasteljau(c []Point, t float64) Point {
	tmp := append([]Point(nil), c...)
	for n := len(tmp) - 1; n > 0; n-- {
		for i := range n {
			tmp[i] = lerp(tmp[i], tmp[i+1], t)
		}
	}
	return tmp[0]
}

// Blob describes a closed curve through Points: consecutive points are
// joined by cubic Bézier segments whose handles leave and enter each
// point along a tangent that blends the two adjacent edge directions.
type Blob struct {
	Points []Point // on-curve points, in order around the shape
	// Rad sets the handle length as a fraction of the edge length.
	Rad float64
	// Edgy in [0,1] leans each tangent towards the outgoing edge: 0 takes
	// the bisector of the two edges (smoothest), 1 gives sharper corners.
	Edgy float64
}

// Segments returns the cubic segments of the closed curve, one per edge
// P_k → P_{k+1} with the last point joined to the first.
func (b Blob) Segments() [][4]Point {
	n := len(b.Points)
	if n < 2 {
		return nil
	}
	// Tangent angle at each point: incoming edge direction plus a share
	// of the turn towards the outgoing one.
	share := 0.5 + math.Atan(b.Edgy)/math.Pi
	tangent := make([]float64, n)
	for k := range n {
		in := b.Points[k].sub(b.Points[(k+n-1)%n]).angle()
		out := b.Points[(k+1)%n].sub(b.Points[k]).angle()
		tangent[k] = in + share*wrapAngle(out-in)
	}
	segs := make([][4]Point, n)
	for k := range n {
		p, q := b.Points[k], b.Points[(k+1)%n]
		handle := b.Rad * p.dist(q)
		segs[k] = [4]Point{p, p.add(polar(handle, tangent[k])), q.sub(polar(handle, tangent[(k+1)%n])), q}
	}
	return segs
}

// Polygon samples the closed curve densely enough for rasterising: each
// segment gets at least one point per pixel of its control-polygon length
// (an upper bound of its arc length). The polygon is implicitly closed.
func (b Blob) Polygon() []Point {
	var poly []Point
	for _, c := range b.Segments() {
		length := c[0].dist(c[1]) + c[1].dist(c[2]) + c[2].dist(c[3])
		steps := max(2, int(math.Ceil(length)))
		for i := range steps { // t = 1 is the next segment's t = 0
			poly = append(poly, cubicAt(c, float64(i)/float64(steps)))
		}
	}
	return poly
}
