package sam

import (
	"strconv"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph ops read like math.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// MaskDecoder runs SAM's mask decoder (MaskDecoder.predict_masks) and returns
// the logits of all mask tokens, lowResMasks [B, M, 4E, 4E], and their IoU
// predictions iou [B, M] (M = num_multimask_outputs+1; token 0 is the
// single-mask output, tokens 1..M−1 the multimask outputs; see SelectMasks).
//
//   - imageEmb [B or 1, C, E, E]: image embeddings (one is shared by all B prompts).
//   - imagePE [1, C, E, E]: DensePositionalEncoding.
//   - sparse [B, N, C], dense [B, C, E, E]: PromptEncoder outputs.
func MaskDecoder(scope *model.Scope, cfg Config, imageEmb, imagePE, sparse, dense *Node) (lowResMasks, iou *Node) {
	st := maskDecoderStages(scope, cfg, imageEmb, imagePE, sparse, dense)
	return st.masks, st.iou
}

// decoderStages are the mask decoder's intermediate outputs recorded by the
// parity fixtures.
type decoderStages struct {
	hs, src    *Node // transformer outputs: tokens [B, T, C], image tokens [B, HW, C]
	upscaled   *Node // output_upscaling, [B, C/8, 4E, 4E]
	hyperIn    *Node // hypernetwork outputs [B, M, C/8]
	masks, iou *Node
}

func maskDecoderStages(scope *model.Scope, cfg Config, imageEmb, imagePE, sparse, dense *Node) decoderStages {
	p := newParams(scope, cfg, sparse)
	const pre = "mask_decoder."
	c, e, m := cfg.PromptEmbedDim, cfg.EmbeddingSize(), cfg.NumMaskTokens()
	b := sparse.Shape().Dim(0)
	if sparse.Rank() != 3 || sparse.Shape().Dim(2) != c {
		exceptions.Panicf("sam.MaskDecoder: sparse embeddings shape %v, want [B, N, %d]", sparse.Shape().Dimensions, c)
	}
	for _, t := range []struct {
		name string
		n    *Node
	}{{"image embedding", imageEmb}, {"image PE", imagePE}, {"dense embeddings", dense}} {
		d := t.n.Shape().Dimensions
		if t.n.Rank() != 4 || d[1] != c || d[2] != e || d[3] != e || (d[0] != b && d[0] != 1) {
			exceptions.Panicf("sam.MaskDecoder: %s shape %v, want [%d or 1, %d, %d, %d]", t.name, d, b, c, e, e)
		}
	}

	outTokens := Concatenate([]*Node{p.get(pre + "iou_token.weight"), p.get(pre + "mask_tokens.weight")}, 0) // [1+M, C]
	outTokens = BroadcastToDims(ExpandLeftToRank(outTokens, 3), b, m+1, c)
	tokens := Concatenate([]*Node{outTokens, sparse}, 1)

	src := Add(BroadcastToDims(imageEmb, b, c, e, e), dense)
	src = Reshape(nchwToNHWC(src), b, e*e, c)
	srcPE := Reshape(nchwToNHWC(BroadcastToDims(imagePE, b, c, e, e)), b, e*e, c)

	var st decoderStages
	st.hs, st.src = twoWayTransformer(p, cfg, src, srcPE, tokens)
	iouOut := Squeeze(Slice(st.hs, AxisRange(), AxisElem(0), AxisRange()), 1)
	maskOut := Slice(st.hs, AxisRange(), AxisRange(1, 1+m), AxisRange())

	up := Reshape(st.src, b, e, e, c)
	up = convTranspose2x2(up, p.get(pre+"output_upscaling.0.weight"), p.get(pre+"output_upscaling.0.bias"))
	up = gelu(layerNorm(up, p.get(pre+"output_upscaling.1.weight"), p.get(pre+"output_upscaling.1.bias"), cfg.LayerNorm2dEps))
	up = gelu(convTranspose2x2(up, p.get(pre+"output_upscaling.3.weight"), p.get(pre+"output_upscaling.3.bias")))
	st.upscaled = nhwcToNCHW(up) // [B, C/8, 4E, 4E]

	hyper := make([]*Node, m)
	for i := range m {
		tok := Squeeze(Slice(maskOut, AxisRange(), AxisElem(i), AxisRange()), 1)
		hyper[i] = mlpHead(p, pre+"output_hypernetworks_mlps."+strconv.Itoa(i)+".", 3, tok)
	}
	st.hyperIn = Stack(hyper, 1)                                              // [B, M, C/8]
	st.masks = Einsum("bmc,bhwc->bmhw", st.hyperIn, up)                       // [B, M, 4E, 4E]
	st.iou = mlpHead(p, pre+"iou_prediction_head.", cfg.IoUHeadDepth, iouOut) // [B, M]
	return st
}

// mlpHead is segment-anything's MLP: depth Linear layers with ReLU between.
func mlpHead(p *params, pre string, depth int, x *Node) *Node {
	for i := range depth {
		l := pre + "layers." + strconv.Itoa(i) + "."
		x = linear(x, p.get(l+"weight"), p.get(l+"bias"))
		if i < depth-1 {
			x = relu(x)
		}
	}
	return x
}
