package eval

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/synthfm/synthfm/dataset"
	"github.com/synthfm/synthfm/metrics"
	"github.com/synthfm/synthfm/prompts"
)

// Output file names inside a run folder.
const (
	ResultsFile = "results.csv"
	RunFile     = "run.json"
	SummaryFile = "summary.md"
	ChartFile   = "chart.png"
	GalleryFile = "gallery.png"
)

// Options configure a run.
type Options struct {
	Datasets []*dataset.Dataset
	Model    Model
	Configs  []PromptConfig // default DefaultConfigs()
	Seed     uint64
	// NSDTolerance is the surface-Dice tolerance, in mm where the slice's
	// spacing is known and in pixels otherwise; 0 turns NSD off.
	NSDTolerance float64
	// MaxObjects caps the objects evaluated per dataset (0: all), taken in
	// case order, for quick runs.
	MaxObjects int
	// GalleryCases is the number of worst and of best cases in the gallery.
	GalleryCases int
	OutDir       string
	// Progress receives a progress bar (nil: none).
	Progress io.Writer
	// Logger receives the run's log (slog.Default when nil).
	Logger *slog.Logger
}

// runInfo is run.json: what a run folder holds, checked on resume.
type runInfo struct {
	Model        string         `json:"model"`
	Seed         uint64         `json:"seed"`
	Configs      []PromptConfig `json:"configs"`
	Datasets     []string       `json:"datasets"`
	NSDTolerance float64        `json:"nsd_tolerance"`
}

// Run evaluates the model on every object of every dataset under every
// prompt configuration, appending to OutDir/results.csv (rows already there
// are kept and skipped, so an interrupted run resumes), then writes the
// summary table, chart and gallery. It returns all rows of the run.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.Model == nil || len(o.Datasets) == 0 || o.OutDir == "" {
		return nil, errors.New("eval: a model, at least one dataset and an output folder are required")
	}
	if len(o.Configs) == 0 {
		o.Configs = DefaultConfigs()
	}
	for _, c := range o.Configs {
		if err := c.Check(); err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	if err := checkRunInfo(o); err != nil {
		return nil, err
	}
	rw, rows, err := openResults(filepath.Join(o.OutDir, ResultsFile))
	if err != nil {
		return nil, err
	}
	defer rw.Close()
	done := make(map[string]bool, len(rows))
	for _, r := range rows {
		done[r.Key()] = true
	}
	if len(rows) > 0 {
		cmp.Or(o.Logger, slog.Default()).Info("resuming evaluation", "done", len(rows), "out", o.OutDir)
	}
	total := 0
	for _, d := range o.Datasets {
		total += len(d.Cases())
	}
	bar := newBar(o.Progress, total)
	found := 0 // objects in the datasets, evaluated now or before
	for _, d := range o.Datasets {
		objects := 0
		for _, c := range d.Cases() {
			bar.Describe(d.Name() + "/" + c.ID)
			if o.MaxObjects > 0 && objects >= o.MaxObjects {
				bar.Add(1)
				continue
			}
			slices, err := d.Load(ctx, c)
			if err != nil {
				return rows, err
			}
			for _, s := range slices {
				if o.MaxObjects > 0 && objects+len(s.Objects) > o.MaxObjects {
					s.Objects = s.Objects[:o.MaxObjects-objects]
				}
				objects += len(s.Objects)
				found += len(s.Objects)
				newRows, err := evalSlice(ctx, o, s, done, rw)
				rows = append(rows, newRows...)
				if err != nil {
					return rows, err
				}
				if o.MaxObjects > 0 && objects >= o.MaxObjects {
					break
				}
			}
			bar.Add(1)
		}
	}
	bar.Finish()
	if o.Progress != nil {
		fmt.Fprintln(o.Progress)
	}
	if found == 0 {
		return rows, fmt.Errorf("nothing to evaluate: the %d cases of %s hold no object (every mask is empty; objects are the labelled pixels of a mask, one per label value)",
			total, datasetNames(o.Datasets))
	}
	return rows, WriteReports(ctx, o, rows)
}

// datasetNames lists the datasets' names for a message.
func datasetNames(ds []*dataset.Dataset) string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Name()
	}
	return strings.Join(names, ", ")
}

func newBar(w io.Writer, total int) *progressbar.ProgressBar {
	if w == nil {
		return progressbar.NewOptions(total, progressbar.OptionSetVisibility(false))
	}
	return progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("cases"), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(true), progressbar.OptionFullWidth())
}

func checkRunInfo(o Options) error {
	info := runInfo{Model: o.Model.Name(), Seed: o.Seed, Configs: o.Configs, NSDTolerance: o.NSDTolerance}
	for _, d := range o.Datasets {
		info.Datasets = append(info.Datasets, d.Name())
	}
	path := filepath.Join(o.OutDir, RunFile)
	if data, err := os.ReadFile(path); err == nil {
		var old runInfo
		if err := json.Unmarshal(data, &old); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if old.Model != info.Model || old.Seed != info.Seed || old.NSDTolerance != info.NSDTolerance {
			return fmt.Errorf("%s holds a run of model %q with seed %d and NSD tolerance %g; use another --out for model %q, seed %d, tolerance %g",
				o.OutDir, old.Model, old.Seed, old.NSDTolerance, info.Model, info.Seed, info.NSDTolerance)
		}
	}
	data, _ := json.MarshalIndent(info, "", "  ")
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// evalSlice segments every pending (object, configuration) of one slice,
// preparing the image once.
func evalSlice(ctx context.Context, o Options, s dataset.Slice, done map[string]bool, rw *resultWriter) ([]Result, error) {
	var prepared Prepared
	var rows []Result
	for _, obj := range s.Objects {
		for _, cfg := range o.Configs {
			if err := ctx.Err(); err != nil {
				// Interrupted: every row so far is in results.csv.
				return rows, err
			}
			r := Result{Model: o.Model.Name(), Dataset: s.Dataset, Case: s.Case, Slice: s.Index, Structure: obj.Structure,
				Instance: obj.Instance, ObjectID: obj.ID, Modality: s.Modality, Config: cfg, Seed: o.Seed, NSD: math.NaN()}
			if done[r.Key()] {
				continue
			}
			if prepared == nil {
				var err error
				if prepared, err = o.Model.Prepare(ctx, s.Image); err != nil {
					return rows, fmt.Errorf("%s: prepare: %w", obj.ID, err)
				}
			}
			start := time.Now()
			pred, clicks, err := segment(ctx, prepared, obj, cfg, o.Seed)
			if err != nil {
				return rows, err
			}
			r.Millis = float64(time.Since(start).Microseconds()) / 1000
			r.Clicks = clicks
			r.Dice = metrics.Dice(obj.Mask, pred)
			r.GTPixels, r.PredPixels = countMask(obj.Mask), countMask(pred)
			if o.NSDTolerance > 0 {
				sx, sy, unit := 1.0, 1.0, "px"
				if s.SpacingKnown {
					sx, sy, unit = s.SX, s.SY, "mm"
				}
				r.NSD, r.NSDTol, r.NSDUnit = metrics.NSD(obj.Mask, pred, o.NSDTolerance, sx, sy), o.NSDTolerance, unit
			}
			if err := rw.write(r.record()); err != nil {
				return rows, err
			}
			done[r.Key()] = true
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// segment simulates the clicks of one object and configuration (seeded by
// the object id) and runs the model.
func segment(ctx context.Context, p Prepared, obj dataset.Object, cfg PromptConfig, seed uint64) (*image.Gray, []prompts.Click, error) {
	clicks, err := prompts.Simulate(obj.Mask, cfg.Pos, cfg.Neg, prompts.CaseSeed(obj.ID, seed))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: clicks: %w", obj.ID, err)
	}
	pred, err := p.Segment(ctx, clicks)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: segment: %w", obj.ID, cfg, err)
	}
	if pred.Bounds().Size() != obj.Mask.Bounds().Size() {
		return nil, nil, fmt.Errorf("%s: model returned a %v mask for a %v image", obj.ID, pred.Bounds().Size(), obj.Mask.Bounds().Size())
	}
	return pred, clicks, nil
}

func countMask(m *image.Gray) int {
	n := 0
	b := m.Bounds()
	for y := 0; y < b.Dy(); y++ {
		for _, v := range m.Pix[y*m.Stride : y*m.Stride+b.Dx()] {
			if v != 0 {
				n++
			}
		}
	}
	return n
}
