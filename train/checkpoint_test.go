package train

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func TestCheckpointRoundTrip(t *testing.T) {
	store := model.NewStore()
	w := []float32{1.5, -2.25, 3, 0.125, 1e-7, -1e30}
	if _, err := store.CreateVariable("/mask_decoder/a/weight", tensors.FromFlatDataAndDimensions(w, 2, 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateVariable(stepVarPath, tensors.FromFlatDataAndDimensions([]int64{41}, 1)); err != nil {
		t.Fatal(err)
	}
	p := Progress{Step: 7, NextSample: 56, TotalSteps: 100, Schedule: Schedule{Base: 1e-4, Min: 0, WarmupSteps: 1, TotalSteps: 100},
		BestDice: 0.5, BestStep: 5, Config: json.RawMessage(`{"name":"tiny"}`)}
	path := filepath.Join(t.TempDir(), "state.safetensors")
	if err := SaveCheckpoint(path, store, p); err != nil {
		t.Fatal(err)
	}
	fresh := model.NewStore()
	got, err := LoadCheckpoint(path, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if got.Step != 7 || got.NextSample != 56 || got.Schedule != p.Schedule || got.BestDice != 0.5 || string(got.Config) != `{"name":"tiny"}` {
		t.Errorf("progress = %+v, want %+v", got, p)
	}
	gw := tensors.MustCopyFlatData[float32](fresh.GetVariable("/mask_decoder/a/weight").MustValue())
	for i := range w {
		if gw[i] != w[i] {
			t.Fatalf("weight[%d] = %g, want %g", i, gw[i], w[i])
		}
	}
	if s := tensors.MustCopyFlatData[int64](fresh.GetVariable(stepVarPath).MustValue()); s[0] != 41 {
		t.Errorf("step counter = %d, want 41", s[0])
	}
	// Loading into a store whose variable has another shape fails clearly.
	other := model.NewStore()
	if _, err := other.CreateVariable("/mask_decoder/a/weight", tensors.FromFlatDataAndDimensions(w, 3, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(path, other); err == nil || !strings.Contains(err.Error(), "/mask_decoder/a/weight") {
		t.Errorf("shape mismatch error = %v, want one naming the variable", err)
	}
	// A truncated file is an error naming the file, not a panic.
	data, _ := os.ReadFile(path)
	for _, n := range []int{0, 7, 20, len(data) / 2, len(data) - 1} {
		bad := filepath.Join(t.TempDir(), "bad.safetensors")
		os.WriteFile(bad, data[:n], 0o644)
		if _, err := LoadCheckpoint(bad, model.NewStore()); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
}
