package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sized is an embedding of a given size, for the cache's bookkeeping.
type sized struct {
	name  string
	bytes int64
}

func (s sized) SizeBytes() int64 { return s.bytes }

func fixed(name string, n int64) func(context.Context) (Embedding, error) {
	return func(context.Context) (Embedding, error) { return sized{name, n}, nil }
}

func TestCacheEvictsLeastRecentlyUsedWithinBudget(t *testing.T) {
	c := newEmbeddingCache(100, 1)
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		if _, err := c.get(ctx, ctx, k, fixed(k, 40)); err != nil {
			t.Fatal(err)
		}
	}
	// 3×40 > 100: "a" was evicted when "c" came in.
	if st := c.snapshot(); st.Entries != 2 || st.UsedBytes != 80 || st.Evictions != 1 {
		t.Fatalf("after a, b, c: %+v, want 2 entries, 80 bytes, 1 eviction", st)
	}
	if c.status("a").State != "absent" || c.status("b").State != "ready" {
		t.Fatalf("a should be evicted and b kept: a=%s b=%s", c.status("a").State, c.status("b").State)
	}
	// Touch b, then add d: c is now the least recently used and goes.
	if _, err := c.get(ctx, ctx, "b", fixed("b", 40)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.get(ctx, ctx, "d", fixed("d", 40)); err != nil {
		t.Fatal(err)
	}
	if c.status("c").State != "absent" || c.status("b").State != "ready" || c.status("d").State != "ready" {
		t.Fatalf("LRU order broken: b=%s c=%s d=%s", c.status("b").State, c.status("c").State, c.status("d").State)
	}
	st := c.snapshot()
	if st.Hits != 1 || st.Misses != 4 {
		t.Errorf("hits %d misses %d, want 1 and 4", st.Hits, st.Misses)
	}
	// An embedding larger than the whole budget is returned, not kept.
	e, err := c.get(ctx, ctx, "huge", fixed("huge", 1000))
	if err != nil || e.(sized).name != "huge" {
		t.Fatalf("huge: %v %v", e, err)
	}
	if c.status("huge").State != "absent" || c.snapshot().UsedBytes != 80 {
		t.Errorf("an over-budget embedding was kept: %+v", c.snapshot())
	}
}

func TestCacheComputesOnceForConcurrentCallers(t *testing.T) {
	c := newEmbeddingCache(1<<20, 2)
	ctx := context.Background()
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func(context.Context) (Embedding, error) {
		calls.Add(1)
		<-release
		return sized{"x", 10}, nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := c.get(ctx, ctx, "k", compute)
			if err == nil && e.(sized).name != "x" {
				err = fmt.Errorf("got %v", e)
			}
			errs <- err
		}()
	}
	// Wait until the computation runs, then check the reported state.
	deadline := time.Now().Add(5 * time.Second)
	for c.status("k").State != "computing" {
		if time.Now().After(deadline) {
			t.Fatalf("state stays %q", c.status("k").State)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("computed %d times for 20 concurrent callers, want 1", n)
	}
	if st := c.status("k"); st.State != "ready" || st.Progress != 1 {
		t.Errorf("status after: %+v", st)
	}
}

func TestCacheCallerGivingUpDoesNotCancelTheWork(t *testing.T) {
	c := newEmbeddingCache(1<<20, 1)
	release := make(chan struct{})
	compute := func(ctx context.Context) (Embedding, error) {
		select {
		case <-release:
			return sized{"x", 1}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := c.get(ctx, context.Background(), "k", compute)
		done <- err
	}()
	for c.status("k").State != "computing" {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("caller got %v, want context.Canceled", err)
	}
	close(release)
	// The work finishes and is cached for the next caller.
	e, err := c.get(context.Background(), context.Background(), "k", func(context.Context) (Embedding, error) {
		return nil, errors.New("must not recompute")
	})
	if err != nil || e.(sized).name != "x" {
		t.Fatalf("second caller: %v, %v", e, err)
	}
}

func TestCacheQueuesBeyondConcurrencyAndReportsFailures(t *testing.T) {
	c := newEmbeddingCache(1<<20, 1)
	ctx := context.Background()
	release := make(chan struct{})
	go func() {
		_, _ = c.get(ctx, ctx, "first", func(context.Context) (Embedding, error) { <-release; return sized{"1", 1}, nil })
	}()
	for c.status("first").State != "computing" {
		time.Sleep(time.Millisecond)
	}
	errc := make(chan error)
	go func() {
		_, err := c.get(ctx, ctx, "second", func(context.Context) (Embedding, error) { return nil, errors.New("model failed") })
		errc <- err
	}()
	for c.status("second").State != "queued" {
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-errc; err == nil || err.Error() != "model failed" {
		t.Fatalf("failure not passed on: %v", err)
	}
	if st := c.status("second"); st.State != "absent" {
		t.Errorf("a failed embedding must not be cached: %+v", st)
	}
	if st := c.status("first"); st.ExpectedMS < 0 || st.State != "ready" {
		t.Errorf("first: %+v", st)
	}
}
