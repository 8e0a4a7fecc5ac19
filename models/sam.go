package models

import (
	"context"
	"fmt"

	"github.com/synthfm/synthfm/promptable"

	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// SAM serves a Segment Anything model through sam.Predictor: each image is
// encoded once, each prompt decoded against the embedding, and the masks are
// the logits upsampled to the image and thresholded, as SamPredictor does.
type SAM struct {
	p    *sam.Predictor
	name string
}

// NewSAM serves the predictor's model.
func NewSAM(p *sam.Predictor) *SAM {
	name := p.Config().Name
	if name == "" {
		name = "custom"
	}
	return &SAM{p: p, name: "sam-" + name}
}

// samEmbedding adapts sam.Embedding to the cache.
type samEmbedding struct{ e *sam.Embedding }

func (e samEmbedding) SizeBytes() int64 { return e.e.SizeBytes() }

// Info describes the model.
func (s *SAM) Info() promptable.ModelInfo {
	cfg := s.p.Config()
	return promptable.ModelInfo{
		Name:        s.name,
		Description: fmt.Sprintf("Segment Anything (%s: ViT depth %d, width %d), input %d px", cfg.Name, cfg.Depth, cfg.EmbedDim, cfg.ImgSize),
		InputSize:   cfg.ImgSize,
		Multimask:   cfg.NumMultimaskOutputs,
	}
}

// Embed encodes an image (the slow step).
func (s *SAM) Embed(ctx context.Context, img promptable.Image) (promptable.Embedding, error) {
	im, err := imageproc.NewImageFromPix(img.Height, img.Width, img.Pix)
	if err != nil {
		return nil, err
	}
	e, err := s.p.Encode(ctx, im)
	if err != nil {
		return nil, err
	}
	return samEmbedding{e}, nil
}

// Segment decodes a prompt: the multimask outputs (mask tokens 1..3) or the
// single-mask output (token 0), as SamPredictor.predict returns them.
func (s *SAM) Segment(ctx context.Context, emb promptable.Embedding, width, height int, p promptable.Prompt) ([]promptable.Mask, error) {
	e, ok := emb.(samEmbedding)
	if !ok {
		return nil, fmt.Errorf("SAM: embedding of type %T is not from this model", emb)
	}
	if g := e.e.Geometry; g.OriginalW != width || g.OriginalH != height {
		return nil, fmt.Errorf("SAM: embedding is of a %dx%d image, prompt is for %dx%d", g.OriginalW, g.OriginalH, width, height)
	}
	prompt := SAMPrompt(p)
	pr, err := s.p.Predict(ctx, e.e, prompt)
	if err != nil {
		return nil, err
	}
	masks := make([]promptable.Mask, len(pr.IoU))
	for i := range masks {
		pix := make([]uint8, width*height)
		for j, v := range pr.Masks.Mask(i) {
			if v > pr.Threshold {
				pix[j] = 1
			}
		}
		masks[i] = promptable.Mask{Width: width, Height: height, Pix: pix, Score: pr.IoU[i]}
	}
	return masks, nil
}

// SAMPrompt converts a prompt to SAM's (labelled points, box corners,
// SamPredictor's single-mask or multimask output). The previous mask is not
// passed: SAM takes its own low-resolution logits, not a binary mask.
func SAMPrompt(p promptable.Prompt) sam.Prompt {
	prompt := sam.Prompt{Output: sam.OutputSingle}
	if p.Multimask {
		prompt.Output = sam.OutputMultimask
	}
	for _, pt := range p.Points {
		label := sam.LabelNegative
		if pt.Positive {
			label = sam.LabelPositive
		}
		prompt.Points = append(prompt.Points, sam.Point{X: pt.X, Y: pt.Y, Label: label})
	}
	if b := p.Box; b != nil {
		prompt.Box = &[4]float64{b.X0, b.Y0, b.X1, b.Y1}
	}
	return prompt
}

// SAMEmbedding returns the SAM image embedding inside an embedding made by
// a SAM model's Embed.
func SAMEmbedding(e promptable.Embedding) (*sam.Embedding, bool) {
	se, ok := e.(samEmbedding)
	return se.e, ok
}

// Predictor is the SAM predictor the model serves.
func (s *SAM) Predictor() *sam.Predictor { return s.p }

// WrapSAMEmbedding makes a SAM image embedding (computed elsewhere, or
// synthetic in benchmarks) usable with a SAM model's Segment.
func WrapSAMEmbedding(e *sam.Embedding) promptable.Embedding { return samEmbedding{e} }
