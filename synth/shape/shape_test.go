package shape

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bernstein evaluates a Bézier curve from its definition
// B(t) = Σ C(n,i)(1−t)^{n−i} t^i P_i, independently of deCasteljau.
func bernstein(c []Point, t float64) Point {
	n := len(c) - 1
	var p Point
	for i, q := range c {
		coef := binomial(n, i) * math.Pow(1-t, float64(n-i)) * math.Pow(t, float64(i))
		p.X += coef * q.X
		p.Y += coef * q.Y
	}
	return p
}

func binomial(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

func TestDeCasteljauMatchesBernsteinForm(t *testing.T) {
	ctrl := []Point{{0, 0}, {3, 7}, {9, -2}, {12, 5}, {4, 4}}
	for _, tt := range []float64{0, 0.1, 0.37, 0.5, 0.9, 1} {
		a, b := deCasteljau(ctrl, tt), bernstein(ctrl, tt)
		if a.dist(b) > 1e-12 {
			t.Errorf("t=%g: de Casteljau %v, Bernstein %v", tt, a, b)
		}
	}
	if p := deCasteljau(ctrl, 0); p != ctrl[0] {
		t.Errorf("B(0) = %v, want first control point", p)
	}
	if p := deCasteljau(ctrl, 1); p.dist(ctrl[4]) > 1e-12 {
		t.Errorf("B(1) = %v, want last control point", p)
	}
}

func TestBlobIsClosedAndSmoothAtItsPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pts, ok := RandomPoints(rng, 7, Point{50, 50}, 30, 0.35, 1, 0.7*30/7, 50)
	if !ok {
		t.Fatal("no point set met the spacing rule in 50 tries")
	}
	b := Blob{Points: pts, Rad: 0.3, Edgy: 0}
	segs := b.Segments()
	if len(segs) != len(pts) {
		t.Fatalf("%d segments for %d points", len(segs), len(pts))
	}
	for k, s := range segs {
		next := segs[(k+1)%len(segs)]
		if s[3] != next[0] {
			t.Fatalf("segment %d ends at %v, next starts at %v", k, s[3], next[0])
		}
		// G1 continuity: the handle entering a point and the one leaving
		// it are collinear and point the same way.
		in := s[3].sub(s[2])
		out := next[1].sub(next[0])
		cross := in.X*out.Y - in.Y*out.X
		dot := in.X*out.X + in.Y*out.Y
		if math.Abs(cross) > 1e-9*(1+in.dist(Point{})*out.dist(Point{})) || dot <= 0 {
			t.Errorf("corner at point %d is not smooth: in %v out %v", k+1, in, out)
		}
	}
	// The sampled polygon has at least one point per pixel of arc length
	// (measured by fine sampling of each segment).
	var arc float64
	for _, s := range segs {
		prev := s[0]
		for i := 1; i <= 10000; i++ {
			p := bernstein(s[:], float64(i)/10000)
			arc += p.dist(prev)
			prev = p
		}
	}
	poly := b.Polygon()
	if float64(len(poly)) < arc {
		t.Errorf("%d polygon points for %.1f px of outline", len(poly), arc)
	}
	for i, p := range poly {
		if d := p.dist(poly[(i+1)%len(poly)]); d > 2 {
			t.Fatalf("polygon step %g px at %d", d, i)
		}
	}
}

func TestRandomPointsRespectsRadiusAndSpacing(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := Point{100, 80}
	for n := 3; n <= 12; n++ {
		R := 40.0
		gap := 0.7 * R / float64(n)
		pts, ok := RandomPoints(rng, n, c, R, 0.35, 1, gap, 50)
		if !ok {
			continue
		}
		prev := -math.Pi - 1
		for i, p := range pts {
			r := p.dist(c)
			if r < 0.35*R-1e-9 || r > R+1e-9 {
				t.Errorf("n=%d point %d at radius %g outside [0.35R, R]", n, i, r)
			}
			a := p.sub(c).angle()
			if a < 0 {
				a += 2 * math.Pi
			}
			if a < prev {
				t.Errorf("n=%d angles not sorted", n)
			}
			prev = a
		}
		if g := minConsecutiveGap(pts); g < gap {
			t.Errorf("n=%d gap %g < %g", n, g, gap)
		}
	}
}

func TestFillSquareIsExact(t *testing.T) {
	// Corners on pixel boundaries: exactly the 10×6 pixels inside.
	sq := []Point{{2, 3}, {12, 3}, {12, 9}, {2, 9}}
	spans := FillPolygon(sq, 20, 20)
	if a := Area(spans); a != 60 {
		t.Errorf("area %d, want 60", a)
	}
	x0, y0, x1, y1 := Bounds(spans)
	if x0 != 2 || y0 != 3 || x1 != 12 || y1 != 9 {
		t.Errorf("bounds %d,%d,%d,%d", x0, y0, x1, y1)
	}
	// Clipped by the canvas.
	if a := Area(FillPolygon([]Point{{-5, -5}, {5, -5}, {5, 5}, {-5, 5}}, 20, 20)); a != 25 {
		t.Errorf("clipped area %d, want 25", a)
	}
}

func TestFillCircleAreaAndEvenOdd(t *testing.T) {
	circle := func(cx, cy, r float64, reverse bool) []Point {
		var p []Point
		for i := range 2000 {
			a := 2 * math.Pi * float64(i) / 2000
			if reverse {
				a = -a
			}
			p = append(p, Point{cx + r*math.Cos(a), cy + r*math.Sin(a)})
		}
		return p
	}
	spans := FillPolygon(circle(100, 100, 60, false), 200, 200)
	if a := float64(Area(spans)); math.Abs(a-math.Pi*3600)/(math.Pi*3600) > 0.005 {
		t.Errorf("circle area %g, want πr² = %g", a, math.Pi*3600)
	}
	// A pentagram: the even-odd rule leaves its pentagon centre empty.
	var star []Point
	for i := range 5 {
		a := -math.Pi/2 + float64(i)*4*math.Pi/5
		star = append(star, Point{50 + 40*math.Cos(a), 50 + 40*math.Sin(a)})
	}
	inside := map[[2]int]bool{}
	for _, s := range FillPolygon(star, 100, 100) {
		for x := s.X0; x < s.X1; x++ {
			inside[[2]int{x, s.Y}] = true
		}
	}
	if inside[[2]int{50, 50}] {
		t.Error("pentagram centre filled; even-odd leaves it empty")
	}
	if !inside[[2]int{50, 15}] {
		t.Error("pentagram tip not filled")
	}
}

func TestEllipseFillMatchesContains(t *testing.T) {
	e := Ellipse{C: Point{40.3, 31.7}, RX: 25, RY: 12, Angle: 0.7}
	const w, h = 80, 64
	got := map[[2]int]bool{}
	for _, s := range e.Fill(w, h) {
		for x := s.X0; x < s.X1; x++ {
			got[[2]int{x, s.Y}] = true
		}
	}
	mismatch := 0
	for y := range h {
		for x := range w {
			if got[[2]int{x, y}] != e.Contains(Point{float64(x) + 0.5, float64(y) + 0.5}) {
				mismatch++
			}
		}
	}
	if mismatch > 0 {
		t.Errorf("%d pixels differ between Fill and Contains", mismatch)
	}
	if a, want := float64(len(got)), math.Pi*25*12; math.Abs(a-want)/want > 0.02 {
		t.Errorf("ellipse area %g, want πab = %g", a, want)
	}
}

func TestRotateKeepsDistances(t *testing.T) {
	pts := []Point{{1, 0}, {3, 4}}
	c := Point{1, 1}
	Rotate(pts, c, math.Pi/2)
	if pts[0].dist(Point{2, 1}) > 1e-12 {
		t.Errorf("rotated (1,0) about (1,1) by 90° = %v, want (2,1)", pts[0])
	}
	if math.Abs(pts[1].dist(c)-math.Hypot(2, 3)) > 1e-12 {
		t.Errorf("distance changed: %v", pts[1])
	}
}
