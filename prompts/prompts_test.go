package prompts

import (
	"image"
	"math"
	"testing"
)

func rectMask(w, h int, r image.Rectangle) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			m.Pix[x+y*m.Stride] = 255
		}
	}
	return m
}

// cShape is a thick "C": its centroid lies in the opening, outside the mask.
func cShape() *image.Gray {
	m := rectMask(80, 80, image.Rect(10, 10, 70, 70))
	for y := 25; y < 55; y++ {
		for x := 25; x < 70; x++ {
			m.Pix[x+y*m.Stride] = 0
		}
	}
	return m
}

func in(m *image.Gray, x, y int) bool {
	return image.Pt(x, y).In(m.Bounds()) && m.Pix[x+y*m.Stride] != 0
}

// distToMask is a brute-force distance from (x,y) to the nearest mask pixel.
func distToMask(m *image.Gray, x, y int) float64 {
	best := math.Inf(1)
	for yy := 0; yy < m.Bounds().Dy(); yy++ {
		for xx := 0; xx < m.Bounds().Dx(); xx++ {
			if in(m, xx, yy) {
				best = min(best, math.Hypot(float64(xx-x), float64(yy-y)))
			}
		}
	}
	return best
}

// depth is a brute-force distance from (x,y) to the nearest pixel outside m.
func depth(m *image.Gray, x, y int) float64 {
	best := math.Inf(1)
	b := m.Bounds()
	for yy := -1; yy <= b.Dy(); yy++ {
		for xx := -1; xx <= b.Dx(); xx++ {
			if !in(m, xx, yy) {
				best = min(best, math.Hypot(float64(xx-x), float64(yy-y)))
			}
		}
	}
	return best
}

func TestFirstClickInsideAndNearestCentroid(t *testing.T) {
	for name, m := range map[string]*image.Gray{"square": rectMask(64, 48, image.Rect(10, 8, 41, 30)), "C": cShape()} {
		clicks, err := Simulate(m, 1, 0, 7)
		if err != nil {
			t.Fatal(err)
		}
		c := clicks[0]
		if !c.Positive || !in(m, c.X, c.Y) || depth(m, c.X, c.Y) <= InteriorDepth {
			t.Fatalf("%s: first click %+v not in the 2-px interior", name, c)
		}
		var sx, sy, n float64
		for y := 0; y < m.Bounds().Dy(); y++ {
			for x := 0; x < m.Bounds().Dx(); x++ {
				if in(m, x, y) {
					sx, sy, n = sx+float64(x), sy+float64(y), n+1
				}
			}
		}
		cx, cy := sx/n, sy/n
		got := math.Hypot(float64(c.X)-cx, float64(c.Y)-cy)
		for y := 0; y < m.Bounds().Dy(); y++ {
			for x := 0; x < m.Bounds().Dx(); x++ {
				if in(m, x, y) && depth(m, x, y) > InteriorDepth && math.Hypot(float64(x)-cx, float64(y)-cy) < got-1e-9 {
					t.Fatalf("%s: (%d,%d) is nearer the centroid (%.1f,%.1f) than the click %+v", name, x, y, cx, cy, c)
				}
			}
		}
	}
	// For the 31x22 rectangle the centroid is (25, 18.5): nearest pixels are (25,18) and (25,19).
	clicks, _ := Simulate(rectMask(64, 48, image.Rect(10, 8, 41, 30)), 1, 0, 1)
	if c := clicks[0]; c.X != 25 || (c.Y != 18 && c.Y != 19) {
		t.Fatalf("rectangle first click %+v, want (25,18|19)", c)
	}
}

func TestNegativesInBandAndSpread(t *testing.T) {
	m := rectMask(100, 100, image.Rect(30, 30, 70, 60)) // |M| = 1200, r = max(5, 3.46) = 5
	clicks, err := Simulate(m, 3, 3, 11)
	if err != nil {
		t.Fatal(err)
	}
	if len(clicks) != 6 {
		t.Fatalf("got %d clicks", len(clicks))
	}
	var negs []Click
	for i, c := range clicks {
		if c.Positive != (i < 3) {
			t.Fatalf("click %d has Positive=%v", i, c.Positive)
		}
		if c.Positive {
			if !in(m, c.X, c.Y) {
				t.Fatalf("positive %+v outside the mask", c)
			}
			continue
		}
		if d := distToMask(m, c.X, c.Y); d <= 0 || d > 5 {
			t.Fatalf("negative %+v at distance %.2f from the mask, want (0,5]", c, d)
		}
		negs = append(negs, c)
	}
	gap := max(MinPositiveGap, PositiveGapFraction*math.Sqrt(1200))
	for i := 0; i < 3; i++ {
		for j := 0; j < i; j++ {
			if d := math.Hypot(float64(clicks[i].X-clicks[j].X), float64(clicks[i].Y-clicks[j].Y)); d < gap {
				t.Fatalf("positives %d and %d only %.2f apart (gap %.2f)", i, j, d, gap)
			}
		}
	}
	// Farthest-point sampling: the first negative is a band corner farthest
	// from the centroid (49.5, 44.5); the second is the band pixel farthest
	// from the first, i.e. the opposite corner region.
	d0 := math.Hypot(float64(negs[0].X)-49.5, float64(negs[0].Y)-44.5)
	for y := 0; y < 100; y++ {
		for x := 0; x < 100; x++ {
			if d := distToMask(m, x, y); d > 0 && d <= 5 && math.Hypot(float64(x)-49.5, float64(y)-44.5) > d0+1e-9 {
				t.Fatalf("band pixel (%d,%d) is farther from the centroid than the first negative %+v", x, y, negs[0])
			}
		}
	}
	d01 := math.Hypot(float64(negs[1].X-negs[0].X), float64(negs[1].Y-negs[0].Y))
	if d01 < 40 {
		t.Fatalf("first two negatives only %.1f apart: %+v", d01, negs)
	}
	min2 := min(d01, math.Hypot(float64(negs[2].X-negs[0].X), float64(negs[2].Y-negs[0].Y)),
		math.Hypot(float64(negs[2].X-negs[1].X), float64(negs[2].Y-negs[1].Y)))
	if min2 < 25 {
		t.Fatalf("negatives not spread apart: %+v", negs)
	}
}

func TestSimulateReproducible(t *testing.T) {
	m := cShape()
	a, _ := Simulate(m, 3, 3, CaseSeed("acdc/10005/lv", 0))
	b, _ := Simulate(m, 3, 3, CaseSeed("acdc/10005/lv", 0))
	c, _ := Simulate(m, 3, 3, CaseSeed("acdc/10005/lv", 1))
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed gave %+v and %+v", a, b)
		}
	}
	if a[1] == c[1] && a[2] == c[2] {
		t.Fatalf("different seeds gave the same random positives %+v", a)
	}
	if CaseSeed("a", 0) == CaseSeed("b", 0) {
		t.Fatal("CaseSeed ignores the case id")
	}
}

func TestSimulateRejectsBadInput(t *testing.T) {
	if _, err := Simulate(image.NewGray(image.Rect(0, 0, 4, 4)), 1, 0, 0); err == nil {
		t.Fatal("empty mask accepted")
	}
	if _, err := Simulate(rectMask(8, 8, image.Rect(2, 2, 6, 6)), 0, 1, 0); err == nil {
		t.Fatal("zero positives accepted")
	}
	// A mask filling the image has no band: positives only, no error.
	clicks, err := Simulate(rectMask(8, 8, image.Rect(0, 0, 8, 8)), 1, 2, 0)
	if err != nil || len(clicks) != 1 {
		t.Fatalf("full mask: %v %v", clicks, err)
	}
}

func TestSamplerRanges(t *testing.T) {
	m := rectMask(64, 64, image.Rect(16, 16, 48, 48))
	rng := NewRand(3)
	seenP, seenN := map[int]bool{}, map[int]bool{}
	for i := 0; i < 300; i++ {
		clicks, err := DefaultSampler().Sample(m, rng)
		if err != nil {
			t.Fatal(err)
		}
		p := 0
		for _, c := range clicks {
			if c.Positive {
				p++
			}
		}
		seenP[p], seenN[len(clicks)-p] = true, true
	}
	if len(seenP) != 5 || len(seenN) != 6 || seenP[0] || seenN[6] {
		t.Fatalf("positives seen %v negatives seen %v", seenP, seenN)
	}
}

func TestRefineClick(t *testing.T) {
	gt := rectMask(60, 60, image.Rect(10, 10, 50, 50))
	pred := rectMask(60, 60, image.Rect(10, 10, 50, 30)) // misses the 40x20 bottom half
	c, ok := RefineClick(gt, pred)
	// The missed region is x 10..49, y 30..49; its interior-most pixels lie on
	// its middle row band, 10 px from the top (prediction) and bottom edges.
	if !ok || !c.Positive || c.Y < 39 || c.Y > 40 || c.X < 19 || c.X > 40 {
		t.Fatalf("missed region click %+v ok=%v", c, ok)
	}
	pred2 := rectMask(60, 60, image.Rect(10, 10, 50, 50))
	for y := 52; y < 60; y++ {
		for x := 0; x < 60; x++ {
			pred2.Pix[x+y*60] = 255 // an 8x60 false positive strip
		}
	}
	c, ok = RefineClick(gt, pred2)
	if !ok || c.Positive || c.Y < 55 || c.Y > 56 {
		t.Fatalf("false positive click %+v ok=%v", c, ok)
	}
	if _, ok := RefineClick(gt, gt); ok {
		t.Fatal("a perfect prediction produced a click")
	}
}
