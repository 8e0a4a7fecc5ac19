package main

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/internal/shareddata"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

func TestConvertHalfPrecision(t *testing.T) {
	dir := shareddata.Path(t, "fixtures", "sam-tiny-a")
	in := filepath.Join(dir, "sam_tiny-a.pth")
	out := filepath.Join(t.TempDir(), "tiny.safetensors")
	code, stdout, stderr := runCLI(t, "convert", "--in", in, "--out", out, "--dtype", "f16", "--model-config", filepath.Join(dir, "config_tiny-a.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "202 tensors") || !strings.Contains(stdout, "F16") {
		t.Errorf("stdout %q", stdout)
	}
	src, err := checkpoint.Read(in)
	if err != nil {
		t.Fatal(err)
	}
	back, err := checkpoint.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range src.Names() {
		a, _ := src.Get(name)
		b, ok := back.Get(name)
		if !ok || b.DType != checkpoint.F16 {
			t.Fatalf("%s: missing or not F16 in the output", name)
		}
		for i := range a.Data {
			if d := math.Abs(float64(a.Data[i] - b.Data[i])); d > math.Abs(float64(a.Data[i]))/1024+1e-7 {
				t.Fatalf("%s[%d]: %g became %g", name, i, a.Data[i], b.Data[i])
			}
		}
	}
	// The sidecar architecture lets the converted weights load by themselves.
	if _, err := os.Stat(strings.TrimSuffix(out, ".safetensors") + ".json"); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "img.png")
	writeTestPNG(t, img, 40, 30)
	if code, _, stderr := runCLI(t, "segment", "--checkpoint", out, "--image", img, "--points", "10,10,1", "--out", filepath.Join(t.TempDir(), "m.png")); code != 0 {
		t.Errorf("segment with the converted weights: exit %d: %s", code, stderr)
	}
}

func TestConvertErrors(t *testing.T) {
	dir := shareddata.Path(t, "fixtures", "sam-tiny-a")
	in := filepath.Join(dir, "sam_tiny-a.pth")
	out := filepath.Join(t.TempDir(), "x.safetensors")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--out", out}, 2, "--in is required"},
		{[]string{"--in", in}, 2, "--out is required"},
		{[]string{"--in", in, "--out", "x.pth"}, 2, "must end in .safetensors"},
		{[]string{"--in", in, "--out", out, "--dtype", "bf16"}, 2, "f32 or f16"},
		{[]string{"--in", in, "--out", out}, 1, "give the architecture"},
		{[]string{"--in", in, "--out", out, "--model-config", "vit_b"}, 1, "does not fit the vit_b architecture"},
	} {
		code, _, stderr := runCLI(t, append([]string{"convert"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("convert %v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed conversion left an output file")
	}
}

// writeTestPNG writes a w×h grey gradient.
func writeTestPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
