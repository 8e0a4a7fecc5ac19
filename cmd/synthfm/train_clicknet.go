package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/synthfm/synthfm/clicknet/training"
	"github.com/synthfm/synthfm/internal/mlbackend"
)

// isClicknetRun reports whether train's --config (or, on --resume, the run
// in --out) is a clicknet recipe rather than a SAM one.
func isClicknetRun(config, out string, resume bool) bool {
	if config != "" {
		return training.IsRecipeName(config) || training.IsRecipeFile(config)
	}
	if resume && out != "" {
		_, err := os.Stat(filepath.Join(out, training.RecipeFile))
		return err == nil
	}
	return false
}

// runTrainClicknet trains the clicknet family (the built-in model's).
func runTrainClicknet(ctx context.Context, env *cliEnv, config, out string, steps int, resume, printOnly bool) error {
	if config == "" {
		config = filepath.Join(out, training.RecipeFile)
	}
	recipe, err := training.LoadRecipe(config)
	if err != nil {
		return err
	}
	if steps > 0 {
		recipe.Steps = steps
	}
	if err := recipe.Validate(); err != nil {
		return err
	}
	if printOnly {
		data, err := json.MarshalIndent(recipe, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(env.stdout, string(data))
		return err
	}
	if out == "" {
		return usageError{"--out is required"}
	}
	backend, err := mlbackend.NewParallel()
	if err != nil {
		return err
	}
	res, err := training.Run(ctx, training.Options{
		Recipe: recipe, OutDir: out, Resume: resume, Backend: backend,
		Logger: slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if res.Interrupted {
		fmt.Fprintf(env.stderr, "checkpoint saved at step %d of %d; continue with: synthfm train --out %s --resume\n", res.Steps, recipe.Steps, out)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "trained %d steps; best validation Dice %.4f at step %d (disk-around-the-click floor %.4f)\nweights: %s\n",
		res.Steps, res.BestDice, res.BestStep, res.FloorDice, filepath.Join(out, training.BestFile))
	return nil
}
