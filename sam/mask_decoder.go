package sam

import (
	"strconv"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph ops read like math.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/nn"
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
	c, e := cfg.PromptEmbedDim, cfg.EmbeddingSize()
	for _, t := range []struct {
		name string
		n    *Node
	}{{"image embedding", imageEmb}, {"image PE", imagePE}, {"dense embeddings", dense}} {
		d := t.n.Shape().Dimensions
		if t.n.Rank() != 4 || d[1] != c || d[2] != e || d[3] != e {
			exceptions.Panicf("sam.MaskDecoder: %s shape %v, want [B or 1, %d, %d, %d]", t.name, d, c, e, e)
		}
	}
	return maskDecoderNHWC(scope, cfg, nchwToNHWC(imageEmb), nchwToNHWC(imagePE), sparse, nchwToNHWC(dense))
}

// maskDecoderNHWC is MaskDecoder with the image-sized inputs channels-last
// ([B or 1, E, E, C]), which saves the decoder three transposes per call when
// the caller keeps its embedding and PE that way (the Predictor does).
func maskDecoderNHWC(scope *model.Scope, cfg Config, imageEmb, imagePE, sparse, dense *Node) decoderStages {
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
		if t.n.Rank() != 4 || d[1] != e || d[2] != e || d[3] != c || (d[0] != b && d[0] != 1) {
			exceptions.Panicf("sam.MaskDecoder: %s shape %v (channels-last), want [%d or 1, %d, %d, %d]", t.name, d, b, e, e, c)
		}
	}

	outTokens := Concatenate([]*Node{p.get(pre + "iou_token.weight"), p.get(pre + "mask_tokens.weight")}, 0) // [1+M, C]
	outTokens = BroadcastToDims(ExpandLeftToRank(outTokens, 3), b, m+1, c)
	tokens := Concatenate([]*Node{outTokens, sparse}, 1)

	src := Add(BroadcastToDims(imageEmb, b, e, e, c), BroadcastToDims(dense, b, e, e, c))
	src = Reshape(src, b, e*e, c)
	srcPE := Reshape(BroadcastToDims(imagePE, b, e, e, c), b, e*e, c)

	var st decoderStages
	st.hs, st.src = twoWayTransformer(p, cfg, src, srcPE, tokens)
	iouOut := Squeeze(Slice(st.hs, AxisRange(), AxisElem(0), AxisRange()), 1)
	maskOut := Slice(st.hs, AxisRange(), AxisRange(1, 1+m), AxisRange())

	up := outputUpscaling(p, cfg, Reshape(st.src, b, e, e, c)) // [B, E·E·16, C/8], spatially shuffled
	st.upscaled = unshuffle(TransposeAllAxes(up, 0, 2, 1), e)  // only the parity tests read it

	hyper := make([]*Node, m)
	for i := range m {
		tok := Squeeze(Slice(maskOut, AxisRange(), AxisElem(i), AxisRange()), 1)
		hyper[i] = mlpHead(p, pre+"output_hypernetworks_mlps."+strconv.Itoa(i)+".", 3, tok)
	}
	st.hyperIn = Stack(hyper, 1)                                                // [B, M, C/8]
	masks := DotGeneral(st.hyperIn, []int{2}, []int{0}, up, []int{2}, []int{0}) // [B, M, E·E·16]
	st.masks = unshuffle(masks, e)                                              // [B, M, 4E, 4E]
	st.iou = mlpHead(p, pre+"iou_prediction_head.", cfg.IoUHeadDepth, iouOut)   // [B, M]
	return st
}

// outputUpscaling is output_upscaling: ConvTranspose2d(k2,s2) → LayerNorm2d →
// GELU → ConvTranspose2d(k2,s2) → GELU on src [B, E, E, C]. The transposed
// convolutions do not overlap, so each is one matmul per pixel; the pixel
// shuffle is not done here: the result is [B, E·E·16, C/8] with pixels in
// the order (h, w, a1, c1, a2, c2) for output pixel (4h+2a1+a2, 4w+2c1+c2).
// Everything after is per pixel, so the decoder unshuffles only the M mask
// logits instead of 32 feature channels (transposes are slow in GoMLX).
func outputUpscaling(p *params, cfg Config, src *Node) *Node {
	const pre = "mask_decoder.output_upscaling."
	b, e, c := src.Shape().Dim(0), src.Shape().Dim(1), src.Shape().Dim(3)
	u := convTranspose2x2Flat(src, p.get(pre+"0.weight"), p.get(pre+"0.bias")) // [B, E, E, 4·C/4]
	u = Reshape(u, b, e, e, 4, c/4)
	u = gelu(layerNorm(u, p.get(pre+"1.weight"), p.get(pre+"1.bias"), cfg.LayerNorm2dEps))
	u = gelu(convTranspose2x2Flat(u, p.get(pre+"3.weight"), p.get(pre+"3.bias"))) // [B, E, E, 4, 4·C/8]
	return Reshape(u, b, e*e*16, c/8)
}

// convTranspose2x2Flat applies a torch ConvTranspose2d (kernel 2, stride 2,
// w [in, out, 2, 2]) to channels-last x [..., in] without the pixel shuffle:
// the result is [..., 4·out] ordered (a, c, out) for output pixel
// (2y+a, 2x+c), with the bias fused into the matmul.
func convTranspose2x2Flat(x, w, b *Node) *Node {
	in, out := w.Shape().Dim(0), w.Shape().Dim(1)
	wm := Reshape(TransposeAllAxes(w, 0, 2, 3, 1), in, 4*out) // [in, (a, c, out)]
	bias := Reshape(BroadcastToDims(ExpandAxes(b, 0), 4, out), 4*out)
	return nn.Dense(x, wm, bias, compute.DenseLayoutInputOutputs)
}

// unshuffle turns maps x [B, K, E·E·16] with pixels in the order of
// outputUpscaling into images [B, K, 4E, 4E].
func unshuffle(x *Node, e int) *Node {
	b, k := x.Shape().Dim(0), x.Shape().Dim(1)
	x = Reshape(x, b, k, e, e, 2, 2, 2, 2)          // h, w, a1, c1, a2, c2
	x = TransposeAllAxes(x, 0, 1, 2, 4, 6, 3, 5, 7) // h, a1, a2, w, c1, c2
	return Reshape(x, b, k, 4*e, 4*e)
}

// mlpHead is segment-anything's MLP: depth Linear layers with ReLU between.
func mlpHead(p *params, pre string, depth int, x *Node) *Node {
	for i := range depth {
		l := pre + "layers." + strconv.Itoa(i) + "."
		if i < depth-1 {
			x = linearRelu(x, p.get(l+"weight"), p.get(l+"bias"))
		} else {
			x = linear(x, p.get(l+"weight"), p.get(l+"bias"))
		}
	}
	return x
}
