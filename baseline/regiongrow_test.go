package baseline

import (
	"context"
	"image"
	"math/rand/v2"
	"testing"

	"github.com/synthfm/synthfm/metrics"
	"github.com/synthfm/synthfm/prompts"
)

// scene is a noisy 120x100 image: a bright disc (radius 25) touching a
// slightly darker square (176 vs 180) through a 12-px wide bridge, on a dark background.
func scene() (img, disc *image.Gray) {
	rng := rand.New(rand.NewPCG(5, 6))
	img = image.NewGray(image.Rect(0, 0, 120, 100))
	disc = image.NewGray(img.Bounds())
	for y := 0; y < 100; y++ {
		for x := 0; x < 120; x++ {
			v := 40.0
			dx, dy := float64(x-40), float64(y-50)
			switch {
			case dx*dx+dy*dy <= 25*25:
				v = 180
				disc.Pix[x+y*120] = 255
			case x >= 60 && x < 70 && y >= 44 && y < 56: // bridge
				v = 180
			case x >= 70 && x < 110 && y >= 30 && y < 70:
				v = 176
			}
			img.Pix[x+y*120] = uint8(v + rng.NormFloat64()*6)
		}
	}
	return img, disc
}

func TestRegionGrowSegmentsADisc(t *testing.T) {
	img, disc := scene()
	m := NewRegionGrow()
	p, err := m.Prepare(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	one, err := p.Segment(context.Background(), []prompts.Click{{X: 40, Y: 50, Positive: true}})
	if err != nil {
		t.Fatal(err)
	}
	// The square is similar (176 vs 180) and joined by the bridge: one
	// click leaks into it, so Dice is well below 1 but the disc is covered.
	dOne := metrics.Dice(disc, one)
	// A negative click in the square stops the leak.
	two, err := p.Segment(context.Background(), []prompts.Click{{X: 40, Y: 50, Positive: true}, {X: 90, Y: 50}})
	if err != nil {
		t.Fatal(err)
	}
	dTwo := metrics.Dice(disc, two)
	if dTwo < 0.9 || dTwo <= dOne {
		t.Fatalf("Dice with one click %.3f, with a negative click %.3f; want the negative to help and reach 0.9", dOne, dTwo)
	}
	if _, err := p.Segment(context.Background(), []prompts.Click{{X: 1, Y: 1}}); err == nil {
		t.Fatal("negatives only accepted")
	}
	if _, err := p.Segment(context.Background(), []prompts.Click{{X: 500, Y: 1, Positive: true}}); err == nil {
		t.Fatal("click outside the image accepted")
	}
}

// BenchmarkRegionGrow measures one prepare + segment on a 512x512 slice
// (the ACDC / sammed2d size) with one positive click, against the cost of
// the Gaussian smoothing alone (the baseline measured in the same run).
func BenchmarkRegionGrow(b *testing.B) {
	small, _ := scene()
	img := image.NewGray(image.Rect(0, 0, 512, 512))
	for y := 0; y < 512; y++ {
		for x := 0; x < 512; x++ {
			img.Pix[x+512*y] = small.Pix[x%120+120*(y%100)]
		}
	}
	ctx := context.Background()
	b.Run("smooth-only", func(b *testing.B) {
		f := make([]float64, 512*512)
		for b.Loop() {
			gaussianBlur(f, 512, 512, 1)
		}
	})
	b.Run("prepare+segment", func(b *testing.B) {
		m := NewRegionGrow()
		for b.Loop() {
			p, _ := m.Prepare(ctx, img)
			if _, err := p.Segment(ctx, []prompts.Click{{X: 40, Y: 50, Positive: true}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
