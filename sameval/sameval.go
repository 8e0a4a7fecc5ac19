// Package sameval lets the evaluation harness measure a SAM predictor: it
// adapts sam.Predictor to eval.Model (one image embedding per slice, one
// decode per click configuration).
package sameval

import (
	"context"
	"fmt"
	"image"

	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/prompts"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// Model measures a SAM predictor. Masks are chosen by SAM's own rule (the
// best of the three multimask outputs for a single click, the single-mask
// output for several clicks), as SAM's interactive tools do.
type Model struct {
	predictor *sam.Predictor
	name      string
}

// New returns the evaluation view of a predictor; name labels its results.
func New(p *sam.Predictor, name string) *Model { return &Model{predictor: p, name: name} }

// Name labels the model's results.
func (m *Model) Name() string { return m.name }

// Prepare computes the image embedding of a grey slice (replicated to RGB).
func (m *Model) Prepare(ctx context.Context, img *image.Gray) (eval.Prepared, error) {
	emb, err := m.predictor.Encode(ctx, imageproc.FromImage(img))
	if err != nil {
		return nil, err
	}
	return &prepared{predictor: m.predictor, emb: emb, bounds: img.Bounds()}, nil
}

type prepared struct {
	predictor *sam.Predictor
	emb       *sam.Embedding
	bounds    image.Rectangle
}

// Segment decodes the clicks (pixel indices of the slice) against the
// cached embedding and returns the chosen binary mask.
func (p *prepared) Segment(ctx context.Context, clicks []prompts.Click) (*image.Gray, error) {
	if len(clicks) == 0 {
		return nil, fmt.Errorf("sameval: no clicks")
	}
	prompt := sam.Prompt{Output: sam.OutputAuto, Points: Points(clicks, p.bounds.Min)}
	pred, err := p.predictor.Predict(ctx, p.emb, prompt)
	if err != nil {
		return nil, err
	}
	mask := pred.Binary(pred.Best)
	mask.Rect = mask.Rect.Add(p.bounds.Min)
	return mask, nil
}

// Points converts clicks on an image whose bounds start at origin into SAM
// point prompts (pixel coordinates of the image's top-left corner).
func Points(clicks []prompts.Click, origin image.Point) []sam.Point {
	pts := make([]sam.Point, len(clicks))
	for i, c := range clicks {
		label := sam.LabelNegative
		if c.Positive {
			label = sam.LabelPositive
		}
		pts[i] = sam.Point{X: float64(c.X - origin.X), Y: float64(c.Y - origin.Y), Label: label}
	}
	return pts
}
