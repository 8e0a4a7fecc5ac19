package server

import (
	"context"
	"fmt"

	"github.com/synthfm/synthfm/baseline"
)

// FloodFill serves baseline.FloodFill, the classical promptable segmenter
// that needs no checkpoint (`synthfm serve --model flood-fill`).
type FloodFill struct{ *baseline.FloodFill }

// NewFloodFill serves baseline.NewFloodFill().
func NewFloodFill() *FloodFill { return &FloodFill{baseline.NewFloodFill()} }

// Info describes the segmenter.
func (f *FloodFill) Info() ModelInfo {
	return ModelInfo{Name: "flood-fill", Description: f.Description(), Multimask: len(f.Tolerances)}
}

// Embed turns the image into grey levels (a *baseline.GreyImage).
func (f *FloodFill) Embed(ctx context.Context, img Image) (Embedding, error) {
	g, err := f.FloodFill.Embed(ctx, img.Width, img.Height, img.Pix)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Segment floods from the prompt (see baseline.FloodFill.Segment).
func (f *FloodFill) Segment(ctx context.Context, emb Embedding, width, height int, p Prompt) ([]Mask, error) {
	g, ok := emb.(*baseline.GreyImage)
	if !ok {
		return nil, fmt.Errorf("flood fill: embedding of type %T is not from this segmenter", emb)
	}
	if g.Width != width || g.Height != height {
		return nil, fmt.Errorf("flood fill: embedding is %dx%d, prompt is for %dx%d", g.Width, g.Height, width, height)
	}
	fp := baseline.FloodPrompt{Multimask: p.Multimask}
	for _, pt := range p.Points {
		fp.Points = append(fp.Points, baseline.FloodPoint{X: pt.X, Y: pt.Y, Positive: pt.Positive})
	}
	if b := p.Box; b != nil {
		fp.Box = &[4]float64{b.X0, b.Y0, b.X1, b.Y1}
	}
	fm, err := f.FloodFill.Segment(ctx, g, fp)
	if err != nil {
		return nil, err
	}
	masks := make([]Mask, len(fm))
	for i, m := range fm {
		masks[i] = Mask{Width: width, Height: height, Pix: m.Pix, Score: m.Score}
	}
	return masks, nil
}
