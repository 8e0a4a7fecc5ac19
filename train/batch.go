package train

import (
	"fmt"
	"image"
	"math"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/synthfm/synthfm/prompts"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// example is one training sample with its prompts.
type example struct {
	index  int         // position in its stream
	input  []float32   // SAM's model input [3, S, S] (see imageInput)
	mask   *image.Gray // S×S ground truth (non-zero inside)
	target []float32   // ground truth at the loss's resolution: fraction of each cell inside
	gtLow  *image.Gray // ground truth at the low resolution binarised at 0.5, for refinement clicks
	clicks []prompts.Click
}

// newExample prepares a sample for a model whose masks come out at
// lowRes×lowRes and a loss at lossRes×lossRes. The image must be square, of
// the model's input size, and a multiple of both.
func newExample(prep imageproc.Preprocessor, index int, img, mask *image.Gray, lowRes, lossRes int) (*example, error) {
	s := img.Bounds().Dx()
	if img.Bounds().Dy() != s || mask.Bounds().Size() != img.Bounds().Size() {
		return nil, fmt.Errorf("sample %d: image %v and mask %v must be equal squares", index, img.Bounds().Size(), mask.Bounds().Size())
	}
	for _, r := range []int{lowRes, lossRes} {
		if r <= 0 || s%r != 0 {
			return nil, fmt.Errorf("sample %d: image side %d is not a multiple of the mask resolution %d", index, s, r)
		}
	}
	_, gtLow := downsampleMask(mask, lowRes)
	target, _ := downsampleMask(mask, lossRes)
	input, err := imageInput(prep, img)
	if err != nil {
		return nil, fmt.Errorf("sample %d: %w", index, err)
	}
	return &example{index: index, input: input, mask: mask, target: target, gtLow: gtLow}, nil
}

// newPreprocessor is SAM's image preprocessing for the model: longest side
// resized to img_size, normalised with the model's pixel statistics,
// zero-padded (exactly what sam.Predictor does at inference).
func newPreprocessor(cfg sam.Config) imageproc.Preprocessor {
	p := imageproc.NewPreprocessor(cfg.ImgSize)
	for c := range 3 {
		p.PixelMean[c], p.PixelStd[c] = float32(cfg.PixelMean[c]), float32(cfg.PixelStd[c])
	}
	return p
}

// imageInput is the model input [3, S, S] of a grey image already at the
// model's input size: replicated to RGB and normalised.
func imageInput(prep imageproc.Preprocessor, img *image.Gray) ([]float32, error) {
	b := img.Bounds()
	if b.Dx() != prep.InputSize || b.Dy() != prep.InputSize {
		return nil, fmt.Errorf("image %v is not the model's %d² input", b.Size(), prep.InputSize)
	}
	rgb := imageproc.FromImage(img)
	return prep.NormalizePad(rgb)
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

// stackInputs stacks model inputs [3, S, S] into a batch [B, 3, S, S].
func stackInputs(inputs [][]float32) *tensors.Tensor {
	n := len(inputs[0])
	s := int(math.Sqrt(float64(n / 3)))
	data := make([]float32, 0, len(inputs)*n)
	for _, in := range inputs {
		data = append(data, in...)
	}
	return tensors.FromFlatDataAndDimensions(data, len(inputs), 3, s, s)
}

// inputTensor is the batch's model input [B, 3, S, S].
func inputTensor(batch []*example) *tensors.Tensor {
	inputs := make([][]float32, len(batch))
	for i, ex := range batch {
		inputs[i] = ex.input
	}
	return stackInputs(inputs)
}

// targetTensor stacks the examples' loss targets [B, r, r].
func targetTensor(batch []*example) *tensors.Tensor {
	r := int(math.Sqrt(float64(len(batch[0].target))))
	data := make([]float32, 0, len(batch)*r*r)
	for _, ex := range batch {
		data = append(data, ex.target...)
	}
	return tensors.FromFlatDataAndDimensions(data, len(batch), r, r)
}

// promptTensors turns the examples' clicks into points [B, N, 2] (x, y) and
// labels [B, N], N being the most clicks of any example or padTo, whichever is
// larger (shorter lists are padded with SAM's padding label −1), and
// multimask [B]: 1 for a single click.
func promptTensors(batch []*example, padTo int) (points, labels, multimask *tensors.Tensor) {
	n := padTo
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
		if c, ok := prompts.RefineClick(ex.gtLow, binarise(logits, lowRes)); ok {
			// The prompt encoder adds 0.5 (pixel centre); f·x + f/2 − 1 + 0.5
			// is the cell's centre for even f.
			ex.clicks = append(ex.clicks, prompts.Click{X: c.X*f + max(f/2-1, 0), Y: c.Y*f + max(f/2-1, 0), Positive: c.Positive})
		}
	}
	return tensors.FromFlatDataAndDimensions(feedback, len(batch), 1, lowRes, lowRes)
}
