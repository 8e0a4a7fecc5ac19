package synth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveLayersPresetFileOverride(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.yaml")
	// The file leaves pshape out (the preset's stays) and sets an invalid
	// size that the override replaces: only the result is validated.
	if err := os.WriteFile(path, []byte("size: 8\nnoise:\n  p: 0.25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Resolve("shape-only", path, func(c *Config) { c.Size = 64 })
	if err != nil {
		t.Fatal(err)
	}
	if c.PShape != 1 || c.Noise.P != 0.25 || c.Size != 64 {
		t.Errorf("resolved pshape %g, noise.p %g, size %d; want 1, 0.25, 64", c.PShape, c.Noise.P, c.Size)
	}
	if c, err := Resolve("", "", nil); err != nil || c.PShape != DefaultConfig().PShape {
		t.Errorf(`Resolve("", "", nil) = %+v, %v; want the default preset`, c, err)
	}
	if _, err := Resolve("nope", "", nil); !errors.Is(err, ErrUnknownPreset) {
		t.Errorf("unknown preset: %v", err)
	}
	if _, err := Resolve("default", path, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("invalid result from a file: %v, want an error naming the file", err)
	}
	if _, err := Resolve("default", "", func(c *Config) { c.Size = 8 }); err == nil || errors.Is(err, ErrUnknownPreset) {
		t.Errorf("invalid override: %v", err)
	}
}
