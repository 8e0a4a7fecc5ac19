package train

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPresetsAreValid(t *testing.T) {
	for _, name := range PresetNames() {
		c, err := Preset(name)
		if err != nil {
			t.Fatalf("preset %s: %v", name, err)
		}
		if c.TotalSteps() < 1 {
			t.Errorf("preset %s has %d steps", name, c.TotalSteps())
		}
	}
	paper, _ := Preset("paper")
	m, _ := paper.SAM()
	// method.md §5: vit_b, 1024², frozen encoder, 100 × 10,000 samples, batch 1,
	// AdamW 1e-4 / 0.01, 1 % warm-up, Dice.
	if m.Name != "vit_b" || m.ImgSize != 1024 || !paper.FreezeEncoder || paper.Epochs != 100 ||
		paper.SamplesPerEpoch != 10_000 || paper.BatchSize != 1 || paper.LearningRate != 1e-4 ||
		paper.Optimizer.WeightDecay != 0.01 || paper.WarmupFraction != 0.01 || paper.Loss.Kind != "dice" {
		t.Errorf("paper recipe drifted from method.md §5: %+v", paper)
	}
	if _, err := Preset("huge"); err == nil {
		t.Error("unknown preset accepted")
	}
}

func TestParseConfigBaseOverridesAndErrors(t *testing.T) {
	// The example recipe kept in the repository parses (YAML, base lite).
	c, err := LoadConfig(filepath.Join("..", "configs", "train", "lite-shape-only.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lite, _ := Preset("lite")
	if c.Name != "lite-shape-only" || c.Data.SynthPreset != "shape-only" || c.Validation.Manifests[0] != "hc18-fetal-head-us" ||
		c.LearningRate != lite.LearningRate || c.Model.EmbedDim != lite.Model.EmbedDim {
		t.Errorf("example recipe read as %+v", c)
	}
	// JSON: a partial model keeps the base model's values for the keys it omits.
	c, err = ParseConfig([]byte(`{"base": "tiny", "epochs": 3, "model": {"img_size": 128, "embed_dim": 48,
		"depth": 2, "num_heads": 2, "window_size": 4, "global_attn_indexes": [1], "out_chans": 32,
		"prompt_embed_dim": 32, "mask_in_chans": 8, "decoder_mlp_dim": 64, "decoder_num_heads": 2}}`), ".json")
	if err != nil {
		t.Fatal(err)
	}
	if c.Epochs != 3 || c.Model.ImgSize != 128 || c.Model.PatchSize != 16 || c.Model.DecoderDepth != 2 || c.BatchSize != 2 {
		t.Errorf("partial JSON recipe read as %+v, model %+v", c, *c.Model)
	}
	// Choosing a preset architecture drops the base's model.
	c, err = ParseConfig([]byte("base: tiny\nmodel_preset: vit_b\n"), ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := c.SAM(); m.EmbedDim != 768 {
		t.Errorf("model_preset vit_b over base tiny gave embed_dim %d", m.EmbedDim)
	}
	for _, bad := range []struct{ doc, ext, want string }{
		{`{"base": "tiny", "epochz": 3}`, ".json", "epochz"},
		{"base: tiny\nlearning_rate: -1\n", ".yaml", "learning_rate"},
		{`{"base": "tiny", "loss": {"kind": "l2", "resolution": "low"}}`, ".json", "loss kind"},
		{`{"base": "nope"}`, ".json", "nope"},
		{`{"base": "tiny", "validation": {"best_by": "real"}}`, ".json", "best_by"},
		{"base: [", ".yaml", "yaml"},
	} {
		if _, err := ParseConfig([]byte(bad.doc), bad.ext); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want one mentioning %q", bad.doc, err, bad.want)
		}
	}
	// A preset written out as JSON reads back equal.
	dir := t.TempDir()
	data, _ := json.Marshal(lite)
	os.WriteFile(filepath.Join(dir, "lite.json"), data, 0o644)
	back, err := LoadConfig(filepath.Join(dir, "lite.json"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(back); string(b) != string(data) {
		t.Errorf("lite recipe does not round-trip through JSON:\n%s\n%s", b, data)
	}
}
