package store

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/synth"
)

func TestResumeRefusesAnotherGeneratorVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	w, err := Create(dir, testRun(FormatPNG, 0))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	run, err := ReadRun(dir)
	if err != nil || run.Generator != synth.GeneratorVersion {
		t.Fatalf("run.json records generator %q (%v), want %q", run.Generator, err, synth.GeneratorVersion)
	}
	if w, err = Resume(dir); err != nil {
		t.Fatalf("same version: %v", err)
	}
	w.Close()
	for _, version := range []string{"1999-01-01 older", ""} {
		run.Generator = version
		data, _ := json.Marshal(run)
		if err := os.WriteFile(filepath.Join(dir, RunFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Resume(dir); err == nil || !strings.Contains(err.Error(), "cannot be continued") {
			t.Errorf("generator %q: Resume error %v, want a refusal", version, err)
		}
	}
}
