package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/synthfm/synthfm/clicknet/training"
	"github.com/synthfm/synthfm/internal/mlbackend"
)

const benchTrainExplanation = `
Measure the training of a clicknet recipe (default: clicknet, the built-in
model's) on this machine:
  step  the network's training step alone (forward, backward, AdamW) on a
        fixed random batch;
  loop  the whole training loop as synthfm train runs it: generating the
        synthetic samples, placing clicks, the correction rounds and the step.
With --pytorch, the same network's step in PyTorch (Debian's python3-torch,
scripts/bench-pytorch/clicknet.py; install it with
scripts/bench-pytorch/install.sh) runs right after, on the same number of
threads, and the Go/PyTorch ratios are printed: compare ratios measured in
one run, not absolute times from different runs.

Example:
  synthfm bench train --steps 20 --pytorch`

func runBenchTrain(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "bench train", "[--config clicknet|FILE] [--steps N] [--pytorch]", benchTrainExplanation)
	config := fs.String("config", "clicknet", "clicknet recipe: a preset name or a YAML/JSON file")
	steps := fs.Int("steps", 20, "timed steps (after 3 warm-up steps)")
	pytorch := fs.Bool("pytorch", false, "also time the same network in PyTorch and print the ratios")
	python := fs.String("python", "/usr/bin/python3", "Python with PyTorch, for --pytorch")
	script := fs.String("script", filepath.Join("scripts", "bench-pytorch", "clicknet.py"), "the PyTorch reference script (run from the repository's root, or give its path)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *steps < 1 || *steps > 10000 {
		return usageError{"--steps must be in 1..10000"}
	}
	recipe, err := training.LoadRecipe(*config)
	if err != nil {
		return err
	}
	backend, err := mlbackend.NewParallel()
	if err != nil {
		return err
	}
	threads := runtime.GOMAXPROCS(0)
	fmt.Fprintf(env.stdout, "recipe %s: model %s (widths %v, patch %d, %d² input), batch %d, GOMAXPROCS %d\n",
		recipe.Name, recipe.Model.Name, recipe.Model.Widths, recipe.Model.Patch, recipe.Model.InputSize, recipe.Batch, threads)
	res, err := training.Bench(ctx, training.BenchOptions{Recipe: recipe, Steps: *steps, Warmup: 3, Options: training.Options{Backend: backend}})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "go step  %s\n", res.Step)
	fmt.Fprintf(env.stdout, "go loop  %s\n", res.Loop)
	if !*pytorch {
		return nil
	}
	widths := make([]string, len(recipe.Model.Widths))
	for i, w := range recipe.Model.Widths {
		widths[i] = strconv.Itoa(w)
	}
	cmd := exec.CommandContext(ctx, *python, *script, "--widths", strings.Join(widths, ","), "--patch", strconv.Itoa(recipe.Model.Patch),
		"--input", strconv.Itoa(recipe.Model.InputSize), "--batch", strconv.Itoa(recipe.Batch), "--threads", strconv.Itoa(threads),
		"--steps", strconv.Itoa(*steps))
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("PyTorch reference (%s %s): %w (install PyTorch with scripts/bench-pytorch/install.sh)", *python, *script, err)
	}
	var ref struct {
		Torch      string  `json:"torch"`
		StepMsWall float64 `json:"step_ms_wall"`
		StepMsCPU  float64 `json:"step_ms_cpu"`
		Samples    float64 `json:"samples_per_s"`
		Params     int     `json:"params"`
	}
	if err := json.Unmarshal(out, &ref); err != nil {
		return fmt.Errorf("PyTorch reference printed %q: %w", out, err)
	}
	goWall := float64(res.Step.WallPerStep.Microseconds()) / 1000
	goCPU := float64(res.Step.CPUPerStep.Microseconds()) / 1000
	fmt.Fprintf(env.stdout, "torch step  %.0f ms/step wall, %.0f ms/step CPU, %.1f samples/s (PyTorch %s, %d parameters)\n",
		ref.StepMsWall, ref.StepMsCPU, ref.Samples, ref.Torch, ref.Params)
	fmt.Fprintf(env.stdout, "go/torch step: %.2f× wall, %.2f× CPU\n", goWall/ref.StepMsWall, goCPU/ref.StepMsCPU)
	return nil
}
