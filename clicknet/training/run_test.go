package training

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/clicknet"
	"github.com/synthfm/synthfm/internal/mlbackend"
	"github.com/synthfm/synthfm/sam/checkpoint"
	"github.com/synthfm/synthfm/train"
)

// tinyRecipe trains a very small model for a few steps.
func tinyRecipe() Recipe {
	r := DefaultRecipe()
	r.Name = "tiny"
	r.Model = clicknet.Config{Family: clicknet.Family, Name: "tiny", InputSize: 64, Patch: 4, Widths: []int{4, 8}, ClickRadius: 2}
	r.Steps, r.Batch, r.ValCases, r.ValEvery, r.CheckpointEvery, r.LogEvery = 6, 2, 4, 3, 3, 2
	return r
}

func runOpts(t *testing.T, r Recipe, dir string) Options {
	t.Helper()
	b, err := mlbackend.New()
	if err != nil {
		t.Fatal(err)
	}
	return Options{Recipe: r, OutDir: dir, Backend: b}
}

func weights(t *testing.T, path string) []float32 {
	t.Helper()
	sd, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var all []float32
	for _, n := range sd.Names() {
		tv, _ := sd.Get(n)
		all = append(all, tv.Data...)
	}
	return all
}

// TestInterruptedRunResumesExactly: a run cancelled after step 3 and
// resumed ends with the same weights, bit for bit, as one run straight
// through (same samples, clicks, correction rounds and AdamW state).
func TestInterruptedRunResumesExactly(t *testing.T) {
	ctx := context.Background()
	r := tinyRecipe()
	straight := t.TempDir()
	res, err := Run(ctx, runOpts(t, r, straight))
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 6 || res.BestDice < 0 || res.FloorDice <= 0 {
		t.Errorf("result %+v", res)
	}
	resumed := t.TempDir()
	cctx, cancel := context.WithCancel(ctx)
	o := runOpts(t, r, resumed)
	o.AfterStep = func(step int) {
		if step == 3 {
			cancel()
		}
	}
	res, err = Run(cctx, o)
	if !errors.Is(err, context.Canceled) || !res.Interrupted || res.Steps != 3 {
		t.Fatalf("interrupted run: %+v, %v", res, err)
	}
	if _, err := Run(ctx, runOpts(t, r, resumed)); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("a second run into the same folder: err = %v", err)
	}
	o = runOpts(t, r, resumed)
	o.Resume = true
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	if a, b := weights(t, filepath.Join(straight, ModelFile)), weights(t, filepath.Join(resumed, ModelFile)); !slices.Equal(a, b) {
		t.Error("resumed run's weights differ from the straight run's")
	}
	recs, err := train.ReadMetrics(filepath.Join(resumed, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	vals := 0
	for _, rec := range recs {
		if rec.ValDice != nil {
			vals++
			if _, ok := rec.ValReal["disk_floor"]; !ok {
				t.Error("a validation record without the disk floor beside it")
			}
		}
	}
	if vals != 2 {
		t.Errorf("%d validation records, want 2 (steps 3 and 6, none repeated)", vals)
	}
	// Resuming with another recipe (other than its length) is refused.
	changed := r
	changed.LR *= 2
	o = runOpts(t, changed, resumed)
	o.Resume = true
	if _, err := Run(ctx, o); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Errorf("resume with another lr: err = %v", err)
	}
	// A longer run continues from the checkpoint.
	longer := r
	longer.Steps = 8
	o = runOpts(t, longer, resumed)
	o.Resume = true
	if res, err := Run(ctx, o); err != nil || res.Steps != 8 {
		t.Errorf("resume with --steps 8: %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(resumed, "best.json")); err != nil {
		t.Errorf("no config beside the best weights: %v", err)
	}
}

func TestRecipeFilesMergeOverTheirBase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(path, []byte("base: clicknet\nsteps: 7\nmodel:\n  widths: [8, 16, 32]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !IsRecipeFile(path) {
		t.Fatal("a file with base: clicknet is not recognised as a clicknet recipe")
	}
	r, err := LoadRecipe(path)
	if err != nil {
		t.Fatal(err)
	}
	base := DefaultRecipe()
	if r.Steps != 7 || !slices.Equal(r.Model.Widths, []int{8, 16, 32}) || r.Model.InputSize != base.Model.InputSize || r.LR != base.LR {
		t.Errorf("merged recipe %+v", r)
	}
	for body, want := range map[string]string{
		"base: nope\n":                     "unknown base",
		"base: clicknet\nbatch: 0\n":       "batch",
		"base: clicknet\nmax_rounds: -1\n": "max_rounds",
	} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadRecipe(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want one naming %q", body, err, want)
		}
	}
}

// TestBranchesComputeTheSameLogits: splitting the batch into branches is a
// scheduling choice, not a different model.
func TestBranchesComputeTheSameLogits(t *testing.T) {
	backend, err := mlbackend.NewParallel()
	if err != nil {
		t.Fatal(err)
	}
	cfg := tinyRecipe().Model
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(5); err != nil {
		t.Fatal(err)
	}
	run := func(n int) []float32 {
		e := model.MustNewExec(backend, store, func(scope *model.Scope, x *Node) *Node { return branchLogits(scope, cfg, x, n) })
		x := make([]float32, 4*64*64*clicknet.Channels)
		for i := range x {
			x[i] = float32(i%97) / 97
		}
		return tensors.MustCopyFlatData[float32](e.MustExec(tensors.FromFlatDataAndDimensions(x, 4, 64, 64, clicknet.Channels))[0])
	}
	one, two := run(1), run(2)
	for i := range one {
		if d := one[i] - two[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("logit %d: %g in one pass, %g in two branches", i, one[i], two[i])
		}
	}
	r := tinyRecipe()
	r.Branches = 3 // does not divide the batch of 2
	if err := r.Validate(); err == nil {
		t.Error("branches that do not divide the batch accepted")
	}
}
