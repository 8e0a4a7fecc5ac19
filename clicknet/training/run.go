package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"iter"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads like maths
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/clicknet"
	"github.com/synthfm/synthfm/internal/atomicfile"
	"github.com/synthfm/synthfm/prompts"
	"github.com/synthfm/synthfm/sam/checkpoint"
	"github.com/synthfm/synthfm/synth"
	"github.com/synthfm/synthfm/train"
)

// Files of a run's output directory.
const (
	RecipeFile     = "recipe.json"
	CheckpointFile = "checkpoint.safetensors" // latest state: parameters, AdamW moments, progress
	BestFile       = "best.safetensors"       // weights with the best validation Dice (+ best.json)
	ModelFile      = "model.safetensors"      // final weights (+ model.json)
	MetricsFile    = "metrics.jsonl"
)

// Options configure one invocation of Run.
type Options struct {
	Recipe Recipe
	OutDir string
	Resume bool
	// Backend runs the graphs (models/mlbackend create it).
	Backend compute.Backend
	Logger  *slog.Logger
	// AfterStep, when set, is called after each completed step.
	AfterStep func(step int)
}

// Result summarises a run.
type Result struct {
	Steps       int
	BestDice    float64
	BestStep    int
	FloorDice   float64 // the disk-around-the-click floor on the same cases
	Interrupted bool
}

// example is one training sample with its current prompt.
type example struct {
	frame  clicknet.Frame
	mask   *image.Gray // S×S target, 255 inside
	target []float32   // S×S, 0/1
	points []clicknet.Point
	prev   []float32 // S×S previous prediction (0/1) or nil
}

type run struct {
	opts     Options
	r        Recipe
	log      *slog.Logger
	store    *model.Store
	trainX   *model.Exec
	predictX *model.Exec
	gen      *synth.Generator
	progress train.Progress
	val      []valCase
	floor    float64
	metrics  *train.MetricsLog
}

// Run trains the recipe's model, writing checkpoints, metrics and weights
// to opts.OutDir. When ctx is cancelled it saves a checkpoint and returns
// ctx's error with the result so far; Resume continues exactly.
func Run(ctx context.Context, opts Options) (Result, error) {
	r := opts.Recipe
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	if opts.Backend == nil || opts.OutDir == "" {
		return Result{}, errors.New("training: a backend and an output directory are needed")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return Result{}, fmt.Errorf("output directory: %w", err)
	}
	ckpt := filepath.Join(opts.OutDir, CheckpointFile)
	if _, err := os.Stat(ckpt); err == nil && !opts.Resume {
		return Result{}, fmt.Errorf("%s already holds a run (%s): use --resume to continue it or choose another directory", opts.OutDir, CheckpointFile)
	}
	recipeJSON, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return Result{}, err
	}
	genCfg, err := r.GeneratorConfig()
	if err != nil {
		return Result{}, err
	}
	gen, err := synth.NewGenerator(genCfg)
	if err != nil {
		return Result{}, err
	}
	t := &run{opts: opts, r: r, log: log, store: model.NewStore(), gen: gen}
	if err := t.store.SetRNGStateFromSeed(int64(r.Seed)); err != nil {
		return Result{}, err
	}
	sched, err := train.NewSchedule(r.LR, r.MinLR, r.WarmupFraction, r.Steps)
	if err != nil {
		return Result{}, err
	}
	t.progress = train.Progress{TotalSteps: r.Steps, Schedule: sched, BestDice: -1, Config: recipeJSON}
	if opts.Resume {
		if _, err := os.Stat(ckpt); err != nil {
			return Result{}, fmt.Errorf("--resume: %w", err)
		}
		p, err := train.LoadCheckpoint(ckpt, t.store)
		if err != nil {
			return Result{}, err
		}
		var saved Recipe
		if err := json.Unmarshal(p.Config, &saved); err != nil {
			return Result{}, fmt.Errorf("%s: recipe: %w", ckpt, err)
		}
		// The run's length may change on resume (--steps); nothing else may.
		saved.Steps = r.Steps
		savedJSON, _ := json.MarshalIndent(saved, "", "  ")
		if string(savedJSON) != string(recipeJSON) {
			return Result{}, fmt.Errorf("--resume: the recipe differs from the one %s was trained with (%s)", opts.OutDir, RecipeFile)
		}
		if r.Steps < p.Step {
			return Result{}, fmt.Errorf("--resume: --steps %d is fewer than the %d steps already done", r.Steps, p.Step)
		}
		if r.Steps != p.TotalSteps {
			log.Info("run length changed: the learning-rate schedule follows the new horizon", "from", p.TotalSteps, "to", r.Steps)
			p.TotalSteps, p.Schedule = r.Steps, sched
			p.Config = recipeJSON
			if err := writeFile(filepath.Join(opts.OutDir, RecipeFile), append(recipeJSON, '\n')); err != nil {
				return Result{}, err
			}
		}
		t.progress = p
		log.Info("resuming", "step", p.Step, "of", p.TotalSteps)
	} else if err := writeFile(filepath.Join(opts.OutDir, RecipeFile), append(recipeJSON, '\n')); err != nil {
		return Result{}, err
	}
	keep := -1
	if opts.Resume {
		keep = t.progress.Step
	}
	if t.metrics, err = train.OpenMetricsLog(filepath.Join(opts.OutDir, MetricsFile), keep); err != nil {
		return Result{}, err
	}
	defer t.metrics.Close()
	if err := t.buildExecs(); err != nil {
		return Result{}, err
	}
	if err := t.buildValidation(); err != nil {
		return Result{}, err
	}
	return t.loop(ctx)
}

// buildExecs compiles the training step and the prediction.
func (t *run) buildExecs() error {
	cfg := t.r.Model
	var err error
	t.trainX, err = model.NewExec(t.opts.Backend, t.store, func(scope *model.Scope, in []*Node) []*Node {
		lr, x, target := in[0], in[1], in[2]
		g := lr.Graph()
		logits := branchLogits(scope, cfg, x, t.r.Branches)
		seg := train.DiceLoss(logits, target, 1)
		if t.r.BCEWeight > 0 {
			seg = Add(seg, MulScalar(train.BCELoss(logits, target), t.r.BCEWeight))
		}
		loss := ReduceAllMean(seg)
		var params []*model.Variable
		for v := range t.store.IterVariables() {
			if !train.IsOptimizerState(v.Path()) && v.InUseByGraph(g) {
				params = append(params, v)
			}
		}
		nodes := make([]*Node, len(params))
		decay := make([]bool, len(params))
		for i, v := range params {
			nodes[i] = v.NodeValue(g)
			decay[i] = v.Shape().Rank() >= 2
		}
		grads := Gradient(loss, nodes...)
		train.AdamW{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, WeightDecay: t.r.WeightDecay}.Update(g, t.store, lr, params, grads, decay)
		return []*Node{loss, logits}
	})
	if err != nil {
		return err
	}
	t.predictX, err = model.NewExec(t.opts.Backend, t.store, func(scope *model.Scope, x *Node) *Node {
		return branchLogits(scope, cfg, x, t.r.Branches)
	})
	return err
}

// branchLogits runs the network on n equal parts of the batch as
// independent branches of one graph and concatenates their logits: the
// same result as one pass, but a backend that runs independent operations
// concurrently (GoMLX's Go backend with parallelism=-1) keeps both cores
// busy, where one pass's small operations leave one idle.
func branchLogits(scope *model.Scope, cfg clicknet.Config, x *Node, n int) *Node {
	b := x.Shape().Dim(0)
	if n <= 1 || b%n != 0 {
		return clicknet.Logits(scope, cfg, x)
	}
	parts := make([]*Node, n)
	for i := range n {
		parts[i] = clicknet.Logits(scope, cfg, Slice(x, AxisRange(i*b/n, (i+1)*b/n)))
	}
	return Concatenate(parts, 0)
}

// promptRand is the random source of sample index's prompts.
func promptRand(seed uint64, index int) *rand.Rand {
	return prompts.NewRand(prompts.CaseSeed(fmt.Sprint("train/", index), seed))
}

// newExample turns a generated sample into a training example with its
// initial prompt.
func (t *run) newExample(s *synth.Sample, rng *rand.Rand) (*example, error) {
	size := t.r.Model.InputSize
	img := s.ImageFloat32(nil)
	target := make([]float32, size*size)
	for i, v := range s.Mask.Pix {
		if v != 0 {
			target[i] = 1
		}
	}
	p := 1 + weightedIndex(t.r.PosWeights, rng)
	n := 0
	if rng.Float64() >= t.r.PNoNeg && t.r.MaxNeg > 0 {
		n = 1 + rng.IntN(t.r.MaxNeg)
	}
	clicks, err := prompts.Sampler{MinPos: p, MaxPos: p, MinNeg: n, MaxNeg: n}.Sample(s.Mask, rng)
	if err != nil {
		return nil, err
	}
	ex := &example{
		frame:  clicknet.Frame{Size: size, ResizedH: size, ResizedW: size, Image: img},
		mask:   s.Mask,
		target: target,
	}
	for _, c := range clicks {
		ex.points = append(ex.points, pixelPoint(c))
	}
	return ex, nil
}

// pixelPoint is a click on pixel (x, y) at that pixel's centre.
func pixelPoint(c prompts.Click) clicknet.Point {
	return clicknet.Point{X: float64(c.X) + 0.5, Y: float64(c.Y) + 0.5, Positive: c.Positive}
}

func weightedIndex(w []float64, rng *rand.Rand) int {
	total := 0.0
	for _, v := range w {
		total += v
	}
	u := rng.Float64() * total
	for i, v := range w {
		if u < v {
			return i
		}
		u -= v
	}
	return len(w) - 1
}

// inputTensor encodes a batch's current prompts [B, S, S, Channels].
func (t *run) inputTensor(batch []*example, buf []float32) (*tensors.Tensor, []float32, error) {
	s := t.r.Model.InputSize
	per := s * s * clicknet.Channels
	if cap(buf) < len(batch)*per {
		buf = make([]float32, len(batch)*per)
	}
	buf = buf[:len(batch)*per]
	for i, ex := range batch {
		if _, err := ex.frame.Encode(buf[i*per:(i+1)*per], ex.points, nil, ex.prev, t.r.Model.ClickRadius); err != nil {
			return nil, buf, err
		}
	}
	return tensors.FromFlatDataAndDimensions(buf, len(batch), s, s, clicknet.Channels), buf, nil
}

// correct feeds a round's predictions back: each example's previous mask
// becomes its prediction and a correction click goes to its largest error.
func (t *run) correct(batch []*example, logits []float32) {
	s := t.r.Model.InputSize
	for i, ex := range batch {
		l := logits[i*s*s : (i+1)*s*s]
		ex.prev = clicknet.Binarise(ex.prev, l)
		pred := image.NewGray(image.Rect(0, 0, s, s))
		for j, v := range ex.prev {
			if v > 0 {
				pred.Pix[j] = 255
			}
		}
		if c, ok := prompts.RefineClick(ex.mask, pred); ok {
			ex.points = append(ex.points, pixelPoint(c))
		}
	}
}

// loop runs steps until the recipe's length, checkpointing as it goes.
func (t *run) loop(ctx context.Context) (Result, error) {
	r := t.r
	start := time.Now()
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	next, stop := iter.Pull2(t.gen.Stream(streamCtx, r.Seed, t.progress.NextSample, r.Workers))
	defer stop()
	var buf []float32
	var lossSum float64
	var lossN, samples int
	windowStart := time.Now()
	result := func(interrupted bool) Result {
		return Result{Steps: t.progress.Step, BestDice: t.progress.BestDice, BestStep: t.progress.BestStep, FloorDice: t.floor, Interrupted: interrupted}
	}
	for t.progress.Step < r.Steps {
		if ctx.Err() != nil {
			if err := t.checkpoint(); err != nil {
				return result(true), err
			}
			return result(true), ctx.Err()
		}
		step := t.progress.Step
		// The batch's rounds come from the step's own random source, so a
		// resumed run draws the same ones.
		rng := promptRand(r.Seed^0x9e3779b97f4a7c15, step)
		batch := make([]*example, r.Batch)
		for i := range batch {
			s, err, ok := next()
			if !ok {
				return result(true), ctx.Err()
			}
			if err != nil {
				if ctx.Err() != nil {
					continue
				}
				return result(false), fmt.Errorf("sample %d: %w", t.progress.NextSample, err)
			}
			ex, err := t.newExample(s, promptRand(r.Seed, t.progress.NextSample))
			if err != nil {
				return result(false), fmt.Errorf("sample %d: %w", t.progress.NextSample, err)
			}
			batch[i] = ex
			t.progress.NextSample++
		}
		if ctx.Err() != nil {
			t.progress.NextSample -= r.Batch
			continue
		}
		rounds := rng.IntN(r.MaxRounds + 1)
		for range rounds {
			x, b, err := t.inputTensor(batch, buf)
			buf = b
			if err != nil {
				return result(false), err
			}
			out, err := t.predictX.Exec1(x)
			if err != nil {
				return result(false), fmt.Errorf("prediction: %w", err)
			}
			t.correct(batch, tensors.MustCopyFlatData[float32](out))
			out.FinalizeAll()
		}
		x, b, err := t.inputTensor(batch, buf)
		buf = b
		if err != nil {
			return result(false), err
		}
		s := r.Model.InputSize
		target := make([]float32, 0, len(batch)*s*s)
		for _, ex := range batch {
			target = append(target, ex.target...)
		}
		lr := t.progress.Schedule.LearningRate(step)
		out, err := t.trainX.Exec(tensors.FromScalar(float32(lr)), x, tensors.FromFlatDataAndDimensions(target, len(batch), s, s))
		if err != nil {
			return result(false), fmt.Errorf("training step %d: %w", step, err)
		}
		loss := float64(tensors.MustCopyFlatData[float32](out[0])[0])
		for _, o := range out {
			o.FinalizeAll()
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return result(false), fmt.Errorf("training step %d: loss is %v (try a lower lr)", step, loss)
		}
		lossSum += loss
		lossN++
		samples += len(batch)
		t.progress.Step++
		done := t.progress.Step
		if done%r.LogEvery == 0 || done == r.Steps {
			rate := float64(samples) / time.Since(windowStart).Seconds()
			rec := train.Record{Step: done, Loss: ptr(lossSum / float64(lossN)), LearningRate: ptr(lr), SamplesPerSec: ptr(rate), Elapsed: time.Since(start).Seconds()}
			if err := t.metrics.Append(rec); err != nil {
				return result(false), err
			}
			t.log.Info("step", "step", done, "of", r.Steps, "loss", fmt.Sprintf("%.4f", lossSum/float64(lossN)), "lr", fmt.Sprintf("%.2e", lr), "samples/s", fmt.Sprintf("%.1f", rate))
			lossSum, lossN, samples, windowStart = 0, 0, 0, time.Now()
		}
		if r.ValEvery > 0 && len(t.val) > 0 && (done%r.ValEvery == 0 || done == r.Steps) {
			if err := t.validate(done, time.Since(start)); err != nil {
				return result(false), err
			}
		}
		if done%r.CheckpointEvery == 0 || done == r.Steps {
			if err := t.checkpoint(); err != nil {
				return result(false), err
			}
		}
		if t.opts.AfterStep != nil {
			t.opts.AfterStep(done)
		}
	}
	if err := t.export(filepath.Join(t.opts.OutDir, ModelFile)); err != nil {
		return result(false), err
	}
	return result(false), nil
}

func ptr(v float64) *float64 { return &v }

func (t *run) checkpoint() error {
	return train.SaveCheckpoint(filepath.Join(t.opts.OutDir, CheckpointFile), t.store, t.progress)
}

// export writes the network's weights (safetensors) and its config beside
// them (<name>.json).
func (t *run) export(path string) error {
	sd, err := clicknet.ExportStateDict(t.store.RootScope(), t.r.Model)
	if err != nil {
		return err
	}
	meta := map[string]string{"synthfm_recipe": t.r.Name, "synthfm_step": fmt.Sprint(t.progress.Step), "synthfm_family": clicknet.Family}
	if err := checkpoint.WriteSafetensors(path, sd, meta); err != nil {
		return err
	}
	cfgJSON, err := json.MarshalIndent(t.r.Model, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path[:len(path)-len(filepath.Ext(path))]+".json", append(cfgJSON, '\n'))
}

// writeFile writes a small run file (recipe, config) atomically and durably.
func writeFile(path string, data []byte) error {
	return atomicfile.WriteBytes(path, atomicfile.Durable, data)
}
