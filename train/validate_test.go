package train

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/synthfm/synthfm/internal/shareddata"
	"github.com/synthfm/synthfm/manifests"
	"github.com/synthfm/synthfm/metrics"
	"github.com/synthfm/synthfm/prompts"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// TestRealValidationMatchesPredictor validates a tiny run on real
// ultrasound images and recomputes the logged Dice independently with the
// inference path (sam.Predictor on the exported weights, clicks from the
// evaluation protocol): the two must agree.
func TestRealValidationMatchesPredictor(t *testing.T) {
	if raceEnabled {
		t.Skip("no concurrency beyond the other tests'")
	}
	root := shareddata.Path(t, "evaldata")
	const manifest, objects = "hc18-fetal-head-us", 3
	cfg := tinyTestConfig(t)
	cfg.Validation.Manifests = []string{manifest}
	cfg.Validation.ManifestRoot = root
	cfg.Validation.MaxObjects = objects
	cfg.Validation.BestBy = "real"
	dir := t.TempDir()
	res, err := Run(context.Background(), Options{Config: cfg, OutDir: dir, Steps: 2, Backend: testBackend(t)})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	logged, ok := last.ValReal[manifest]
	if !ok || last.ValDice == nil {
		t.Fatalf("last record %+v lacks the synthetic or the %s validation", last, manifest)
	}
	if res.BestDice != logged {
		t.Errorf("best Dice %g, want the real set's %g (best_by real)", res.BestDice, logged)
	}

	mc, err := sam.LoadConfig(filepath.Join(dir, ModelConfig))
	if err != nil {
		t.Fatal(err)
	}
	pred, err := sam.LoadPredictor(context.Background(), testBackend(t), filepath.Join(dir, ModelFile), mc, sam.PredictorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := manifests.Open(manifest, root)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	n := 0
	for _, c := range ds.Cases() {
		slices, err := ds.Load(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range slices {
			emb, err := pred.Encode(context.Background(), imageproc.FromImage(s.Image))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range s.Objects {
				if n == objects {
					break
				}
				clicks, err := prompts.Simulate(o.Mask, 1, 0, prompts.CaseSeed(o.ID, cfg.Validation.Seed))
				if err != nil {
					t.Fatal(err)
				}
				p, err := pred.Predict(context.Background(), emb, sam.Prompt{
					Points: []sam.Point{{X: float64(clicks[0].X), Y: float64(clicks[0].Y), Label: sam.LabelPositive}}})
				if err != nil {
					t.Fatal(err)
				}
				sum += metrics.Dice(o.Mask, p.Binary(p.Best))
				n++
			}
		}
		if n == objects {
			break
		}
	}
	want := sum / float64(n)
	t.Logf("%s: validation Dice %.6f, predictor %.6f over %d objects", manifest, logged, want, n)
	if math.Abs(logged-want) > 2e-3 {
		t.Errorf("validation Dice %.6f, sam.Predictor on the exported weights %.6f", logged, want)
	}
}
