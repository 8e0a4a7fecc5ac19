package demo

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/metrics"
	"github.com/synthfm/synthfm/synth"
)

func options(t *testing.T) Options {
	t.Helper()
	cfg, err := synth.Preset("default")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Size = 96
	return Options{Cases: 5, Data: cfg, Seed: 7, Prompt: eval.PromptConfig{Pos: 3, Neg: 1}}
}

func TestRunScoresEveryCase(t *testing.T) {
	o := options(t)
	var calls []int
	o.Progress = func(done, total int) {
		if total != 5 {
			t.Errorf("progress total %d", total)
		}
		calls = append(calls, done)
	}
	rep, err := Run(context.Background(), baseline.NewRegionGrow(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, []int{1, 2, 3, 4, 5}) {
		t.Errorf("progress calls %v", calls)
	}
	if len(rep.Cases) != 5 || rep.Model != "baseline" {
		t.Fatalf("report: %d cases, model %q", len(rep.Cases), rep.Model)
	}
	sum := 0.0
	for _, c := range rep.Cases {
		if len(c.Clicks) != 4 {
			t.Errorf("case %d: %d clicks, want 3 positive + 1 negative", c.Index, len(c.Clicks))
		}
		if d := metrics.Dice(c.GT, c.Pred); d != c.Dice {
			t.Errorf("case %d: Dice %v recorded, %v recomputed", c.Index, c.Dice, d)
		}
		if c.Image.Bounds().Dx() != 96 || c.Module == "" {
			t.Errorf("case %d: size %v, module %q", c.Index, c.Image.Bounds(), c.Module)
		}
		sum += c.Dice
	}
	if rep.MeanDice != sum/5 {
		t.Errorf("mean %v, want %v", rep.MeanDice, sum/5)
	}
	// The same options give the same cases.
	again, err := Run(context.Background(), baseline.NewRegionGrow(), options(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range again.Cases {
		if !slices.Equal(again.Cases[i].Image.Pix, rep.Cases[i].Image.Pix) || again.Cases[i].Dice != rep.Cases[i].Dice {
			t.Errorf("case %d differs between identical runs", i)
		}
	}
	sheet := rep.Sheet(2)
	if b := sheet.Bounds(); b.Dx() != 2*256 || b.Dy() != 3*(256+30) {
		t.Errorf("sheet of 5 cases in 2 columns is %v", b)
	}
}

func TestRunErrors(t *testing.T) {
	o := options(t)
	o.Cases = 0
	if _, err := Run(context.Background(), baseline.NewRegionGrow(), o); err == nil {
		t.Error("zero cases accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, baseline.NewRegionGrow(), options(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: err = %v", err)
	}
}
