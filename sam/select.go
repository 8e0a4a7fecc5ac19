package sam

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph ops read like math.
)

// SelectMasks picks the outputs SamPredictor returns from all mask tokens
// (lowRes [B, M, L, L], iou [B, M]): tokens 1..M−1 when multimask is true,
// token 0 otherwise.
func SelectMasks(lowRes, iou *Node, multimask bool) (*Node, *Node) {
	m := iou.Shape().Dim(1)
	from, to := 0, 1
	if multimask {
		from, to = 1, m
	}
	return Slice(lowRes, AxisRange(), AxisRange(from, to)), Slice(iou, AxisRange(), AxisRange(from, to))
}

// BestMask is SAM's rule for choosing one mask among all M mask tokens, as
// the ONNX export's select_masks formalises it: score = iou + (n − 2.5)·1000
// for token 0 and iou for the others, where n is the number of sparse prompt
// tokens (points, the padding point and box corners). So a single click
// (n = 2 with its padding point) takes the multimask output with the highest
// predicted IoU, and anything more (several clicks, a box) takes token 0.
// iou holds the predictions of all M tokens; it returns a token index.
func BestMask(iou []float32, numPromptTokens int) int {
	best, bestScore := 0, 0.0
	for i, v := range iou {
		score := float64(v)
		if i == 0 {
			score += (float64(numPromptTokens) - 2.5) * 1000
		}
		if i == 0 || score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}
