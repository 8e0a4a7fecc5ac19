package overlay

import (
	"image"
	"image/color"
	"testing"
)

func TestDrawLayersBoxAndClicks(t *testing.T) {
	pic := image.NewNRGBA(image.Rect(0, 0, 20, 20))
	for i := range pic.Pix {
		pic.Pix[i] = 100
	}
	mask := image.NewGray(image.Rect(0, 0, 20, 20))
	for y := 5; y < 10; y++ {
		for x := 5; x < 10; x++ {
			mask.Pix[y*20+x] = 1
		}
	}
	gold, blue := color.NRGBA{255, 215, 0, 255}, color.NRGBA{30, 144, 255, 255}
	Draw(pic, Overlay{
		Layers:   []Layer{{Mask: mask, Tint: blue, Alpha: 0.4, Outline: gold}},
		Box:      &[4]float64{12, 12, 18, 18},
		BoxColor: color.NRGBA{255, 0, 255, 255},
		Clicks:   []Click{{X: 15.5, Y: 3.5, Positive: true}}, ClickRadius: 1, RimWidth: 1,
		PositiveColor: color.NRGBA{0, 200, 0, 255},
	})
	for _, tc := range []struct {
		x, y int
		want color.NRGBA
	}{
		{5, 5, gold},                             // boundary
		{7, 7, color.NRGBA{72, 118, 162, 100}},   // interior: 100·0.6 + tint·0.4, rounded
		{2, 2, color.NRGBA{100, 100, 100, 100}},  // outside
		{12, 15, color.NRGBA{255, 0, 255, 255}},  // box edge
		{17, 17, color.NRGBA{255, 0, 255, 255}},  // box corner (x1 = ceil(18) − 1)
		{15, 3, color.NRGBA{0, 200, 0, 255}},     // click centre
		{17, 3, color.NRGBA{255, 255, 255, 255}}, // rim
	} {
		if got := pic.NRGBAAt(tc.x, tc.y); got != tc.want {
			t.Errorf("pixel (%d, %d) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}
