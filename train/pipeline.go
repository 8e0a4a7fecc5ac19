package train

import (
	"context"
	"errors"
	"sync"
)

// prefetcher runs produce(0), produce(1), … in one background goroutine and
// hands the results over, in order, through a queue of at most depth
// finished items: the producer works ahead of the consumer by that much and
// then blocks. The trainer uses it so that the frozen image encoder embeds
// upcoming batches while the decoder trains on the current one.
type prefetcher[T any] struct {
	items  chan prefetched[T]
	cancel context.CancelFunc
	done   sync.WaitGroup
}

type prefetched[T any] struct {
	value T
	err   error
}

// startPrefetch starts the producer. It stops at the first error (which
// Next then returns), when ctx is cancelled, or on Stop.
func startPrefetch[T any](ctx context.Context, depth int, produce func(ctx context.Context, i int) (T, error)) *prefetcher[T] {
	if depth < 1 {
		depth = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetcher[T]{items: make(chan prefetched[T], depth), cancel: cancel}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		defer close(p.items)
		for i := 0; ; i++ {
			if ctx.Err() != nil {
				return
			}
			v, err := produce(ctx, i)
			if err != nil && ctx.Err() != nil {
				return // cancelled while producing: not the producer's failure
			}
			select {
			case p.items <- prefetched[T]{v, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

// errPrefetchStopped is returned by Next after the producer stopped.
var errPrefetchStopped = errors.New("prefetch stopped")

// Next returns the next item in order, waiting for it if needed.
func (p *prefetcher[T]) Next(ctx context.Context) (T, error) {
	var zero T
	select {
	case it, ok := <-p.items:
		if !ok {
			if ctx.Err() != nil {
				return zero, ctx.Err()
			}
			return zero, errPrefetchStopped
		}
		return it.value, it.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// Stop cancels the producer and waits until its goroutine has exited.
func (p *prefetcher[T]) Stop() {
	p.cancel()
	// Drain so that a producer blocked on a full queue sees the cancellation.
	for range p.items {
	}
	p.done.Wait()
}
