package main

import (
	"context"
	"fmt"
	"image/png"
	"io"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/demo"
	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/synth"
	"github.com/synthfm/synthfm/synth/store"
)

const demoHelp = `
Shows the model at work with nothing but this binary: it generates held-out
synthetic cases (a seed the training never used), simulates clicks on each
case's target as the evaluation does (method.md §4), segments them with the
model, and writes an overlay sheet: the image in grey, the prediction in red,
the true outline in green, positive clicks green, negative clicks red, and
each case's Dice. The classical baseline segments the same cases from the
same clicks for comparison.

To segment your own image afterwards:
  synthfm segment --image my.png --points "120,88,1" --out mask.png --overlay overlay.png

Example:
  synthfm demo --out demo.png
  synthfm demo --cases 16 --prompts 3,3 --data boundary-only --out boundary.png`

func runDemo(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "demo", "[--out demo.png] [--cases N] [--prompts P,N] [--model NAME]", demoHelp)
	out := fs.String("out", "demo.png", "overlay sheet to write (PNG)")
	cases := fs.Int("cases", 8, "number of synthetic cases")
	columns := fs.Int("columns", 4, "tiles per row of the sheet")
	seed := fs.Uint64("seed", 20261128, "seed of the synthetic cases (the built-in model was trained on seed 1)")
	size := fs.Int("size", 256, "image side in pixels")
	preset := fs.String("data", "default", "synthetic data preset: default, shape-only or boundary-only")
	promptFlag := fs.String("prompts", "1,0", "clicks per case as POSITIVES,NEGATIVES")
	modelName := fs.String("model", "default", evalModelHelp)
	withBaseline := fs.Bool("baseline", true, "also segment the cases with the classical baseline and print its Dice")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *cases < 1 || *cases > 1000 {
		return usageError{fmt.Sprintf("--cases must be between 1 and 1000, got %d", *cases)}
	}
	cfgs, err := eval.ParseConfigs(*promptFlag)
	if err != nil || len(cfgs) != 1 {
		return usageError{fmt.Sprintf("--prompts takes one configuration POSITIVES,NEGATIVES, got %q", *promptFlag)}
	}
	data, err := synth.Resolve(*preset, "", func(c *synth.Config) { c.Size = *size })
	if err != nil {
		return usageError{err.Error()}
	}
	model, err := resolveEvalModel(ctx, *modelName)
	if err != nil {
		return err
	}
	opts := demo.Options{Cases: *cases, Data: data, Seed: *seed, Prompt: cfgs[0], Columns: *columns}
	opts.Progress = func(done, total int) { fmt.Fprintf(env.stderr, "\rsegmenting case %d/%d", done, total) }
	rep, err := demo.Run(ctx, model, opts)
	fmt.Fprintln(env.stderr)
	if err != nil {
		return err
	}
	var base *demo.Report
	if *withBaseline && *modelName != "baseline" {
		opts.Progress = nil
		if base, err = demo.Run(ctx, baseline.NewRegionGrow(), opts); err != nil {
			return err
		}
	}
	err = store.WriteFileAtomic(*out, func(w io.Writer) error { return png.Encode(w, rep.Sheet(*columns)) })
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%d synthetic %s cases at %d², clicks %s, model %s\n", len(rep.Cases), *preset, *size, cfgs[0], rep.Model)
	fmt.Fprintf(env.stdout, "%-6s %-9s %10s", "case", "module", "Dice")
	if base != nil {
		fmt.Fprintf(env.stdout, " %14s", "baseline Dice")
	}
	fmt.Fprintln(env.stdout)
	for i, c := range rep.Cases {
		fmt.Fprintf(env.stdout, "%-6d %-9s %10.3f", c.Index, c.Module, c.Dice)
		if base != nil {
			fmt.Fprintf(env.stdout, " %14.3f", base.Cases[i].Dice)
		}
		fmt.Fprintln(env.stdout)
	}
	fmt.Fprintf(env.stdout, "%-16s %10.3f", "mean", rep.MeanDice)
	if base != nil {
		fmt.Fprintf(env.stdout, " %14.3f", base.MeanDice)
	}
	fmt.Fprintf(env.stdout, "\nwrote %s\n", *out)
	return nil
}
