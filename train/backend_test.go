package train

import (
	"testing"

	"github.com/gomlx/compute"
	"github.com/synthfm/synthfm/internal/mlbackend"
)

// testBackend returns the project's GoMLX backend for tests.
func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := mlbackend.New()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
