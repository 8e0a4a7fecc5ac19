// Package sameval lets the evaluation harness measure any promptable model:
// it adapts a promptable.Segmenter to eval.Model (one embedding per slice,
// one decode per click configuration, the mask chosen by
// promptable.SegmentOne, the project's one rule).
package sameval

import (
	"context"
	"fmt"
	"image"

	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/promptable"
	"github.com/synthfm/synthfm/prompts"
)

// Model measures a segmenter.
type Model struct {
	seg  promptable.Segmenter
	name string
}

// New returns the evaluation view of a segmenter; name labels its results.
func New(s promptable.Segmenter, name string) *Model { return &Model{seg: s, name: name} }

// Name labels the model's results.
func (m *Model) Name() string { return m.name }

// Prepare embeds a grey slice (replicated to RGB).
func (m *Model) Prepare(ctx context.Context, img *image.Gray) (eval.Prepared, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rgb := promptable.Image{Width: w, Height: h, Pix: make([]uint8, 3*w*h)}
	for y := range h {
		for x := range w {
			v := img.Pix[(y)*img.Stride+x]
			o := 3 * (y*w + x)
			rgb.Pix[o], rgb.Pix[o+1], rgb.Pix[o+2] = v, v, v
		}
	}
	emb, err := m.seg.Embed(ctx, rgb)
	if err != nil {
		return nil, err
	}
	return &prepared{seg: m.seg, emb: emb, bounds: b}, nil
}

type prepared struct {
	seg    promptable.Segmenter
	emb    promptable.Embedding
	bounds image.Rectangle
}

// Segment decodes the clicks (pixel indices of the slice) and returns the
// chosen binary mask (255 inside).
func (p *prepared) Segment(ctx context.Context, clicks []prompts.Click) (*image.Gray, error) {
	if len(clicks) == 0 {
		return nil, fmt.Errorf("sameval: no clicks")
	}
	w, h := p.bounds.Dx(), p.bounds.Dy()
	prompt := promptable.Prompt{Points: Points(clicks, p.bounds.Min)}
	mask, err := promptable.SegmentOne(ctx, p.seg, p.emb, w, h, prompt)
	if err != nil {
		return nil, err
	}
	out := image.NewGray(p.bounds)
	for i, v := range mask.Pix {
		if v != 0 {
			out.Pix[i] = 255
		}
	}
	return out, nil
}

// Points converts clicks on an image whose bounds start at origin into
// prompt points (pixel indices from the image's top-left corner).
func Points(clicks []prompts.Click, origin image.Point) []promptable.Point {
	pts := make([]promptable.Point, len(clicks))
	for i, c := range clicks {
		pts[i] = promptable.Point{X: float64(c.X - origin.X), Y: float64(c.Y - origin.Y), Positive: c.Positive}
	}
	return pts
}
