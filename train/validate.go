package train

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/synthfm/synthfm/manifests"
	"github.com/synthfm/synthfm/metrics"
	"github.com/synthfm/synthfm/prompts"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// validationBatch is the number of validation cases predicted at once.
const validationBatch = 4

// valCase is one object to segment from one positive click: the model input
// of its image, the geometry from the original image to the input, the
// ground truth at the original size and the click in the input frame.
type valCase struct {
	input []float32
	geom  imageproc.Geometry
	mask  *image.Gray
	click [2]float32
}

// validationSet is a fixed set of validation cases, measured by mean Dice
// at one positive click placed by the evaluation protocol (method.md §4),
// the prediction chosen by SAM's rule and brought back to the original size
// as sam.Predictor does.
type validationSet struct {
	name  string
	cases []valCase
	// inputs holds each batch's model input: images, or their embeddings
	// when the encoder is frozen (computed once: the encoder never changes).
	inputs []*tensors.Tensor
}

// newSyntheticValidation draws the synthetic validation set: n samples of
// the validation seed (a stream the training never sees).
func newSyntheticValidation(d *dataSource, n int, seed uint64, e *executors) (*validationSet, error) {
	v := &validationSet{name: "synthetic"}
	for i := range n {
		s, err := d.gen.Sample(seed, i)
		if err != nil {
			return nil, fmt.Errorf("validation sample %d: %w", i, err)
		}
		input, err := imageInput(d.prep, s.Image)
		if err != nil {
			return nil, err
		}
		side := s.Image.Bounds().Dx()
		geom, err := imageproc.NewGeometry(side, side, d.prep.InputSize)
		if err != nil {
			return nil, err
		}
		c, err := oneClick(s.Mask, fmt.Sprintf("val/%d", i), seed, geom)
		if err != nil {
			return nil, fmt.Errorf("validation sample %d: %w", i, err)
		}
		v.cases = append(v.cases, valCase{input: input, geom: geom, mask: s.Mask, click: c})
	}
	return v, v.prepareInputs(e)
}

// newManifestValidation loads up to maxObjects objects (0: all) of a real
// evaluation manifest (a built-in name, a .yaml file or a folder; see
// manifests.Open) with the evaluation's preprocessing.
func newManifestValidation(ctx context.Context, spec, root string, maxObjects int, seed uint64, prep imageproc.Preprocessor, e *executors) (*validationSet, error) {
	ds, err := manifests.Open(spec, root)
	if err != nil {
		return nil, fmt.Errorf("validation manifest: %w", err)
	}
	v := &validationSet{name: ds.Name()}
cases:
	for _, c := range ds.Cases() {
		slices, err := ds.Load(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("validation manifest %s: %w", ds.Name(), err)
		}
		for _, s := range slices {
			input, geom, err := prep.Prepare(imageproc.FromImage(s.Image))
			if err != nil {
				return nil, fmt.Errorf("validation manifest %s, case %s: %w", ds.Name(), c.ID, err)
			}
			for _, o := range s.Objects {
				click, err := oneClick(o.Mask, o.ID, seed, geom)
				if err != nil {
					return nil, fmt.Errorf("validation object %s: %w", o.ID, err)
				}
				v.cases = append(v.cases, valCase{input: input, geom: geom, mask: o.Mask, click: click})
				if maxObjects > 0 && len(v.cases) >= maxObjects {
					break cases
				}
			}
		}
	}
	if len(v.cases) == 0 {
		return nil, fmt.Errorf("validation manifest %s has no object", ds.Name())
	}
	return v, v.prepareInputs(e)
}

// oneClick places the evaluation protocol's single positive click on mask
// (reproducible from the case id and seed) and maps it to the model input.
func oneClick(mask *image.Gray, caseID string, seed uint64, geom imageproc.Geometry) ([2]float32, error) {
	clicks, err := prompts.Simulate(mask, 1, 0, prompts.CaseSeed(caseID, seed))
	if err != nil {
		return [2]float32{}, err
	}
	x, y := geom.Point(float64(clicks[0].X), float64(clicks[0].Y))
	return [2]float32{x, y}, nil
}

// prepareInputs stacks the cases' inputs in batches and, with a frozen
// encoder, replaces them by their embeddings.
func (v *validationSet) prepareInputs(e *executors) error {
	for first := 0; first < len(v.cases); first += validationBatch {
		batch := v.cases[first:min(first+validationBatch, len(v.cases))]
		inputs := make([][]float32, len(batch))
		for i, c := range batch {
			inputs[i] = c.input
		}
		x := stackInputs(inputs)
		if e.encode != nil {
			emb, err := e.encode.Exec1(x)
			if err != nil {
				return fmt.Errorf("validation embeddings: %w", err)
			}
			x.FinalizeAll()
			x = emb
		}
		v.inputs = append(v.inputs, x)
	}
	for i := range v.cases {
		v.cases[i].input = nil // in the batches now
	}
	return nil
}

// meanDice predicts every case from its click and returns the mean Dice at
// the original resolution (cases whose Dice is undefined are skipped).
func (v *validationSet) meanDice(e *executors) (float64, error) {
	var sum float64
	var n int
	for bi, x := range v.inputs {
		batch := v.cases[bi*validationBatch : min((bi+1)*validationBatch, len(v.cases))]
		// One positive click each, padded as the model's prompts are (PromptPoints).
		k := max(1, e.model.Config.PromptPoints)
		pts := make([]float32, 2*k*len(batch))
		labels := make([]float32, k*len(batch))
		multi := make([]float32, len(batch))
		for i, c := range batch {
			pts[2*k*i], pts[2*k*i+1] = c.click[0], c.click[1]
			for j := range k {
				labels[k*i+j] = -1
			}
			labels[k*i], multi[i] = 1, 1
		}
		out, err := e.predict.Exec1(x, tensors.FromFlatDataAndDimensions(pts, len(batch), k, 2),
			tensors.FromFlatDataAndDimensions(labels, len(batch), k), tensors.FromFlatDataAndDimensions(multi, len(batch)))
		if err != nil {
			return 0, fmt.Errorf("validation %s: %w", v.name, err)
		}
		lowRes := tensors.MustCopyFlatData[float32](out)
		h, w := out.Shape().Dim(1), out.Shape().Dim(2)
		out.FinalizeAll()
		for i, c := range batch {
			m := imageproc.Masks{N: 1, H: h, W: w, Data: lowRes[i*h*w : (i+1)*h*w]}
			full, err := imageproc.PostprocessMasks(m, c.geom)
			if err != nil {
				return 0, err
			}
			d := metrics.Dice(c.mask, full.Binary(0, 0))
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
