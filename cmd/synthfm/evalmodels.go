package main

import (
	"context"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/models"
	"github.com/synthfm/synthfm/sameval"
)

// evalModelHelp documents the names resolveEvalModel accepts: the models
// registry's.
var evalModelHelp = "model to use: " + models.RegistryHelp()

// resolveEvalModel returns the segmenter that `synthfm eval --model NAME`
// (and demo) measures, through the one model registry.
func resolveEvalModel(ctx context.Context, name string) (eval.Model, error) {
	if name == "" || name == models.Baseline {
		// The baseline is an eval.Model itself: measured without an adapter.
		return baseline.NewRegionGrow(), nil
	}
	m, err := models.Load(ctx, models.Spec{Model: name})
	if err != nil {
		return nil, err
	}
	return sameval.New(m.Segmenter, m.Name), nil
}
