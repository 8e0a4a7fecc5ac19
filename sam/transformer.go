package sam

import (
	"math"
	"strconv"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph ops read like math.
)

// twoWayTransformer is the mask decoder's TwoWayTransformer: tokens [B, T, C]
// (output tokens then prompt tokens) attend to the image tokens src
// [B, HW, C] (with positional encoding srcPE [B, HW, C]) and back. It returns
// the updated tokens (after norm_final_attn) and image tokens.
func twoWayTransformer(p *params, cfg Config, src, srcPE, tokens *Node) (queries, keys *Node) {
	const pre = "mask_decoder.transformer."
	eps := cfg.LayerNormEpsDecoderTransformer
	queries, keys = tokens, src
	for i := range cfg.DecoderDepth {
		queries, keys = twoWayBlock(p, cfg, pre+"layers."+strconv.Itoa(i)+".", i == 0, queries, keys, tokens, srcPE)
	}
	q := Add(queries, tokens)
	k := Add(keys, srcPE)
	queries = Add(queries, attendTokensToImage(p, cfg, pre+"final_attn_token_to_image.", q, k, keys))
	queries = layerNorm(queries, p.get(pre+"norm_final_attn.weight"), p.get(pre+"norm_final_attn.bias"), eps)
	return queries, keys
}

// twoWayBlock is one TwoWayAttentionBlock: token self-attention, token→image
// cross-attention, token MLP, image→token cross-attention, each followed by
// a LayerNorm. The first block skips the PE in self-attention and has no
// residual there.
func twoWayBlock(p *params, cfg Config, pre string, skipFirstPE bool, queries, keys, queryPE, keyPE *Node) (*Node, *Node) {
	eps := cfg.LayerNormEpsDecoderTransformer
	norm := func(name string, x *Node) *Node {
		return layerNorm(x, p.get(pre+name+".weight"), p.get(pre+name+".bias"), eps)
	}
	if skipFirstPE {
		queries = attendTokens(p, cfg, pre+"self_attn.", queries, queries, queries)
	} else {
		q := Add(queries, queryPE)
		queries = Add(queries, attendTokens(p, cfg, pre+"self_attn.", q, q, queries))
	}
	queries = norm("norm1", queries)

	q := Add(queries, queryPE)
	k := Add(keys, keyPE)
	queries = Add(queries, attendTokensToImage(p, cfg, pre+"cross_attn_token_to_image.", q, k, keys))
	queries = norm("norm2", queries)

	m := linearRelu(queries, p.get(pre+"mlp.lin1.weight"), p.get(pre+"mlp.lin1.bias"))
	m = linear(m, p.get(pre+"mlp.lin2.weight"), p.get(pre+"mlp.lin2.bias"))
	queries = norm("norm3", Add(queries, m))

	q = Add(queries, queryPE)
	k = Add(keys, keyPE)
	keys = Add(keys, attendImageToTokens(p, cfg, pre+"cross_attn_image_to_token.", k, q, queries))
	keys = norm("norm4", keys)
	return queries, keys
}

// The three attentions below compute segment-anything's decoder Attention
// (q/k/v projections to C/downsample channels, heads, softmax(q·kᵀ/√d)·v,
// out projection back to C). They differ only in how the work is laid out:
// with a few tokens on one side and thousands of image tokens on the other,
// GoMLX's matmul kernels are fast only when the long axis is the matmul's
// output column (or contracted), so the image side is projected straight
// into a [B, channels, HW] layout (W·Xᵀ) and no image-sized tensor is
// transposed except one per image→token attention.

// attendTokens is attention among the few prompt/output tokens [B, T, C].
func attendTokens(p *params, cfg Config, pre string, q, k, v *Node) *Node {
	heads := cfg.DecoderNumHeads
	q = linear(q, p.get(pre+"q_proj.weight"), p.get(pre+"q_proj.bias"))
	k = linear(k, p.get(pre+"k_proj.weight"), p.get(pre+"k_proj.bias"))
	v = linear(v, p.get(pre+"v_proj.weight"), p.get(pre+"v_proj.bias"))
	b, nq, internal := q.Shape().Dim(0), q.Shape().Dim(1), q.Shape().Dim(2)
	nk := k.Shape().Dim(1)
	hd := internal / heads
	split := func(x *Node, n int) *Node { return Reshape(x, b, n, heads, hd) }
	attn := Einsum("bqhc,bkhc->bhqk", split(q, nq), split(k, nk))
	attn = softmax(DivScalar(attn, math.Sqrt(float64(hd))), -1)
	out := Reshape(Einsum("bhqk,bkhc->bqhc", attn, split(v, nk)), b, nq, internal)
	return linear(out, p.get(pre+"out_proj.weight"), p.get(pre+"out_proj.bias"))
}

// projectT projects image tokens x [B, N, C] with a PyTorch Linear weight
// w [I, C] into the transposed layout [B, I, N] (no bias; see callers).
func projectT(x, w *Node) *Node {
	b := x.Shape().Dim(0)
	wb := BroadcastToDims(ExpandAxes(w, 0), b, w.Shape().Dim(0), w.Shape().Dim(1))
	return DotGeneral(wb, []int{2}, []int{0}, x, []int{2}, []int{0})
}

// splitHeads reshapes a token projection [B, T, h·d] into [B·h, T, d].
func splitHeads(x *Node, heads int) *Node {
	b, t, internal := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2)
	hd := internal / heads
	return Reshape(TransposeAllAxes(Reshape(x, b, t, heads, hd), 0, 2, 1, 3), b*heads, t, hd)
}

// attendTokensToImage: the tokens q [B, T, C] attend to the image tokens
// (keys k [B, N, C] with PE, values v [B, N, C]).
func attendTokensToImage(p *params, cfg Config, pre string, q, k, v *Node) *Node {
	heads := cfg.DecoderNumHeads
	b, t, n := q.Shape().Dim(0), q.Shape().Dim(1), k.Shape().Dim(1)
	qp := linear(q, p.get(pre+"q_proj.weight"), p.get(pre+"q_proj.bias")) // [B, T, I]
	internal := qp.Shape().Dim(2)
	hd := internal / heads
	qh := splitHeads(MulScalar(qp, 1/math.Sqrt(float64(hd))), heads)       // [B·h, T, d]
	kT := Reshape(projectT(k, p.get(pre+"k_proj.weight")), b*heads, hd, n) // [B·h, d, N]
	vT := Reshape(projectT(v, p.get(pre+"v_proj.weight")), b*heads, hd, n)
	// The key bias adds q·b_k to every logit of a query: softmax ignores it
	// (so k_proj.bias has no effect, as in PyTorch up to rounding). The value
	// bias comes out unchanged since attention weights sum to 1.
	_ = p.get(pre + "k_proj.bias")
	attn := softmax(DotGeneral(qh, []int{2}, []int{0}, kT, []int{1}, []int{0}), -1) // [B·h, T, N]
	out := DotGeneral(attn, []int{2}, []int{0}, vT, []int{2}, []int{0})             // [B·h, T, d]
	out = TransposeAllAxes(Reshape(out, b, heads, t, hd), 0, 2, 1, 3)
	out = Add(Reshape(out, b, t, internal), ExpandLeftToRank(p.get(pre+"v_proj.bias"), 3))
	return linear(out, p.get(pre+"out_proj.weight"), p.get(pre+"out_proj.bias"))
}

// attendImageToTokens: the image tokens q [B, N, C] (with PE) attend to the
// tokens (keys k [B, T, C] with PE, values v [B, T, C]).
func attendImageToTokens(p *params, cfg Config, pre string, q, k, v *Node) *Node {
	heads := cfg.DecoderNumHeads
	b, n, t := q.Shape().Dim(0), q.Shape().Dim(1), k.Shape().Dim(1)
	kp := linear(k, p.get(pre+"k_proj.weight"), p.get(pre+"k_proj.bias")) // [B, T, I]
	internal := kp.Shape().Dim(2)
	hd := internal / heads
	kh := splitHeads(MulScalar(kp, 1/math.Sqrt(float64(hd))), heads) // [B·h, T, d]
	vp := linear(v, p.get(pre+"v_proj.weight"), p.get(pre+"v_proj.bias"))
	vT := TransposeAllAxes(splitHeads(vp, heads), 0, 2, 1)                 // [B·h, d, T]
	qT := Reshape(projectT(q, p.get(pre+"q_proj.weight")), b*heads, hd, n) // [B·h, d, N]
	// Logits transposed, [B·h, T, N]; the query bias adds k·b_q per token.
	logits := DotGeneral(kh, []int{2}, []int{0}, qT, []int{1}, []int{0})
	bq := Reshape(p.get(pre+"q_proj.bias"), 1, heads, 1, hd)
	biasLogit := ReduceSum(Mul(Reshape(kh, b, heads, t, hd), bq), -1) // [B, h, T]
	logits = Add(logits, Reshape(biasLogit, b*heads, t, 1))
	attn := softmax(logits, 1)                                           // over the tokens
	outT := DotGeneral(vT, []int{2}, []int{0}, attn, []int{1}, []int{0}) // [B·h, d, N]
	out := TransposeAllAxes(Reshape(outT, b, internal, n), 0, 2, 1)      // [B, N, I]
	return linear(out, p.get(pre+"out_proj.weight"), p.get(pre+"out_proj.bias"))
}
