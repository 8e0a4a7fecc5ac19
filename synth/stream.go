package synth

import (
	"context"
	"iter"

	"github.com/synthfm/synthfm/synth/ordered"
)

// Stream yields samples start, start+1, … of stream seed, in index
// order, made by a pool of workers goroutines (at least 1). At most
// 2×workers samples are in flight, so memory stays bounded however slowly
// the caller consumes. The stream is endless: it ends when the caller
// stops iterating, when a sample fails (that error is yielded), or when
// ctx is cancelled (ctx.Err() is yielded). Every goroutine it started has
// returned by the time the iteration ends. No file is touched.
func (g *Generator) Stream(ctx context.Context, seed uint64, start, workers int) iter.Seq2[*Sample, error] {
	return ordered.Map(ctx, start, workers, func(index int) (*Sample, error) { return g.Sample(seed, index) })
}
