package train

import (
	"fmt"
	"image"
	"math"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/synthfm/synthfm/metrics"
	"github.com/synthfm/synthfm/prompts"
)

// validationBatch is the number of validation examples predicted at once.
const validationBatch = 4

// validationSet is the fixed synthetic validation set: samples of the
// validation seed, each with one positive click placed by the evaluation
// protocol (prompts.Simulate), as the paper's one-click evaluation.
type validationSet struct {
	examples []*example
	// inputs holds each batch's model input: grey images, or embeddings
	// when the encoder is frozen (computed once, the encoder never changes).
	inputs []*tensors.Tensor
}

func newValidationSet(d *dataSource, n int, seed uint64, e *executors) (*validationSet, error) {
	v := &validationSet{}
	for i := range n {
		s, err := d.gen.Sample(seed, i)
		if err != nil {
			return nil, fmt.Errorf("validation sample %d: %w", i, err)
		}
		ex, err := newExample(i, s.Image, s.Mask, d.lowRes)
		if err != nil {
			return nil, err
		}
		ex.clicks, err = prompts.Simulate(s.Mask, 1, 0, prompts.CaseSeed(fmt.Sprintf("val/%d", i), seed))
		if err != nil {
			return nil, fmt.Errorf("validation sample %d: %w", i, err)
		}
		v.examples = append(v.examples, ex)
	}
	for first := 0; first < n; first += validationBatch {
		batch := v.examples[first:min(first+validationBatch, n)]
		x := greyTensor(batch)
		if e.encode != nil {
			emb, err := e.encode.Exec1(x)
			if err != nil {
				return nil, fmt.Errorf("validation embeddings: %w", err)
			}
			x = emb
		}
		v.inputs = append(v.inputs, x)
	}
	return v, nil
}

// meanDice predicts every validation example from its click and returns
// the mean Dice at the input resolution.
func (v *validationSet) meanDice(e *executors) (float64, error) {
	var sum float64
	var n int
	for bi, x := range v.inputs {
		batch := v.examples[bi*validationBatch : min((bi+1)*validationBatch, len(v.examples))]
		points, labels, multimask := promptTensors(batch)
		out, err := e.predict.Exec1(x, points, labels, multimask)
		if err != nil {
			return 0, fmt.Errorf("validation: %w", err)
		}
		logits := tensors.MustCopyFlatData[float32](out)
		out.FinalizeAll()
		for i, ex := range batch {
			s := ex.mask.Bounds().Dx()
			pred := binarise(logits[i*s*s:(i+1)*s*s], s)
			d := metrics.Dice(ex.mask, pred)
			if !math.IsNaN(d) {
				sum += d
				n++
			}
		}
	}
	if n == 0 {
		return math.NaN(), nil
	}
	return sum / float64(n), nil
}

// binarise thresholds logits at 0 (SAM's mask_threshold) into a mask.
func binarise(logits []float32, side int) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, side, side))
	for i, v := range logits {
		if v > 0 {
			m.Pix[i] = 255
		}
	}
	return m
}
