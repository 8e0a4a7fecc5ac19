//go:build !race

// Loading a SAM runs a GoMLX graph, whose matrix kernels fail the race
// detector's pointer checks (see server/sam_test.go); so this test is left
// out of -race builds.

package main

import (
	"path/filepath"
	"testing"

	"github.com/synthfm/synthfm/internal/shareddata"
)

func TestServeLoadsASAMCheckpoint(t *testing.T) {
	dir := shareddata.Path(t, "fixtures", "sam-tiny-a")
	serveAndStop(t, "sam-tiny-a", "--checkpoint", filepath.Join(dir, "sam_tiny-a.safetensors"), "--model-config", filepath.Join(dir, "config_tiny-a.json"))
}
