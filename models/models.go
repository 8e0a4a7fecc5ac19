// Package models turns a model choice (the built-in default, an official SAM
// or MedSAM checkpoint, or weights exported by synthfm train) into a ready
// sam.Predictor, settling the architecture from a flag, a config file next to
// the weights, or the tensors themselves.
package models

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/checkpoint"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// Spec says which model to load.
type Spec struct {
	// Checkpoint is a .pth or .safetensors file with SAM's state_dict names;
	// "" or "default" selects the built-in model.
	Checkpoint string
	// Config is the architecture: "vit_b", "vit_l", "vit_h" or a JSON file
	// in the format of sam.LoadConfig. "" means: the JSON file next to the
	// checkpoint (weights.json beside weights.safetensors, as synthfm train
	// exports them) if there is one, else vit_b/l/h recognised from the
	// tensors.
	Config string
	// MedSAM feeds images scaled to [0,1] instead of SAM's mean/std
	// normalisation (MedSAM checkpoints).
	MedSAM bool
}

// IsDefault reports whether the spec names the built-in model.
func (s Spec) IsDefault() bool { return s.Checkpoint == "" || s.Checkpoint == "default" }

// Loaded is a model ready to segment.
type Loaded struct {
	Predictor *sam.Predictor
	Config    sam.Config
	// Source describes where the weights came from, for logs and reports.
	Source string
}

// Load reads the weights the spec names and builds a Predictor.
func Load(ctx context.Context, spec Spec) (*Loaded, error) {
	if spec.IsDefault() {
		if spec.Config != "" {
			return nil, errors.New("a model config needs a checkpoint (the built-in model has its own)")
		}
		sd, cfg, err := builtinWeights()
		if err != nil {
			return nil, err
		}
		return build(ctx, sd, cfg, spec.MedSAM, "built-in "+cfg.Name+" model")
	}
	sd, err := checkpoint.Read(spec.Checkpoint)
	if err != nil {
		return nil, err
	}
	cfg, err := ResolveConfig(spec.Config, spec.Checkpoint, sd)
	if err != nil {
		return nil, err
	}
	return build(ctx, sd, cfg, spec.MedSAM, spec.Checkpoint)
}

func build(ctx context.Context, sd *checkpoint.StateDict, cfg sam.Config, medsam bool, source string) (*Loaded, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts := sam.PredictorOptions{}
	if medsam {
		opts.Normalization = imageproc.UnitRange
	}
	p, err := sam.PredictorFromStateDict(sd, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &Loaded{Predictor: p, Config: cfg, Source: source}, nil
}

// ResolveConfig settles the architecture of the weights in sd, read from
// checkpointPath: the named preset or JSON file, else the JSON file next to
// the checkpoint, else a preset recognised from the tensors.
func ResolveConfig(config, checkpointPath string, sd *checkpoint.StateDict) (sam.Config, error) {
	switch {
	case strings.HasSuffix(config, ".json"):
		return sam.LoadConfig(config)
	case config != "":
		cfg, err := sam.PresetConfig(config)
		if err != nil {
			return sam.Config{}, fmt.Errorf("%w, or a .json config file", err)
		}
		return cfg, nil
	}
	if sidecar := SidecarConfigPath(checkpointPath); sidecar != "" {
		if _, err := os.Stat(sidecar); err == nil {
			return sam.LoadConfig(sidecar)
		}
	}
	cfg, err := RecognisePreset(sd)
	if err != nil {
		return sam.Config{}, fmt.Errorf("%s: %w; give the architecture (vit_b, vit_l, vit_h or a config JSON)", checkpointPath, err)
	}
	return cfg, nil
}

// SidecarConfigPath is where synthfm train writes a checkpoint's
// architecture: the same path with .json in place of the extension.
func SidecarConfigPath(checkpointPath string) string {
	i := strings.LastIndexByte(checkpointPath, '.')
	if i <= strings.LastIndexByte(checkpointPath, '/') {
		return ""
	}
	return checkpointPath[:i] + ".json"
}

// RecognisePreset picks vit_b, vit_l or vit_h from the image encoder's width
// and depth in a state dict.
func RecognisePreset(sd *checkpoint.StateDict) (sam.Config, error) {
	pos, ok := sd.Get("image_encoder.pos_embed")
	if !ok || len(pos.Shape) != 4 {
		return sam.Config{}, errors.New("no image_encoder.pos_embed tensor to recognise the model by")
	}
	depth := 0
	for {
		if _, ok := sd.Get("image_encoder.blocks." + strconv.Itoa(depth) + ".norm1.weight"); !ok {
			break
		}
		depth++
	}
	for _, name := range []string{"vit_b", "vit_l", "vit_h"} {
		cfg, err := sam.PresetConfig(name)
		if err == nil && cfg.EmbedDim == pos.Shape[3] && cfg.Depth == depth {
			return cfg, nil
		}
	}
	return sam.Config{}, fmt.Errorf("an image encoder of width %d and depth %d is none of vit_b, vit_l, vit_h", pos.Shape[3], depth)
}
