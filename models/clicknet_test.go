package models

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/synthfm/synthfm/clicknet"
	"github.com/synthfm/synthfm/internal/mlbackend"
	"github.com/synthfm/synthfm/promptable"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

// TestClicknetWeightsFileThroughTheRegistry writes a small clicknet model
// as synthfm train exports it (weights + .json sidecar) and segments
// through the one interface.
func TestClicknetWeightsFileThroughTheRegistry(t *testing.T) {
	cfg := clicknet.Config{Family: clicknet.Family, Name: "test", InputSize: 16, Patch: 2, Widths: []int{4, 6}, ClickRadius: 2}
	backend, err := mlbackend.New()
	if err != nil {
		t.Fatal(err)
	}
	sd, err := clicknet.InitStateDict(backend, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	weights := filepath.Join(dir, "best.safetensors")
	if err := checkpoint.WriteSafetensors(weights, sd, nil); err != nil {
		t.Fatal(err)
	}
	cfgJSON, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "best.json"), cfgJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := Load(ctx, Spec{Model: weights})
	if err != nil {
		t.Fatal(err)
	}
	if m.SAM != nil || m.Name != "best" || m.Segmenter.Info().Name != "synthfm-test" {
		t.Errorf("loaded %q (%s) as SAM=%v", m.Name, m.Segmenter.Info().Name, m.SAM != nil)
	}
	img := promptable.Image{Width: 24, Height: 10, Pix: make([]uint8, 3*240)}
	emb, err := m.Segmenter.Embed(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	mask, err := promptable.SegmentOne(ctx, m.Segmenter, emb, 24, 10, promptable.Prompt{Points: []promptable.Point{{X: 5, Y: 5, Positive: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if mask.Width != 24 || mask.Height != 10 || len(mask.Pix) != 240 {
		t.Errorf("mask %dx%d with %d pixels", mask.Width, mask.Height, len(mask.Pix))
	}
	if _, err := m.Segmenter.Segment(ctx, emb, 24, 10, promptable.Prompt{}); !errors.Is(err, promptable.ErrUnsupportedPrompt) {
		t.Errorf("empty prompt: err = %v", err)
	}
	if _, err := m.Segmenter.Segment(ctx, emb, 20, 10, promptable.Prompt{Points: []promptable.Point{{X: 1, Y: 1, Positive: true}}}); err == nil {
		t.Error("prompt for another image size accepted")
	}
	if _, err := Load(ctx, Spec{Model: weights, MedSAM: true}); err == nil {
		t.Error("--medsam accepted for a clicknet model")
	}
}
