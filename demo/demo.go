// Package demo shows a segmenter at work with nothing but the binary: it
// generates held-out synthetic cases, simulates clicks on their target,
// segments them and draws an overlay sheet with each case's Dice.
package demo

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/metrics"
	"github.com/synthfm/synthfm/prompts"
	"github.com/synthfm/synthfm/synth"
)

// Options say which cases to draw and how to prompt them.
type Options struct {
	// Cases is the number of synthetic cases.
	Cases int
	// Data generates them; Data.Size is the image side.
	Data synth.Config
	// Seed selects the cases. Keep it away from the training seed so the
	// cases are held out.
	Seed uint64
	// Prompt is the click configuration (positives, negatives).
	Prompt eval.PromptConfig
	// Columns of the overlay sheet.
	Columns int
	// Progress, if set, is called after each case.
	Progress func(done, total int)
}

// Case is one segmented synthetic case.
type Case struct {
	Index  int
	Module string
	Clicks []prompts.Click
	Dice   float64
	Image  *image.Gray
	GT     *image.Gray
	Pred   *image.Gray
}

// Report is the outcome of a demo run.
type Report struct {
	Model    string
	Cases    []Case
	MeanDice float64
}

// Run generates the cases and segments each with model.
func Run(ctx context.Context, model eval.Model, o Options) (*Report, error) {
	if o.Cases < 1 {
		return nil, fmt.Errorf("demo: need at least one case, got %d", o.Cases)
	}
	gen, err := synth.NewGenerator(o.Data)
	if err != nil {
		return nil, err
	}
	rep := &Report{Model: model.Name()}
	sum := 0.0
	for i := range o.Cases {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := gen.Sample(o.Seed, i)
		if err != nil {
			return nil, fmt.Errorf("demo: case %d: %w", i, err)
		}
		clicks, err := prompts.Simulate(s.Mask, o.Prompt.Pos, o.Prompt.Neg, prompts.CaseSeed(fmt.Sprintf("demo/%d", i), o.Seed))
		if err != nil {
			return nil, fmt.Errorf("demo: case %d: %w", i, err)
		}
		prep, err := model.Prepare(ctx, s.Image)
		if err != nil {
			return nil, fmt.Errorf("demo: case %d: %w", i, err)
		}
		pred, err := prep.Segment(ctx, clicks)
		if err != nil {
			return nil, fmt.Errorf("demo: case %d: %w", i, err)
		}
		d := metrics.Dice(s.Mask, pred)
		if math.IsNaN(d) {
			d = 0
		}
		sum += d
		rep.Cases = append(rep.Cases, Case{Index: i, Module: s.Meta.Module, Clicks: clicks, Dice: d, Image: s.Image, GT: s.Mask, Pred: pred})
		if o.Progress != nil {
			o.Progress(i+1, o.Cases)
		}
	}
	rep.MeanDice = sum / float64(len(rep.Cases))
	return rep, nil
}

// Sheet draws the cases in rows of columns tiles: image, prediction in red,
// ground-truth outline in green, clicks, and the Dice beneath.
func (r *Report) Sheet(columns int) *image.RGBA {
	columns = max(columns, 1)
	var rows [][]eval.Tile
	for i, c := range r.Cases {
		if i%columns == 0 {
			rows = append(rows, nil)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], eval.Tile{
			Image: c.Image, GT: c.GT, Pred: c.Pred, Clicks: c.Clicks,
			Caption: [2]string{fmt.Sprintf("case %d  Dice %.3f", c.Index, c.Dice), fmt.Sprintf("%s, %s", c.Module, r.Model)},
		})
	}
	return eval.RenderSheet(rows)
}
