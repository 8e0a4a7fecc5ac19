package sam

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph ops read like math.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/synthfm/synthfm/sam/checkpoint"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// Predictor is SAM's interactive inference (SamPredictor): an image is
// encoded once into an Embedding, then any number of prompts are decoded
// against it. A Predictor is safe for concurrent use by several goroutines
// (a server holds one for all clients); Embeddings are immutable and may be
// shared too.
type Predictor struct {
	cfg     Config
	backend compute.Backend
	prep    imageproc.Preprocessor
	encode  *model.Exec
	decode  *model.Exec
	pe      *tensors.Tensor // dense positional encoding [1, E, E, C] (channels-last), fixed by the weights
}

// PredictorOptions adjusts a Predictor.
type PredictorOptions struct {
	// Normalization is imageproc.MeanStd (SAM: (x − pixel_mean)/pixel_std,
	// the default) or imageproc.UnitRange (MedSAM: the image scaled to
	// [0, 1]). Either way the image is resized on its longest side and
	// padded; MedSAM's own pipeline resizes to a square first, which callers
	// can do before Encode.
	Normalization imageproc.Normalization
}

// NewPredictor serves the model whose weights are in store (see
// LoadStateDict) on backend. Tensors are bound to their backend: use this
// backend for nothing else that exchanges tensors with the Predictor.
func NewPredictor(backend compute.Backend, store *model.Store, cfg Config, opts PredictorOptions) (*Predictor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, s := range ParamSpecs(cfg) {
		if v := store.GetVariable(VariablePath(store.RootScope(), s.Name)); v == nil || !v.HasValue() {
			return nil, fmt.Errorf("sam.NewPredictor: the store has no value for %q (load a checkpoint first)", s.Name)
		}
	}
	p := &Predictor{cfg: cfg, backend: backend, prep: imageproc.NewPreprocessor(cfg.ImgSize)}
	if cfg.InChans != 3 {
		return nil, fmt.Errorf("sam.NewPredictor: images are RGB, the model takes %d channels", cfg.InChans)
	}
	for c := range 3 {
		p.prep.PixelMean[c], p.prep.PixelStd[c] = float32(cfg.PixelMean[c]), float32(cfg.PixelStd[c])
	}
	p.prep.Normalization = opts.Normalization
	var err error
	// Embeddings and the PE stay channels-last between the graphs, which
	// saves the decoder transposes on every click.
	if p.encode, err = model.NewExec(backend, store, func(scope *model.Scope, x *Node) *Node {
		emb, _ := imageEncoderStages(scope, cfg, x)
		return emb
	}); err != nil {
		return nil, fmt.Errorf("sam: building the image encoder: %w", err)
	}
	if p.decode, err = model.NewExec(backend, store, func(scope *model.Scope, in []*Node) []*Node {
		emb, pe := in[0], in[1]
		points, labels, box, mask := splitPromptInputs(in[2:])
		sparse, dense := promptEncoderNHWC(scope, cfg, points, labels, box, mask)
		st := maskDecoderNHWC(scope, cfg, emb, pe, sparse, dense)
		return []*Node{st.masks, st.iou}
	}); err != nil {
		return nil, fmt.Errorf("sam: building the mask decoder: %w", err)
	}
	pe, err := model.ExecOnce(backend, store, func(scope *model.Scope, g *Graph) *Node {
		return nchwToNHWC(DensePositionalEncoding(scope, cfg, g))
	})
	if err != nil {
		return nil, fmt.Errorf("sam: computing the dense positional encoding: %w", err)
	}
	p.pe = pe
	return p, nil
}

// LoadPredictor reads a checkpoint (.pth or .safetensors with SAM's
// state_dict names: SAM, MedSAM, or our exported weights) for the model cfg
// and returns a Predictor run by backend (package models creates it).
func LoadPredictor(ctx context.Context, backend compute.Backend, checkpointPath string, cfg Config, opts PredictorOptions) (*Predictor, error) {
	sd, err := checkpoint.Read(checkpointPath)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := PredictorFromStateDict(backend, sd, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", checkpointPath, err)
	}
	return p, nil
}

// PredictorFromStateDict loads weights already read into a Predictor for
// the model cfg, run by backend. The caller chooses the backend (package
// models does, through internal/mlbackend), so this library reads no
// environment variable.
func PredictorFromStateDict(backend compute.Backend, sd *checkpoint.StateDict, cfg Config, opts PredictorOptions) (*Predictor, error) {
	store := model.NewStore()
	if err := LoadStateDict(store.RootScope(), cfg, sd); err != nil {
		name := cfg.Name
		if name == "" {
			name = "configured"
		}
		return nil, fmt.Errorf("the weights do not fit the SAM %s model: %w", name, err)
	}
	return NewPredictor(backend, store, cfg, opts)
}

// splitPromptInputs recognises the optional prompt inputs by rank; they
// always come in the order points [B,N,2], labels [B,N], box [B,4],
// mask [B,1,L,L], and points come with labels.
func splitPromptInputs(in []*Node) (points, labels, box, mask *Node) {
	i := 0
	if i < len(in) && in[i].Rank() == 3 {
		points, labels = in[i], in[i+1]
		i += 2
	}
	if i < len(in) && in[i].Rank() == 2 {
		box = in[i]
		i++
	}
	if i < len(in) && in[i].Rank() == 4 {
		mask = in[i]
	}
	return
}

// Config returns the model's architecture.
func (p *Predictor) Config() Config { return p.cfg }

// Embedding is an encoded image: the image embedding and the geometry that
// maps prompts onto the model input and masks back.
type Embedding struct {
	Geometry imageproc.Geometry
	emb      *tensors.Tensor // [1, E, E, C], channels-last
}

// Data returns a copy of the embedding values in PyTorch's layout
// ([1, C, E, E] flattened, as SamPredictor.get_image_embedding), for caching
// or inspection.
func (e *Embedding) Data() ([]float32, error) {
	hwc, err := tensors.CopyFlatData[float32](e.emb)
	if err != nil {
		return nil, err
	}
	d := e.emb.Shape().Dimensions
	return transposeHWC(hwc, d[1]*d[2], d[3]), nil
}

// transposeHWC swaps the two axes of an [n, c] row-major matrix.
func transposeHWC(x []float32, n, c int) []float32 {
	out := make([]float32, len(x))
	for i := range n {
		for j := range c {
			out[j*n+i] = x[i*c+j]
		}
	}
	return out
}

// SizeBytes is the memory the embedding holds.
func (e *Embedding) SizeBytes() int64 { return int64(e.emb.Shape().Memory()) }

// NewEmbedding wraps embedding values computed earlier (Embedding.Data) for
// the image geometry geom.
func (p *Predictor) NewEmbedding(data []float32, geom imageproc.Geometry) (*Embedding, error) {
	c, e := p.cfg.OutChans, p.cfg.EmbeddingSize()
	if len(data) != c*e*e {
		return nil, fmt.Errorf("sam: an embedding of this model has %d values, got %d", c*e*e, len(data))
	}
	if geom.InputSize != p.cfg.ImgSize {
		return nil, fmt.Errorf("sam: geometry is for a %d input, the model takes %d", geom.InputSize, p.cfg.ImgSize)
	}
	return &Embedding{Geometry: geom, emb: tensors.FromFlatDataAndDimensions(transposeHWC(data, c, e*e), 1, e, e, c)}, nil
}

// Encode runs SetImage: resize on the longest side, normalise, pad, encode.
// ctx is checked before the encoder runs; a running GoMLX graph cannot be
// interrupted (vit_b takes tens of seconds on two cores).
func (p *Predictor) Encode(ctx context.Context, img *imageproc.Image) (*Embedding, error) {
	input, geom, err := p.prep.Prepare(img)
	if err != nil {
		return nil, err
	}
	return p.EncodeInput(ctx, input, geom)
}

// EncodeInput encodes an already preprocessed input (3 × img_size² float32,
// channels first, as imageproc.Preprocessor.Prepare returns it).
func (p *Predictor) EncodeInput(ctx context.Context, input []float32, geom imageproc.Geometry) (*Embedding, error) {
	s := p.cfg.ImgSize
	if len(input) != 3*s*s {
		return nil, fmt.Errorf("sam: model input must have 3×%d×%d values, got %d", s, s, len(input))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := p.encode.Exec(tensors.FromFlatDataAndDimensions(input, 1, 3, s, s))
	if err != nil {
		return nil, fmt.Errorf("sam: image encoder: %w", err)
	}
	return &Embedding{Geometry: geom, emb: out[0]}, nil
}

// Point is a click in original-image pixels: X is the column, Y the row,
// Label LabelPositive (1), LabelNegative (0) or LabelPadding (−1).
type Point struct {
	X, Y  float64
	Label int
}

// OutputMode selects which masks Predict returns.
type OutputMode int

const (
	// OutputAuto returns the one mask SAM's rule picks (ONNX select_masks;
	// see BestMask): the best-scoring multimask output for a single click,
	// the single-mask output otherwise.
	OutputAuto OutputMode = iota
	// OutputSingle returns the single-mask output (mask token 0), as
	// SamPredictor.predict(multimask_output=False).
	OutputSingle
	// OutputMultimask returns the three multimask outputs (tokens 1..3), as
	// SamPredictor.predict(multimask_output=True).
	OutputMultimask
)

// Prompt is what the user gives for one decode.
type Prompt struct {
	Points []Point
	// Box is (x0, y0, x1, y1) in original-image pixels, or nil.
	Box *[4]float64
	// MaskInput is a low-resolution mask prompt (LowResSize² logits, e.g.
	// a previous Prediction.LowRes mask), or nil.
	MaskInput []float32
	Output    OutputMode
}

// Prediction is the result of one decode.
type Prediction struct {
	// Tokens are the mask tokens returned, in order (e.g. [1 2 3] for multimask).
	Tokens []int
	// Masks are the returned masks' logits at the original image size.
	Masks imageproc.Masks
	// IoU are their predicted IoUs.
	IoU []float32
	// LowRes are their low-resolution logits (LowResSize², feed one back
	// as Prompt.MaskInput to refine).
	LowRes imageproc.Masks
	// Best indexes Masks: the mask SAM's rule (BestMask) picks when it is
	// among them, otherwise the one with the highest predicted IoU.
	Best int
	// AllLowRes and AllIoU hold every mask token's output before selection.
	AllLowRes imageproc.Masks
	AllIoU    []float32
	// Threshold is the logit threshold of the binary masks (mask_threshold).
	Threshold float32
}

// Binary returns mask i thresholded at the model's mask_threshold (logit > 0
// for SAM) as a grey image: 255 inside, 0 outside.
func (pr *Prediction) Binary(i int) *image.Gray { return pr.Masks.Binary(i, pr.Threshold) }

// Predict decodes a prompt against an embedding.
func (p *Predictor) Predict(ctx context.Context, emb *Embedding, prompt Prompt) (*Prediction, error) {
	if emb == nil {
		return nil, errors.New("sam: no embedding")
	}
	if len(prompt.Points) == 0 && prompt.Box == nil && prompt.MaskInput == nil {
		return nil, errors.New("sam: empty prompt (give points, a box or a mask)")
	}
	g := emb.Geometry
	args := []any{emb.emb, p.pe}
	numTokens := 0
	if n := len(prompt.Points); n > 0 {
		pts := make([]float32, 0, 2*n)
		labels := make([]float32, 0, n)
		for i, pt := range prompt.Points {
			if !validCoord(pt.X, g.OriginalW) || !validCoord(pt.Y, g.OriginalH) {
				return nil, fmt.Errorf("sam: point %d (%g, %g) is outside the %d×%d image", i, pt.X, pt.Y, g.OriginalW, g.OriginalH)
			}
			if pt.Label < LabelPadding || pt.Label > LabelPositive {
				return nil, fmt.Errorf("sam: point %d has label %d (want 1 positive, 0 negative, −1 padding)", i, pt.Label)
			}
			x, y := g.Point(pt.X, pt.Y)
			pts = append(pts, x, y)
			labels = append(labels, float32(pt.Label))
		}
		for ; n < p.cfg.PromptPoints; n++ {
			pts = append(pts, 0, 0)
			labels = append(labels, float32(LabelPadding))
		}
		args = append(args, tensors.FromFlatDataAndDimensions(pts, 1, n, 2), tensors.FromFlatDataAndDimensions(labels, 1, n))
	}
	numTokens = PromptTokens(len(prompt.Points), prompt.Box != nil)
	if b := prompt.Box; b != nil {
		for i, v := range b {
			if !validCoord(v, []int{g.OriginalW, g.OriginalH}[i%2]) {
				return nil, fmt.Errorf("sam: box %v is outside the %d×%d image", *b, g.OriginalW, g.OriginalH)
			}
		}
		box := g.Box(b[0], b[1], b[2], b[3])
		args = append(args, tensors.FromFlatDataAndDimensions(box[:], 1, 4))
	}
	l := p.cfg.LowResSize()
	if prompt.MaskInput != nil {
		if len(prompt.MaskInput) != l*l {
			return nil, fmt.Errorf("sam: mask input must be %d×%d low-resolution logits, got %d values", l, l, len(prompt.MaskInput))
		}
		args = append(args, tensors.FromFlatDataAndDimensions(prompt.MaskInput, 1, 1, l, l))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := p.decode.Exec(args...)
	if err != nil {
		return nil, fmt.Errorf("sam: mask decoder: %w", err)
	}
	allLow, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return nil, err
	}
	allIoU, err := tensors.CopyFlatData[float32](out[1])
	if err != nil {
		return nil, err
	}
	m := p.cfg.NumMaskTokens()
	pr := &Prediction{
		AllLowRes: imageproc.Masks{N: m, H: l, W: l, Data: allLow},
		AllIoU:    allIoU,
		Threshold: float32(p.cfg.MaskThreshold),
	}
	best := BestMask(allIoU, numTokens)
	switch prompt.Output {
	case OutputSingle:
		pr.Tokens = []int{0}
	case OutputMultimask:
		for i := 1; i < m; i++ {
			pr.Tokens = append(pr.Tokens, i)
		}
	case OutputAuto:
		pr.Tokens = []int{best}
	default:
		return nil, fmt.Errorf("sam: unknown output mode %d", prompt.Output)
	}
	pr.LowRes = imageproc.Masks{N: len(pr.Tokens), H: l, W: l}
	for i, tok := range pr.Tokens {
		pr.LowRes.Data = append(pr.LowRes.Data, pr.AllLowRes.Mask(tok)...)
		pr.IoU = append(pr.IoU, allIoU[tok])
		if tok == best || (pr.IoU[i] > pr.IoU[pr.Best] && pr.Tokens[pr.Best] != best) {
			pr.Best = i
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if pr.Masks, err = imageproc.PostprocessMasks(pr.LowRes, g); err != nil {
		return nil, err
	}
	return pr, nil
}

// PromptTokens is the number of sparse prompt tokens SAM's mask choice
// (BestMask) counts for a prompt of clicks clicks and an optional box: the
// clicks, the padding point segment-anything appends when there is no box,
// and the box's two corners. Padding added for a fixed prompt size
// (Config.PromptPoints) is not counted, so a padded model still answers a
// single click with its best multimask output.
func PromptTokens(clicks int, box bool) int {
	if box {
		return clicks + 2
	}
	if clicks == 0 {
		return 0
	}
	return clicks + 1
}

// validCoord accepts coordinates within the image, allowing the right and
// bottom edges (SAM clicks and boxes are continuous coordinates).
func validCoord(v float64, size int) bool {
	return !math.IsNaN(v) && v >= 0 && v <= float64(size)
}
