package synth

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

func TestStreamMatchesSampleForAnyWorkerCount(t *testing.T) {
	g := generator(t, "default", 64)
	const start, n = 5, 14
	var want []*Sample
	for i := range n {
		want = append(want, sample(t, g, 9, start+i))
	}
	for _, workers := range []int{1, 3, 8} {
		i := 0
		for s, err := range g.Stream(context.Background(), 9, start, workers) {
			if err != nil {
				t.Fatal(err)
			}
			if s.Meta.Index != start+i || !sameSample(s, want[i]) {
				t.Fatalf("%d workers: item %d is index %d, or differs from Sample", workers, i, s.Meta.Index)
			}
			if i++; i == n {
				break
			}
		}
	}
}

// waitGoroutines waits until the goroutine count drops to at most n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, want ≤ %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStreamStopsWithoutLeaking(t *testing.T) {
	g := generator(t, "default", 64)
	before := runtime.NumGoroutine()

	// The caller stops early.
	n := 0
	for _, err := range g.Stream(context.Background(), 1, 0, 4) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	waitGoroutines(t, before)

	// The context is cancelled mid-stream: the error is yielded once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n = 0
	var last error
	for s, err := range g.Stream(ctx, 1, 0, 4) {
		if err != nil {
			if s != nil {
				t.Error("error yielded with a sample")
			}
			last = err
			continue
		}
		if n++; n == 5 {
			cancel()
		}
		if n > 50 {
			t.Fatal("stream went on after cancellation")
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("last error %v, want context.Canceled", last)
	}
	waitGoroutines(t, before)

	// A negative start is an error, not a panic.
	for _, err := range g.Stream(context.Background(), 1, -1, 2) {
		if err == nil {
			t.Fatal("negative start accepted")
		}
	}
}
