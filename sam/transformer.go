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
	queries = Add(queries, decoderAttention(p, cfg, pre+"final_attn_token_to_image.", q, k, keys))
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
		queries = decoderAttention(p, cfg, pre+"self_attn.", queries, queries, queries)
	} else {
		q := Add(queries, queryPE)
		queries = Add(queries, decoderAttention(p, cfg, pre+"self_attn.", q, q, queries))
	}
	queries = norm("norm1", queries)

	q := Add(queries, queryPE)
	k := Add(keys, keyPE)
	queries = Add(queries, decoderAttention(p, cfg, pre+"cross_attn_token_to_image.", q, k, keys))
	queries = norm("norm2", queries)

	m := linear(queries, p.get(pre+"mlp.lin1.weight"), p.get(pre+"mlp.lin1.bias"))
	m = linear(relu(m), p.get(pre+"mlp.lin2.weight"), p.get(pre+"mlp.lin2.bias"))
	queries = norm("norm3", Add(queries, m))

	q = Add(queries, queryPE)
	k = Add(keys, keyPE)
	keys = Add(keys, decoderAttention(p, cfg, pre+"cross_attn_image_to_token.", k, q, queries))
	keys = norm("norm4", keys)
	return queries, keys
}

// decoderAttention is segment-anything's decoder Attention: q/k/v
// projections (to C/downsample channels for the cross-attentions), heads,
// softmax(q·kᵀ/√d)·v, out projection back to C.
func decoderAttention(p *params, cfg Config, pre string, q, k, v *Node) *Node {
	heads := cfg.DecoderNumHeads
	q = linear(q, p.get(pre+"q_proj.weight"), p.get(pre+"q_proj.bias"))
	k = linear(k, p.get(pre+"k_proj.weight"), p.get(pre+"k_proj.bias"))
	v = linear(v, p.get(pre+"v_proj.weight"), p.get(pre+"v_proj.bias"))
	b, nq, internal := q.Shape().Dim(0), q.Shape().Dim(1), q.Shape().Dim(2)
	nk := k.Shape().Dim(1)
	hd := internal / heads
	split := func(x *Node, n int) *Node { return Reshape(x, b, n, heads, hd) }
	qh, kh, vh := split(q, nq), split(k, nk), split(v, nk)
	attn := Einsum("bqhc,bkhc->bhqk", qh, kh)
	attn = DivScalar(attn, math.Sqrt(float64(hd)))
	attn = Softmax(attn, -1)
	out := Einsum("bhqk,bkhc->bqhc", attn, vh)
	out = Reshape(out, b, nq, internal)
	return linear(out, p.get(pre+"out_proj.weight"), p.get(pre+"out_proj.bias"))
}
