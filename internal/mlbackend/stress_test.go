package mlbackend

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// The stress graph sums 16 independent 256×256 matmuls: the parallel op
// scheduler starts as many of them as it has worker slots, and each matmul
// then waits for a slot to fan out. A hang cannot be tested in-process, so
// the tests run it in a child process (this test binary, re-executed with
// stressEnv set) under a deadline.
const stressEnv = "MLBACKEND_STRESS_CHILD"

// runStress executes the stress graph iterations times on each of
// goroutines concurrent callers.
func runStress(b compute.Backend, iterations, goroutines int) error {
	const n, k = 16, 256
	x := make([]float32, k*k)
	for i := range x {
		x[i] = float32(i%7) * 0.01
	}
	exec, err := graph.NewExec(b, func(x *graph.Node) *graph.Node {
		var sum *graph.Node
		for i := range n {
			y := graph.MatMul(graph.AddScalar(x, float64(i)), x)
			if sum == nil {
				sum = y
			} else {
				sum = graph.Add(sum, y)
			}
		}
		return graph.ReduceAllSum(sum)
	})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			xt := tensors.FromFlatDataAndDimensions(x, k, k)
			for range iterations {
				if _, err := exec.Exec(xt); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// TestStressChild is the child process's body; it does nothing in a normal run.
func TestStressChild(t *testing.T) {
	mode := os.Getenv(stressEnv)
	if mode == "" {
		t.Skip("runs only as the child of TestNoDeadlock / TestStockSchedulerDeadlocks")
	}
	var b compute.Backend
	var err error
	if mode == "stock" {
		b, err = gobackend.New("") // GoMLX's own default, without this package's setting
	} else {
		b, err = New()
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := runStress(b, 20, 2); err != nil {
		t.Fatal(err)
	}
}

// runChild runs TestStressChild in a child process and reports whether it
// finished before the deadline (and its error if it failed).
func runChild(t *testing.T, mode string, deadline time.Duration) (finished bool, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestStressChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), stressEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return false, nil
	}
	if err != nil {
		return true, errors.New(string(out))
	}
	return true, nil
}

// TestNoDeadlock runs the stress graph (twice 20 runs, from two goroutines at
// once) on the project's backend setting: it must finish.
func TestNoDeadlock(t *testing.T) {
	finished, err := runChild(t, "project", 2*time.Minute)
	if !finished {
		t.Fatalf("the stress graph hung with %q (deadlock)", DefaultConfig)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestStockSchedulerDeadlocks documents why the setting exists: with GoMLX's
// default scheduler the same graph hangs. If this starts failing, GoMLX has
// fixed the scheduler and DefaultConfig can be revisited.
func TestStockSchedulerDeadlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a deadline")
	}
	finished, err := runChild(t, "stock", 20*time.Second)
	if finished {
		t.Fatalf("GoMLX's default scheduler finished the stress graph (err %v): the deadlock this package avoids did not occur", err)
	}
}

func TestDeadlockFree(t *testing.T) {
	for config, want := range map[string]bool{
		"":                                false,
		"ops_parallel":                    false,
		"parallelism=4":                   false,
		"ops_sequential":                  true,
		"parallelism=-1":                  true,
		"parallelism=0":                   true,
		"dependency_order,ops_sequential": true,
		"parallelism=x":                   false,
	} {
		if got := deadlockFree(config); got != want {
			t.Errorf("deadlockFree(%q) = %v, want %v", config, got, want)
		}
	}
	t.Setenv(EnvVar, "ops_parallel")
	if _, err := New(); err == nil {
		t.Errorf("New() with %s=ops_parallel must refuse", EnvVar)
	}
	t.Setenv(EnvVar, "parallelism=-1,bogus_option")
	if _, err := New(); err == nil {
		t.Error("New() with an unknown option must fail")
	}
}
