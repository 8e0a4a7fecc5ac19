package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchTrainRunsATinyRecipe checks that bench train runs both
// measurements and reports them (no timing is asserted: benchmarks measure,
// tests check behaviour).
func TestBenchTrainRunsATinyRecipe(t *testing.T) {
	recipe := filepath.Join(t.TempDir(), "tiny.yaml")
	body := "base: clicknet\nbatch: 2\nval_cases: 0\nmodel:\n  input_size: 32\n  widths: [4, 8]\n  patch: 2\n  click_radius: 2\n"
	if err := os.WriteFile(recipe, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "bench", "train", "--config", recipe, "--steps", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"go step", "go loop", "samples/s", "batch 2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr := runCLI(t, "bench", "train", "--steps", "0"); code != 2 || !strings.Contains(stderr, "--steps") {
		t.Errorf("--steps 0: exit %d, %s", code, stderr)
	}
}
