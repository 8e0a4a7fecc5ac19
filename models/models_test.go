package models

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/internal/shareddata"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

// encoderStub holds only the tensors RecognisePreset reads.
func encoderStub(t *testing.T, width, depth int) *checkpoint.StateDict {
	t.Helper()
	sd := checkpoint.NewStateDict()
	if err := sd.Set("image_encoder.pos_embed", checkpoint.Tensor{Shape: []int{1, 1, 1, width}, Data: make([]float32, width)}); err != nil {
		t.Fatal(err)
	}
	for i := range depth {
		if err := sd.Set("image_encoder.blocks."+strconv.Itoa(i)+".norm1.weight", checkpoint.Tensor{Shape: []int{width}, Data: make([]float32, width)}); err != nil {
			t.Fatal(err)
		}
	}
	return sd
}

func TestRecognisePreset(t *testing.T) {
	for _, c := range []struct {
		width, depth int
		want         string
	}{{768, 12, "vit_b"}, {1024, 24, "vit_l"}, {1280, 32, "vit_h"}} {
		cfg, err := RecognisePreset(encoderStub(t, c.width, c.depth))
		if err != nil || cfg.Name != c.want {
			t.Errorf("width %d depth %d: got %q, %v; want %s", c.width, c.depth, cfg.Name, err, c.want)
		}
	}
	if _, err := RecognisePreset(encoderStub(t, 768, 4)); err == nil || !strings.Contains(err.Error(), "width 768 and depth 4") {
		t.Errorf("unknown encoder: err = %v", err)
	}
	if _, err := RecognisePreset(checkpoint.NewStateDict()); err == nil {
		t.Error("empty state dict recognised")
	}
}

func TestSidecarConfigPath(t *testing.T) {
	for in, want := range map[string]string{
		"runs/a/best.safetensors": "runs/a/best.json",
		"sam.pth":                 "sam.json",
		"dir.v2/weights":          "",
		"noext":                   "",
	} {
		if got := SidecarConfigPath(in); got != want {
			t.Errorf("SidecarConfigPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadCheckpointConfigs(t *testing.T) {
	dir := shareddata.Path(t, "fixtures", "sam-tiny-a")
	weights := filepath.Join(dir, "sam_tiny-a.safetensors")
	config := filepath.Join(dir, "config_tiny-a.json")
	ctx := context.Background()

	m, err := Load(ctx, Spec{Model: weights, Config: config})
	if err != nil {
		t.Fatal(err)
	}
	if m.SAMConfig.ImgSize != 128 || m.SAMConfig.EmbedDim != 64 || m.Source != weights || m.Name != "sam_tiny-a" || m.SAM == nil {
		t.Errorf("loaded %+v from %s as %q", m.SAMConfig, m.Source, m.Name)
	}

	// No config and no sidecar: the tiny encoder is no official preset.
	if _, err := Load(ctx, Spec{Model: weights}); err == nil || !strings.Contains(err.Error(), "give the architecture") {
		t.Errorf("without a config: err = %v", err)
	}
	// A preset that does not fit names the first bad tensor.
	if _, err := Load(ctx, Spec{Model: weights, Config: "vit_b"}); err == nil || !strings.Contains(err.Error(), "image_encoder") {
		t.Errorf("wrong preset: err = %v", err)
	}
	if _, err := Load(ctx, Spec{Model: weights, Config: "vit_x"}); err == nil {
		t.Error("unknown preset accepted")
	}

	// The sidecar written by synthfm train is found next to the weights.
	tmp := t.TempDir()
	copyFile(t, weights, filepath.Join(tmp, "best.safetensors"))
	copyFile(t, config, filepath.Join(tmp, "best.json"))
	if m, err := Load(ctx, Spec{Model: filepath.Join(tmp, "best.safetensors")}); err != nil || m.SAMConfig.ImgSize != 128 {
		t.Errorf("with a sidecar config: %v", err)
	}

	if _, err := Load(ctx, Spec{Model: filepath.Join(tmp, "absent.safetensors")}); err == nil {
		t.Error("missing checkpoint accepted")
	}
}

func TestLoadBuiltin(t *testing.T) {
	ctx := context.Background()
	if _, err := Load(ctx, Spec{Config: "vit_b"}); err == nil {
		t.Error("a config without a checkpoint was accepted")
	}
	m, err := Load(ctx, Spec{Model: Default})
	if !HasBuiltin() {
		if !errors.Is(err, ErrNoBuiltin) {
			t.Fatalf("build without a built-in model: err = %v", err)
		}
		t.Skip("this build carries no built-in model")
	}
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Name, "synthfm-") || !strings.HasPrefix(m.Source, "built-in") {
		t.Errorf("built-in model loaded as %q from %q", m.Name, m.Source)
	}
	if !strings.Contains(BuiltinProvenance(), "synthfm train") {
		t.Error("builtin/README.md does not say how the weights were trained")
	}
}

func TestLoadNamesAndErrors(t *testing.T) {
	ctx := context.Background()
	m, err := Load(ctx, Spec{Model: Baseline})
	if err != nil || m.Name != Baseline || m.Segmenter == nil {
		t.Fatalf("baseline: %v %+v", err, m)
	}
	if m, err := Load(ctx, Spec{Model: FloodFill}); err != nil || m.Name != FloodFill || m.Segmenter.Info().Name != FloodFill || m.Segmenter.Info().Multimask != 3 {
		t.Fatalf("flood-fill: %v %+v", err, m)
	}
	if _, err := Load(ctx, Spec{Model: FloodFill, MedSAM: true}); err == nil {
		t.Error("flood-fill took --medsam")
	}
	if _, err := Load(ctx, Spec{Model: "no-such-model"}); err == nil || !strings.Contains(err.Error(), "baseline") || !strings.Contains(err.Error(), FloodFill) {
		t.Errorf("unknown name: err = %v, want one naming the known models", err)
	}
	if _, err := Load(ctx, Spec{Model: t.TempDir()}); err == nil {
		t.Error("a folder was accepted as weights")
	}
}
