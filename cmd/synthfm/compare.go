package main

import (
	"context"
	"path/filepath"

	"github.com/synthfm/synthfm/eval"
)

const compareHelp = `
Compares two evaluation runs (output folders of synthfm eval) case by case:
for every dataset × structure × prompt configuration it pairs the Dice of
the cases both runs scored and prints a paired Student t-test (mean
difference A − B, t, two-sided p, n). Both runs must use the same click seed.
By default each slice's object is one case; --per-volume first averages each
structure's Dice over the slices of a volume.

Example:
  synthfm compare runs/model runs/baseline
  synthfm compare --per-volume runs/model runs/baseline`

func runCompare(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "compare", "[--per-volume] RUN_A RUN_B", compareHelp)
	perVolume := fs.Bool("per-volume", false, "pair per volume (mean over slices) instead of per slice")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageError{"need exactly two run folders, RUN_A and RUN_B"}
	}
	var runs [2][]eval.Result
	for i, dir := range fs.Args() {
		rows, err := eval.ReadResults(filepath.Join(dir, eval.ResultsFile))
		if err != nil {
			return err
		}
		runs[i] = rows
	}
	cs, err := eval.Compare(runs[0], runs[1], *perVolume)
	if err != nil {
		return err
	}
	return eval.WriteComparison(env.stdout, fs.Arg(0), fs.Arg(1), cs, *perVolume)
}
