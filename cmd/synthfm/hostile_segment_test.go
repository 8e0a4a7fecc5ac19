package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/internal/hostiletest"
)

// Issue 12, item 5: a PNG of a few hundred bytes claiming 20000×20000
// pixels made segment use 3.6 GB and 57 s. It must fail fast, before any
// model is loaded, with a one-line error, allocating almost nothing.
func TestHostileSegmentPNGBomb(t *testing.T) {
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.png")
	if err := os.WriteFile(bomb, hostiletest.PNGBomb(20000, 20000), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.png")
	var code int
	var stderr string
	alloc := hostiletest.AllocDuring(func() {
		code, _, stderr = runCLI(t, "segment", "--image", bomb, "--checkpoint", "x", "--points", "5,5,1", "--out", out)
	})
	if code != 1 || !strings.Contains(stderr, "20000x20000") || !strings.Contains(stderr, "over the limit") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q; want exit 1 and one line saying the picture is over the limit", code, stderr)
	}
	if alloc > 64<<20 {
		t.Errorf("allocated %d MiB", alloc>>20)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a mask was written")
	}
}
