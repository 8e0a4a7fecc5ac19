package server

import (
	"testing"

	"github.com/gomlx/compute"

	"github.com/synthfm/synthfm/internal/mlbackend"
)

// newTestBackend returns the project's GoMLX backend for a test.
func newTestBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := mlbackend.New()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
