package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/models"
	"github.com/synthfm/synthfm/sameval"
)

// evalModelHelp documents the names resolveEvalModel accepts.
const evalModelHelp = "segmenter to measure: baseline (classical seeded region growing), default (the built-in SynthFM model) or a checkpoint file (.safetensors/.pth; architecture from the .json beside it, else vit_b/l/h recognised)"

// resolveEvalModel returns the segmenter that `synthfm eval --model NAME`
// measures. Add new models here, one case each.
func resolveEvalModel(ctx context.Context, name string) (eval.Model, error) {
	switch name {
	case "", "baseline":
		return baseline.NewRegionGrow(), nil
	case "default":
		m, err := models.Load(ctx, models.Spec{})
		if err != nil {
			return nil, err
		}
		return sameval.New(m.Predictor, "synthfm-"+m.Config.Name), nil
	}
	if st, err := os.Stat(name); err == nil && !st.IsDir() {
		m, err := models.Load(ctx, models.Spec{Checkpoint: name})
		if err != nil {
			return nil, err
		}
		return sameval.New(m.Predictor, strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))), nil
	}
	return nil, fmt.Errorf("unknown model %q (known: baseline, default, or an existing checkpoint file)", name)
}
