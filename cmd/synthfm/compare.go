package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/synthfm/synthfm/eval"
)

const compareHelp = `
Compares evaluation runs (output folders of synthfm eval) case by case:
for every dataset × structure × prompt configuration it pairs the Dice of
the cases both runs scored and prints a paired Student t-test (mean
difference A − B, t, two-sided p, n). Both runs must use the same click seed.
By default each slice's object is one case; --per-volume first averages each
structure's Dice over the slices of a volume. Rows "all" pool a dataset;
the rows of dataset "modality" pool every dataset's cases of one modality
(CT, MR, US, …). With more than two runs, the
first is compared with each of the others in turn.

--chart FILE also draws the runs side by side: mean Dice per dataset at one
prompt configuration (--chart-prompt), one bar per run, named after its
folder.

Example:
  synthfm compare runs/model runs/baseline
  synthfm compare --per-volume runs/model runs/baseline
  synthfm compare --chart dice-1-0.png runs/model runs/baseline runs/shape-only`

func runCompare(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "compare", "[--per-volume] [--chart FILE] RUN_A RUN_B [RUN...]", compareHelp)
	perVolume := fs.Bool("per-volume", false, "pair per volume (mean over slices) instead of per slice")
	chart := fs.String("chart", "", "also write a bar chart of every run's mean Dice per dataset (PNG)")
	chartPrompt := fs.String("chart-prompt", "1,0", "prompt configuration POSITIVES,NEGATIVES that --chart shows")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return usageError{"need at least two run folders, RUN_A and RUN_B"}
	}
	var cfg eval.PromptConfig
	if *chart != "" {
		cfgs, err := eval.ParseConfigs(*chartPrompt)
		if err != nil || len(cfgs) != 1 {
			return usageError{fmt.Sprintf("--chart-prompt %q: want one configuration such as 1,0", *chartPrompt)}
		}
		cfg = cfgs[0]
	}
	runs := make([][]eval.Result, fs.NArg())
	for i, dir := range fs.Args() {
		rows, err := eval.ReadResults(filepath.Join(dir, eval.ResultsFile))
		if err != nil {
			return err
		}
		runs[i] = rows
	}
	for i := 1; i < len(runs); i++ {
		cs, err := eval.Compare(runs[0], runs[i], *perVolume)
		if err != nil {
			return err
		}
		if i > 1 {
			fmt.Fprintln(env.stdout)
		}
		if err := eval.WriteComparison(env.stdout, fs.Arg(0), fs.Arg(i), cs, *perVolume); err != nil {
			return err
		}
	}
	if *chart == "" {
		return nil
	}
	tables := make([]eval.Table, len(runs))
	for i, rows := range runs {
		tables[i] = eval.Summarize(rows, []eval.PromptConfig{cfg})
		tables[i].Model = filepath.Base(filepath.Clean(fs.Arg(i)))
	}
	if err := eval.WriteRunsChart(*chart, cfg, tables); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "\nchart: %s\n", *chart)
	return nil
}
