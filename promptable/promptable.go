// Package promptable is the one interface of a promptable segmentation
// model that every consumer uses (synthfm segment, serve and its MONAI Label
// endpoints, eval, demo): an image is embedded once, then each prompt
// (clicks, an optional box, an optional previous mask) is decoded against
// the embedding. It also holds the one prompt-validation rule and the one
// mask-choice rule. Implementations live in package models (SAM, clicknet)
// and baseline (classical segmenters).
package promptable

import (
	"context"
	"errors"
	"fmt"
)

// Image is an 8-bit RGB picture, the model's input. The red, green and blue
// samples of pixel (x, y) are Pix[3*(y*Width+x)+0..2].
type Image struct {
	Width, Height int
	Pix           []uint8
}

// Point is a click in pixel indices of the image: X is the column, Y the row.
type Point struct {
	X, Y     float64
	Positive bool
}

// Box is a rectangle in pixel indices, corners (X0, Y0) and (X1, Y1)
// included.
type Box struct {
	X0, Y0, X1, Y1 float64
}

// Prompt is what a user gives the model for one image: clicks, an optional
// box, an optional previous mask to refine, and whether to return several
// candidate masks.
type Prompt struct {
	Points []Point
	Box    *Box
	// Previous is the mask being refined (Width×Height, non-zero inside),
	// or nil. Models that cannot use it ignore it.
	Previous  []uint8
	Multimask bool
}

// MaxClicks is the most clicks a command-line prompt may hold (the server
// has its own, usually lower, limit).
const MaxClicks = 64

// Validate checks the prompt against the image size: the one rule of the
// page, the server, the command line and the model adapters. Clicks and box
// corners are pixel indices inside the image.
func (p Prompt) Validate(width, height, maxPoints int) error {
	if len(p.Points) == 0 && p.Box == nil {
		return fmt.Errorf("empty prompt: give at least one point or a box")
	}
	if p.Previous != nil && len(p.Previous) != width*height {
		return fmt.Errorf("previous mask has %d pixels, the image %dx%d", len(p.Previous), width, height)
	}
	if len(p.Points) > maxPoints {
		return fmt.Errorf("%d points is more than the limit of %d", len(p.Points), maxPoints)
	}
	inside := func(x, y float64) bool {
		return x >= 0 && y >= 0 && x <= float64(width-1) && y <= float64(height-1)
	}
	for i, pt := range p.Points {
		if !inside(pt.X, pt.Y) {
			return fmt.Errorf("point %d at (%g, %g) is outside the %dx%d image", i, pt.X, pt.Y, width, height)
		}
	}
	if b := p.Box; b != nil {
		if !inside(b.X0, b.Y0) || !inside(b.X1, b.Y1) {
			return fmt.Errorf("box (%g, %g, %g, %g) is outside the %dx%d image", b.X0, b.Y0, b.X1, b.Y1, width, height)
		}
		if b.X1 < b.X0 || b.Y1 < b.Y0 {
			return fmt.Errorf("box (%g, %g, %g, %g) has its corners swapped: give (x0, y0, x1, y1) with x0 <= x1 and y0 <= y1", b.X0, b.Y0, b.X1, b.Y1)
		}
	}
	return nil
}

// Mask is one binary mask at the image's resolution with the model's score
// for it (SAM's predicted IoU). Pix[y*Width+x] is 1 inside, 0 outside.
type Mask struct {
	Width, Height int
	Pix           []uint8
	Score         float32
}

// Area returns the number of pixels inside the mask.
func (m Mask) Area() int {
	n := 0
	for _, v := range m.Pix {
		n += int(v)
	}
	return n
}

// Embedding is a model's encoding of one image, kept in the embedding cache.
type Embedding interface {
	// SizeBytes is the memory the embedding holds, for the cache's budget.
	SizeBytes() int64
}

// ModelInfo describes a model.
type ModelInfo struct {
	// Name identifies the model in the API ("sam-vit-b", "flood-fill").
	Name string `json:"name"`
	// Description is one line for people.
	Description string `json:"description"`
	// InputSize is the side the model resizes images to (0 when it does not).
	InputSize int `json:"input_size"`
	// Multimask is the number of candidate masks a multimask prompt returns.
	Multimask int `json:"multimask"`
}

// Segmenter is a promptable segmentation model: it encodes an image once
// and decodes many prompts against that encoding. Implementations must be
// safe for concurrent use.
type Segmenter interface {
	Info() ModelInfo
	// Embed encodes an image. It is the slow step; the server caches its
	// result.
	Embed(ctx context.Context, img Image) (Embedding, error)
	// Segment decodes a prompt against an embedding returned by Embed for
	// an image of the given size. It returns one mask, or Info().Multimask
	// masks when p.Multimask is set.
	Segment(ctx context.Context, emb Embedding, width, height int, p Prompt) ([]Mask, error)
}

// Best returns the index of the mask with the highest score (the first on
// ties): the one rule for choosing among a model's candidate masks.
func Best(masks []Mask) int {
	best := 0
	for i, m := range masks {
		if m.Score > masks[best].Score {
			best = i
		}
	}
	return best
}

// ErrUnsupportedPrompt marks a prompt that is valid in general but that a
// model cannot take (a box for a clicks-only model, no positive click for a
// region grower). The server answers it with 400.
var ErrUnsupportedPrompt = errors.New("prompt not supported by this model")

// Unsupported returns an error wrapping ErrUnsupportedPrompt with a message
// for the user.
func Unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupportedPrompt, fmt.Sprintf(format, args...))
}

// SegmentOne is the one rule for getting a single mask for a prompt: a
// single click without a box is ambiguous (part or whole?), so the model's
// candidate masks are asked for and the best-scoring one is taken (SAM's
// rule, as its ONNX export formalises it); any other prompt takes the
// model's single mask. Models with one output answer both the same way.
func SegmentOne(ctx context.Context, m Segmenter, emb Embedding, width, height int, p Prompt) (Mask, error) {
	p.Multimask = len(p.Points) == 1 && p.Box == nil
	masks, err := m.Segment(ctx, emb, width, height, p)
	if err != nil {
		return Mask{}, err
	}
	if len(masks) == 0 {
		return Mask{}, fmt.Errorf("%s returned no mask", m.Info().Name)
	}
	return masks[Best(masks)], nil
}

// Grey returns an RGB image's grey levels (the rounded mean of red, green
// and blue: the grey level itself for a grey picture replicated to RGB).
func Grey(img Image) ([]uint8, error) {
	if img.Width <= 0 || img.Height <= 0 || len(img.Pix) != 3*img.Width*img.Height {
		return nil, fmt.Errorf("image %dx%d has %d samples, want %d", img.Width, img.Height, len(img.Pix), 3*img.Width*img.Height)
	}
	g := make([]uint8, img.Width*img.Height)
	for i := range g {
		p := img.Pix[3*i : 3*i+3]
		g[i] = uint8((int(p[0]) + int(p[1]) + int(p[2]) + 1) / 3)
	}
	return g, nil
}
