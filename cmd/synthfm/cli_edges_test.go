package main

import (
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// dirNames lists a folder's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Issue 12 item 8: `segment --out DIR` left DIR.tmp behind, and a failed
// --overlay write came after the mask was written (exit 1, a partial
// result). Outputs that cannot be written are refused before any work,
// and nothing is left.
func TestSegmentUnwritableOutputsLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	imagePath := filepath.Join(dir, "image.png")
	if err := writePNG(imagePath, image.NewGray(image.Rect(0, 0, 32, 32))); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "masks")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	mask := filepath.Join(dir, "mask.png")
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"out-is-a-folder", "--out: " + folder + " is a folder", []string{"--out", folder}},
		{"overlay-in-no-folder", "--overlay: ", []string{"--out", mask, "--overlay", filepath.Join(dir, "nowhere", "over.png")}},
		{"overlay-is-a-folder", "--overlay: " + folder + " is a folder", []string{"--out", mask, "--overlay", folder}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"segment", "--image", imagePath, "--points", "5,5,1"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 mentioning %q", code, stdout, stderr, tc.want)
			}
			if got := dirNames(t, dir); !slices.Equal(got, []string{"image.png", "masks"}) {
				t.Errorf("files left: %v", got)
			}
			if got := dirNames(t, folder); len(got) != 0 {
				t.Errorf("files left in %s: %v", folder, got)
			}
		})
	}
}

// Issue 12 item 8: `train --steps 0` silently ran the recipe's steps.
func TestTrainStepsZeroIsAnError(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, _, stderr := runCLI(t, "train", "--config", "tiny", "--out", out, "--steps", "0", "--quiet")
	if code != 2 || !strings.Contains(stderr, "--steps 0: must be positive") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--steps 0 created %s", out)
	}
}

// Issue 12 item 8: `generate --n 9223372036854775807` was accepted.
func TestGenerateRefusesAnAbsurdN(t *testing.T) {
	out := filepath.Join(t.TempDir(), "synth")
	code, _, stderr := runCLI(t, "generate", "--n", "9223372036854775807", "--out", out)
	if code != 2 || !strings.Contains(stderr, "at most 10000000 samples per run") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused run created %s", out)
	}
}
