package maskops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteDistance is the O(N²) reference for Distance.
func bruteDistance(g Grid, sx, sy float64) []float64 {
	d := make([]float64, len(g.Pix))
	for i := range d {
		best := math.Inf(1)
		x, y := i%g.W, i/g.W
		for j, in := range g.Pix {
			if in {
				dx, dy := float64(j%g.W-x)*sx, float64(j/g.W-y)*sy
				best = min(best, math.Hypot(dx, dy))
			}
		}
		d[i] = best
	}
	return d
}

func TestDistanceMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 20; trial++ {
		g := NewGrid(3+rng.IntN(20), 3+rng.IntN(20))
		for i := range g.Pix {
			g.Pix[i] = rng.Float64() < 0.05*float64(trial%4)
		}
		sx, sy := 1.0, 1.0
		if trial%2 == 1 {
			sx, sy = 0.7, 2.5
		}
		got, want := Distance(g, sx, sy), bruteDistance(g, sx, sy)
		for i := range got {
			if !(math.Abs(got[i]-want[i]) < 1e-9 || math.IsInf(got[i], 1) && math.IsInf(want[i], 1)) {
				t.Fatalf("trial %d pixel %d: got %v want %v", trial, i, got[i], want[i])
			}
		}
	}
}

func TestInsideDistanceCountsBorderAsOutside(t *testing.T) {
	g := NewGrid(5, 5)
	for i := range g.Pix {
		g.Pix[i] = true
	}
	d := InsideDistance(g)
	// The centre pixel (2,2) is 3 pixels from the padding ring.
	if d[2+2*5] != 3 || d[0] != 1 || d[1+1*5] != 2 {
		t.Fatalf("inside distances %v", d)
	}
}

func TestComponentsAndRemoveSmall(t *testing.T) {
	// Two diagonal pixels: one 8-component, two 4-components; plus a 2x2 block.
	g := NewGrid(6, 4)
	for _, p := range [][2]int{{0, 0}, {1, 1}, {4, 2}, {5, 2}, {4, 3}, {5, 3}} {
		g.Pix[p[0]+p[1]*g.W] = true
	}
	if _, s := Components(g, true); len(s) != 2 || s[0] != 2 || s[1] != 4 {
		t.Fatalf("8-connected sizes %v", s)
	}
	if _, s := Components(g, false); len(s) != 3 {
		t.Fatalf("4-connected sizes %v", s)
	}
	if n := RemoveSmall(g, 3).Count(); n != 4 {
		t.Fatalf("RemoveSmall kept %d pixels, want 4", n)
	}
}

func TestBoundaryOfSquare(t *testing.T) {
	g := NewGrid(10, 10)
	for y := 2; y < 7; y++ {
		for x := 2; x < 7; x++ {
			g.Pix[x+y*10] = true
		}
	}
	// A 5x5 square has 16 boundary pixels (25 minus the 3x3 interior).
	if n := g.Boundary().Count(); n != 16 {
		t.Fatalf("boundary count %d, want 16", n)
	}
	cx, cy, ok := g.Centroid()
	if !ok || cx != 4 || cy != 4 {
		t.Fatalf("centroid %v %v", cx, cy)
	}
}
