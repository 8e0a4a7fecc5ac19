package train

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"
)

func TestTinySmoke(t *testing.T) {
	cfg, err := Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	start := time.Now()
	res, err := Run(context.Background(), Options{Config: cfg, OutDir: dir, Backend: testBackend(t),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)), Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v in %s", res, time.Since(start))
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Log(e.Name())
	}
}
