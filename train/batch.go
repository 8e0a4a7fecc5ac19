package train

import (
	"fmt"
	"image"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/synthfm/synthfm/prompts"
)

// example is one training or validation sample with its prompts.
type example struct {
	index  int         // position in its stream
	image  *image.Gray // S×S, the model's input size
	mask   *image.Gray // S×S ground truth (non-zero inside)
	target []float32   // ground truth at the low resolution h×w: fraction of each cell inside
	gtLow  *image.Gray // target binarised at 0.5, for refinement clicks
	clicks []prompts.Click
}

// newExample prepares a sample for a model whose masks come out at
// lowRes×lowRes. The image must be square and a multiple of lowRes.
func newExample(index int, img, mask *image.Gray, lowRes int) (*example, error) {
	s := img.Bounds().Dx()
	if img.Bounds().Dy() != s || mask.Bounds().Size() != img.Bounds().Size() {
		return nil, fmt.Errorf("sample %d: image %v and mask %v must be equal squares", index, img.Bounds().Size(), mask.Bounds().Size())
	}
	if lowRes <= 0 || s%lowRes != 0 {
		return nil, fmt.Errorf("sample %d: image side %d is not a multiple of the mask resolution %d", index, s, lowRes)
	}
	target, gtLow := downsampleMask(mask, lowRes)
	return &example{index: index, image: img, mask: mask, target: target, gtLow: gtLow}, nil
}

// downsampleMask averages the mask over f×f cells (f = side/lowRes): the
// soft low-resolution target of the loss, and its 0.5-threshold binary.
func downsampleMask(mask *image.Gray, lowRes int) ([]float32, *image.Gray) {
	b := mask.Bounds()
	f := b.Dx() / lowRes
	target := make([]float32, lowRes*lowRes)
	bin := image.NewGray(image.Rect(0, 0, lowRes, lowRes))
	inv := 1 / float32(f*f)
	for y := 0; y < lowRes; y++ {
		for x := 0; x < lowRes; x++ {
			n := 0
			for dy := 0; dy < f; dy++ {
				row := mask.Pix[(y*f+dy)*mask.Stride+x*f:]
				for dx := 0; dx < f; dx++ {
					if row[dx] != 0 {
						n++
					}
				}
			}
			v := float32(n) * inv
			target[y*lowRes+x] = v
			if v >= 0.5 {
				bin.Pix[y*lowRes+x] = 255
			}
		}
	}
	return target, bin
}

// greyTensor stacks the examples' images as float32 [B, S, S] in 0..255.
func greyTensor(batch []*example) *tensors.Tensor {
	s := batch[0].image.Bounds().Dx()
	data := make([]float32, len(batch)*s*s)
	for i, ex := range batch {
		dst := data[i*s*s:]
		for y := 0; y < s; y++ {
			row := ex.image.Pix[y*ex.image.Stride : y*ex.image.Stride+s]
			for x, v := range row {
				dst[y*s+x] = float32(v)
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(data, len(batch), s, s)
}

// targetTensor stacks the low-resolution targets [B, h, w].
func targetTensor(batch []*example, lowRes int) *tensors.Tensor {
	data := make([]float32, 0, len(batch)*lowRes*lowRes)
	for _, ex := range batch {
		data = append(data, ex.target...)
	}
	return tensors.FromFlatDataAndDimensions(data, len(batch), lowRes, lowRes)
}

// promptTensors turns the examples' clicks into points [B, N, 2] (x, y) and
// labels [B, N], N being the most clicks of any example (shorter lists are
// padded with SAM's padding label −1), and multimask [B]: 1 for a single click.
func promptTensors(batch []*example) (points, labels, multimask *tensors.Tensor) {
	n := 0
	for _, ex := range batch {
		n = max(n, len(ex.clicks))
	}
	pts := make([]float32, len(batch)*n*2)
	lbl := make([]float32, len(batch)*n)
	multi := make([]float32, len(batch))
	for i, ex := range batch {
		for j := 0; j < n; j++ {
			k := i*n + j
			if j >= len(ex.clicks) {
				lbl[k] = -1
				continue
			}
			c := ex.clicks[j]
			pts[2*k], pts[2*k+1] = float32(c.X), float32(c.Y)
			if c.Positive {
				lbl[k] = 1
			}
		}
		if len(ex.clicks) == 1 {
			multi[i] = 1
		}
	}
	return tensors.FromFlatDataAndDimensions(pts, len(batch), n, 2),
		tensors.FromFlatDataAndDimensions(lbl, len(batch), n),
		tensors.FromFlatDataAndDimensions(multi, len(batch))
}

// chosenMask returns, for sample b of a round's output, the logits of the
// mask SAM's predictor would return (see selectForClicks): the multimask
// token with the highest predicted IoU for one click, else token 0.
func chosenMask(r roundResult, b, masks, lowRes int, singleClick bool) []float32 {
	best := 0
	if singleClick {
		best = 1
		for m := 2; m < masks; m++ {
			if r.iou[b*masks+m] > r.iou[b*masks+best] {
				best = m
			}
		}
	}
	off := (b*masks + best) * lowRes * lowRes
	return r.lowRes[off : off+lowRes*lowRes]
}

// addRefinementClicks appends to every example the error-driven click of
// its chosen mask (prompts.RefineClick on the low-resolution grid, mapped
// to the centre of the cell in input pixels) and returns the chosen logits
// [B, 1, h, w] to feed back as the next round's mask prompt.
func addRefinementClicks(batch []*example, r roundResult, masks, lowRes, inputSize int) *tensors.Tensor {
	f := inputSize / lowRes
	feedback := make([]float32, 0, len(batch)*lowRes*lowRes)
	for b, ex := range batch {
		logits := chosenMask(r, b, masks, lowRes, len(ex.clicks) == 1)
		feedback = append(feedback, logits...)
		pred := image.NewGray(image.Rect(0, 0, lowRes, lowRes))
		for i, v := range logits {
			if v > 0 {
				pred.Pix[i] = 255
			}
		}
		if c, ok := prompts.RefineClick(ex.gtLow, pred); ok {
			// The prompt encoder adds 0.5 (pixel centre); f·x + f/2 − 1 + 0.5
			// is the cell's centre for even f.
			ex.clicks = append(ex.clicks, prompts.Click{X: c.X*f + max(f/2-1, 0), Y: c.Y*f + max(f/2-1, 0), Positive: c.Positive})
		}
	}
	return tensors.FromFlatDataAndDimensions(feedback, len(batch), 1, lowRes, lowRes)
}
