// Package eval measures promptable segmenters on evaluation datasets: it
// simulates clicks, scores Dice (and NSD), resumes interrupted runs and
// writes the per-case CSV, the Table-1 style summary, a chart and a gallery.
package eval

import (
	"context"
	"image"

	"github.com/synthfm/synthfm/prompts"
)

// Model is any promptable segmenter.
type Model interface {
	Name() string
	// Prepare does the per-image work once (e.g. an image embedding) for an 8-bit grey slice
	// already windowed/normalised by the dataset's preprocessing, at its native resolution.
	Prepare(ctx context.Context, img *image.Gray) (Prepared, error)
}

// Prepared is a model bound to one image.
type Prepared interface {
	// Segment returns a binary mask with the image's size for the given clicks.
	Segment(ctx context.Context, clicks []prompts.Click) (*image.Gray, error)
}
