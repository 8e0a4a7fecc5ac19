package main

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// This file holds the parts of `synthfm segment` that do not need the
// model: prompt parsing, the overlay picture and the NPY debug output.

// click is one point prompt in original-image pixels.
type click struct {
	X, Y     float64
	Positive bool
}

// parseClicks parses "x,y,label;x,y,label;..." (label 1 = positive, 0 =
// negative). Empty input gives no clicks.
func parseClicks(s string) ([]click, error) {
	var clicks []click
	for i, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fields := strings.Split(part, ",")
		if len(fields) != 3 {
			return nil, fmt.Errorf("point %d %q: want x,y,label (label 1 = positive, 0 = negative)", i+1, part)
		}
		var v [2]float64
		for j, name := range []string{"x", "y"} {
			f, err := strconv.ParseFloat(strings.TrimSpace(fields[j]), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("point %d %q: %s %q is not a number", i+1, part, name, strings.TrimSpace(fields[j]))
			}
			v[j] = f
		}
		var positive bool
		switch strings.TrimSpace(fields[2]) {
		case "1":
			positive = true
		case "0":
		default:
			return nil, fmt.Errorf("point %d %q: label %q must be 1 (positive) or 0 (negative)", i+1, part, strings.TrimSpace(fields[2]))
		}
		clicks = append(clicks, click{X: v[0], Y: v[1], Positive: positive})
	}
	return clicks, nil
}

// parseBox parses "x0,y0,x1,y1" with x0 < x1 and y0 < y1.
func parseBox(s string) ([4]float64, error) {
	var b [4]float64
	fields := strings.Split(s, ",")
	if len(fields) != 4 {
		return b, fmt.Errorf("box %q: want x0,y0,x1,y1", s)
	}
	for i, f := range fields {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return b, fmt.Errorf("box %q: %q is not a number", s, strings.TrimSpace(f))
		}
		b[i] = v
	}
	if b[2] <= b[0] || b[3] <= b[1] {
		return b, fmt.Errorf("box %q: want x0 < x1 and y0 < y1 (top-left corner first)", s)
	}
	return b, nil
}

// checkInside reports prompts that lie outside a w×h image.
func checkInside(clicks []click, box *[4]float64, w, h int) error {
	for i, c := range clicks {
		if c.X < 0 || c.Y < 0 || c.X >= float64(w) || c.Y >= float64(h) {
			return fmt.Errorf("point %d (%g, %g) lies outside the %d×%d (W×H) image", i+1, c.X, c.Y, w, h)
		}
	}
	if box != nil && (box[0] < 0 || box[1] < 0 || box[2] > float64(w) || box[3] > float64(h)) {
		return fmt.Errorf("box (%g, %g, %g, %g) reaches outside the %d×%d (W×H) image", box[0], box[1], box[2], box[3], w, h)
	}
	return nil
}

// overlayColors are the colours of the overlay picture.
type overlayColors struct {
	tint, outline, positive, negative, box color.NRGBA
}

func defaultOverlayColors() overlayColors {
	return overlayColors{
		tint:     color.NRGBA{30, 144, 255, 255}, // mask interior, blended at 40 %
		outline:  color.NRGBA{255, 215, 0, 255},  // mask boundary
		positive: color.NRGBA{0, 200, 0, 255},
		negative: color.NRGBA{230, 0, 0, 255},
		box:      color.NRGBA{255, 0, 255, 255},
	}
}

// drawOverlay paints the mask over the image: the interior tinted at 40 %,
// its boundary (mask pixels with a 4-neighbour outside) in full colour, the
// box as a rectangle and the clicks as discs (green positive, red negative)
// with a white rim.
func drawOverlay(img *imageproc.Image, mask *image.Gray, clicks []click, box *[4]float64) *image.NRGBA {
	out := img.ToNRGBA()
	col := defaultOverlayColors()
	w, h := img.W, img.H
	inside := func(x, y int) bool {
		return x >= 0 && y >= 0 && x < w && y < h && mask.Pix[y*mask.Stride+x] != 0
	}
	for y := range h {
		for x := range w {
			if !inside(x, y) {
				continue
			}
			o := out.Pix[y*out.Stride+4*x:]
			if !inside(x-1, y) || !inside(x+1, y) || !inside(x, y-1) || !inside(x, y+1) {
				o[0], o[1], o[2] = col.outline.R, col.outline.G, col.outline.B
				continue
			}
			o[0] = blend(o[0], col.tint.R, 0.4)
			o[1] = blend(o[1], col.tint.G, 0.4)
			o[2] = blend(o[2], col.tint.B, 0.4)
		}
	}
	if box != nil {
		x0, y0, x1, y1 := int(box[0]), int(box[1]), int(math.Ceil(box[2]))-1, int(math.Ceil(box[3]))-1
		for x := x0; x <= x1; x++ {
			out.SetNRGBA(x, y0, col.box)
			out.SetNRGBA(x, y1, col.box)
		}
		for y := y0; y <= y1; y++ {
			out.SetNRGBA(x0, y, col.box)
			out.SetNRGBA(x1, y, col.box)
		}
	}
	radius := max(2, min(w, h)/80)
	for _, c := range clicks {
		fill := col.negative
		if c.Positive {
			fill = col.positive
		}
		cx, cy := int(c.X), int(c.Y)
		for dy := -radius - 1; dy <= radius+1; dy++ {
			for dx := -radius - 1; dx <= radius+1; dx++ {
				d2 := dx*dx + dy*dy
				switch {
				case d2 <= radius*radius:
					out.SetNRGBA(cx+dx, cy+dy, fill)
				case d2 <= (radius+1)*(radius+1):
					out.SetNRGBA(cx+dx, cy+dy, color.NRGBA{255, 255, 255, 255})
				}
			}
		}
	}
	return out
}

func blend(a, b uint8, alpha float64) uint8 {
	return uint8(math.Round(float64(a)*(1-alpha) + float64(b)*alpha))
}

// iouPath is the sibling file that receives the IoU predictions next to
// the --logits-out file: F.npy → F_iou.npy.
func iouPath(logitsPath string) string {
	return strings.TrimSuffix(logitsPath, ".npy") + "_iou.npy"
}

// writeLogitsNPY writes the low-res logits as a float32 (N, H, W) array to
// path and the IoU predictions as a float32 (N,) array to iouPath(path).
func writeLogitsNPY(path string, lowRes imageproc.Masks, iou []float32) error {
	if len(iou) != lowRes.N {
		return fmt.Errorf("%d IoU predictions for %d masks", len(iou), lowRes.N)
	}
	nested := make([][][]float32, lowRes.N)
	for i := range nested {
		m := lowRes.Mask(i)
		nested[i] = make([][]float32, lowRes.H)
		for y := range nested[i] {
			nested[i][y] = m[y*lowRes.W : (y+1)*lowRes.W]
		}
	}
	if err := writeNPYFile(path, nested); err != nil {
		return err
	}
	return writeNPYFile(iouPath(path), iou)
}

func writeNPYFile(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := npyio.Write(f, v); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
