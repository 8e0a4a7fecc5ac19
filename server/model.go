package server

import "github.com/synthfm/synthfm/promptable"

// The server speaks the project's one promptable-model interface; these
// names keep its handlers short.
type (
	Image     = promptable.Image
	Point     = promptable.Point
	Box       = promptable.Box
	Prompt    = promptable.Prompt
	Mask      = promptable.Mask
	Embedding = promptable.Embedding
	ModelInfo = promptable.ModelInfo
	Segmenter = promptable.Segmenter
)

// Best returns the index of the mask with the highest score.
func Best(masks []Mask) int { return promptable.Best(masks) }
