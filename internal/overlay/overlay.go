// Package overlay draws masks, a box and clicks over a picture: the one
// drawer behind the evaluation gallery and the demo sheet (eval), the
// generator's contact sheet (synth/store) and `synthfm segment --overlay`.
package overlay

import (
	"image"
	"image/color"
	"image/draw"
	"math"
)

// Layer is one mask drawn over the picture.
type Layer struct {
	// Mask has the picture's bounds (offset by Origin); a pixel is inside
	// where its value is above Threshold.
	Mask      *image.Gray
	Threshold uint8
	// Inside pixels are blended towards Tint by Alpha (0: no tint).
	Tint  color.NRGBA
	Alpha float64
	// Boundary pixels (inside, with a 4-neighbour outside the mask or the
	// picture) are painted Outline instead when Outline.A > 0.
	Outline color.NRGBA
}

// Click is a point prompt; X, Y are the picture coordinates of its centre
// (pixel (i, j) has its centre at i+0.5, j+0.5).
type Click struct {
	X, Y     float64
	Positive bool
}

// Overlay is what Draw paints, in this order: the layers, the box, the
// clicks.
type Overlay struct {
	// Origin is where the masks' pixel (0, 0) lies in the picture.
	Origin image.Point
	Layers []Layer
	// Box (x0, y0, x1, y1 in pixels, corners included, x1 and y1 rounded
	// up) is outlined in BoxColor when not nil.
	Box      *[4]float64
	BoxColor color.NRGBA
	// Clicks are discs of ClickRadius in Positive or Negative colour with a
	// white rim RimWidth wide.
	Clicks                       []Click
	ClickRadius, RimWidth        float64
	PositiveColor, NegativeColor color.NRGBA
}

// Draw paints o over dst.
func Draw(dst draw.Image, o Overlay) {
	for _, l := range o.Layers {
		drawLayer(dst, o.Origin, l)
	}
	if b := o.Box; b != nil {
		x0, y0, x1, y1 := int(b[0]), int(b[1]), int(math.Ceil(b[2]))-1, int(math.Ceil(b[3]))-1
		for x := x0; x <= x1; x++ {
			dst.Set(x, y0, o.BoxColor)
			dst.Set(x, y1, o.BoxColor)
		}
		for y := y0; y <= y1; y++ {
			dst.Set(x0, y, o.BoxColor)
			dst.Set(x1, y, o.BoxColor)
		}
	}
	for _, c := range o.Clicks {
		fill := o.NegativeColor
		if c.Positive {
			fill = o.PositiveColor
		}
		if o.RimWidth > 0 {
			disc(dst, c.X, c.Y, o.ClickRadius+o.RimWidth, color.NRGBA{255, 255, 255, 255})
		}
		disc(dst, c.X, c.Y, o.ClickRadius, fill)
	}
}

func drawLayer(dst draw.Image, origin image.Point, l Layer) {
	m := l.Mask
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	inside := func(x, y int) bool {
		return x >= 0 && y >= 0 && x < w && y < h && m.Pix[y*m.Stride+x] > l.Threshold
	}
	for y := range h {
		for x := range w {
			if !inside(x, y) {
				continue
			}
			px, py := origin.X+x, origin.Y+y
			if l.Outline.A > 0 && (!inside(x-1, y) || !inside(x+1, y) || !inside(x, y-1) || !inside(x, y+1)) {
				dst.Set(px, py, l.Outline)
				continue
			}
			if l.Alpha > 0 {
				c := color.NRGBAModel.Convert(dst.At(px, py)).(color.NRGBA)
				c.R = blend(c.R, l.Tint.R, l.Alpha)
				c.G = blend(c.G, l.Tint.G, l.Alpha)
				c.B = blend(c.B, l.Tint.B, l.Alpha)
				dst.Set(px, py, c)
			}
		}
	}
}

func blend(a, b uint8, alpha float64) uint8 {
	return uint8(math.Round(float64(a)*(1-alpha) + float64(b)*alpha))
}

// disc paints the pixels whose centres are within r of (cx, cy).
func disc(dst draw.Image, cx, cy, r float64, c color.Color) {
	bounds := dst.Bounds()
	for y := int(math.Floor(cy - r)); y <= int(math.Ceil(cy+r)); y++ {
		for x := int(math.Floor(cx - r)); x <= int(math.Ceil(cx+r)); x++ {
			if dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy; dx*dx+dy*dy <= r*r && image.Pt(x, y).In(bounds) {
				dst.Set(x, y, c)
			}
		}
	}
}
