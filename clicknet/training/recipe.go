// Package training trains a clicknet model on streamed synthetic data:
// each batch gets click prompts and several correction rounds (the model's
// own previous prediction fed back, the next click in the largest error
// region), AdamW with warm-up and cosine decay, checkpoints with exact
// resume, and synthetic validation reported beside the trivial floor.
package training

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/synthfm/synthfm/clicknet"
	"github.com/synthfm/synthfm/synth"
)

// Recipe is everything that decides a training run.
type Recipe struct {
	Family string          `yaml:"family" json:"family"` // "clicknet"
	Name   string          `yaml:"name" json:"name"`
	Model  clicknet.Config `yaml:"model" json:"model"`
	// Generator is a synth preset name; GeneratorFile, when set, a synth
	// config file layered over it. The image size is the model's input size.
	Generator     string `yaml:"generator" json:"generator"`
	GeneratorFile string `yaml:"generator_file" json:"generator_file,omitempty"`
	Seed          uint64 `yaml:"seed" json:"seed"`
	Steps         int    `yaml:"steps" json:"steps"`
	Batch         int    `yaml:"batch" json:"batch"`
	// Learning rate: linear warm-up over WarmupFraction of the steps to LR,
	// then cosine decay to MinLR.
	LR             float64 `yaml:"lr" json:"lr"`
	MinLR          float64 `yaml:"min_lr" json:"min_lr"`
	WarmupFraction float64 `yaml:"warmup_fraction" json:"warmup_fraction"`
	WeightDecay    float64 `yaml:"weight_decay" json:"weight_decay"`
	// Loss is Dice + BCEWeight × binary cross-entropy.
	BCEWeight float64 `yaml:"bce_weight" json:"bce_weight"`
	// Each batch runs k ~ U{0..MaxRounds} correction rounds before the
	// optimised one: predict, feed the prediction back, add a click in the
	// largest error region of each sample.
	MaxRounds int `yaml:"max_rounds" json:"max_rounds"`
	// Initial prompt: P(p positives) ∝ PosWeights[p-1]; negatives are 0
	// with probability PNoNeg, else uniform on 1..MaxNeg. Clicks are placed
	// by the evaluation protocol (method.md §4).
	PosWeights []float64 `yaml:"pos_weights,flow" json:"pos_weights"`
	PNoNeg     float64   `yaml:"p_no_neg" json:"p_no_neg"`
	MaxNeg     int       `yaml:"max_neg" json:"max_neg"`
	// Validation every ValEvery steps on ValCases held-out synthetic cases
	// (one positive click; the disk-around-the-click floor beside it).
	ValCases        int `yaml:"val_cases" json:"val_cases"`
	ValEvery        int `yaml:"val_every" json:"val_every"`
	CheckpointEvery int `yaml:"checkpoint_every" json:"checkpoint_every"`
	LogEvery        int `yaml:"log_every" json:"log_every"`
	// Workers generating data (default 1: the model uses the cores).
	Workers int `yaml:"workers" json:"workers"`
	// Branches splits each batch into this many parts computed as
	// independent branches of the graph (see branchLogits); 1 or more, and
	// it must divide the batch. The result is the same up to rounding.
	Branches int `yaml:"branches" json:"branches,omitempty"`
}

// DefaultRecipe is the shipped model's recipe on two CPU cores.
func DefaultRecipe() Recipe {
	m, _ := clicknet.Preset("clicknet-s")
	return Recipe{
		Family: clicknet.Family, Name: "clicknet", Model: m, Generator: "default", Seed: 1,
		Steps: 2400, Batch: 8, LR: 1e-3, MinLR: 1e-5, WarmupFraction: 0.02, WeightDecay: 1e-4,
		BCEWeight: 1, MaxRounds: 2,
		PosWeights: []float64{0.45, 0.15, 0.2, 0.1, 0.1}, PNoNeg: 0.5, MaxNeg: 5,
		ValCases: 200, ValEvery: 250, CheckpointEvery: 50, LogEvery: 10, Workers: 1,
	}
}

// Presets are the named recipes: "clicknet" (the shipped model) and the
// paper's Table 2 ablation on one module's data.
func Presets() map[string]Recipe {
	base := DefaultRecipe()
	shape, boundary := base, base
	shape.Name, shape.Generator = "clicknet-shape-only", "shape-only"
	boundary.Name, boundary.Generator = "clicknet-boundary-only", "boundary-only"
	return map[string]Recipe{"clicknet": base, shape.Name: shape, boundary.Name: boundary}
}

// IsRecipeName reports whether name is a clicknet recipe preset.
func IsRecipeName(name string) bool { _, ok := Presets()[name]; return ok }

// IsRecipeFile reports whether a recipe file (YAML or JSON) is of the
// clicknet family (its "family" field).
func IsRecipeFile(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var probe struct {
		Family string `yaml:"family"`
		Base   string `yaml:"base"`
	}
	return yaml.Unmarshal(b, &probe) == nil && (probe.Family == clicknet.Family || IsRecipeName(probe.Base))
}

// LoadRecipe reads a preset name or a YAML/JSON file. A file may name a
// preset in "base" and override any field; nested blocks merge.
func LoadRecipe(nameOrPath string) (Recipe, error) {
	if r, ok := Presets()[nameOrPath]; ok {
		return r, r.Validate()
	}
	b, err := os.ReadFile(nameOrPath)
	if err != nil {
		return Recipe{}, fmt.Errorf("recipe: %w", err)
	}
	var head struct {
		Base string `yaml:"base"`
	}
	if err := yaml.Unmarshal(b, &head); err != nil {
		return Recipe{}, fmt.Errorf("recipe %s: %w", nameOrPath, err)
	}
	r := DefaultRecipe()
	if head.Base != "" {
		var ok bool
		if r, ok = Presets()[head.Base]; !ok {
			return Recipe{}, fmt.Errorf("recipe %s: unknown base %q", nameOrPath, head.Base)
		}
	}
	// Decoding into the base value merges: fields absent from the file keep
	// the base's values, nested blocks included.
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var withBase struct {
		Base   string `yaml:"base"`
		Recipe `yaml:",inline"`
	}
	withBase.Recipe = r
	if err := dec.Decode(&withBase); err != nil {
		return Recipe{}, fmt.Errorf("recipe %s: %w", nameOrPath, err)
	}
	return withBase.Recipe, withBase.Recipe.Validate()
}

// Validate reports the first meaningless setting.
func (r Recipe) Validate() error {
	if r.Family != clicknet.Family {
		return fmt.Errorf("recipe: family %q, want %q", r.Family, clicknet.Family)
	}
	if err := r.Model.Validate(); err != nil {
		return err
	}
	switch {
	case r.Steps < 1:
		return errors.New("recipe: steps must be >= 1")
	case r.Batch < 1 || r.Batch > 256:
		return fmt.Errorf("recipe: batch %d out of 1..256", r.Batch)
	case r.LR <= 0 || r.MinLR < 0 || r.MinLR > r.LR:
		return fmt.Errorf("recipe: learning rates lr %g, min_lr %g", r.LR, r.MinLR)
	case r.WarmupFraction < 0 || r.WarmupFraction >= 1:
		return fmt.Errorf("recipe: warmup_fraction %g out of [0, 1)", r.WarmupFraction)
	case r.WeightDecay < 0 || r.BCEWeight < 0:
		return errors.New("recipe: weight_decay and bce_weight must be >= 0")
	case r.MaxRounds < 0 || r.MaxRounds > 20:
		return fmt.Errorf("recipe: max_rounds %d out of 0..20", r.MaxRounds)
	case len(r.PosWeights) < 1 || len(r.PosWeights) > 20:
		return errors.New("recipe: pos_weights needs 1..20 entries")
	case r.PNoNeg < 0 || r.PNoNeg > 1 || r.MaxNeg < 0 || r.MaxNeg > 20:
		return errors.New("recipe: p_no_neg must be in [0, 1] and max_neg in 0..20")
	case r.ValCases < 0 || r.ValEvery < 0 || r.CheckpointEvery < 1 || r.LogEvery < 1:
		return errors.New("recipe: val_cases, val_every >= 0; checkpoint_every, log_every >= 1")
	case r.Workers < 1 || r.Workers > 64:
		return fmt.Errorf("recipe: workers %d out of 1..64", r.Workers)
	case r.Branches < 0 || r.Branches > r.Batch || r.Branches > 1 && r.Batch%r.Branches != 0:
		return fmt.Errorf("recipe: branches %d must divide the batch %d", r.Branches, r.Batch)
	}
	total := 0.0
	for _, w := range r.PosWeights {
		if w < 0 {
			return errors.New("recipe: pos_weights must be >= 0")
		}
		total += w
	}
	if total <= 0 {
		return errors.New("recipe: pos_weights sum to 0")
	}
	_, err := r.GeneratorConfig()
	return err
}

// GeneratorConfig is the synthetic data engine's configuration for the
// recipe, at the model's input size.
func (r Recipe) GeneratorConfig() (synth.Config, error) {
	cfg, err := synth.Resolve(r.Generator, r.GeneratorFile, func(c *synth.Config) { c.Size = r.Model.InputSize })
	if err != nil {
		return synth.Config{}, fmt.Errorf("recipe: %w", err)
	}
	return cfg, nil
}
