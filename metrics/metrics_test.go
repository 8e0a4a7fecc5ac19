package metrics

import (
	"image"
	"math"
	"testing"
)

func rect(w, h int, r image.Rectangle) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			m.Pix[x+y*m.Stride] = 1
		}
	}
	return m
}

func TestDiceHandComputed(t *testing.T) {
	// G: 10x10 = 100 px; P: 10x10 shifted 5 px: overlap 5x10 = 50 → 2·50/200 = 0.5.
	g, p := rect(30, 30, image.Rect(0, 0, 10, 10)), rect(30, 30, image.Rect(5, 0, 15, 10))
	if d := Dice(g, p); d != 0.5 {
		t.Fatalf("Dice = %v, want 0.5", d)
	}
	// G 4x5 = 20 px inside P 6x5 = 30 px: 2·20/50 = 0.8.
	if d := Dice(rect(10, 10, image.Rect(1, 1, 5, 6)), rect(10, 10, image.Rect(1, 1, 7, 6))); math.Abs(d-0.8) > 1e-12 {
		t.Fatalf("Dice = %v, want 0.8", d)
	}
	empty := image.NewGray(image.Rect(0, 0, 30, 30))
	if d := Dice(empty, empty); !math.IsNaN(d) {
		t.Fatalf("Dice of two empty masks = %v, want NaN", d)
	}
	if d := Dice(g, empty); d != 0 {
		t.Fatalf("Dice against empty = %v, want 0", d)
	}
	if d := Dice(g, g); d != 1 {
		t.Fatalf("self Dice = %v", d)
	}
}

func TestNSDShiftedSquares(t *testing.T) {
	// Two 20x20 squares, G at x 5..24 and P shifted right by 3 px (x 8..27),
	// both at y 5..24. ∂G and ∂P have 76 pixels each. For G (P is symmetric):
	//  - tol ≥ 3: every boundary pixel is within 3 of ∂P → NSD = 1.
	//  - tol = 2: G's left column x=5 (20 px) is 3 from P's left column;
	//    G's right column x=24 lies inside P, 3 from P's right column, and
	//    only its rows y=5..7 and y=22..24 are within 2 of P's top or bottom
	//    row, so 14 px fail; G's top and bottom rows are within 2 of P's
	//    (x ≥ 9) or of P's left column (x = 6, 7). 34 fail on each side →
	//    NSD = (152 − 68) / 152.
	g := rect(40, 40, image.Rect(5, 5, 25, 25))
	p := rect(40, 40, image.Rect(8, 5, 28, 25))
	if v := NSD(g, p, 3, 1, 1); v != 1 {
		t.Fatalf("NSD(tol 3) = %v, want 1", v)
	}
	want := float64(152-68) / 152
	if v := NSD(g, p, 2, 1, 1); math.Abs(v-want) > 1e-12 {
		t.Fatalf("NSD(tol 2) = %v, want %v", v, want)
	}
	// With 0.5 mm columns the 3-px shift is 1.5 mm: within a 2 mm tolerance.
	if v := NSD(g, p, 2, 0.5, 1); v != 1 {
		t.Fatalf("NSD(tol 2 mm, 0.5 mm px) = %v, want 1", v)
	}
	if v := NSD(g, g, 0, 1, 1); v != 1 {
		t.Fatalf("self NSD = %v", v)
	}
}

func TestPairedTTestClosedForms(t *testing.T) {
	// n = 2 (1 degree of freedom): Student's t is Cauchy, two-sided p = 1 − 2·atan(|t|)/π.
	// d = (3−1, 5−1) = (2, 4): mean 3, sd √2, t = 3/(√2/√2) = 3.
	r, err := PairedTTest([]float64{3, 5}, []float64{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 2 || r.DF != 1 || math.Abs(r.T-3) > 1e-12 || math.Abs(r.P-(1-2*math.Atan(3)/math.Pi)) > 1e-12 {
		t.Fatalf("n=2: %+v, want t=3 p=%v", r, 1-2*math.Atan(3)/math.Pi)
	}
	// n = 3 (2 df): two-sided p = 1 − |t|/√(t²+2).
	// d = (1, 2, 6): mean 3, sd = √((4+1+9)/2) = √7, t = 3/(√7/√3) = 3√3/√7.
	r, err = PairedTTest([]float64{1, 2, 6}, []float64{0, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	tv := 3 * math.Sqrt(3) / math.Sqrt(7)
	if math.Abs(r.T-tv) > 1e-12 || math.Abs(r.P-(1-tv/math.Sqrt(tv*tv+2))) > 1e-12 || math.Abs(r.SDDiff-math.Sqrt(7)) > 1e-12 {
		t.Fatalf("n=3: %+v, want t=%v", r, tv)
	}
	// Sign: b better than a gives negative t, same p.
	r2, _ := PairedTTest([]float64{0, 0, 0}, []float64{1, 2, 6})
	if r2.T != -r.T || r2.P != r.P {
		t.Fatalf("swapped: %+v vs %+v", r2, r)
	}
	// NaN pairs are dropped; too few pairs is an error.
	if _, err := PairedTTest([]float64{1, math.NaN()}, []float64{0, 0}); err == nil {
		t.Fatal("one valid pair accepted")
	}
	if _, err := PairedTTest([]float64{1}, []float64{0, 0}); err == nil {
		t.Fatal("unequal lengths accepted")
	}
	if r, _ := PairedTTest([]float64{1, 1}, []float64{1, 1}); r.P != 1 {
		t.Fatalf("identical runs: %+v", r)
	}
}

func TestMeanSD(t *testing.T) {
	m, sd, n := MeanSD([]float64{2, 4, 4, 4, 5, 5, 7, 9, math.NaN()})
	// Sample SD of that classic set: √(32/7).
	if m != 5 || n != 8 || math.Abs(sd-math.Sqrt(32.0/7)) > 1e-12 {
		t.Fatalf("MeanSD = %v %v %v", m, sd, n)
	}
}
