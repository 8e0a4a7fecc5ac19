// Package mlbackend creates the GoMLX compute backend with the project's settings.
package mlbackend

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// DefaultConfig is the pure-Go backend's option list that every command and
// test uses. "ops_sequential" runs a graph's operations one after another on
// the calling goroutine; each kernel (matmul, GELU, …) still uses all cores.
//
// Why: GoMLX 0.28.2's parallel op scheduler can deadlock. It runs each ready
// operation as a task of a worker pool of 2×GOMAXPROCS slots, and a matmul
// inside such a task waits for a free slot to fan out its own workers; when
// every slot holds a matmul that waits, nothing moves. With 2 cores (4 slots)
// a graph with four independent matmuls hangs at once (see stress_test.go).
// With ops_sequential no task ever waits on the pool, so it cannot happen;
// "parallelism=-1" (an unbounded pool) also avoids it but prints a line on
// standard output each time a backend is created, and was not faster on the
// SAM encoder, decoder or training step (docs/benchmarks.md, "SAM model").
const DefaultConfig = "ops_sequential"

// EnvVar overrides DefaultConfig, for measuring alternatives (for example
// SYNTHFM_GOMLX_CONFIG=parallelism=-1); the value is the Go backend's
// comma-separated option list. Settings that can deadlock are refused.
const EnvVar = "SYNTHFM_GOMLX_CONFIG"

// BackendEnvVar selects a backend other than the pure-Go one, as GoMLX's
// "name:config" string (for example "xla:cuda" or "xla:cpu").
const BackendEnvVar = "SYNTHFM_BACKEND"

// New returns a new pure-Go GoMLX backend. It imports the Go backend
// directly, not GoMLX's default backend set, so that CGO_ENABLED=0 builds
// work (the XLA backend needs cgo). Tensors are bound to the backend that
// made them: share one backend between graphs that exchange tensors.
//
// With $SYNTHFM_BACKEND set to another compiled-in backend (for example
// "xla:cuda" in a binary built with -tags xla, see xla.go) that backend is
// returned instead.
func New() (compute.Backend, error) { return newWithDefault(DefaultConfig) }

// ParallelConfig runs independent operations of a graph concurrently on an
// unbounded pool (deadlock-free, see DefaultConfig). Measured on clicknet's
// training step (docs/benchmarks.md, "clicknet training"): 1.6× the
// samples/s of DefaultConfig, 1.8× with the batch split into two branches,
// because its many small operations leave one core idle when run one after
// another. GoMLX prints one line on standard output when it creates such a
// backend.
const ParallelConfig = "parallelism=-1"

// NewParallel is New with ParallelConfig as the default (for training,
// whose standard output nobody parses); $SYNTHFM_GOMLX_CONFIG still
// overrides it.
func NewParallel() (compute.Backend, error) { return newWithDefault(ParallelConfig) }

func newWithDefault(defaultConfig string) (compute.Backend, error) {
	if other := os.Getenv(BackendEnvVar); other != "" && other != "go" {
		name, _, _ := strings.Cut(other, ":")
		if !slices.Contains(compute.List(), name) {
			return nil, fmt.Errorf("%s=%q: backend %q is not in this build (it has: %s); GPUs need a build with -tags xla (docs/training.md)",
				BackendEnvVar, other, name, strings.Join(compute.List(), ", "))
		}
		b, err := compute.NewWithConfig(other)
		if err != nil {
			return nil, fmt.Errorf("GoMLX backend %q: %w", other, err)
		}
		return b, nil
	}
	config := defaultConfig
	if v, ok := os.LookupEnv(EnvVar); ok {
		if !deadlockFree(v) {
			return nil, fmt.Errorf("%s=%q: GoMLX's parallel op scheduler can deadlock with a bounded worker pool; add ops_sequential or parallelism=-1", EnvVar, v)
		}
		config = v
	}
	b, err := gobackend.New(config)
	if err != nil {
		return nil, fmt.Errorf("GoMLX backend (config %q): %w", config, err)
	}
	return b, nil
}

// deadlockFree reports whether a Go backend option list avoids the
// scheduler deadlock: sequential op execution, or a worker pool that never
// makes a task wait (parallelism ≤ 0: -1 unbounded, 0 inline).
func deadlockFree(config string) bool {
	for _, opt := range strings.Split(config, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(opt), "=")
		switch key {
		case "ops_sequential":
			return true
		case "parallelism":
			if n, err := strconv.Atoi(value); err == nil && n <= 0 {
				return true
			}
		}
	}
	return false
}
