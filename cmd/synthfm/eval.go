package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/synthfm/synthfm/dataset"
	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/manifests"
)

const evalHelp = `
Measures a promptable segmenter on real images: for every object (structure,
or instance) on every 2-D slice of every dataset, it simulates clicks from the
ground truth (method.md §4: first positive nearest the centroid, negatives in
a band around the object), segments, and scores Dice (and surface Dice).

--data takes built-in manifest names (one per folder of the shared
evaluation data: ` + "{{names}}" + `),
manifest files (.yaml, paths relative to --root; see docs/evaluation.md), or
folders of image/mask pairs (images/ + masks/ with equal names, or
NAME.png + NAME_mask.png). Without --data every built-in manifest is used.

The output folder receives results.csv (one row per object and
configuration), summary.md (mean Dice per structure and configuration, the
shape of the paper's Table 1), chart.png and gallery.png (worst and best
cases with their clicks). Rerunning with the same --out resumes: rows already
in results.csv are kept and skipped. Ctrl-C or SIGTERM stops the run after
the object under way, with every finished row saved.

--prompts takes at most ` + "{{maxpos}}" + ` positives and ` + "{{maxneg}}" + ` negatives per configuration.

Example:
  synthfm eval --data acdc-cardiac-mri,hc18-fetal-head-us --prompts "1,0 3,3" --out runs/baseline
  synthfm eval --model baseline --data my-folder/ --out runs/mine`

func runEval(ctx context.Context, env *cliEnv, args []string) error {
	help := strings.NewReplacer("{{names}}", strings.Join(manifests.Names(), ", "),
		"{{maxpos}}", strconv.Itoa(eval.MaxPositives), "{{maxneg}}", strconv.Itoa(eval.MaxNegatives)).Replace(evalHelp)
	fs := newFlagSet(env, "eval", "[--model NAME] [--data MANIFEST...] [--prompts \"1,0 3,0 1,1 3,3\"] --out DIR", help)
	model := fs.String("model", "baseline", evalModelHelp)
	var data listFlag
	fs.Var(&data, "data", "datasets: built-in manifest names, manifest files or folders (repeatable, comma separated; default: all built-in)")
	root := fs.String("root", filepath.Join("..", "shared", "evaldata"), "folder that manifest paths are relative to")
	promptList := fs.String("prompts", "1,0 3,0 1,1 3,3", "prompt configurations as POSITIVES,NEGATIVES separated by spaces")
	out := fs.String("out", "", "output folder (required; an existing run there is resumed)")
	seed := fs.Uint64("seed", 0, "click simulation seed (clicks are reproducible from case id and seed)")
	nsd := fs.Float64("nsd", 2, "surface Dice tolerance in mm (pixels where spacing is unknown); 0 turns NSD off")
	maxObjects := fs.Int("max-objects", 0, "evaluate at most this many objects per dataset (0: all)")
	gallery := fs.Int("gallery", 4, "worst and best cases shown in gallery.png")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out is required"}
	}
	configs, err := eval.ParseConfigs(*promptList)
	if err != nil {
		return usageError{err.Error()}
	}
	if *nsd < 0 || *maxObjects < 0 {
		return usageError{"--nsd and --max-objects must not be negative"}
	}
	if len(data) == 0 {
		data = manifests.Names()
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var datasets []*dataset.Dataset
	for _, spec := range data {
		d, err := manifests.Open(spec, *root)
		if err != nil {
			return err
		}
		d.Logger = log
		datasets = append(datasets, d)
	}
	m, err := resolveEvalModel(ctx, *model)
	if err != nil {
		return err
	}
	o := eval.Options{Datasets: datasets, Model: m, Configs: configs, Seed: *seed, NSDTolerance: *nsd,
		MaxObjects: *maxObjects, GalleryCases: *gallery, OutDir: *out, Progress: env.stderr, Logger: log}
	if *quiet {
		o.Progress = nil
	}
	rows, err := eval.Run(ctx, o)
	if err != nil {
		if ctx.Err() != nil {
			// Interrupted (Ctrl-C, SIGTERM): every row is already in
			// results.csv, which a rerun resumes.
			fmt.Fprintf(env.stderr, "%d results saved in %s; run the same command to resume\n", len(rows), filepath.Join(*out, eval.ResultsFile))
		}
		return err
	}
	if err := eval.Summarize(rows, configs).WriteMarkdown(env.stdout); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "\n%d results in %s\n", len(rows), filepath.Join(*out, eval.ResultsFile))
	return nil
}
