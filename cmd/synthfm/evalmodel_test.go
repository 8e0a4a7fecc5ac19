package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A checkpoint that does not load is a failure (exit 1) with its cause,
// not a usage error (exit 2); so is an unknown model name, as in demo.
func TestEvalModelErrors(t *testing.T) {
	data := pairFolder(t)
	bad := filepath.Join(t.TempDir(), "corrupt.safetensors")
	if err := os.WriteFile(bad, []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "eval", "--model", bad, "--data", data, "--out", t.TempDir(), "--quiet")
	if code != 1 || !strings.Contains(stderr, "corrupt.safetensors") || strings.Contains(stderr, "--help") {
		t.Errorf("corrupt checkpoint: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "eval", "--model", "no-such-model", "--data", data, "--out", t.TempDir(), "--quiet")
	if code != 1 || !strings.Contains(stderr, "unknown model") {
		t.Errorf("unknown model: exit %d, %s", code, stderr)
	}
}
