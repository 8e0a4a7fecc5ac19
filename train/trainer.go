package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/synthfm/synthfm/internal/atomicfile"
)

// Files of a run's output directory.
const (
	ConfigFile     = "config.json"            // the recipe, as run
	CheckpointFile = "checkpoint.safetensors" // latest training state (resume from it)
	BestFile       = "best.safetensors"       // weights with the best validation Dice, SAM names
	ModelFile      = "model.safetensors"      // final weights, SAM names
	ModelConfig    = "model.json"             // the SAM architecture (sam.LoadConfig reads it)
	GoMLXDir       = "gomlx"                  // final weights in GoMLX's checkpoint format
	MetricsFile    = "metrics.jsonl"
	PlotFile       = "metrics.png"
)

// Options configure one invocation of Run.
type Options struct {
	Config Config
	OutDir string
	// Steps overrides the recipe's length (epochs × samples / batch) when > 0.
	Steps int
	// Resume continues the run saved in OutDir; Config must then equal the
	// saved recipe (LoadRunConfig reads it).
	Resume  bool
	Backend compute.Backend
	// Progress receives a progress bar (nil: none).
	Progress io.Writer
	Logger   *slog.Logger
	// AfterStep, when set, is called after every completed step (tests use
	// it to interrupt a run at a chosen step).
	AfterStep func(step int)
}

// Result summarises a run.
type Result struct {
	Steps       int     // steps completed in total
	TotalSteps  int     // the run's length
	LastLoss    float64 // mean training loss of the last logged window
	BestDice    float64 // best validation Dice (NaN without validation)
	BestStep    int
	Interrupted bool // stopped by the context; a checkpoint was written
}

// Run trains the model of opts.Config, writing checkpoints, metrics and the
// exported weights to opts.OutDir. When ctx is cancelled (SIGINT/SIGTERM in
// the CLI) it saves a checkpoint and returns the context's error with the
// result so far; Run with Resume then continues exactly: same parameters,
// optimiser state, schedule and position in the data stream.
func Run(ctx context.Context, opts Options) (Result, error) {
	t, err := newRun(ctx, opts)
	if err != nil {
		return Result{}, err
	}
	defer t.close()
	return t.loop(ctx)
}

// run is the state of one invocation of Run.
type run struct {
	opts     Options
	cfg      Config
	log      *slog.Logger
	model    *Model
	exec     *executors
	data     *dataSource
	val      *validationSet   // the synthetic validation set, or nil
	real     []*validationSet // the real manifests' sets
	progress Progress
	metrics  *MetricsLog
	bar      *progressBar
}

func newRun(ctx context.Context, opts Options) (*run, error) {
	cfg := opts.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Backend == nil {
		return nil, errors.New("train: no backend")
	}
	if opts.OutDir == "" {
		return nil, errors.New("train: no output directory")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	cfgJSON, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	if !opts.Resume {
		if _, err := os.Stat(filepath.Join(opts.OutDir, CheckpointFile)); err == nil {
			return nil, fmt.Errorf("%s already holds a run (%s): use --resume to continue it or choose another directory", opts.OutDir, CheckpointFile)
		}
	}
	m, err := newModel(cfg)
	if err != nil {
		return nil, err
	}
	r := &run{opts: opts, cfg: cfg, log: log, model: m}
	if err := r.startProgress(cfgJSON); err != nil {
		return nil, err
	}
	if r.exec, err = newExecutors(opts.Backend, m, cfg); err != nil {
		return nil, err
	}
	if r.data, err = newDataSource(cfg, m.Config, log); err != nil {
		return nil, err
	}
	if err := r.loadValidationSets(ctx); err != nil {
		return nil, err
	}
	keep := -1
	if opts.Resume {
		keep = r.progress.Step
	}
	if r.metrics, err = OpenMetricsLog(filepath.Join(opts.OutDir, MetricsFile), keep); err != nil {
		return nil, err
	}
	return r, nil
}

// startProgress loads the checkpoint's progress (and variables) when
// resuming, else starts a run of the recipe's length and writes its recipe.
func (r *run) startProgress(cfgJSON []byte) error {
	opts, log := r.opts, r.log
	if opts.Resume {
		p, err := LoadCheckpoint(filepath.Join(opts.OutDir, CheckpointFile), r.model.Store)
		if err != nil {
			return err
		}
		if !jsonEqual(p.Config, cfgJSON) {
			return fmt.Errorf("the recipe differs from the one of the run in %s (see its %s)", opts.OutDir, ConfigFile)
		}
		if opts.Steps > 0 && opts.Steps != p.TotalSteps {
			if opts.Steps < p.Step {
				return fmt.Errorf("--steps %d is fewer than the %d steps already done", opts.Steps, p.Step)
			}
			log.Warn("run length changed on resume: the schedule is recomputed for the new length",
				"was", p.TotalSteps, "now", opts.Steps)
			p.TotalSteps = opts.Steps
			p.Schedule = Schedule{}
		}
		r.progress = p
		log.Info("resuming", "dir", opts.OutDir, "step", p.Step, "of", p.TotalSteps, "next_sample", p.NextSample)
	} else {
		total := r.cfg.TotalSteps()
		if opts.Steps > 0 {
			total = opts.Steps
		}
		r.progress = Progress{TotalSteps: total, BestDice: -1, Config: cfgJSON}
		if err := atomicfile.Write(filepath.Join(opts.OutDir, ConfigFile), atomicfile.Durable, func(w io.Writer) error {
			_, err := w.Write(append(cfgJSON, '\n'))
			return err
		}); err != nil {
			return err
		}
	}
	if r.progress.Schedule == (Schedule{}) {
		var err error
		r.progress.Schedule, err = NewSchedule(r.cfg.LearningRate, r.cfg.MinLearningRate, r.cfg.WarmupFraction, r.progress.TotalSteps)
		return err
	}
	return nil
}

// loadValidationSets prepares the synthetic validation set and the real
// manifests' sets of the recipe.
func (r *run) loadValidationSets(ctx context.Context) error {
	v := r.cfg.Validation
	if v.Samples > 0 {
		var err error
		if r.val, err = newSyntheticValidation(r.data, v.Samples, v.Seed, r.exec); err != nil {
			return err
		}
	}
	root := v.ManifestRoot
	if root == "" {
		root = filepath.Join("..", "shared", "evaldata")
	}
	for _, spec := range v.Manifests {
		set, err := newManifestValidation(ctx, spec, root, v.MaxObjects, v.Seed, r.data.prep, r.exec)
		if err != nil {
			return err
		}
		r.log.Info("real validation set", "name", set.name, "objects", len(set.cases))
		r.real = append(r.real, set)
	}
	return nil
}

func (r *run) close() {
	if r.metrics != nil {
		if err := r.metrics.Close(); err != nil {
			r.log.Warn("closing metrics log", "err", err)
		}
	}
}

// preparedBatch is a batch ready for the training step: its examples and
// the model input (preprocessed images, or frozen-encoder embeddings).
type preparedBatch struct {
	step     int
	examples []*example
	x        *tensors.Tensor
}

// prepare makes the batch of a step from its examples: the model input
// and, with a frozen encoder, the image embeddings. It runs in the prefetch
// goroutine.
func (r *run) prepare(step int, examples []*example) (*preparedBatch, error) {
	x := inputTensor(examples)
	for _, ex := range examples {
		ex.input = nil // in the tensor now
	}
	if r.exec.encode != nil {
		emb, err := r.exec.encode.Exec1(x)
		if err != nil {
			return nil, fmt.Errorf("frozen encoder: %w", err)
		}
		x.FinalizeAll()
		x = emb
	}
	return &preparedBatch{step: step, examples: examples, x: x}, nil
}

// trainBatch runs the rounds of one step: the sampled clicks, then each
// refinement round with the error-driven click and the previous mask.
// It returns the mean loss and segmentation loss over the rounds.
func (r *run) trainBatch(b *preparedBatch, lr float64) (loss, seg float64, err error) {
	cfgM := r.model.Config
	lowRes := cfgM.LowResSize()
	in := roundInputs{x: b.x, target: targetTensor(b.examples)}
	rounds := 1 + r.cfg.Prompts.RefineRounds
	for round := 0; round < rounds; round++ {
		in.points, in.labels, in.multimask = promptTensors(b.examples, cfgM.PromptPoints)
		res, err := r.exec.trainRound(lr, in)
		if err != nil {
			return 0, 0, err
		}
		if math.IsNaN(res.loss) || math.IsInf(res.loss, 0) {
			return 0, 0, fmt.Errorf("step %d round %d: loss is %g", b.step+1, round, res.loss)
		}
		loss += res.loss
		seg += res.segLoss
		if round+1 < rounds {
			in.maskInput = addRefinementClicks(b.examples, res, cfgM.NumMaskTokens(), lowRes, cfgM.ImgSize)
		}
	}
	return loss / float64(rounds), seg / float64(rounds), nil
}

func (r *run) loop(ctx context.Context) (Result, error) {
	p := &r.progress
	res := Result{TotalSteps: p.TotalSteps, BestDice: math.NaN()}
	if p.BestDice >= 0 {
		res.BestDice, res.BestStep = p.BestDice, p.BestStep
	}
	start := p.Step
	remaining := p.TotalSteps - start
	r.bar = newProgressBar(r.opts.Progress, remaining*r.cfg.BatchSize)
	defer r.bar.finish()
	began := time.Now()

	pctx, cancelPrefetch := context.WithCancel(ctx)
	nextBatch, stopStream := r.data.batches(pctx, p.NextSample)
	pre := startPrefetch(pctx, max(1, r.cfg.PrefetchDepth), func(pctx context.Context, i int) (*preparedBatch, error) {
		if start+i >= p.TotalSteps {
			return nil, errPrefetchStopped
		}
		examples, err := nextBatch()
		if err != nil {
			return nil, err
		}
		return r.prepare(start+i, examples)
	})
	defer func() { cancelPrefetch(); pre.Stop(); stopStream() }()

	var windowLoss, windowSeg float64
	var windowSteps int
	windowStart := time.Now()
	for p.Step < p.TotalSteps {
		if ctx.Err() != nil {
			return r.interrupted(res)
		}
		b, err := pre.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return r.interrupted(res)
			}
			return res, err
		}
		lr := p.Schedule.LearningRate(p.Step)
		loss, seg, err := r.trainBatch(b, lr)
		if err != nil {
			return res, err
		}
		b.x.FinalizeAll()
		p.Step++
		p.NextSample = p.Step * r.cfg.BatchSize
		res.Steps = p.Step
		windowLoss += loss
		windowSeg += seg
		windowSteps++
		r.bar.add(r.cfg.BatchSize, p.Step, p.TotalSteps, loss)

		logNow := r.cfg.LogEvery > 0 && p.Step%r.cfg.LogEvery == 0 || p.Step == p.TotalSteps
		validateNow := (r.val != nil || len(r.real) > 0) &&
			(r.cfg.Validation.Every > 0 && p.Step%r.cfg.Validation.Every == 0 || p.Step == p.TotalSteps)
		rec := Record{Step: p.Step, Epoch: float64(p.NextSample) / float64(r.cfg.SamplesPerEpoch)}
		if logNow && windowSteps > 0 {
			elapsed := time.Since(windowStart).Seconds()
			rec.Loss = ptr(windowLoss / float64(windowSteps))
			rec.SegLoss = ptr(windowSeg / float64(windowSteps))
			rec.LearningRate = ptr(lr)
			rec.SamplesPerSec = ptr(float64(windowSteps*r.cfg.BatchSize) / elapsed)
			res.LastLoss = *rec.Loss
			windowLoss, windowSeg, windowSteps = 0, 0, 0
			windowStart = time.Now()
		}
		if validateNow {
			if err := r.validate(&rec, &res); err != nil {
				return res, err
			}
		}
		if rec.Loss != nil || rec.ValDice != nil || rec.ValReal != nil {
			rec.Elapsed = time.Since(began).Seconds()
			if err := r.metrics.Append(rec); err != nil {
				return res, err
			}
		}
		if r.cfg.CheckpointEvery > 0 && p.Step%r.cfg.CheckpointEvery == 0 && p.Step < p.TotalSteps {
			if err := r.checkpoint(); err != nil {
				return res, err
			}
		}
		if r.opts.AfterStep != nil {
			r.opts.AfterStep(p.Step)
		}
	}
	if err := r.checkpoint(); err != nil {
		return res, err
	}
	if err := r.export(filepath.Join(r.opts.OutDir, ModelFile), true); err != nil {
		return res, err
	}
	r.log.Info("training finished", "steps", p.Step, "best_val_dice", res.BestDice, "best_step", res.BestStep,
		"elapsed", time.Since(began).Round(time.Second))
	return res, nil
}

// interrupted saves the state after the last completed step and reports
// the context's cancellation.
func (r *run) interrupted(res Result) (Result, error) {
	res.Interrupted = true
	r.log.Info("interrupted: saving a checkpoint", "step", r.progress.Step)
	if err := r.checkpoint(); err != nil {
		return res, errors.Join(context.Canceled, err)
	}
	return res, context.Canceled
}

// validate measures the validation Dice, records it and keeps the best
// weights (by the synthetic set's Dice, or the real sets' mean; see
// ValidationConfig.BestBy).
func (r *run) validate(rec *Record, res *Result) error {
	p := &r.progress
	d := math.NaN()
	if r.val != nil {
		var err error
		if d, err = r.val.meanDice(r.exec); err != nil {
			return err
		}
		rec.ValDice = ptr(d)
		r.log.Info("validation", "step", p.Step, "set", r.val.name, "dice", fmt.Sprintf("%.4f", d))
	}
	if len(r.real) > 0 {
		rec.ValReal = map[string]float64{}
		var sum float64
		for _, v := range r.real {
			rd, err := v.meanDice(r.exec)
			if err != nil {
				return err
			}
			rec.ValReal[v.name] = rd
			sum += rd
			r.log.Info("validation", "step", p.Step, "set", v.name, "dice", fmt.Sprintf("%.4f", rd))
		}
		if r.cfg.Validation.BestBy == "real" {
			d = sum / float64(len(r.real))
		}
	}
	if !math.IsNaN(d) && d > p.BestDice {
		p.BestDice, p.BestStep = d, p.Step
		res.BestDice, res.BestStep = d, p.Step
		if err := r.export(filepath.Join(r.opts.OutDir, BestFile), false); err != nil {
			return err
		}
	}
	return nil
}

// checkpoint writes the training state and refreshes the plot.
func (r *run) checkpoint() error {
	if err := SaveCheckpoint(filepath.Join(r.opts.OutDir, CheckpointFile), r.model.Store, r.progress); err != nil {
		return err
	}
	r.log.Debug("checkpoint saved", "step", r.progress.Step)
	records, err := ReadMetrics(filepath.Join(r.opts.OutDir, MetricsFile))
	if err != nil {
		return err
	}
	return PlotMetrics(records, filepath.Join(r.opts.OutDir, PlotFile))
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
