package models

import (
	"context"
	"fmt"

	"github.com/synthfm/synthfm/clicknet"
	"github.com/synthfm/synthfm/promptable"
)

// Clicknet serves a clicknet model: Embed resizes the image into the
// network's input frame (cheap), Segment runs the whole network on the
// image with the prompt's clicks, box and previous mask as input channels.
type Clicknet struct {
	p *clicknet.Predictor
}

// NewClicknet serves the predictor's model.
func NewClicknet(p *clicknet.Predictor) *Clicknet { return &Clicknet{p: p} }

// clicknetEmbedding is a prepared image with its original size.
type clicknetEmbedding struct{ e *clicknet.Prepared }

func (e clicknetEmbedding) SizeBytes() int64 { return e.e.SizeBytes() }

// Info describes the model.
func (c *Clicknet) Info() promptable.ModelInfo {
	cfg := c.p.Config()
	return promptable.ModelInfo{
		Name: "synthfm-" + cfg.Name,
		Description: fmt.Sprintf("SynthFM clicknet (%d-level UNet, widths %v, %d² input): clicks, box and previous mask as input channels; trained on synthetic images only",
			len(cfg.Widths), cfg.Widths, cfg.InputSize),
		InputSize: cfg.InputSize,
		Multimask: 1,
	}
}

// Embed prepares an image: its grey levels (the mean of red, green and
// blue) resized into the input frame.
func (c *Clicknet) Embed(ctx context.Context, img promptable.Image) (promptable.Embedding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	gray, err := promptable.Grey(img)
	if err != nil {
		return nil, err
	}
	e, err := c.p.Prepare(img.Height, img.Width, gray)
	if err != nil {
		return nil, err
	}
	return clicknetEmbedding{e}, nil
}

// Segment returns the one mask of the prompt (clicknet has no candidates:
// a multimask prompt gets the same single mask).
func (c *Clicknet) Segment(ctx context.Context, emb promptable.Embedding, width, height int, p promptable.Prompt) ([]promptable.Mask, error) {
	e, ok := emb.(clicknetEmbedding)
	if !ok {
		return nil, fmt.Errorf("clicknet: embedding of type %T is not from this model", emb)
	}
	if g := e.e.Geometry; g.OriginalW != width || g.OriginalH != height {
		return nil, fmt.Errorf("clicknet: embedding is of a %dx%d image, prompt is for %dx%d", g.OriginalW, g.OriginalH, width, height)
	}
	if len(p.Points) == 0 && p.Box == nil {
		return nil, promptable.Unsupported("give at least one click or a box")
	}
	pr := clicknet.Prompt{Previous: p.Previous}
	for _, pt := range p.Points {
		pr.Points = append(pr.Points, clicknet.ImagePoint{X: pt.X, Y: pt.Y, Positive: pt.Positive})
	}
	if b := p.Box; b != nil {
		pr.Box = &[4]float64{b.X0, b.Y0, b.X1, b.Y1}
	}
	logits, err := c.p.Predict(ctx, e.e, pr)
	if err != nil {
		return nil, err
	}
	pix := make([]uint8, width*height)
	for i, v := range logits {
		if v > 0 {
			pix[i] = 1
		}
	}
	return []promptable.Mask{{Width: width, Height: height, Pix: pix, Score: 1}}, nil
}
