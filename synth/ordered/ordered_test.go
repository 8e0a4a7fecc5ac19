package ordered

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

func TestStreamMemoryIsBounded(t *testing.T) {
	// A consumer that stalls must not let the workers run ahead: with w
	// workers at most 2w items are made beyond those delivered.
	const workers = 3
	var made atomic.Int64
	seq := Map(context.Background(), 0, workers, func(i int) (int, error) {
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
	for v, err := range Map(context.Background(), 0, 4, func(i int) (int, error) {
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

func TestMapKeepsIndexOrderWhateverTheFinishingOrder(t *testing.T) {
	// Later indices finish first; the output is still in index order.
	var got []int
	for v, err := range Map(context.Background(), 10, 4, func(i int) (int, error) {
		time.Sleep(time.Duration(30-i) * time.Millisecond / 4)
		return i * i, nil
	}) {
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, v); len(got) == 12 {
			break
		}
	}
	for k, v := range got {
		if i := 10 + k; v != i*i {
			t.Fatalf("position %d holds %d, want %d", k, v, i*i)
		}
	}
}

func TestMapCancellationEndsEveryGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last error
	n := 0
	for _, err := range Map(ctx, 0, 6, func(i int) (int, error) { return i, nil }) {
		if err != nil {
			last = err
			continue
		}
		if n++; n == 100 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("last error %v", last)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left, had %d", runtime.NumGoroutine(), before)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, err := range Map(context.Background(), -1, 2, func(i int) (int, error) { return i, nil }) {
		if err == nil {
			t.Fatal("negative start accepted")
		}
	}
}
