package train

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	gomlxcheckpoint "github.com/gomlx/gomlx/ml/model/checkpoint"

	"github.com/synthfm/synthfm/prompts"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

// tinyTestConfig is the tiny recipe with a small validation set.
func tinyTestConfig(t *testing.T) Config {
	t.Helper()
	cfg, err := Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Validation.Samples = 4
	cfg.Validation.Every = 6
	cfg.CheckpointEvery = 4
	return cfg
}

// TestTinyLossFallsOnFixedBatch trains the tiny model on one fixed batch of
// synthetic samples (with their refinement rounds) and checks that its
// segmentation loss on that batch falls clearly.
func TestTinyLossFallsOnFixedBatch(t *testing.T) {
	if raceEnabled {
		t.Skip("single-goroutine numerics; too slow under the race detector")
	}
	cfg := tinyTestConfig(t)
	cfg.BatchSize = 4
	cfg.LearningRate = 1e-3
	r, err := newRun(context.Background(), Options{Config: cfg, OutDir: t.TempDir(), Backend: testBackend(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	next, stop := r.data.batches(context.Background(), 0)
	examples, err := next()
	stop()
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.prepare(0, examples)
	if err != nil {
		t.Fatal(err)
	}
	clicks := make([][]prompts.Click, len(b.examples))
	for i, ex := range b.examples {
		clicks[i] = slices.Clone(ex.clicks)
	}
	fixedLoss := func() float64 {
		for i, ex := range b.examples {
			ex.clicks = slices.Clone(clicks[i])
		}
		pts, lbl, mm := promptTensors(b.examples, 0)
		out, err := r.exec.evaluate.Exec(b.x, pts, lbl, targetTensor(b.examples), mm)
		if err != nil {
			t.Fatal(err)
		}
		return float64(tensors.MustCopyFlatData[float32](out[1])[0])
	}
	before := fixedLoss()
	const steps = 80
	for s := 0; s < steps; s++ {
		for i, ex := range b.examples {
			ex.clicks = slices.Clone(clicks[i])
		}
		if _, _, err := r.trainBatch(b, cfg.LearningRate); err != nil {
			t.Fatal(err)
		}
	}
	after := fixedLoss()
	t.Logf("Dice loss on the fixed batch: %.4f before, %.4f after %d steps", before, after, steps)
	if !(after < 0.7*before) {
		t.Errorf("Dice loss fell from %.4f to %.4f only; want below 70%% of the start", before, after)
	}
}

// storeValues reads every variable of a training checkpoint.
func storeValues(t *testing.T, path string) (map[string][]byte, Progress) {
	t.Helper()
	store := model.NewStore()
	p, err := LoadCheckpoint(path, store)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string][]byte{}
	for v := range store.IterVariables() {
		v.MustValue().ConstBytes(func(b []byte) { values[v.Path()] = slices.Clone(b) })
	}
	return values, p
}

// runInterruptedAndResumed trains cfg for steps steps twice: straight
// through, and interrupted (context cancelled) after interruptAt steps then
// resumed. Both must end with identical parameters and optimiser state.
func runInterruptedAndResumed(t *testing.T, cfg Config, steps, interruptAt int) {
	backend := testBackend(t)
	straight := t.TempDir()
	if _, err := Run(context.Background(), Options{Config: cfg, OutDir: straight, Steps: steps, Backend: backend}); err != nil {
		t.Fatal(err)
	}
	resumed := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Run(ctx, Options{Config: cfg, OutDir: resumed, Steps: steps, Backend: backend,
		AfterStep: func(step int) {
			if step == interruptAt {
				cancel()
			}
		}})
	cancel()
	if !errors.Is(err, context.Canceled) || !res.Interrupted || res.Steps != interruptAt {
		t.Fatalf("interrupted run: %+v, %v; want context.Canceled after step %d", res, err, interruptAt)
	}
	if _, p := storeValues(t, filepath.Join(resumed, CheckpointFile)); p.Step != interruptAt || p.NextSample != interruptAt*cfg.BatchSize {
		t.Fatalf("checkpoint after the interrupt at step %d, next sample %d; want %d, %d", p.Step, p.NextSample, interruptAt, interruptAt*cfg.BatchSize)
	}
	// Without --resume an existing run is not overwritten.
	if _, err := Run(context.Background(), Options{Config: cfg, OutDir: resumed, Steps: steps, Backend: backend}); err == nil {
		t.Fatal("a second run without Resume overwrote the interrupted one")
	}
	res, err = Run(context.Background(), Options{Config: cfg, OutDir: resumed, Steps: steps, Resume: true, Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != steps {
		t.Fatalf("resumed run ended at step %d, want %d", res.Steps, steps)
	}
	want, wp := storeValues(t, filepath.Join(straight, CheckpointFile))
	got, gp := storeValues(t, filepath.Join(resumed, CheckpointFile))
	if len(want) != len(got) || len(want) == 0 {
		t.Fatalf("%d variables straight through, %d resumed", len(want), len(got))
	}
	params := 0
	for path, w := range want {
		g, ok := got[path]
		if !ok {
			t.Fatalf("variable %s missing after resuming", path)
		}
		if !slices.Equal(w, g) {
			t.Fatalf("variable %s differs between the straight and the resumed run", path)
		}
		if !IsOptimizerState(path) {
			params++
		}
	}
	if wp.Step != gp.Step || wp.NextSample != gp.NextSample || wp.BestStep != gp.BestStep ||
		math.Float64bits(wp.BestDice) != math.Float64bits(gp.BestDice) {
		t.Errorf("progress straight %+v, resumed %+v", wp, gp)
	}
	// The metrics log holds each step once, with the same numbers.
	wm, _ := ReadMetrics(filepath.Join(straight, MetricsFile))
	gm, _ := ReadMetrics(filepath.Join(resumed, MetricsFile))
	if len(wm) != len(gm) {
		t.Fatalf("%d metrics records straight, %d resumed", len(wm), len(gm))
	}
	for i := range wm {
		if wm[i].Step != gm[i].Step || (wm[i].Loss != nil) != (gm[i].Loss != nil) || wm[i].Loss != nil && *wm[i].Loss != *gm[i].Loss {
			t.Fatalf("metrics record %d: straight %+v, resumed %+v", i, wm[i], gm[i])
		}
	}
	t.Logf("%d variables (%d parameters tensors) identical after an interrupt at step %d of %d", len(want), params, interruptAt, steps)
}

func TestInterruptedThenResumedEqualsUninterrupted(t *testing.T) {
	if raceEnabled {
		t.Skip("TestFrozenEncoderPipelineResume covers the same loop under the race detector")
	}
	runInterruptedAndResumed(t, tinyTestConfig(t), 12, 7)
}

// TestFrozenEncoderPipelineResume runs the paper's arrangement at tiny size:
// the image encoder loaded from a checkpoint and frozen, its embeddings
// computed ahead of the decoder steps by the prefetch pipeline.
func TestFrozenEncoderPipelineResume(t *testing.T) {
	cfg := tinyTestConfig(t)
	cfg.FreezeEncoder = true
	cfg.EncoderCheckpoint = writeTinyCheckpoint(t, *cfg.Model)
	cfg.PrefetchDepth = 3
	if raceEnabled {
		runInterruptedAndResumed(t, cfg, 5, 2)
		return
	}
	runInterruptedAndResumed(t, cfg, 10, 5)

	// The exported weights carry the checkpoint's encoder unchanged.
	dir := t.TempDir()
	if _, err := Run(context.Background(), Options{Config: cfg, OutDir: dir, Steps: 3, Backend: testBackend(t)}); err != nil {
		t.Fatal(err)
	}
	src, err := checkpoint.Read(cfg.EncoderCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	exported, err := checkpoint.Read(filepath.Join(dir, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Validate(exported, sam.CheckpointSpecs(sam.ParamSpecs(*cfg.Model))); err != nil {
		t.Fatalf("exported weights do not have SAM's names and shapes: %v", err)
	}
	changed := 0
	for _, name := range src.Names() {
		a, _ := src.Get(name)
		b, _ := exported.Get(name)
		same := slices.Equal(a.Data, b.Data)
		switch {
		case len(name) > 14 && name[:14] == "image_encoder." && !same:
			t.Fatalf("frozen encoder tensor %s changed", name)
		case len(name) > 13 && name[:13] == "mask_decoder." && !same:
			changed++
		}
	}
	if changed == 0 {
		t.Error("no mask decoder tensor changed in training")
	}
}

// writeTinyCheckpoint writes a randomly initialised SAM of cfg as a
// safetensors checkpoint, standing in for a released SAM checkpoint.
func writeTinyCheckpoint(t *testing.T, cfg sam.Config) string {
	t.Helper()
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(7); err != nil {
		t.Fatal(err)
	}
	if err := sam.InitializeVariables(testBackend(t), store.RootScope(), cfg); err != nil {
		t.Fatal(err)
	}
	sd, err := sam.ExportStateDict(store.RootScope(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sam_tiny.safetensors")
	if err := checkpoint.WriteSafetensors(path, sd, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunExportsLoadableWeights(t *testing.T) {
	if raceEnabled {
		t.Skip("no concurrency beyond the other tests'")
	}
	cfg := tinyTestConfig(t)
	dir := t.TempDir()
	res, err := Run(context.Background(), Options{Config: cfg, OutDir: dir, Steps: 3, Backend: testBackend(t)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 3 || math.IsNaN(res.BestDice) {
		t.Errorf("result %+v", res)
	}
	for _, f := range []string{ConfigFile, CheckpointFile, BestFile, ModelFile, ModelConfig, MetricsFile, PlotFile,
		filepath.Join(GoMLXDir, ModelConfig)} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	// model.safetensors has SAM's names and the trained values.
	mc, err := sam.LoadConfig(filepath.Join(dir, ModelConfig))
	if err != nil {
		t.Fatal(err)
	}
	sd, err := checkpoint.Read(filepath.Join(dir, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Validate(sd, sam.CheckpointSpecs(sam.ParamSpecs(mc))); err != nil {
		t.Fatal(err)
	}
	trained, _ := storeValues(t, filepath.Join(dir, CheckpointFile))
	tok, _ := sd.Get("mask_decoder.iou_token.weight")
	want := trained[StorePath("mask_decoder.iou_token.weight")]
	var got []byte
	tensors.FromFlatDataAndDimensions(tok.Data, tok.Shape...).ConstBytes(func(b []byte) { got = slices.Clone(b) })
	if !slices.Equal(got, want) {
		t.Error("exported mask_decoder.iou_token.weight differs from the trained value")
	}
	// The GoMLX checkpoint loads into a store with the same values.
	store := model.NewStore()
	if _, err := loadGoMLX(store, filepath.Join(dir, GoMLXDir)); err != nil {
		t.Fatal(err)
	}
	v := store.GetVariable(StorePath("mask_decoder.iou_token.weight"))
	if v == nil {
		t.Fatal("GoMLX checkpoint lacks mask_decoder/iou_token/weight")
	}
	v.MustValue().ConstBytes(func(b []byte) { got = slices.Clone(b) })
	if !slices.Equal(got, want) {
		t.Error("GoMLX checkpoint value differs from the trained value")
	}
}

func loadGoMLX(store *model.Store, dir string) (*gomlxcheckpoint.Handler, error) {
	return gomlxcheckpoint.Load(store).Dir(dir).Immediate().Done()
}

// TestPromptTensorsPadTo checks the fixed-size prompts: clicks first, then
// padding label −1 up to padTo, or to the most clicks when that is more.
func TestPromptTensorsPadTo(t *testing.T) {
	batch := []*example{
		{clicks: []prompts.Click{{X: 1, Y: 2, Positive: true}}},
		{clicks: []prompts.Click{{X: 3, Y: 4, Positive: true}, {X: 5, Y: 6}}},
	}
	for _, tc := range []struct{ padTo, want int }{{0, 2}, {1, 2}, {4, 4}} {
		pts, lbl, mm := promptTensors(batch, tc.padTo)
		if got := pts.Shape().Dimensions; !slices.Equal(got, []int{2, tc.want, 2}) {
			t.Fatalf("padTo %d: points shape %v, want [2 %d 2]", tc.padTo, got, tc.want)
		}
		l := tensors.MustCopyFlatData[float32](lbl)
		wantL := make([]float32, 2*tc.want)
		for i := range wantL {
			wantL[i] = -1
		}
		wantL[0], wantL[tc.want], wantL[tc.want+1] = 1, 1, 0
		if !slices.Equal(l, wantL) {
			t.Errorf("padTo %d: labels %v, want %v", tc.padTo, l, wantL)
		}
		if m := tensors.MustCopyFlatData[float32](mm); !slices.Equal(m, []float32{1, 0}) {
			t.Errorf("padTo %d: multimask %v, want [1 0]", tc.padTo, m)
		}
		p := tensors.MustCopyFlatData[float32](pts)
		if p[2*tc.want+2] != 5 || p[2*tc.want+3] != 6 {
			t.Errorf("padTo %d: second example's second click at (%g, %g), want (5, 6)", tc.padTo, p[2*tc.want+2], p[2*tc.want+3])
		}
	}
}
