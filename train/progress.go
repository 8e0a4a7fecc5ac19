package train

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressBar shows samples done, samples/s and the ETA of a run.
type progressBar struct {
	bar *progressbar.ProgressBar
}

func newProgressBar(w io.Writer, samples int) *progressBar {
	if w == nil || samples <= 0 {
		return &progressBar{}
	}
	return &progressBar{bar: progressbar.NewOptions(samples,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetItsString("samples"),
		progressbar.OptionShowIts(),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(500*time.Millisecond),
		progressbar.OptionSetWidth(24),
		progressbar.OptionShowDescriptionAtLineEnd(),
	)}
}

func (p *progressBar) add(samples, step, total int, loss float64) {
	if p.bar == nil {
		return
	}
	p.bar.Describe(fmt.Sprintf("step %d/%d loss %.4f", step, total, loss))
	_ = p.bar.Add(samples)
}

func (p *progressBar) finish() {
	if p.bar == nil {
		return
	}
	_ = p.bar.Exit()
}
