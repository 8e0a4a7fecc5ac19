package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoCommandWithBaseline(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sheet.png")
	code, stdout, stderr := runCLI(t, "demo", "--model", "baseline", "--cases", "3", "--size", "64", "--columns", "3", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"3 synthetic default cases at 64²", "model baseline", "mean", "wrote " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 3*256 || b.Dy() != 256+30 {
		t.Errorf("sheet is %v", b)
	}
}

func TestDemoCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--cases", "0"}, 2, "--cases must be between 1 and 1000"},
		{[]string{"--prompts", "1,0 3,3"}, 2, "one configuration"},
		{[]string{"--data", "nope"}, 2, "nope"},
		{[]string{"--size", "8"}, 2, "size"},
		{[]string{"--model", "no-such-model"}, 1, "unknown model"},
		{[]string{"--model", "baseline", "--cases", "1", "--size", "64", "--out", filepath.Join(t.TempDir(), "missing", "x.png")}, 1, "missing"},
	} {
		code, _, stderr := runCLI(t, append([]string{"demo"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("demo %v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
