package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindHonoursEnv(t *testing.T) {
	d := t.TempDir()
	t.Setenv(EnvVar, d)
	got, err := Find()
	if err != nil || got != d {
		t.Fatalf("Find() = %q, %v; want %q", got, err, d)
	}
}

func TestFindRejectsMissingEnvFolder(t *testing.T) {
	t.Setenv(EnvVar, filepath.Join(t.TempDir(), "absent"))
	if _, err := Find(); err == nil {
		t.Fatal("Find() accepted a missing folder")
	}
}

func TestPathSkipsWhenAbsent(t *testing.T) {
	d := t.TempDir()
	t.Setenv(EnvVar, d)
	if err := os.WriteFile(filepath.Join(d, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if p := Path(t, "x"); p != filepath.Join(d, "x") {
		t.Fatalf("Path = %q", p)
	}
}
