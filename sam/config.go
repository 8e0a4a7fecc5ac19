// Package sam implements the Segment Anything model (image encoder, prompt
// encoder, mask decoder) as GoMLX graphs shared by inference and training.
package sam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Config holds a SAM architecture. Its JSON form uses exactly the key names of
// the official fixtures' config_*.json files, so any model described that way
// (the vit_b/l/h presets, the parity fixtures, a small "lite" encoder for
// training) is built by the same code.
type Config struct {
	Name string `json:"name,omitempty"`

	// Image encoder (ViT).
	ImgSize           int     `json:"img_size"`
	PatchSize         int     `json:"patch_size"`
	InChans           int     `json:"in_chans"`
	EmbedDim          int     `json:"embed_dim"`
	Depth             int     `json:"depth"`
	NumHeads          int     `json:"num_heads"`
	MLPRatio          float64 `json:"mlp_ratio"`
	WindowSize        int     `json:"window_size"`
	GlobalAttnIndexes []int   `json:"global_attn_indexes"`
	OutChans          int     `json:"out_chans"`
	QKVBias           bool    `json:"qkv_bias"`
	UseRelPos         bool    `json:"use_rel_pos"`
	UseAbsPos         bool    `json:"use_abs_pos"`

	// Prompt encoder.
	PromptEmbedDim int `json:"prompt_embed_dim"`
	MaskInChans    int `json:"mask_in_chans"`

	// Mask decoder.
	DecoderDepth            int `json:"decoder_depth"`
	DecoderMLPDim           int `json:"decoder_mlp_dim"`
	DecoderNumHeads         int `json:"decoder_num_heads"`
	AttentionDownsampleRate int `json:"attention_downsample_rate"`
	IoUHeadDepth            int `json:"iou_head_depth"`
	IoUHeadHiddenDim        int `json:"iou_head_hidden_dim"`
	NumMultimaskOutputs     int `json:"num_multimask_outputs"`

	// Normalisation constants.
	PixelMean                      []float64 `json:"pixel_mean"`
	PixelStd                       []float64 `json:"pixel_std"`
	LayerNormEpsEncoder            float64   `json:"layernorm_eps_encoder"`
	LayerNorm2dEps                 float64   `json:"layernorm2d_eps"`
	LayerNormEpsDecoderTransformer float64   `json:"layernorm_eps_decoder_transformer"`
	MaskThreshold                  float64   `json:"mask_threshold"`
	ImageFormat                    string    `json:"image_format,omitempty"`

	// PromptPoints pads a click prompt with padding points (label −1) up to
	// this many points before decoding, as a model trained on fixed-size
	// prompts saw them (fixed shapes spare compiled backends a recompile per
	// click count). 0, the official checkpoints' value, pads as
	// segment-anything does: one padding point when there is no box.
	PromptPoints int `json:"prompt_points,omitempty"`

	// Derived sizes; optional in JSON, checked against the values above when present.
	ImageEmbeddingSize []int `json:"image_embedding_size,omitempty"`
	MaskInputSize      []int `json:"mask_input_size,omitempty"`

	// Descriptive fields of the fixtures; only SAM's activations are supported.
	EncoderActivation               string          `json:"encoder_activation,omitempty"`
	DecoderTransformerMLPActivation string          `json:"decoder_transformer_mlp_activation,omitempty"`
	MaskScalingActivation           string          `json:"mask_downscaling_and_upscaling_activation,omitempty"`
	MLPHeadsActivation              string          `json:"mlp_heads_activation,omitempty"`
	Weights                         json.RawMessage `json:"weights,omitempty"`
}

// defaultConfig holds the values SAM's build_sam.py fixes for every variant;
// LoadConfig starts from them so that a JSON file needs only the sizes.
func defaultConfig() Config {
	return Config{
		ImgSize:                        1024,
		PatchSize:                      16,
		InChans:                        3,
		MLPRatio:                       4,
		WindowSize:                     14,
		OutChans:                       256,
		QKVBias:                        true,
		UseRelPos:                      true,
		UseAbsPos:                      true,
		PromptEmbedDim:                 256,
		MaskInChans:                    16,
		DecoderDepth:                   2,
		DecoderMLPDim:                  2048,
		DecoderNumHeads:                8,
		AttentionDownsampleRate:        2,
		IoUHeadDepth:                   3,
		IoUHeadHiddenDim:               256,
		NumMultimaskOutputs:            3,
		PixelMean:                      []float64{123.675, 116.28, 103.53},
		PixelStd:                       []float64{58.395, 57.12, 57.375},
		LayerNormEpsEncoder:            1e-6,
		LayerNorm2dEps:                 1e-6,
		LayerNormEpsDecoderTransformer: 1e-5,
		MaskThreshold:                  0,
		ImageFormat:                    "RGB",
	}
}

// PresetConfig returns the official hyper-parameters of "vit_b", "vit_l" or
// "vit_h" ("default" is vit_h, as in segment-anything's registry).
func PresetConfig(name string) (Config, error) {
	c := defaultConfig()
	switch name {
	case "vit_b":
		c.EmbedDim, c.Depth, c.NumHeads, c.GlobalAttnIndexes = 768, 12, 12, []int{2, 5, 8, 11}
	case "vit_l":
		c.EmbedDim, c.Depth, c.NumHeads, c.GlobalAttnIndexes = 1024, 24, 16, []int{5, 11, 17, 23}
	case "vit_h", "default":
		name = "vit_h"
		c.EmbedDim, c.Depth, c.NumHeads, c.GlobalAttnIndexes = 1280, 32, 16, []int{7, 15, 23, 31}
	default:
		return Config{}, fmt.Errorf("unknown SAM preset %q (want vit_b, vit_l or vit_h)", name)
	}
	c.Name = name
	return c, c.Validate()
}

// LoadConfig reads a JSON model description with the fixtures' key names.
// Keys that are absent keep SAM's fixed values (window 14, 256 output
// channels, …); unknown keys are an error so that typos do not pass silently.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("model config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("model config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses a JSON model description; see LoadConfig.
func ParseConfig(data []byte) (Config, error) {
	c := defaultConfig()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

// Validate checks that the numbers describe a buildable SAM.
func (c Config) Validate() error {
	positive := []struct {
		name string
		v    int
	}{
		{"img_size", c.ImgSize}, {"patch_size", c.PatchSize}, {"in_chans", c.InChans},
		{"embed_dim", c.EmbedDim}, {"depth", c.Depth}, {"num_heads", c.NumHeads},
		{"out_chans", c.OutChans}, {"prompt_embed_dim", c.PromptEmbedDim},
		{"mask_in_chans", c.MaskInChans}, {"decoder_depth", c.DecoderDepth},
		{"decoder_mlp_dim", c.DecoderMLPDim}, {"decoder_num_heads", c.DecoderNumHeads},
		{"attention_downsample_rate", c.AttentionDownsampleRate},
		{"iou_head_depth", c.IoUHeadDepth}, {"iou_head_hidden_dim", c.IoUHeadHiddenDim},
		{"num_multimask_outputs", c.NumMultimaskOutputs},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", p.name, p.v)
		}
	}
	if c.PromptPoints < 0 {
		return fmt.Errorf("prompt_points must be ≥ 0 (0 = pad as segment-anything does), got %d", c.PromptPoints)
	}
	if c.WindowSize < 0 {
		return fmt.Errorf("window_size must be ≥ 0 (0 = global attention everywhere), got %d", c.WindowSize)
	}
	if c.ImgSize%c.PatchSize != 0 {
		return fmt.Errorf("img_size %d is not a multiple of patch_size %d", c.ImgSize, c.PatchSize)
	}
	if c.EmbedDim%c.NumHeads != 0 {
		return fmt.Errorf("embed_dim %d is not divisible by num_heads %d", c.EmbedDim, c.NumHeads)
	}
	if c.MLPRatio <= 0 || c.MLPHiddenDim() <= 0 {
		return fmt.Errorf("mlp_ratio must be positive, got %g", c.MLPRatio)
	}
	if c.PromptEmbedDim != c.OutChans {
		return fmt.Errorf("prompt_embed_dim %d must equal out_chans %d (the decoder reads the encoder's channels)", c.PromptEmbedDim, c.OutChans)
	}
	if c.PromptEmbedDim%2 != 0 {
		return fmt.Errorf("prompt_embed_dim %d must be even (sin/cos positional encoding)", c.PromptEmbedDim)
	}
	if c.PromptEmbedDim%8 != 0 {
		return fmt.Errorf("prompt_embed_dim %d must be a multiple of 8 (output upscaling uses dim/4 and dim/8 channels)", c.PromptEmbedDim)
	}
	if c.MaskInChans%4 != 0 {
		return fmt.Errorf("mask_in_chans %d must be a multiple of 4", c.MaskInChans)
	}
	if c.PromptEmbedDim%c.DecoderNumHeads != 0 {
		return fmt.Errorf("prompt_embed_dim %d is not divisible by decoder_num_heads %d", c.PromptEmbedDim, c.DecoderNumHeads)
	}
	if c.PromptEmbedDim%c.AttentionDownsampleRate != 0 || (c.PromptEmbedDim/c.AttentionDownsampleRate)%c.DecoderNumHeads != 0 {
		return fmt.Errorf("prompt_embed_dim %d / attention_downsample_rate %d is not divisible by decoder_num_heads %d",
			c.PromptEmbedDim, c.AttentionDownsampleRate, c.DecoderNumHeads)
	}
	seen := map[int]bool{}
	for _, i := range c.GlobalAttnIndexes {
		if i < 0 || i >= c.Depth {
			return fmt.Errorf("global_attn_indexes: block %d outside 0..%d", i, c.Depth-1)
		}
		if seen[i] {
			return fmt.Errorf("global_attn_indexes: block %d listed twice", i)
		}
		seen[i] = true
	}
	if len(c.PixelMean) != c.InChans || len(c.PixelStd) != c.InChans {
		return fmt.Errorf("pixel_mean and pixel_std need %d values each, got %d and %d", c.InChans, len(c.PixelMean), len(c.PixelStd))
	}
	for _, s := range c.PixelStd {
		if s == 0 {
			return errors.New("pixel_std has a zero entry")
		}
	}
	for _, e := range []float64{c.LayerNormEpsEncoder, c.LayerNorm2dEps, c.LayerNormEpsDecoderTransformer} {
		if e <= 0 {
			return fmt.Errorf("layer norm epsilons must be positive, got %g", e)
		}
	}
	g := c.EmbeddingSize()
	if len(c.ImageEmbeddingSize) > 0 && !slices.Equal(c.ImageEmbeddingSize, []int{g, g}) {
		return fmt.Errorf("image_embedding_size %v does not match img_size/patch_size = %d", c.ImageEmbeddingSize, g)
	}
	if len(c.MaskInputSize) > 0 && !slices.Equal(c.MaskInputSize, []int{4 * g, 4 * g}) {
		return fmt.Errorf("mask_input_size %v does not match 4·image embedding size = %d", c.MaskInputSize, 4*g)
	}
	if c.ImageFormat != "" && c.ImageFormat != "RGB" {
		return fmt.Errorf("image_format %q not supported (only RGB)", c.ImageFormat)
	}
	for _, a := range []struct{ key, value, want string }{
		{"encoder_activation", c.EncoderActivation, "gelu"},
		{"decoder_transformer_mlp_activation", c.DecoderTransformerMLPActivation, "relu"},
		{"mask_downscaling_and_upscaling_activation", c.MaskScalingActivation, "gelu"},
		{"mlp_heads_activation", c.MLPHeadsActivation, "relu"},
	} {
		if a.value != "" && !strings.HasPrefix(strings.ToLower(a.value), a.want) {
			return fmt.Errorf("%s %q not supported (SAM uses %s)", a.key, a.value, a.want)
		}
	}
	return nil
}

// EmbeddingSize is the side of the image embedding grid (img_size/patch_size; 64 for SAM).
func (c Config) EmbeddingSize() int { return c.ImgSize / c.PatchSize }

// LowResSize is the side of the low-resolution mask logits and of a mask
// prompt (4 × EmbeddingSize; 256 for SAM).
func (c Config) LowResSize() int { return 4 * c.EmbeddingSize() }

// NumMaskTokens is the number of mask tokens (num_multimask_outputs + 1).
func (c Config) NumMaskTokens() int { return c.NumMultimaskOutputs + 1 }

// MLPHiddenDim is the hidden width of the encoder blocks' MLP.
func (c Config) MLPHiddenDim() int { return int(float64(c.EmbedDim) * c.MLPRatio) }

// HeadDim is the per-head width of the encoder attention.
func (c Config) HeadDim() int { return c.EmbedDim / c.NumHeads }

// IsGlobalBlock reports whether encoder block i uses global attention
// (otherwise it attends within windows of WindowSize).
func (c Config) IsGlobalBlock(i int) bool {
	return c.WindowSize == 0 || slices.Contains(c.GlobalAttnIndexes, i)
}

// relPosLen is the number of relative positions of block i's rel_pos tables.
func (c Config) relPosLen(i int) int {
	if c.IsGlobalBlock(i) {
		return 2*c.EmbeddingSize() - 1
	}
	return 2*c.WindowSize - 1
}
