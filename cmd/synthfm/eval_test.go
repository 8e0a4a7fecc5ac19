package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/eval"
)

// pairFolder writes a zero-configuration folder: two 48x48 images, each
// with a bright 14x14 square, and their masks NAME_mask.png.
func pairFolder(t *testing.T) string {
	dir := t.TempDir()
	for c, name := range []string{"one", "two"} {
		img := image.NewGray(image.Rect(0, 0, 48, 48))
		mask := image.NewGray(img.Bounds())
		for y := 0; y < 48; y++ {
			for x := 0; x < 48; x++ {
				img.Pix[x+48*y] = uint8(30 + (x*7+y*3)%5)
				if x >= 10+c && x < 24+c && y >= 12 && y < 26 {
					img.Pix[x+48*y], mask.Pix[x+48*y] = 220, 1
				}
			}
		}
		for file, m := range map[string]*image.Gray{name + ".png": img, name + "_mask.png": mask} {
			f, err := os.Create(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, m)
			f.Close()
		}
	}
	return dir
}

func TestEvalAndCompareCommands(t *testing.T) {
	data := pairFolder(t)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI(t, "eval", "--data", data, "--prompts", "1,0 3,3", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("eval exited %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "| label1 |") || !strings.Contains(stdout, "4 results") {
		t.Fatalf("eval stdout:\n%s", stdout)
	}
	rows, err := eval.ReadResults(filepath.Join(out, eval.ResultsFile))
	if err != nil || len(rows) != 4 {
		t.Fatalf("results: %d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		if r.Dice < 0.9 {
			t.Errorf("%s %s: Dice %.3f on a clean square", r.ObjectID, r.Config, r.Dice)
		}
	}
	// Rerunning resumes: nothing new to do, same rows.
	if code, _, stderr := runCLI(t, "eval", "--data", data, "--prompts", "1,0 3,3", "--out", out, "--quiet"); code != 0 {
		t.Fatalf("resume exited %d: %s", code, stderr)
	}
	if again, _ := eval.ReadResults(filepath.Join(out, eval.ResultsFile)); len(again) != 4 {
		t.Fatalf("resume wrote %d rows", len(again))
	}
	code, stdout, stderr = runCLI(t, "compare", out, out)
	if code != 0 || !strings.Contains(stdout, "| label1 | (1,0) | 2 |") {
		t.Fatalf("compare: code %d\n%s\n%s", code, stdout, stderr)
	}
	// Three runs: the first against each other one, and a chart of all three.
	chart := filepath.Join(t.TempDir(), "chart.png")
	code, stdout, stderr = runCLI(t, "compare", "--chart", chart, "--chart-prompt", "3,3", out, out, out)
	if code != 0 || strings.Count(stdout, "| label1 | (1,0) | 2 |") != 2 {
		t.Fatalf("compare of three runs: code %d\n%s\n%s", code, stdout, stderr)
	}
	f, err := os.Open(chart)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if cfg, err := png.DecodeConfig(f); err != nil || cfg.Width < 400 {
		t.Errorf("chart: %v, %+v", err, cfg)
	}
	if code, _, stderr := runCLI(t, "compare", "--chart", chart, "--chart-prompt", "2,2", out, out); code != 1 || !strings.Contains(stderr, "(2,2)") {
		t.Errorf("chart at an unscored configuration: exit %d, %s", code, stderr)
	}
}

func TestEvalUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"eval", "--data", "x"},                             // no --out
		{"eval", "--out", "o", "--prompts", "0,1"},          // bad prompts
		{"eval", "--out", "o", "--model", "nope", "--data"}, // flag without value
		{"compare", "only-one"},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, stderr := runCLI(t, "eval", "--data", "no-such-dataset", "--out", t.TempDir()); code != 1 || !strings.Contains(stderr, "no-such-dataset") {
		t.Errorf("unknown dataset: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "eval", "--help"); code != 0 || !strings.Contains(stderr, "Example") || !strings.Contains(stderr, "acdc-cardiac-mri") {
		t.Errorf("eval --help: %d %s", code, stderr)
	}
}
