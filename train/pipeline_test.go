package train

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestPrefetchDeliversInOrderAndStaysBounded(t *testing.T) {
	const depth = 3
	var produced, consumed atomic.Int64
	var maxAhead atomic.Int64
	p := startPrefetch(context.Background(), depth, func(ctx context.Context, i int) (int, error) {
		ahead := int64(i) - consumed.Load()
		if ahead > maxAhead.Load() {
			maxAhead.Store(ahead)
		}
		produced.Add(1)
		return i * i, nil
	})
	for i := 0; i < 50; i++ {
		if i%10 == 0 {
			time.Sleep(5 * time.Millisecond) // let the producer run ahead as far as it can
		}
		v, err := p.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if v != i*i {
			t.Fatalf("item %d = %d, want %d (out of order)", i, v, i*i)
		}
		consumed.Add(1)
	}
	p.Stop()
	// Queue of depth items, one being handed over and one being produced.
	if m := maxAhead.Load(); m > depth+2 {
		t.Errorf("producer ran %d items ahead, bound is %d", m, depth+2)
	}
	if maxAhead.Load() < depth {
		t.Errorf("producer never ran ahead (max %d): no overlap with the consumer", maxAhead.Load())
	}
}

func TestPrefetchStopsOnErrorAndCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	boom := errors.New("encoder failed")
	p := startPrefetch(context.Background(), 2, func(ctx context.Context, i int) (int, error) {
		if i == 3 {
			return 0, boom
		}
		return i, nil
	})
	for i := 0; i < 3; i++ {
		if _, err := p.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Next(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("error = %v, want the producer's", err)
	}
	if _, err := p.Next(context.Background()); !errors.Is(err, errPrefetchStopped) {
		t.Fatalf("after the error: %v, want errPrefetchStopped", err)
	}
	p.Stop()

	// Cancelling the parent context stops a producer blocked on a full queue.
	ctx, cancel := context.WithCancel(context.Background())
	p = startPrefetch(ctx, 1, func(ctx context.Context, i int) (int, error) { return i, nil })
	time.Sleep(2 * time.Millisecond)
	cancel()
	if _, err := p.Next(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after cancel: %v", err)
	}
	p.Stop()
	// Stopping while the consumer never read anything does not hang either.
	p = startPrefetch(context.Background(), 1, func(ctx context.Context, i int) (int, error) { return i, nil })
	p.Stop()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Stop, %d before: a producer leaked", n, before)
	}
}
