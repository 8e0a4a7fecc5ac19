package main

import (
	"context"
	"fmt"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/eval"
)

// resolveEvalModel returns the segmenter that `synthfm eval --model NAME`
// measures. Add new models here, one case each.
func resolveEvalModel(ctx context.Context, name string) (eval.Model, error) {
	switch name {
	case "", "baseline":
		return baseline.NewRegionGrow(), nil
	}
	return nil, fmt.Errorf("unknown model %q (known: baseline)", name)
}
