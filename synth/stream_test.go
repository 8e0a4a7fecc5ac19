package synth

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"runtime"
	"sync/atomic"
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

func TestStreamMemoryIsBounded(t *testing.T) {
	// A consumer that stalls must not let the workers run ahead: with w
	// workers at most 2w items are made beyond those delivered.
	const workers = 3
	var made atomic.Int64
	seq := stream(context.Background(), 0, workers, func(i int) (int, error) {
		made.Add(1)
		return i, nil
	})
	next, stop := iter.Pull2(seq)
	defer stop()
	for want := range 20 {
		v, err, ok := next()
		if !ok || err != nil || v != want {
			t.Fatalf("item %d: %d %v %v", want, v, err, ok)
		}
		time.Sleep(5 * time.Millisecond) // the consumer is slow
		if ahead := made.Load() - int64(want+1); ahead > 2*workers+1 {
			t.Fatalf("%d items made ahead of the consumer, want ≤ %d", ahead, 2*workers+1)
		}
	}
}

func TestStreamStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var got []int
	var last error
	for v, err := range stream(context.Background(), 0, 4, func(i int) (int, error) {
		if i == 6 {
			return 0, boom
		}
		return i, nil
	}) {
		if err != nil {
			last = err
			continue
		}
		got = append(got, v)
	}
	if !errors.Is(last, boom) || !reflect.DeepEqual(got, []int{0, 1, 2, 3, 4, 5}) {
		t.Errorf("got %v then %v", got, last)
	}
}
