package models

import (
	"context"
	"fmt"
	"image"

	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/promptable"
	"github.com/synthfm/synthfm/prompts"
)

// EvalModel serves a segmenter of the evaluation harness (eval.Model, for
// instance the region-growing baseline) so that it can be tried on the web
// page next to SAM. Such models take clicks only (no box), at least one of
// them positive, and return one mask; its score is 0, as they predict none.
type EvalModel struct {
	m eval.Model
	// description is shown by /api/info.
	description string
}

// NewEvalModel serves m.
func NewEvalModel(m eval.Model, description string) *EvalModel {
	return &EvalModel{m: m, description: description}
}

// evalPrepared is an eval.Prepared with the image size, for the cache.
type evalPrepared struct {
	p             eval.Prepared
	width, height int
}

// SizeBytes is an estimate: the evaluation models keep a few float64 maps
// of the image.
func (e evalPrepared) SizeBytes() int64 { return int64(8 * e.width * e.height) }

// Info describes the model.
func (e *EvalModel) Info() promptable.ModelInfo {
	return promptable.ModelInfo{Name: e.m.Name(), Description: e.description, Multimask: 1}
}

// Embed prepares the model on the image's grey levels (the mean of red,
// green and blue, which is the grey level itself for grey slices).
func (e *EvalModel) Embed(ctx context.Context, img promptable.Image) (promptable.Embedding, error) {
	grey, err := promptable.Grey(img)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.m.Name(), err)
	}
	g := &image.Gray{Pix: grey, Stride: img.Width, Rect: image.Rect(0, 0, img.Width, img.Height)}
	p, err := e.m.Prepare(ctx, g)
	if err != nil {
		return nil, err
	}
	return evalPrepared{p: p, width: img.Width, height: img.Height}, nil
}

// Segment returns the model's mask for the clicks (rounded to pixels).
func (e *EvalModel) Segment(ctx context.Context, emb promptable.Embedding, width, height int, p promptable.Prompt) ([]promptable.Mask, error) {
	ep, ok := emb.(evalPrepared)
	if !ok || ep.width != width || ep.height != height {
		return nil, fmt.Errorf("%s: embedding of type %T is not from this model for a %dx%d image", e.m.Name(), emb, width, height)
	}
	if p.Box != nil {
		return nil, promptable.Unsupported("model %s takes clicks only, no box", e.m.Name())
	}
	positive := false
	for _, pt := range p.Points {
		positive = positive || pt.Positive
	}
	if !positive {
		return nil, promptable.Unsupported("model %s needs at least one click on the object", e.m.Name())
	}
	clicks := make([]prompts.Click, len(p.Points))
	for i, pt := range p.Points {
		clicks[i] = prompts.Click{X: int(pt.X), Y: int(pt.Y), Positive: pt.Positive}
	}
	g, err := ep.p.Segment(ctx, clicks)
	if err != nil {
		return nil, err
	}
	b := g.Bounds()
	if b.Dx() != width || b.Dy() != height {
		return nil, fmt.Errorf("%s returned a %dx%d mask for a %dx%d image", e.m.Name(), b.Dx(), b.Dy(), width, height)
	}
	m := promptable.Mask{Width: width, Height: height, Pix: make([]uint8, width*height)}
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			if g.Pix[y*g.Stride+x] != 0 {
				m.Pix[y*width+x] = 1
			}
		}
	}
	return []promptable.Mask{m}, nil
}
