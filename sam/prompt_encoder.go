package sam

import (
	"math"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph ops read like math.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Point labels, as SAM's prompt encoder reads them.
const (
	LabelPadding     = -1 // not a point: PE zeroed, not_a_point_embed added
	LabelNegative    = 0  // background click
	LabelPositive    = 1  // foreground click
	LabelBoxTopLeft  = 2  // a box corner given as a point (ONNX convention)
	LabelBoxBotRight = 3
)

// PromptEncoder runs SAM's prompt encoder and returns the sparse embeddings
// [B, N', C] and the dense embeddings [B, C, E, E].
//
//   - points [B, N, 2] (x, y) in the model's input frame (img_size pixels,
//     after the longest-side resize), labels [B, N] (any numeric dtype) with
//     the Label* values; both nil for no points.
//   - boxes [B, 4] (x0, y0, x1, y1) in the same frame, or nil.
//   - maskInput [B, 1, 4E, 4E] low-resolution mask logits, or nil.
//
// As segment-anything does, when points are given without boxes one padding
// point is appended, so N' = N + 1 (points) or N + 2 (points and a box).
// B is taken from the first non-nil prompt (1 when all are nil).
func PromptEncoder(scope *model.Scope, cfg Config, points, labels, boxes, maskInput *Node) (sparse, dense *Node) {
	sparse, dense = promptEncoderNHWC(scope, cfg, points, labels, boxes, maskInput)
	return sparse, nhwcToNCHW(dense)
}

// promptEncoderNHWC is PromptEncoder with the dense embeddings channels-last,
// [B, E, E, C].
func promptEncoderNHWC(scope *model.Scope, cfg Config, points, labels, boxes, maskInput *Node) (sparse, dense *Node) {
	first := firstNonNil(points, boxes, maskInput)
	if first == nil {
		exceptions.Panicf("sam.PromptEncoder: at least one prompt (points, boxes or mask) is needed to know the graph")
	}
	g, batch := first.Graph(), first.Shape().Dim(0)
	p := newParams(scope, cfg, first)
	const pre = "prompt_encoder."
	// Touch every prompt-encoder parameter, also those of the branches not
	// taken (no_mask_embed when a mask is given, mask_downscaling when not),
	// so that a model trained from scratch always has all of them (created
	// in state_dict order, so that seeded initialisation is reproducible).
	for _, s := range p.order {
		if strings.HasPrefix(s.Name, pre) {
			p.get(s.Name)
		}
	}
	c := cfg.PromptEmbedDim
	gauss := p.get(pre + "pe_layer.positional_encoding_gaussian_matrix")

	var tokens []*Node
	if points != nil {
		if labels == nil {
			exceptions.Panicf("sam.PromptEncoder: points given without labels")
		}
		if boxes == nil {
			points = padZerosAfter(points, 1, 1)
			padLabel := AddScalar(Zeros(g, shapeOf(labels, batch, 1)), LabelPadding)
			labels = Concatenate([]*Node{labels, padLabel}, 1)
		}
		tokens = append(tokens, embedPoints(p, cfg, gauss, points, labels))
	}
	if boxes != nil {
		corners := Reshape(boxes, batch, 2, 2)
		pe := coordsPE(cfg, gauss, AddScalar(corners, 0.5))
		pe = Add(pe, Concatenate([]*Node{
			ExpandLeftToRank(p.get(pre+"point_embeddings.2.weight"), 3),
			ExpandLeftToRank(p.get(pre+"point_embeddings.3.weight"), 3),
		}, 1))
		tokens = append(tokens, pe)
	}
	if len(tokens) == 0 {
		sparse = Zeros(g, shapes.Make(p.dtype, batch, 0, c))
	} else {
		sparse = Concatenate(tokens, 1)
	}

	e := cfg.EmbeddingSize()
	if maskInput != nil {
		dense = maskDownscaling(p, cfg, maskInput)
	} else {
		nm := Reshape(p.get(pre+"no_mask_embed.weight"), 1, 1, 1, c)
		dense = BroadcastToDims(nm, batch, e, e, c)
	}
	return sparse, dense
}

// firstNonNil returns the first prompt given (it fixes graph, batch and dtype).
func firstNonNil(prompts ...*Node) *Node {
	for _, n := range prompts {
		if n != nil {
			return n
		}
	}
	return nil
}

// embedPoints embeds points [B, N, 2] with labels [B, N]: the Fourier PE of
// the pixel centre plus the label's learned embedding; padding points
// (label −1) get not_a_point_embed instead of a PE.
func embedPoints(p *params, cfg Config, gauss, points, labels *Node) *Node {
	const pre = "prompt_encoder."
	pe := coordsPE(cfg, gauss, AddScalar(points, 0.5)) // [B, N, C]
	lab := ConvertDType(labels, p.dtype)
	is := func(v float64) *Node {
		return ExpandAxes(ConvertDType(Equal(lab, AddScalar(ZerosLike(lab), v)), p.dtype), -1)
	}
	pad := is(LabelPadding)
	pe = Mul(pe, OneMinus(pad))
	emb := func(name string) *Node { return ExpandLeftToRank(p.get(pre+name), 3) } // [1, 1, C]
	pe = Add(pe, Mul(pad, emb("not_a_point_embed.weight")))
	pe = Add(pe, Mul(is(LabelNegative), emb("point_embeddings.0.weight")))
	pe = Add(pe, Mul(is(LabelPositive), emb("point_embeddings.1.weight")))
	pe = Add(pe, Mul(is(LabelBoxTopLeft), emb("point_embeddings.2.weight")))
	pe = Add(pe, Mul(is(LabelBoxBotRight), emb("point_embeddings.3.weight")))
	return pe
}

// coordsPE is PositionEmbeddingRandom.forward_with_coords: coordinates
// [..., 2] (x, y) in input pixels are scaled to [0,1] by img_size, mapped to
// [−1,1], projected by the Gaussian matrix and turned into [sin, cos].
func coordsPE(cfg Config, gauss, coords *Node) *Node {
	return fourierPE(gauss, DivScalar(coords, float64(cfg.ImgSize)))
}

// fourierPE encodes normalised coordinates c ∈ [0,1]² as
// [sin(2π·(2c−1)·G), cos(2π·(2c−1)·G)] with the same operation order as
// segment-anything (so float32 results match).
func fourierPE(gauss, c *Node) *Node {
	c = AddScalar(MulScalar(c, 2), -1)
	z := DotGeneral(c, []int{c.Rank() - 1}, nil, gauss, []int{0}, nil)
	z = MulScalar(z, 2*math.Pi)
	return Concatenate([]*Node{Sin(z), Cos(z)}, -1)
}

// DensePositionalEncoding is the prompt encoder's get_dense_pe: the Fourier
// PE of every image-embedding cell centre, [1, C, E, E], in float32 (or the
// dtype of the existing weights). It depends only on the weights, so an
// inference server computes it once.
func DensePositionalEncoding(scope *model.Scope, cfg Config, g *Graph) *Node {
	dtype := dtypes.Float32
	const gaussName = "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"
	if v := scope.Store().GetVariable(VariablePath(scope, gaussName)); v != nil {
		dtype = v.DType()
	}
	p := newParams(scope, cfg, Zeros(g, shapes.Make(dtype)))
	gauss := p.get("prompt_encoder.pe_layer.positional_encoding_gaussian_matrix")
	e := cfg.EmbeddingSize()
	grid := make([]float32, e*e*2)
	for i := range e {
		for j := range e {
			// torch: (cumsum(ones) − 0.5)/size, in float32.
			grid[(i*e+j)*2] = (float32(j+1) - 0.5) / float32(e)
			grid[(i*e+j)*2+1] = (float32(i+1) - 0.5) / float32(e)
		}
	}
	pe := fourierPE(gauss, ConvertDType(float32Const(g, grid, e, e, 2), dtype)) // [E, E, C]
	return ExpandLeftToRank(TransposeAllAxes(pe, 2, 0, 1), 4)
}

// maskDownscaling embeds a mask prompt [B, 1, 4E, 4E] into [B, E, E, C]
// (channels-last): conv k2s2 → LayerNorm2d → GELU → conv k2s2 → LayerNorm2d
// → GELU → conv 1×1.
func maskDownscaling(p *params, cfg Config, mask *Node) *Node {
	const pre = "prompt_encoder.mask_downscaling."
	eps := cfg.LayerNorm2dEps
	x := nchwToNHWC(mask)
	x = convPatch(x, p.get(pre+"0.weight"), p.get(pre+"0.bias"), 2)
	x = gelu(layerNorm(x, p.get(pre+"1.weight"), p.get(pre+"1.bias"), eps))
	x = convPatch(x, p.get(pre+"3.weight"), p.get(pre+"3.bias"), 2)
	x = gelu(layerNorm(x, p.get(pre+"4.weight"), p.get(pre+"4.bias"), eps))
	return convPatch(x, p.get(pre+"6.weight"), p.get(pre+"6.bias"), 1)
}
