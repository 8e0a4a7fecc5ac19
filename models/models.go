// Package models is the registry of promptable models: it turns a model
// choice (the built-in default, the classical baseline, clicknet weights, an
// official SAM or MedSAM checkpoint, or SAM weights exported by synthfm
// train) into a promptable.Segmenter, settling the architecture from a flag,
// a config file next to the weights, or the tensors themselves. It owns the
// adapters of each family to that interface and creates the GoMLX backend.
package models

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/clicknet"
	"github.com/synthfm/synthfm/internal/mlbackend"
	"github.com/synthfm/synthfm/promptable"

	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/checkpoint"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// Names of the models every command accepts besides a weights file.
const (
	Default   = "default"    // the built-in model (models/builtin)
	Baseline  = "baseline"   // the classical seeded region growing of package baseline
	FloodFill = "flood-fill" // the classical flood fill of package baseline
)

// Entry is one model of the registry, for --help texts and /api/info.
type Entry struct{ Name, Description string }

// Registry lists the named models, then the form a weights file takes.
// Every command (segment, serve, eval, demo) resolves --model through Load,
// so this is the one list.
func Registry() []Entry {
	return []Entry{
		{Default, "the built-in SynthFM model (clicknet, trained on synthetic images only; nothing to download)"},
		{Baseline, "classical seeded region growing from the clicks (the evaluation's floor)"},
		{FloodFill, "classical flood fill from the clicks, masks predictable by hand (for testing)"},
		{"FILE", "weights: .safetensors or .pth; a clicknet model when the .json beside it says \"family\": \"clicknet\", else SAM/MedSAM (architecture from --model-config, the .json beside it, or vit_b/l/h recognised)"},
	}
}

// RegistryHelp is Registry as a one-line flag description.
func RegistryHelp() string {
	var b strings.Builder
	for i, e := range Registry() {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Name + ": " + e.Description)
	}
	return b.String()
}

// Spec says which model to load.
type Spec struct {
	// Model is a registry name (Default, Baseline, FloodFill; "" means
	// Default) or a
	// weights file (.safetensors or .pth).
	Model string
	// Config is a SAM checkpoint's architecture: "vit_b", "vit_l", "vit_h"
	// or a JSON file in the format of sam.LoadConfig. "" means: the JSON
	// file next to the weights (as synthfm train exports them) if there is
	// one, else vit_b/l/h recognised from the tensors.
	Config string
	// MedSAM feeds images scaled to [0,1] instead of SAM's mean/std
	// normalisation (MedSAM checkpoints).
	MedSAM bool
}

// IsDefault reports whether the spec names the built-in model.
func (s Spec) IsDefault() bool { return s.Model == "" || s.Model == Default }

// Loaded is a model ready to segment.
type Loaded struct {
	Segmenter promptable.Segmenter
	// Name labels the model's results ("synthfm-clicknet-s", "baseline",
	// a weights file's base name).
	Name string
	// Source describes where the weights came from, for logs and reports.
	Source string
	// SAM is the underlying SAM predictor (nil for other families), for
	// SAM-only outputs such as low-resolution logits.
	SAM       *sam.Predictor
	SAMConfig sam.Config
}

// Load resolves a spec through the registry and returns the model.
func Load(ctx context.Context, spec Spec) (*Loaded, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch {
	case spec.Model == Baseline:
		if spec.Config != "" || spec.MedSAM {
			return nil, errors.New("--model-config and --medsam are for SAM checkpoints")
		}
		return &Loaded{Segmenter: NewEvalModel(baseline.NewRegionGrow(), "seeded region growing from the clicks (the evaluation's baseline)"),
			Name: Baseline, Source: "package baseline"}, nil
	case spec.Model == FloodFill:
		if spec.Config != "" || spec.MedSAM {
			return nil, errors.New("--model-config and --medsam are for SAM checkpoints")
		}
		return &Loaded{Segmenter: baseline.NewFloodFill(), Name: FloodFill, Source: "package baseline"}, nil
	case spec.IsDefault():
		if spec.Config != "" || spec.MedSAM {
			return nil, errors.New("--model-config and --medsam need a SAM checkpoint (the built-in model has its own architecture)")
		}
		return loadBuiltin()
	}
	if st, err := os.Stat(spec.Model); err != nil {
		return nil, fmt.Errorf("unknown model %q: neither a known name (%s) nor a readable file: %w", spec.Model, knownNames(), err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("model %s is a folder: give the weights file in it", spec.Model)
	}
	name := strings.TrimSuffix(filepath.Base(spec.Model), filepath.Ext(spec.Model))
	if cfg, ok, err := clicknetSidecar(spec.Model); err != nil {
		return nil, err
	} else if ok {
		if spec.Config != "" || spec.MedSAM {
			return nil, fmt.Errorf("%s is a clicknet model: --model-config and --medsam are for SAM checkpoints", spec.Model)
		}
		sd, err := checkpoint.Read(spec.Model)
		if err != nil {
			return nil, err
		}
		return loadClicknet(sd, cfg, name, spec.Model)
	}
	sd, err := checkpoint.Read(spec.Model)
	if err != nil {
		return nil, err
	}
	cfg, err := ResolveConfig(spec.Config, spec.Model, sd)
	if err != nil {
		return nil, err
	}
	return buildSAM(ctx, sd, cfg, spec.MedSAM, name, spec.Model)
}

func knownNames() string {
	var names []string
	for _, e := range Registry() {
		if e.Name != "FILE" {
			names = append(names, e.Name)
		}
	}
	return strings.Join(names, ", ")
}

// clicknetSidecar reads the .json beside a weights file and reports whether
// it describes a clicknet model.
func clicknetSidecar(weights string) (clicknet.Config, bool, error) {
	sidecar := SidecarConfigPath(weights)
	if sidecar == "" {
		return clicknet.Config{}, false, nil
	}
	b, err := os.ReadFile(sidecar)
	if err != nil || !clicknet.IsConfig(b) {
		return clicknet.Config{}, false, nil
	}
	cfg, err := clicknet.ParseConfig(b)
	if err != nil {
		return clicknet.Config{}, false, fmt.Errorf("%s: %w", sidecar, err)
	}
	return cfg, true, nil
}

func loadClicknet(sd *checkpoint.StateDict, cfg clicknet.Config, name, source string) (*Loaded, error) {
	backend, err := mlbackend.New()
	if err != nil {
		return nil, err
	}
	p, err := clicknet.NewPredictor(backend, cfg, sd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &Loaded{Segmenter: NewClicknet(p), Name: name, Source: source}, nil
}

func buildSAM(ctx context.Context, sd *checkpoint.StateDict, cfg sam.Config, medsam bool, name, source string) (*Loaded, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts := sam.PredictorOptions{}
	if medsam {
		opts.Normalization = imageproc.UnitRange
	}
	backend, err := mlbackend.New()
	if err != nil {
		return nil, err
	}
	p, err := sam.PredictorFromStateDict(backend, sd, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &Loaded{Segmenter: NewSAM(p), Name: name, Source: source, SAM: p, SAMConfig: cfg}, nil
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
