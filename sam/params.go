package sam

import (
	"fmt"
	"strconv"
)

// InitKind says how a parameter is initialised when a model is trained from
// scratch, mimicking PyTorch's defaults (sam-reference.md §4.7).
type InitKind int

const (
	// InitZeros fills with 0 (LayerNorm biases, SAM's pos_embed and rel_pos tables).
	InitZeros InitKind = iota
	// InitOnes fills with 1 (LayerNorm weights).
	InitOnes
	// InitNormal draws N(0,1) (nn.Embedding weights and the Fourier feature matrix).
	InitNormal
	// InitUniformFanIn draws U(−1/√FanIn, 1/√FanIn): PyTorch's kaiming_uniform(a=√5)
	// for Linear/Conv weights, and the matching bias rule.
	InitUniformFanIn
)

// ParamSpec names one tensor of the model: Name is its state_dict key and
// Shape its PyTorch shape (Linear [out,in], Conv2d [out,in,kh,kw],
// ConvTranspose2d [in,out,kh,kw]). Init and FanIn describe the from-scratch
// initialisation.
type ParamSpec struct {
	Name  string
	Shape []int
	Init  InitKind
	FanIn int
}

// Size is the number of values of the parameter.
func (p ParamSpec) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// specList accumulates ParamSpecs in state_dict order.
type specList []ParamSpec

func (l *specList) add(name string, init InitKind, fanIn int, shape ...int) {
	*l = append(*l, ParamSpec{Name: name, Shape: shape, Init: init, FanIn: fanIn})
}

// linear adds a torch nn.Linear(in→out) with bias.
func (l *specList) linear(prefix string, in, out int) {
	l.add(prefix+".weight", InitUniformFanIn, in, out, in)
	l.add(prefix+".bias", InitUniformFanIn, in, out)
}

// conv adds a torch nn.Conv2d(in→out, k×k), with or without bias.
func (l *specList) conv(prefix string, in, out, k int, bias bool) {
	l.add(prefix+".weight", InitUniformFanIn, in*k*k, out, in, k, k)
	if bias {
		l.add(prefix+".bias", InitUniformFanIn, in*k*k, out)
	}
}

// convTranspose adds a torch nn.ConvTranspose2d(in→out, k×k) with bias. PyTorch
// computes its fan-in from the weight's second axis (out·k·k).
func (l *specList) convTranspose(prefix string, in, out, k int) {
	l.add(prefix+".weight", InitUniformFanIn, out*k*k, in, out, k, k)
	l.add(prefix+".bias", InitUniformFanIn, out*k*k, out)
}

// norm adds a LayerNorm or LayerNorm2d over dim channels.
func (l *specList) norm(prefix string, dim int) {
	l.add(prefix+".weight", InitOnes, 0, dim)
	l.add(prefix+".bias", InitZeros, 0, dim)
}

// mlp adds segment-anything's MLP head (a stack of Linear layers named layers.i).
func (l *specList) mlp(prefix string, in, hidden, out, depth int) {
	for i := range depth {
		a, b := hidden, hidden
		if i == 0 {
			a = in
		}
		if i == depth-1 {
			b = out
		}
		l.linear(prefix+".layers."+strconv.Itoa(i), a, b)
	}
}

// attention adds the decoder's Attention module (q/k/v/out projections).
func (l *specList) attention(prefix string, dim, internal int) {
	for _, p := range []string{"q_proj", "k_proj", "v_proj"} {
		l.linear(prefix+"."+p, dim, internal)
	}
	l.linear(prefix+".out_proj", internal, dim)
}

// ParamSpecs lists every tensor of the model in state_dict order; for the
// vit_b/l/h presets it equals the official checkpoints' keys and shapes.
func ParamSpecs(cfg Config) []ParamSpec {
	var l specList
	imageEncoderSpecs(&l, cfg)
	promptEncoderSpecs(&l, cfg)
	maskDecoderSpecs(&l, cfg)
	return l
}

func imageEncoderSpecs(l *specList, cfg Config) {
	d, g, p := cfg.EmbedDim, cfg.EmbeddingSize(), cfg.PatchSize
	if cfg.UseAbsPos {
		l.add("image_encoder.pos_embed", InitZeros, 0, 1, g, g, d)
	}
	l.conv("image_encoder.patch_embed.proj", cfg.InChans, d, p, true)
	for i := range cfg.Depth {
		b := "image_encoder.blocks." + strconv.Itoa(i)
		l.norm(b+".norm1", d)
		if cfg.UseRelPos {
			n := cfg.relPosLen(i)
			l.add(b+".attn.rel_pos_h", InitZeros, 0, n, cfg.HeadDim())
			l.add(b+".attn.rel_pos_w", InitZeros, 0, n, cfg.HeadDim())
		}
		l.add(b+".attn.qkv.weight", InitUniformFanIn, d, 3*d, d)
		if cfg.QKVBias {
			l.add(b+".attn.qkv.bias", InitUniformFanIn, d, 3*d)
		}
		l.linear(b+".attn.proj", d, d)
		l.norm(b+".norm2", d)
		l.linear(b+".mlp.lin1", d, cfg.MLPHiddenDim())
		l.linear(b+".mlp.lin2", cfg.MLPHiddenDim(), d)
	}
	l.conv("image_encoder.neck.0", d, cfg.OutChans, 1, false)
	l.norm("image_encoder.neck.1", cfg.OutChans)
	l.conv("image_encoder.neck.2", cfg.OutChans, cfg.OutChans, 3, false)
	l.norm("image_encoder.neck.3", cfg.OutChans)
}

func promptEncoderSpecs(l *specList, cfg Config) {
	c := cfg.PromptEmbedDim
	l.add("prompt_encoder.pe_layer.positional_encoding_gaussian_matrix", InitNormal, 0, 2, c/2)
	for i := range 4 {
		l.add(fmt.Sprintf("prompt_encoder.point_embeddings.%d.weight", i), InitNormal, 0, 1, c)
	}
	l.add("prompt_encoder.not_a_point_embed.weight", InitNormal, 0, 1, c)
	m := cfg.MaskInChans
	l.conv("prompt_encoder.mask_downscaling.0", 1, m/4, 2, true)
	l.norm("prompt_encoder.mask_downscaling.1", m/4)
	l.conv("prompt_encoder.mask_downscaling.3", m/4, m, 2, true)
	l.norm("prompt_encoder.mask_downscaling.4", m)
	l.conv("prompt_encoder.mask_downscaling.6", m, c, 1, true)
	l.add("prompt_encoder.no_mask_embed.weight", InitNormal, 0, 1, c)
}

func maskDecoderSpecs(l *specList, cfg Config) {
	c := cfg.PromptEmbedDim
	inner := c / cfg.AttentionDownsampleRate
	for i := range cfg.DecoderDepth {
		b := "mask_decoder.transformer.layers." + strconv.Itoa(i)
		l.attention(b+".self_attn", c, c)
		l.norm(b+".norm1", c)
		l.attention(b+".cross_attn_token_to_image", c, inner)
		l.norm(b+".norm2", c)
		l.linear(b+".mlp.lin1", c, cfg.DecoderMLPDim)
		l.linear(b+".mlp.lin2", cfg.DecoderMLPDim, c)
		l.norm(b+".norm3", c)
		l.norm(b+".norm4", c)
		l.attention(b+".cross_attn_image_to_token", c, inner)
	}
	l.attention("mask_decoder.transformer.final_attn_token_to_image", c, inner)
	l.norm("mask_decoder.transformer.norm_final_attn", c)
	l.add("mask_decoder.iou_token.weight", InitNormal, 0, 1, c)
	l.add("mask_decoder.mask_tokens.weight", InitNormal, 0, cfg.NumMaskTokens(), c)
	l.convTranspose("mask_decoder.output_upscaling.0", c, c/4, 2)
	l.norm("mask_decoder.output_upscaling.1", c/4)
	l.convTranspose("mask_decoder.output_upscaling.3", c/4, c/8, 2)
	for i := range cfg.NumMaskTokens() {
		l.mlp("mask_decoder.output_hypernetworks_mlps."+strconv.Itoa(i), c, c, c/8, 3)
	}
	l.mlp("mask_decoder.iou_prediction_head", c, cfg.IoUHeadHiddenDim, cfg.NumMaskTokens(), cfg.IoUHeadDepth)
}
