package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/synth/store"
)

// TestHelperProcessMain is not a test: run by the tests below as a child
// process (SYNTHFM_HELPER_MAIN=1, the command line after "--"), it is the
// synthfm binary, main() with its signal handling included.
func TestHelperProcessMain(t *testing.T) {
	if os.Getenv("SYNTHFM_HELPER_MAIN") != "1" {
		t.Skip("helper process for the signal tests")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Args = append([]string{"synthfm"}, args...)
	main()
}

// helperCommand returns the synthfm command line as a child process.
func helperCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcessMain$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "SYNTHFM_HELPER_MAIN=1")
	return cmd
}

// terminateWhen runs synthfm args as a child process, sends it SIGTERM
// once the file at path holds more than lines lines, and returns its exit
// status and stderr. The wait for the exit is a hang guard, not a timing
// check (before the fix, eval went on for minutes).
func terminateWhen(t *testing.T, path string, lines int, args ...string) (int, string) {
	t.Helper()
	cmd := helperCommand(t, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for {
		if b, err := os.ReadFile(path); err == nil && bytes.Count(b, []byte("\n")) > lines {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("%s ended before the signal: %v; %s", args[0], err, stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("%s still running 2 minutes after SIGTERM; %s", args[0], stderr.String())
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// squaresCase writes one size×size image/mask pair holding n×n bright
// squares, each its own label value (1, 2, ...): n² objects on one slice.
func squaresCase(t *testing.T, n, size int) string {
	dir := t.TempDir()
	img := image.NewGray(image.Rect(0, 0, size, size))
	mask := image.NewGray(img.Bounds())
	cell := size / n
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			img.Pix[x+size*y] = uint8(30 + (x*7+y*3)%9)
			cx, cy := x/cell, y/cell
			if cx < n && cy < n && x%cell >= 2 && x%cell < cell-2 && y%cell >= 2 && y%cell < cell-2 {
				img.Pix[x+size*y], mask.Pix[x+size*y] = 210, uint8(1+cx+n*cy)
			}
		}
	}
	for file, m := range map[string]*image.Gray{"case.png": img, "case_mask.png": mask} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, m); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Issue 12 item 7: `eval --prompts "1000000,0"` ran for 10+ minutes on one
// object. It is refused at once, naming the limit.
func TestEvalRefusesPromptsOverTheLimit(t *testing.T) {
	data := pairFolder(t)
	for _, prompts := range []string{"1000000,0", "1,21", "21,0"} {
		code, _, stderr := runCLI(t, "eval", "--data", data, "--prompts", prompts, "--out", filepath.Join(t.TempDir(), "run"), "--quiet")
		first, _, _ := strings.Cut(stderr, "\n")
		if code != 2 || !strings.Contains(first, fmt.Sprintf("at most %d positives and %d negatives", eval.MaxPositives, eval.MaxNegatives)) {
			t.Errorf("--prompts %q: exit %d, stderr %q", prompts, code, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "eval", "--data", data, "--prompts", "20,20", "--out", filepath.Join(t.TempDir(), "run"), "--quiet"); code != 0 {
		t.Errorf("--prompts 20,20 (the limit): exit %d, %s", code, stderr)
	}
}

// Issue 12 item 8: eval on a folder whose masks are all empty exited 0
// with an empty table and a blank model name.
func TestEvalWithNoObjectsIsAnError(t *testing.T) {
	dir := t.TempDir()
	for name, v := range map[string]uint8{"a.png": 90, "a_mask.png": 0} {
		img := image.NewGray(image.Rect(0, 0, 16, 16))
		for i := range img.Pix {
			img.Pix[i] = v
		}
		var buf bytes.Buffer
		png.Encode(&buf, img)
		os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644)
	}
	code, stdout, stderr := runCLI(t, "eval", "--data", dir, "--out", filepath.Join(t.TempDir(), "run"), "--quiet")
	if code != 1 || !strings.Contains(stderr, "nothing to evaluate") || !strings.Contains(stderr, filepath.Base(dir)) || stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// Issue 12 item 7: eval ignored SIGTERM until the case under way was done
// (minutes for many objects or clicks). The synthfm process (a child
// running main) gets SIGTERM in the middle of a case of many objects and
// exits with 130 before finishing it, the rows done so far complete in
// results.csv; the same command then resumes the run.
func TestEvalStopsOnSIGTERMWithItsRowsSaved(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	const objects, configs = 15 * 15, 7
	data := squaresCase(t, 15, 15*24)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"eval", "--data", data, "--prompts", "1,0 3,0 1,1 3,3 5,5 10,10 20,20", "--out", out, "--quiet"}
	results := filepath.Join(out, eval.ResultsFile)
	// Signal once a few rows are written.
	code, stderr := terminateWhen(t, results, 5, args...)
	if code != 130 {
		t.Fatalf("exit %d after SIGTERM, want 130; stderr %s", code, stderr)
	}
	if !strings.Contains(stderr, "interrupted") || !strings.Contains(stderr, "run the same command to resume") {
		t.Errorf("stderr: %s", stderr)
	}
	saved, err := eval.ReadResults(results)
	if err != nil || len(saved) == 0 || len(saved) >= objects*configs {
		t.Fatalf("after SIGTERM: %d rows saved, %v", len(saved), err)
	}
	// The same command resumes: the saved rows are kept and not redone
	// (here up to the first 3 objects, to keep the test short).
	if code, _, errOut := runCLI(t, append(args, "--max-objects", "3")...); code != 0 {
		t.Fatalf("resume: exit %d, %s", code, errOut)
	}
	all, err := eval.ReadResults(results)
	if err != nil || len(all) < max(len(saved), 3*configs) {
		t.Fatalf("after the resume: %d rows (%d saved before), %v", len(all), len(saved), err)
	}
	seen := map[string]bool{}
	for i, r := range all {
		if i < len(saved) && r.Key() != saved[i].Key() {
			t.Fatalf("row %d changed from %s to %s", i, saved[i].Key(), r.Key())
		}
		if seen[r.Key()] {
			t.Fatalf("row %s twice", r.Key())
		}
		seen[r.Key()] = true
	}
}

// generate, too, stops on SIGTERM (the synthfm process, a child running
// main): exit 130 with the resume hint, only complete samples on disk.
func TestGenerateStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	dir := filepath.Join(t.TempDir(), "out")
	code, stderr := terminateWhen(t, filepath.Join(dir, store.ManifestFile), 2, "generate", "--n", "100000", "--size", "64", "--out", dir)
	if code != 130 || !strings.Contains(stderr, "--resume") {
		t.Fatalf("exit %d after SIGTERM, stderr %s; want 130 and the resume hint", code, stderr)
	}
	noPartialFiles(t, dir)
	if n := len(manifestLines(t, dir)); n < 3 || n >= 100000 {
		t.Errorf("%d samples listed after SIGTERM", n)
	}
}
