// Package ordered runs an indexed computation on a worker pool and yields the results in index order.
package ordered

import (
	"context"
	"fmt"
	"iter"
	"sync"
)

// Map yields produce(start), produce(start+1), … in index order, computed
// by workers goroutines (at least 1). At most 2×workers results are in
// flight, so memory stays bounded however slowly the caller consumes.
// The sequence is endless: it ends when the caller stops iterating, when
// produce fails (that error is yielded), or when ctx is cancelled
// (ctx.Err() is yielded). Every goroutine it started has returned by the
// time the iteration ends.
func Map[T any](ctx context.Context, start, workers int, produce func(index int) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if start < 0 {
			yield(zero, fmt.Errorf("start index %d is negative", start))
			return
		}
		workers = max(1, workers)
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer wg.Wait() // after cancel (deferred below, so it runs first)
		defer cancel()

		type result struct {
			value T
			err   error
		}
		type job struct {
			index int
			out   chan result // buffered: a worker never blocks on it
		}
		// pending holds the jobs in index order; its capacity bounds the
		// number of results in flight.
		pending := make(chan job, 2*workers)
		jobs := make(chan job)
		wg.Go(func() {
			defer close(jobs)
			defer close(pending)
			for i := start; ; i++ {
				j := job{index: i, out: make(chan result, 1)}
				select {
				case pending <- j:
				case <-ctx.Done():
					return
				}
				select {
				case jobs <- j:
				case <-ctx.Done():
					return
				}
			}
		})
		for range workers {
			wg.Go(func() {
				for j := range jobs {
					if ctx.Err() != nil {
						return
					}
					v, err := produce(j.index)
					j.out <- result{v, err}
				}
			})
		}
		for j := range pending {
			var r result
			select {
			case r = <-j.out:
			case <-ctx.Done():
				yield(zero, ctx.Err())
				return
			}
			if !yield(r.value, r.err) || r.err != nil {
				return
			}
		}
		// pending closes only on cancellation.
		if err := ctx.Err(); err != nil {
			yield(zero, err)
		}
	}
}
