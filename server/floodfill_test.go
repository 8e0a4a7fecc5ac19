package server

import (
	"context"
	"testing"

	"github.com/synthfm/synthfm/baseline"
)

// sceneImage draws a 100×80 grey picture: background 50, a disc of value
// 200 (radius 15, centre (30, 40)) and a square of value 120 (x 60..79,
// y 20..39). It returns the image and the disc's and square's masks,
// computed from their formulas.
func sceneImage() (Image, []uint8, []uint8) {
	const w, h = 100, 80
	img := Image{Width: w, Height: h, Pix: make([]uint8, 3*w*h)}
	disc := make([]uint8, w*h)
	square := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8(50)
			dx, dy := x-30, y-40
			switch {
			case dx*dx+dy*dy <= 15*15:
				v = 200
				disc[y*w+x] = 1
			case x >= 60 && x < 80 && y >= 20 && y < 40:
				v = 120
				square[y*w+x] = 1
			}
			img.Pix[3*(y*w+x)], img.Pix[3*(y*w+x)+1], img.Pix[3*(y*w+x)+2] = v, v, v
		}
	}
	return img, disc, square
}

func segmentOne(t *testing.T, f *baseline.FloodFill, img Image, p Prompt) []Mask {
	t.Helper()
	emb, err := f.Embed(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	masks, err := f.Segment(context.Background(), emb, img.Width, img.Height, p)
	if err != nil {
		t.Fatal(err)
	}
	return masks
}

func sameMask(t *testing.T, what string, got, want []uint8) {
	t.Helper()
	diff := 0
	for i := range want {
		if got[i] != want[i] {
			diff++
		}
	}
	if diff != 0 {
		t.Errorf("%s: %d pixels differ from the expected mask", what, diff)
	}
}

func TestFloodFillClickSelectsTheClickedShape(t *testing.T) {
	img, disc, square := sceneImage()
	f := baseline.NewFloodFill()
	m := segmentOne(t, f, img, Prompt{Points: []Point{{X: 30, Y: 40, Positive: true}}})
	if len(m) != 1 {
		t.Fatalf("single-mask prompt gave %d masks", len(m))
	}
	sameMask(t, "click in disc", m[0].Pix, disc)
	if m[0].Score != 1 {
		t.Errorf("disc mask is stable under doubled tolerance, score should be 1, got %g", m[0].Score)
	}
	m = segmentOne(t, f, img, Prompt{Points: []Point{{X: 65, Y: 25, Positive: true}, {X: 30, Y: 40, Positive: true}}})
	union := make([]uint8, len(disc))
	for i := range union {
		union[i] = disc[i] | square[i]
	}
	sameMask(t, "two positive clicks", m[0].Pix, union)
	// A negative click on the square takes it out again.
	m = segmentOne(t, f, img, Prompt{Points: []Point{{X: 65, Y: 25, Positive: true}, {X: 30, Y: 40, Positive: true}, {X: 70, Y: 30}}})
	sameMask(t, "negative click", m[0].Pix, disc)
}

func TestFloodFillBoxConfinesTheRegion(t *testing.T) {
	img, disc, _ := sceneImage()
	// Box over the disc's left half; no click: the seed is the box centre.
	box := &Box{X0: 10, Y0: 20, X1: 30, Y1: 60}
	m := segmentOne(t, baseline.NewFloodFill(), img, Prompt{Box: box})
	want := make([]uint8, len(disc))
	for y := 20; y <= 60; y++ {
		for x := 10; x <= 30; x++ {
			want[y*img.Width+x] = disc[y*img.Width+x]
		}
	}
	sameMask(t, "box", m[0].Pix, want)
}

func TestFloodFillMultimaskTolerances(t *testing.T) {
	// A horizontal ramp: grey = x. Clicking at x0 with tolerance t selects
	// the columns |x − x0| <= t, so the areas are known in closed form.
	const w, h = 200, 10
	img := Image{Width: w, Height: h, Pix: make([]uint8, 3*w*h)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				img.Pix[3*(y*w+x)+c] = uint8(x)
			}
		}
	}
	f := baseline.NewFloodFill()
	masks := segmentOne(t, f, img, Prompt{Points: []Point{{X: 100, Y: 5, Positive: true}}, Multimask: true})
	if len(masks) != 3 {
		t.Fatalf("multimask gave %d masks, want 3", len(masks))
	}
	for i, tol := range f.Tolerances {
		cols := 2*int(tol) + 1
		if got := masks[i].Area(); got != cols*h {
			t.Errorf("mask %d (tolerance %g): area %d, want %d", i, tol, got, cols*h)
		}
		// Stability: columns at tol over columns at 2·tol.
		want := float32(cols) / float32(4*int(tol)+1)
		if d := masks[i].Score - want; d > 1e-6 || d < -1e-6 {
			t.Errorf("mask %d score %g, want %g", i, masks[i].Score, want)
		}
	}
}
