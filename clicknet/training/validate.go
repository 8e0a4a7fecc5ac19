package training

import (
	"fmt"
	"image"
	"math"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/synthfm/synthfm/clicknet"
	"github.com/synthfm/synthfm/metrics"
	"github.com/synthfm/synthfm/prompts"
	"github.com/synthfm/synthfm/train"
)

// valSeedOffset separates the validation stream from the training stream.
const valSeedOffset = 1_000_003

// valCase is one held-out synthetic case with its single positive click.
type valCase struct {
	ex    *example
	click prompts.Click
}

// FloorRadii are the disk radii (input pixels) the trivial floor tries; the
// floor is the best of them, so it is an upper bound on any one disk.
var floorRadii = []float64{2, 4, 6, 8, 12, 16, 24, 32}

// buildValidation generates the validation cases and the floor: a disk
// around the click, the answer of a model that ignores the image.
func (t *run) buildValidation() error {
	n := t.r.ValCases
	if n == 0 || t.r.ValEvery == 0 {
		return nil
	}
	seed := t.r.Seed + valSeedOffset
	for i := range n {
		s, err := t.gen.Sample(seed, i)
		if err != nil {
			return fmt.Errorf("validation sample %d: %w", i, err)
		}
		clicks, err := prompts.Simulate(s.Mask, 1, 0, prompts.CaseSeed(fmt.Sprint("val/", i), seed))
		if err != nil {
			return fmt.Errorf("validation sample %d: %w", i, err)
		}
		ex, err := t.newExample(s, promptRand(seed, i))
		if err != nil {
			return err
		}
		ex.points = []clicknet.Point{pixelPoint(clicks[0])}
		t.val = append(t.val, valCase{ex: ex, click: clicks[0]})
	}
	t.floor, _ = DiskFloor(t.val, t.r.Model.InputSize)
	t.log.Info("validation set", "cases", n, "disk floor Dice", fmt.Sprintf("%.3f", t.floor))
	return nil
}

// DiskFloor is the best mean Dice over floorRadii of a disk around each
// case's click, and that radius.
func DiskFloor(cases []valCase, size int) (float64, float64) {
	best, bestR := -1.0, 0.0
	for _, r := range floorRadii {
		sum := 0.0
		for _, c := range cases {
			disk := image.NewGray(image.Rect(0, 0, size, size))
			for y := range size {
				for x := range size {
					dx, dy := float64(x-c.click.X), float64(y-c.click.Y)
					if dx*dx+dy*dy <= r*r {
						disk.Pix[y*size+x] = 255
					}
				}
			}
			sum += metrics.Dice(c.ex.mask, disk)
		}
		if m := sum / float64(len(cases)); m > best {
			best, bestR = m, r
		}
	}
	return best, bestR
}

// validate scores the current weights on the validation cases at one
// positive click, logs it beside the floor and keeps the best weights.
func (t *run) validate(step int, elapsed time.Duration) error {
	dice, err := t.valDice()
	if err != nil {
		return err
	}
	rec := train.Record{Step: step, ValDice: &dice, ValReal: map[string]float64{"disk_floor": t.floor}, Elapsed: elapsed.Seconds()}
	if err := t.metrics.Append(rec); err != nil {
		return err
	}
	t.log.Info("validation", "step", step, "dice", fmt.Sprintf("%.4f", dice), "disk floor", fmt.Sprintf("%.4f", t.floor))
	if dice > t.progress.BestDice {
		t.progress.BestDice, t.progress.BestStep = dice, step
		return t.export(filepath.Join(t.opts.OutDir, BestFile))
	}
	return nil
}

// valDice is the mean Dice of the current weights on the validation cases.
func (t *run) valDice() (float64, error) {
	s := t.r.Model.InputSize
	var sum float64
	var buf []float32
	for lo := 0; lo < len(t.val); lo += t.r.Batch {
		hi := min(lo+t.r.Batch, len(t.val))
		batch := make([]*example, 0, hi-lo)
		for _, c := range t.val[lo:hi] {
			batch = append(batch, c.ex)
		}
		x, b, err := t.inputTensor(batch, buf)
		buf = b
		if err != nil {
			return 0, err
		}
		out, err := t.predictX.Exec1(x)
		if err != nil {
			return 0, fmt.Errorf("validation: %w", err)
		}
		logits := tensors.MustCopyFlatData[float32](out)
		out.FinalizeAll()
		for i, ex := range batch {
			pred := image.NewGray(image.Rect(0, 0, s, s))
			for j, v := range logits[i*s*s : (i+1)*s*s] {
				if v > 0 {
					pred.Pix[j] = 255
				}
			}
			sum += metrics.Dice(ex.mask, pred)
		}
	}
	d := sum / float64(len(t.val))
	if math.IsNaN(d) {
		return 0, fmt.Errorf("validation Dice is NaN")
	}
	return d, nil
}
