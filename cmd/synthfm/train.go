package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/synthfm/synthfm/internal/mlbackend"
	"github.com/synthfm/synthfm/train"
)

const trainHelp = `
Trains SynthFM's promptable segmentation model (SAM's architecture) on
synthetic images generated on the fly, with simulated clicks and SAM-style
refinement clicks fed back with the previous mask.

Recipes (--config):
  paper  the paper's: SAM vit_b image encoder loaded from a checkpoint and
         frozen (give --encoder-checkpoint, default sam_vit_b_01ec64.pth),
         prompt encoder and mask decoder from scratch, 1024², Dice loss,
         AdamW lr 1e-4 (weight decay 0.01 on weights only), 1 % warm-up then
         cosine, 100 epochs × 10,000 samples, batch 1. A GPU job.
  lite   a small encoder and decoder trained together from scratch at 256²,
         sized for two CPU cores and about two hours.
  tiny   20 steps of a very small model, for tests and smoke checks.
  FILE   a JSON or YAML recipe; "base": "lite" fills the keys it omits.
         --print-config writes a preset as JSON to start from.

--out DIR receives config.json (the recipe), checkpoint.safetensors (the
training state, written every checkpoint_every steps and on Ctrl-C/SIGTERM),
metrics.jsonl and metrics.png (loss, learning rate, validation Dice),
best.safetensors (weights with the best validation Dice so far) and, at the
end, model.safetensors (official SAM state_dict names, loadable by PyTorch),
model.json (the architecture, for --model-config of segment/eval/serve) and
gomlx/ (GoMLX's checkpoint format).

--resume continues the run in DIR exactly where its checkpoint left it: same
weights, optimiser state, learning-rate schedule and data-stream position.
--steps N changes the run's length (and so the schedule's horizon).
--val-manifest adds a real evaluation manifest to the validation (mean Dice
at one positive click), as the synthetic validation set is.

Example:
  synthfm train --config tiny --out runs/tiny
  synthfm train --config lite --out runs/lite      # Ctrl-C, then:
  synthfm train --out runs/lite --resume
  synthfm train --config paper --encoder-checkpoint sam_vit_b_01ec64.pth --out runs/paper`

func runTrain(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "train", "--config paper|lite|tiny|FILE --out DIR [--steps N] [--resume]", trainHelp)
	configName := fs.String("config", "", "recipe: paper, lite, tiny or a JSON/YAML file (with --resume: default the run's own)")
	out := fs.String("out", "", "output directory of the run (required)")
	steps := fs.Int("steps", 0, "train this many steps in total instead of the recipe's epochs × samples / batch")
	resume := fs.Bool("resume", false, "continue the run saved in --out")
	encoder := fs.String("encoder-checkpoint", "", "SAM checkpoint (.pth/.safetensors) whose image encoder is used (overrides the recipe's)")
	var manifests listFlag
	fs.Var(&manifests, "val-manifest", "real evaluation manifests to validate on as well (repeatable, comma separated)")
	manifestRoot := fs.String("manifest-root", "", "root that --val-manifest paths are relative to")
	printConfig := fs.Bool("print-config", false, "print the recipe as JSON and exit")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	// --steps 0 is an error, not the recipe's length: only a flag left out
	// means that.
	stepsGiven := false
	fs.Visit(func(f *flag.Flag) { stepsGiven = stepsGiven || f.Name == "steps" })
	if *steps < 0 || (stepsGiven && *steps == 0) {
		return usageError{fmt.Sprintf("--steps %d: must be positive (leave --steps out for the recipe's length)", *steps)}
	}
	if isClicknetRun(*configName, *out, *resume) {
		return runTrainClicknet(ctx, env, *configName, *out, *steps, *resume, *printConfig)
	}
	cfg, err := trainConfig(*configName, *out, *resume, *printConfig)
	if err != nil {
		return err
	}
	if *encoder != "" {
		cfg.EncoderCheckpoint = *encoder
	}
	if len(manifests) > 0 {
		cfg.Validation.Manifests = manifests
	}
	if *manifestRoot != "" {
		cfg.Validation.ManifestRoot = *manifestRoot
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *printConfig {
		data, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(env.stdout, string(data))
		return err
	}
	if *out == "" {
		return usageError{"--out is required"}
	}
	if cfg.EncoderCheckpoint != "" {
		if _, err := os.Stat(cfg.EncoderCheckpoint); err != nil {
			return fmt.Errorf("encoder checkpoint: %w (download it from https://dl.fbaipublicfiles.com/segment_anything/ or give --encoder-checkpoint)", err)
		}
	}
	backend, err := mlbackend.New()
	if err != nil {
		return err
	}
	opts := train.Options{
		Config: cfg, OutDir: *out, Steps: *steps, Resume: *resume, Backend: backend,
		Logger: slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	if !*quiet {
		opts.Progress = env.stderr
	}
	res, err := train.Run(ctx, opts)
	if res.Interrupted {
		fmt.Fprintf(env.stderr, "checkpoint saved at step %d of %d; continue with: synthfm train --out %s --resume\n",
			res.Steps, res.TotalSteps, *out)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "trained %d steps; last loss %.4f; best validation Dice %.4f at step %d\nweights: %s\n",
		res.Steps, res.LastLoss, res.BestDice, res.BestStep, filepath.Join(*out, train.ModelFile))
	return nil
}

// trainConfig resolves the recipe: --config, or on --resume the one saved
// in the run directory.
func trainConfig(name, out string, resume, printOnly bool) (train.Config, error) {
	if name != "" {
		return train.LoadConfig(name)
	}
	if resume && out != "" {
		cfg, err := train.LoadConfig(filepath.Join(out, train.ConfigFile))
		if errors.Is(err, os.ErrNotExist) {
			return train.Config{}, fmt.Errorf("%s holds no run to resume (no %s)", out, train.ConfigFile)
		}
		return cfg, err
	}
	if printOnly {
		return train.Config{}, usageError{"--print-config needs --config"}
	}
	return train.Config{}, usageError{"--config is required (paper, lite, tiny or a file)"}
}
