package training

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/clicknet"
)

// Timing is one measurement: wall and CPU seconds per step, and samples
// per second of wall time.
type Timing struct {
	Steps            int
	WallPerStep      time.Duration
	CPUPerStep       time.Duration
	SamplesPerSecond float64
}

// BenchOptions configure Bench.
type BenchOptions struct {
	Recipe  Recipe
	Steps   int // timed steps, after Warmup
	Warmup  int
	Options Options // Backend (and Logger) are used; Recipe and OutDir are set by Bench
}

// BenchResult holds the two measurements of `synthfm bench train`.
type BenchResult struct {
	// Step is the network's training step alone (forward, backward, AdamW)
	// on a fixed random batch: the figure a PyTorch reference compares with.
	Step Timing
	// Loop is the whole training loop: data generation, click simulation,
	// correction rounds and the step, as synthfm train runs it.
	Loop Timing
}

// Bench measures the recipe's training step and training loop.
func Bench(ctx context.Context, o BenchOptions) (BenchResult, error) {
	if o.Steps < 1 || o.Warmup < 1 {
		return BenchResult{}, errors.New("bench: steps and warmup must be >= 1")
	}
	if o.Options.Backend == nil {
		return BenchResult{}, errors.New("bench: no backend")
	}
	var res BenchResult
	var err error
	if res.Step, err = benchStep(ctx, o); err != nil {
		return res, err
	}
	res.Loop, err = benchLoop(ctx, o)
	return res, err
}

func benchStep(ctx context.Context, o BenchOptions) (Timing, error) {
	r := o.Recipe
	t := &run{opts: o.Options, r: r, store: model.NewStore()}
	t.opts.Recipe = r
	if err := t.store.SetRNGStateFromSeed(int64(r.Seed)); err != nil {
		return Timing{}, err
	}
	if err := t.buildExecs(); err != nil {
		return Timing{}, err
	}
	s := r.Model.InputSize
	rng := rand.New(rand.NewPCG(r.Seed, 7))
	x := make([]float32, r.Batch*s*s*clicknet.Channels)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	target := make([]float32, r.Batch*s*s)
	for i := range target {
		if rng.IntN(4) == 0 {
			target[i] = 1
		}
	}
	xt := tensors.FromFlatDataAndDimensions(x, r.Batch, s, s, clicknet.Channels)
	tt := tensors.FromFlatDataAndDimensions(target, r.Batch, s, s)
	step := func() error {
		out, err := t.trainX.Exec(tensors.FromScalar(float32(1e-4)), xt, tt)
		if err != nil {
			return err
		}
		for _, o := range out {
			o.FinalizeAll()
		}
		return nil
	}
	return timeSteps(ctx, o.Warmup, o.Steps, r.Batch, step)
}

func benchLoop(ctx context.Context, o BenchOptions) (Timing, error) {
	dir, err := os.MkdirTemp("", "synthfm-bench-train-")
	if err != nil {
		return Timing{}, err
	}
	defer os.RemoveAll(dir)
	r := o.Recipe
	r.Steps = o.Warmup + o.Steps
	r.ValEvery, r.CheckpointEvery, r.LogEvery = 0, r.Steps+1, r.Steps+1
	opts := o.Options
	opts.Recipe, opts.OutDir, opts.Resume = r, dir, false
	var startWall time.Time
	var startCPU time.Duration
	var timing Timing
	opts.AfterStep = func(step int) {
		switch step {
		case o.Warmup:
			startWall, startCPU = time.Now(), processCPU()
		case r.Steps:
			timing = timingOf(o.Steps, r.Batch, time.Since(startWall), processCPU()-startCPU)
		}
	}
	if _, err := Run(ctx, opts); err != nil {
		return Timing{}, err
	}
	return timing, nil
}

// timeSteps runs warmup steps, then times n steps of batch samples.
func timeSteps(ctx context.Context, warmup, n, batch int, step func() error) (Timing, error) {
	for range warmup {
		if err := step(); err != nil {
			return Timing{}, err
		}
	}
	wall, cpu := time.Now(), processCPU()
	for range n {
		if err := ctx.Err(); err != nil {
			return Timing{}, err
		}
		if err := step(); err != nil {
			return Timing{}, err
		}
	}
	return timingOf(n, batch, time.Since(wall), processCPU()-cpu), nil
}

func timingOf(n, batch int, wall, cpu time.Duration) Timing {
	return Timing{Steps: n, WallPerStep: wall / time.Duration(n), CPUPerStep: cpu / time.Duration(n),
		SamplesPerSecond: float64(n*batch) / wall.Seconds()}
}

// processCPU is the process's user + system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// String formats a timing for people.
func (t Timing) String() string {
	return fmt.Sprintf("%.0f ms/step wall, %.0f ms/step CPU, %.1f samples/s (%d steps)",
		float64(t.WallPerStep.Microseconds())/1000, float64(t.CPUPerStep.Microseconds())/1000, t.SamplesPerSecond, t.Steps)
}
