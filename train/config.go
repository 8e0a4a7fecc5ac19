package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/synthfm/synthfm/sam"
)

// Config is a complete training recipe. It is read from JSON or YAML (same
// key names, see ParseConfig) or taken from a preset (Preset).
type Config struct {
	Name string `json:"name"`

	// ModelPreset names a SAM architecture (sam.PresetConfig: vit_b, vit_l,
	// vit_h); Model describes one in full (the fixtures' key names) and wins
	// when both are given.
	ModelPreset string      `json:"model_preset,omitempty"`
	Model       *sam.Config `json:"model,omitempty"`
	// EncoderCheckpoint is a SAM checkpoint (.pth or .safetensors) whose
	// image encoder is loaded; empty trains the encoder from scratch (or, with
	// FreezeEncoder, keeps its random initialisation: for tests only).
	EncoderCheckpoint string `json:"encoder_checkpoint,omitempty"`
	// FreezeEncoder keeps the image encoder fixed; its embeddings are then
	// computed ahead of the decoder steps by a background pipeline.
	FreezeEncoder bool `json:"freeze_encoder"`

	Data DataConfig `json:"data"`

	// Epochs × SamplesPerEpoch samples in batches of BatchSize make the run;
	// one step is one batch.
	Epochs          int `json:"epochs"`
	SamplesPerEpoch int `json:"samples_per_epoch"`
	BatchSize       int `json:"batch_size"`

	// LearningRate is the peak rate, reached after WarmupFraction of the
	// steps (linear warm-up), then decayed by a cosine to MinLearningRate.
	LearningRate    float64 `json:"learning_rate"`
	MinLearningRate float64 `json:"min_learning_rate"`
	WarmupFraction  float64 `json:"warmup_fraction"`
	Optimizer       AdamW   `json:"optimizer"`

	Loss    LossConfig   `json:"loss"`
	Prompts PromptConfig `json:"prompts"`

	Validation ValidationConfig `json:"validation"`

	// CheckpointEvery steps the training state is saved (and on interrupt).
	CheckpointEvery int `json:"checkpoint_every"`
	// LogEvery steps a metrics record is written.
	LogEvery int `json:"log_every"`
	// PrefetchDepth bounds how many prepared batches (with their frozen
	// embeddings) wait ahead of the training step.
	PrefetchDepth int `json:"prefetch_depth"`
}

// DataConfig says where training samples come from.
type DataConfig struct {
	// SynthPreset names the synthetic generator's preset (synth.Preset).
	SynthPreset string `json:"synth_preset"`
	// SynthConfig is a generator config file (YAML or JSON) read over the
	// preset; its size is always replaced by the model's input size.
	SynthConfig string `json:"synth_config,omitempty"`
	// Seed fixes the sample stream, the clicks and the model initialisation.
	Seed uint64 `json:"seed"`
	// Workers generate samples in parallel (0: one per CPU).
	Workers int `json:"workers"`
}

// PromptConfig says which clicks a training sample gets: p positives and n
// negatives drawn uniformly from the ranges (method.md §4), then
// RefineRounds error-driven clicks, each fed back with the previous mask.
type PromptConfig struct {
	MinPositive  int `json:"min_positive"`
	MaxPositive  int `json:"max_positive"`
	MinNegative  int `json:"min_negative"`
	MaxNegative  int `json:"max_negative"`
	RefineRounds int `json:"refine_rounds"`
}

// MaxPromptClicks bounds max_positive, max_negative and refine_rounds: each
// sample's clicks are simulated and fed one round at a time, so a sample's
// work grows with them (eval bounds its --prompts likewise).
const MaxPromptClicks = 20

// ValidationConfig sets the validation cadence and sets.
type ValidationConfig struct {
	// Every steps the model is validated (0: only at the end).
	Every int `json:"every"`
	// Samples of the fixed synthetic validation set, drawn with Seed.
	Samples int    `json:"samples"`
	Seed    uint64 `json:"seed"`
	// Manifests are real evaluation sets (built-in manifest names, .yaml
	// manifests or folders, as synthfm eval takes them; docs/evaluation.md);
	// ManifestRoot resolves their relative paths; MaxObjects caps the objects
	// used per manifest (0: all).
	Manifests    []string `json:"manifests,omitempty"`
	ManifestRoot string   `json:"manifest_root,omitempty"`
	MaxObjects   int      `json:"max_objects,omitempty"`
	// BestBy chooses the validation Dice that picks the best checkpoint:
	// "synthetic" (default) or "real" (the mean over the manifests).
	BestBy string `json:"best_by,omitempty"`
}

// TotalSteps is the number of steps of the whole run.
func (c Config) TotalSteps() int {
	if c.BatchSize <= 0 {
		return 0
	}
	return (c.Epochs*c.SamplesPerEpoch + c.BatchSize - 1) / c.BatchSize
}

// SAM returns the model architecture of the recipe.
func (c Config) SAM() (sam.Config, error) {
	if c.Model != nil {
		return *c.Model, c.Model.Validate()
	}
	if c.ModelPreset == "" {
		return sam.Config{}, errors.New("config: neither model nor model_preset is set")
	}
	return sam.PresetConfig(c.ModelPreset)
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if _, err := c.SAM(); err != nil {
		return fmt.Errorf("config %q: model: %w", c.Name, err)
	}
	checks := []struct {
		ok  bool
		msg string
	}{
		{c.Epochs >= 1, "epochs must be >= 1"},
		{c.SamplesPerEpoch >= 1, "samples_per_epoch must be >= 1"},
		{c.BatchSize >= 1, "batch_size must be >= 1"},
		{c.LearningRate > 0, "learning_rate must be > 0"},
		{c.MinLearningRate >= 0 && c.MinLearningRate <= c.LearningRate, "min_learning_rate must be in [0, learning_rate]"},
		{c.WarmupFraction >= 0 && c.WarmupFraction < 1, "warmup_fraction must be in [0, 1)"},
		{c.Prompts.MinPositive >= 1 && c.Prompts.MaxPositive >= c.Prompts.MinPositive, "prompts: need 1 <= min_positive <= max_positive"},
		{c.Prompts.MinNegative >= 0 && c.Prompts.MaxNegative >= c.Prompts.MinNegative, "prompts: need 0 <= min_negative <= max_negative"},
		{c.Prompts.RefineRounds >= 0, "prompts: refine_rounds must be >= 0"},
		{c.Prompts.MaxPositive <= MaxPromptClicks && c.Prompts.MaxNegative <= MaxPromptClicks && c.Prompts.RefineRounds <= MaxPromptClicks,
			fmt.Sprintf("prompts: max_positive, max_negative and refine_rounds must be at most %d", MaxPromptClicks)},
		{c.Validation.Every >= 0 && c.Validation.Samples >= 0 && c.Validation.MaxObjects >= 0, "validation: every, samples and max_objects must be >= 0"},
		{c.CheckpointEvery >= 0, "checkpoint_every must be >= 0"},
		{c.LogEvery >= 0, "log_every must be >= 0"},
		{c.PrefetchDepth >= 0, "prefetch_depth must be >= 0"},
		{c.Data.Workers >= 0, "data: workers must be >= 0"},
		{c.Data.SynthPreset != "", "data: synth_preset is empty"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return fmt.Errorf("config %q: %s", c.Name, ch.msg)
		}
	}
	switch c.Validation.BestBy {
	case "", "synthetic":
		if c.Validation.Samples == 0 && c.Validation.BestBy == "synthetic" {
			return fmt.Errorf("config %q: validation: best_by synthetic needs samples > 0", c.Name)
		}
	case "real":
		if len(c.Validation.Manifests) == 0 {
			return fmt.Errorf("config %q: validation: best_by real needs manifests", c.Name)
		}
	default:
		return fmt.Errorf("config %q: validation: best_by %q: want synthetic or real", c.Name, c.Validation.BestBy)
	}
	if err := c.Optimizer.Validate(); err != nil {
		return fmt.Errorf("config %q: %w", c.Name, err)
	}
	if err := c.Loss.Validate(); err != nil {
		return fmt.Errorf("config %q: %w", c.Name, err)
	}
	return nil
}

// Preset returns a built-in recipe: "paper" (method.md §5: frozen SAM
// vit_b encoder from a checkpoint, decoder from scratch, 1024², 100 epochs
// of 10,000 samples), "lite" (a small encoder and decoder trained together
// from scratch at 256², sized for two CPU cores and about two hours) or
// "tiny" (20 steps of a very small model, for tests and smoke checks).
func Preset(name string) (Config, error) {
	c := Config{
		Name:            name,
		Data:            DataConfig{SynthPreset: "default", Seed: 1},
		BatchSize:       1,
		LearningRate:    1e-4,
		MinLearningRate: 0,
		WarmupFraction:  0.01,
		Optimizer:       AdamW{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, WeightDecay: 0.01},
		Loss: LossConfig{Kind: "dice", DiceSmooth: 1, FocalWeight: 20, FocalAlpha: 0.25, FocalGamma: 2, BCEWeight: 1,
			IoUWeight: 1, Resolution: LossAtLowRes},
		Prompts:       PromptConfig{MinPositive: 1, MaxPositive: 5, MinNegative: 0, MaxNegative: 5, RefineRounds: 1},
		Validation:    ValidationConfig{Samples: 100, Seed: 1_000_003},
		PrefetchDepth: 2,
	}
	switch name {
	case "paper":
		c.ModelPreset = "vit_b"
		c.EncoderCheckpoint = "sam_vit_b_01ec64.pth"
		c.FreezeEncoder = true
		c.Epochs, c.SamplesPerEpoch = 100, 10_000
		c.Validation.Every = 2_000
		c.Validation.Samples = 50
		c.CheckpointEvery = 500
		c.LogEvery = 10
	case "lite":
		m := liteModel()
		c.Model = &m
		c.Epochs, c.SamplesPerEpoch = liteEpochs, liteSamplesPerEpoch
		c.BatchSize = liteBatchSize
		c.LearningRate = liteLearningRate
		c.WarmupFraction = liteWarmupFraction
		c.Loss.Kind = "dice_bce"
		c.Validation.Every = 500
		c.CheckpointEvery = 250
		c.LogEvery = 10
	case "tiny":
		m := tinyModel()
		c.Model = &m
		c.Epochs, c.SamplesPerEpoch = 1, 40
		c.BatchSize = 2
		c.LearningRate = 2e-3
		c.Prompts.MaxPositive, c.Prompts.MaxNegative = 3, 2
		c.Validation = ValidationConfig{Every: 10, Samples: 8, Seed: 1_000_003, MaxObjects: 8}
		c.CheckpointEvery = 5
		c.LogEvery = 1
	default:
		return Config{}, fmt.Errorf("unknown training preset %q (want paper, lite or tiny)", name)
	}
	return c, c.Validate()
}

// PresetNames lists the built-in recipes.
func PresetNames() []string { return []string{"paper", "lite", "tiny"} }

// LoadConfig returns the preset of that name, or reads a JSON (.json) or
// YAML (.yaml, .yml) recipe from a file (see ParseConfig).
func LoadConfig(nameOrPath string) (Config, error) {
	for _, n := range PresetNames() {
		if nameOrPath == n {
			return Preset(n)
		}
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		if os.IsNotExist(err) && !strings.ContainsAny(nameOrPath, "./\\") {
			return Config{}, fmt.Errorf("no preset or file %q (presets: %s)", nameOrPath, strings.Join(PresetNames(), ", "))
		}
		return Config{}, fmt.Errorf("training config: %w", err)
	}
	c, err := ParseConfig(data, filepath.Ext(nameOrPath))
	if err != nil {
		return Config{}, fmt.Errorf("training config %s: %w", nameOrPath, err)
	}
	return c, nil
}

// ParseConfig parses a recipe in JSON (ext ".json") or YAML (".yaml",
// ".yml"), both with the JSON key names. A "base" key names a preset whose
// values fill the keys the document omits (without it, omitted keys are
// zero). Unknown keys are an error.
func ParseConfig(data []byte, ext string) (Config, error) {
	var base struct {
		Base string `json:"base"`
	}
	if ext == ".yaml" || ext == ".yml" {
		// YAML is read as JSON's data model, so that one set of key names
		// (the JSON tags, shared with sam.Config) serves both formats.
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return Config{}, err
		}
		var err error
		if data, err = json.Marshal(doc); err != nil {
			return Config{}, fmt.Errorf("YAML document: %w", err)
		}
	}
	if err := json.Unmarshal(data, &base); err != nil {
		return Config{}, err
	}
	var c Config
	if base.Base != "" {
		var err error
		if c, err = Preset(base.Base); err != nil {
			return Config{}, err
		}
	}
	basePreset := c.ModelPreset
	// The model block is decoded by mergeModel, over the architecture it
	// refines, so that a file needs to give only the sizes it changes.
	doc := struct {
		Base  string          `json:"base"`
		Model json.RawMessage `json:"model"`
		*Config
	}{Config: &c}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return Config{}, err
	}
	if c.ModelPreset != basePreset {
		c.Model = nil // the document chose a preset architecture over the base's model
	}
	if len(doc.Model) > 0 && string(doc.Model) != "null" {
		m, err := mergeModel(c, doc.Model)
		if err != nil {
			return Config{}, fmt.Errorf("model: %w", err)
		}
		c.Model = &m
	}
	return c, c.Validate()
}

// mergeModel decodes a recipe's "model" block over the architecture it
// refines, as the other blocks merge over the base's: the base recipe's
// model (with "base": "tiny", {"model": {"depth": 3}} is tiny's model three
// blocks deep), else the model_preset's (vit_b, ...), else SAM's fixed
// values (sam.ParseConfig). Unknown keys are an error.
func mergeModel(c Config, block json.RawMessage) (sam.Config, error) {
	var m sam.Config
	switch {
	case c.Model != nil:
		m = *c.Model
		// Decoding an array reuses a slice's backing array: copy them so
		// that the base is left as it was.
		m.GlobalAttnIndexes = slices.Clone(m.GlobalAttnIndexes)
		m.PixelMean, m.PixelStd = slices.Clone(m.PixelMean), slices.Clone(m.PixelStd)
		m.ImageEmbeddingSize, m.MaskInputSize = slices.Clone(m.ImageEmbeddingSize), slices.Clone(m.MaskInputSize)
		m.Weights = slices.Clone(m.Weights)
	case c.ModelPreset != "":
		var err error
		if m, err = sam.PresetConfig(c.ModelPreset); err != nil {
			return sam.Config{}, err
		}
	default:
		return sam.ParseConfig(block)
	}
	dec := json.NewDecoder(bytes.NewReader(block))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return sam.Config{}, err
	}
	return m, m.Validate()
}
