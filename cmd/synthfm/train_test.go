package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/synthfm/synthfm/train"
)

func TestTrainTinyWritesRunAndResumes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errOut := runCLI(t, "train", "--config", "tiny", "--out", dir, "--steps", "3", "--quiet")
	if code != 0 {
		t.Fatalf("train exited %d: %s", code, errOut)
	}
	if !strings.Contains(out, "trained 3 steps") {
		t.Errorf("stdout %q", out)
	}
	for _, f := range []string{train.ConfigFile, train.CheckpointFile, train.ModelFile, train.ModelConfig, train.MetricsFile, train.PlotFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	// Running again into the same directory without --resume is refused.
	if code, _, errOut := runCLI(t, "train", "--config", "tiny", "--out", dir, "--steps", "3", "--quiet"); code != 1 || !strings.Contains(errOut, "--resume") {
		t.Errorf("second run: code %d, stderr %q", code, errOut)
	}
	// --resume without --config uses the run's recipe and extends the run.
	code, out, errOut = runCLI(t, "train", "--out", dir, "--resume", "--steps", "5", "--quiet")
	if code != 0 || !strings.Contains(out, "trained 5 steps") {
		t.Fatalf("resume: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	// A different recipe cannot resume this run.
	if code, _, errOut := runCLI(t, "train", "--config", "lite", "--out", dir, "--resume", "--quiet"); code != 1 || !strings.Contains(errOut, "differs") {
		t.Errorf("resume with another recipe: code %d, stderr %q", code, errOut)
	}
}

func TestTrainUsageErrors(t *testing.T) {
	empty := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "--out", empty}, 2, "--config is required"},
		{[]string{"train", "--config", "tiny"}, 2, "--out is required"},
		{[]string{"train", "--config", "huge", "--out", empty}, 1, "no preset or file"},
		{[]string{"train", "--out", empty, "--resume"}, 1, "no run to resume"},
		{[]string{"train", "--config", "tiny", "--out", empty, "--steps", "-1"}, 2, "--steps"},
		{[]string{"train", "--config", "paper", "--out", empty, "--encoder-checkpoint", filepath.Join(empty, "missing.pth")}, 1, "encoder checkpoint"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: code %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func TestTrainPrintConfigRoundTrips(t *testing.T) {
	code, out, errOut := runCLI(t, "train", "--config", "lite", "--print-config")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	path := filepath.Join(t.TempDir(), "lite.json")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := train.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := train.Preset("lite")
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("printed lite recipe reads back differently:\n%s\n%s", a, b)
	}
}

// TestTrainInterruptSavesCheckpoint cancels a run as SIGINT does (main's
// signal.NotifyContext) and expects exit status 130, a checkpoint and the
// resume hint.
func TestTrainInterruptSavesCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Interrupt once training has logged its first step.
		for ctx.Err() == nil {
			if b, err := os.ReadFile(filepath.Join(dir, train.MetricsFile)); err == nil && len(b) > 0 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var out, errb bytes.Buffer
	code := runMain(ctx, &cliEnv{stdout: &out, stderr: &errb}, []string{"train", "--config", "tiny", "--out", dir, "--steps", "100000", "--quiet"})
	if code != 130 || !strings.Contains(errb.String(), "--resume") {
		t.Fatalf("code %d, stderr %q; want 130 and the resume hint", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, train.CheckpointFile)); err != nil {
		t.Fatalf("no checkpoint after the interrupt: %v", err)
	}
}
