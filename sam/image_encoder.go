package sam

import (
	"math"
	"strconv"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph ops read like math.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// ImageEncoder runs SAM's ViT image encoder (ImageEncoderViT) on x
// [B, in_chans, img_size, img_size], already normalised and padded, and
// returns the image embedding [B, out_chans, E, E] (E = img_size/patch_size),
// both in PyTorch's NCHW layout. Variables live under scope
// (<scope>/image_encoder/...); pass the model's root scope.
func ImageEncoder(scope *model.Scope, cfg Config, x *Node) *Node {
	emb, _ := imageEncoderStages(scope, cfg, x)
	return nhwcToNCHW(emb)
}

// encoderStages are the intermediate outputs of the image encoder that the
// parity fixtures record (channels-last, as the blocks use them).
type encoderStages struct {
	patchEmbed *Node   // [B, E, E, D], before pos_embed
	blocks     []*Node // each [B, E, E, D]
	neck       []*Node // [B, E, E, out] after neck.0..3 (channels-last)
}

// imageEncoderStages returns the embedding channels-last, [B, E, E, C], and
// the intermediate stages.
func imageEncoderStages(scope *model.Scope, cfg Config, x *Node) (*Node, encoderStages) {
	return imageEncoderChunked(scope, cfg, x, attentionChunkBytes)
}

// imageEncoderChunked is imageEncoderStages with the attention chunk size
// given (the parity tests force one chunk per head).
func imageEncoderChunked(scope *model.Scope, cfg Config, x *Node, chunkBytes int) (*Node, encoderStages) {
	var st encoderStages
	dims := x.Shape().Dimensions
	if x.Rank() != 4 || dims[1] != cfg.InChans || dims[2] != cfg.ImgSize || dims[3] != cfg.ImgSize {
		exceptions.Panicf("sam.ImageEncoder: input shape %v, want [B, %d, %d, %d]", dims, cfg.InChans, cfg.ImgSize, cfg.ImgSize)
	}
	p := newParams(scope, cfg, x)
	p.attnChunkBytes = chunkBytes
	const pre = "image_encoder."

	h := convPatch(nchwToNHWC(x), p.get(pre+"patch_embed.proj.weight"), p.get(pre+"patch_embed.proj.bias"), cfg.PatchSize)
	st.patchEmbed = h
	if cfg.UseAbsPos {
		h = Add(h, p.get(pre+"pos_embed"))
	}
	for i := range cfg.Depth {
		h = encoderBlock(p, cfg, i, h)
		st.blocks = append(st.blocks, h)
	}
	eps := cfg.LayerNorm2dEps
	n := convPatch(h, p.get(pre+"neck.0.weight"), nil, 1)
	st.neck = append(st.neck, n)
	n = layerNorm(n, p.get(pre+"neck.1.weight"), p.get(pre+"neck.1.bias"), eps)
	st.neck = append(st.neck, n)
	n = conv3x3Same(n, p.get(pre+"neck.2.weight"), nil)
	st.neck = append(st.neck, n)
	n = layerNorm(n, p.get(pre+"neck.3.weight"), p.get(pre+"neck.3.bias"), eps)
	st.neck = append(st.neck, n)
	return n, st
}

// encoderBlock is one pre-norm transformer block on channels-last x [B,E,E,D],
// with windowed attention unless the block is global.
func encoderBlock(p *params, cfg Config, i int, x *Node) *Node {
	pre := "image_encoder.blocks." + strconv.Itoa(i) + "."
	eps := cfg.LayerNormEpsEncoder
	shortcut := x
	x = layerNorm(x, p.get(pre+"norm1.weight"), p.get(pre+"norm1.bias"), eps)
	e := x.Shape().Dim(1)
	if cfg.IsGlobalBlock(i) {
		x = encoderAttention(p, cfg, pre+"attn.", x)
	} else {
		ws := cfg.WindowSize
		windows, hp, wp := windowPartition(x, ws)
		windows = encoderAttention(p, cfg, pre+"attn.", windows)
		x = windowUnpartition(windows, ws, hp, wp, e, e)
	}
	x = Add(shortcut, x)
	y := layerNorm(x, p.get(pre+"norm2.weight"), p.get(pre+"norm2.bias"), eps)
	y = gelu(linear(y, p.get(pre+"mlp.lin1.weight"), p.get(pre+"mlp.lin1.bias")))
	y = linear(y, p.get(pre+"mlp.lin2.weight"), p.get(pre+"mlp.lin2.bias"))
	return Add(x, y)
}

// attentionChunkBytes bounds the attention logits computed at once.
const attentionChunkBytes = 256 << 20

// encoderAttention is multi-head self-attention over the S×S tokens of
// x [B, S, S, D] with SAM's decomposed relative-position bias.
func encoderAttention(p *params, cfg Config, pre string, x *Node) *Node {
	dims := x.Shape().Dimensions
	b, s, d := dims[0], dims[1], dims[3]
	heads, hd := cfg.NumHeads, cfg.HeadDim()
	n := s * s
	qkv := linear(Reshape(x, b, n, d), p.get(pre+"qkv.weight"), p.opt(pre+"qkv.bias")) // [B, N, 3D]
	qkv = Reshape(qkv, b, n, 3, heads, hd)
	qkv = TransposeAllAxes(qkv, 2, 0, 3, 1, 4) // [3, B, heads, N, hd]
	qkv = Reshape(qkv, 3, b*heads, n, hd)
	q := Squeeze(Slice(qkv, AxisElem(0)), 0)
	k := Squeeze(Slice(qkv, AxisElem(1)), 0)
	v := Squeeze(Slice(qkv, AxisElem(2)), 0)

	scale := 1 / math.Sqrt(float64(hd))
	var relH, relW *Node
	if cfg.UseRelPos {
		relH, relW = p.get(pre+"rel_pos_h"), p.get(pre+"rel_pos_w")
	}
	// The [B·heads, N, N] attention is computed in independent chunks of
	// heads: it bounds memory (12 heads of 4096² logits are 805 MB) and lets
	// a parallel scheduler run the single-threaded softmaxes side by side.
	bh := b * heads
	chunks := min(bh, max(1, bh*n*n*4/p.attnChunkBytes))
	outs := make([]*Node, 0, chunks)
	for c := range chunks {
		lo, hi := c*bh/chunks, (c+1)*bh/chunks
		part := func(x *Node) *Node { return Slice(x, AxisRange(lo, hi)) }
		attn := softmax(relPosLogits(part(q), part(k), relH, relW, s, scale), -1)
		outs = append(outs, DotGeneral(attn, []int{2}, []int{0}, part(v), []int{1}, []int{0})) // [heads', N, hd]
	}
	out := outs[0]
	if chunks > 1 {
		out = Concatenate(outs, 0)
	}
	out = Reshape(out, b, heads, s, s, hd)
	out = TransposeAllAxes(out, 0, 2, 3, 1, 4) // [B, S, S, heads, hd]
	out = Reshape(out, b, s, s, d)
	return linear(out, p.get(pre+"proj.weight"), p.get(pre+"proj.bias"))
}
