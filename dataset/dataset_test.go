package dataset

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func savePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// colourCase writes a 40x30 grey image with a red 12x12 square and a
// green 5x5 square (25 px) in an RGB mask.
func colourCase(t *testing.T, dir string) {
	os.MkdirAll(filepath.Join(dir, "img"), 0o755)
	os.MkdirAll(filepath.Join(dir, "lab"), 0o755)
	img := image.NewGray(image.Rect(0, 0, 40, 30))
	mask := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			img.SetGray(x, y, color.Gray{uint8(x + y)})
			mask.Set(x, y, color.RGBA{0, 0, 0, 255})
			if x >= 2 && x < 14 && y >= 1 && y < 13 {
				mask.Set(x, y, color.RGBA{255, 0, 0, 255})
			}
			if x >= 30 && x < 35 && y >= 20 && y < 25 {
				mask.Set(x, y, color.RGBA{0, 255, 0, 255})
			}
		}
	}
	savePNG(t, filepath.Join(dir, "img", "c1.png"), img)
	savePNG(t, filepath.Join(dir, "lab", "c1.png"), mask)
}

func TestManifestColoursFlipAndMinPixels(t *testing.T) {
	root := t.TempDir()
	colourCase(t, root)
	yaml := `name: toy
modality: MR
cases:
  - image: img/*.png
    flip_vertical: true
    labels:
      - {file: "lab/{stem}.png", colors: {"255,0,0": red, "0,255,0": green}}
`
	m, err := ParseManifest([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(m, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Cases()) != 1 || d.Cases()[0].ID != "c1" {
		t.Fatalf("cases %+v", d.Cases())
	}
	sl, err := d.Load(context.Background(), d.Cases()[0])
	if err != nil {
		t.Fatal(err)
	}
	// green (25 px) is under min_pixels 100; red (144 px) stays.
	if len(sl) != 1 || len(sl[0].Objects) != 1 || sl[0].Objects[0].Structure != "red" || sl[0].Objects[0].ID != "toy/c1/red" {
		t.Fatalf("slices %+v", sl)
	}
	o := sl[0].Objects[0]
	// Flipped vertically: rows 1..12 become rows 17..28.
	if o.Mask.GrayAt(2, 17).Y == 0 || o.Mask.GrayAt(2, 1).Y != 0 || sl[0].Image.GrayAt(5, 29).Y != 5 {
		t.Fatalf("flip not applied")
	}
	if sl[0].Index != -1 || sl[0].SpacingKnown {
		t.Fatalf("2-D slice index %d spacing known %v", sl[0].Index, sl[0].SpacingKnown)
	}
}

func TestManifestValidation(t *testing.T) {
	for _, bad := range []string{
		"name: x\ncases: []\n",
		"name: x\nmodality: XR\ncases: [{image: a, labels: [{file: b}]}]\n",
		"name: x\ncases: [{image: a, labels: [{file: b, threshold: 3}]}]\n",
		"name: x\ncases: [{image: a, labels: [{file: b, values: {1: a}, instances: c}]}]\n",
		"name: x\nwindow: wide\ncases: [{image: a, labels: [{file: b}]}]\n",
		"name: x\ncolour: red\ncases: [{image: a, labels: [{file: b}]}]\n", // unknown field
	} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestIntensityMappings(t *testing.T) {
	// Window 40/400 → [-160, 240]; the volume spans it, so HU 40 maps to
	// (40+160)/400·255 = 127.5 → 127 (truncation), -1000 → 0, 1000 → 255.
	v := []float32{-1000, 40, 1000}
	m := WindowMapping(v, 40, 400)
	if got := []uint8{m.Apply(-1000), m.Apply(40), m.Apply(1000), m.Apply(-160)}; !slices.Equal(got, []uint8{0, 127, 255, 0}) {
		t.Fatalf("window mapping %v", got)
	}
	// Percentiles of the non-zero values 1..100 (numpy linear): p0.5 =
	// 1 + 0.005·99 = 1.495, p99.5 = 1 + 0.995·99 = 99.505; zeros stay 0.
	var vals []float32
	for i := 1; i <= 100; i++ {
		vals = append(vals, float32(i))
	}
	vals = append(vals, 0, 0)
	pm := PercentileMapping(vals, 0.5, 99.5)
	if math.Abs(pm.Lo-1.495) > 1e-9 || math.Abs(pm.Hi-99.505) > 1e-9 || pm.Apply(0) != 0 || pm.Apply(100) != 255 {
		t.Fatalf("percentile mapping %+v", pm)
	}
	// 50.5 sits halfway: (50.5−1.495)/(99.505−1.495)·255 = 127.5 → 127.
	if got := pm.Apply(50.5); got != 127 {
		t.Fatalf("percentile 50.5 → %d", got)
	}
	if l, w, err := ParseWindow("lung"); err != nil || l != -160 || w != 1500 {
		t.Fatalf("lung preset %v %v %v", l, w, err)
	}
	if l, w, err := ParseWindow("50,350"); err != nil || l != 50 || w != 350 {
		t.Fatalf("custom window %v %v %v", l, w, err)
	}
}

func TestFromFolder(t *testing.T) {
	dir := t.TempDir()
	img := image.NewGray(image.Rect(0, 0, 30, 30))
	mask := image.NewGray(image.Rect(0, 0, 30, 30))
	for y := 5; y < 20; y++ {
		for x := 5; x < 20; x++ {
			mask.SetGray(x, y, color.Gray{7})
		}
	}
	savePNG(t, filepath.Join(dir, "a.png"), img)
	savePNG(t, filepath.Join(dir, "a_mask.png"), mask)
	savePNG(t, filepath.Join(dir, "b.png"), img) // no mask: ignored
	m, err := FromFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(m, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Cases()) != 1 {
		t.Fatalf("cases %+v", d.Cases())
	}
	sl, err := d.Load(context.Background(), d.Cases()[0])
	if err != nil || len(sl) != 1 || sl[0].Objects[0].Structure != "label7" {
		t.Fatalf("slices %+v %v", sl, err)
	}
	if _, err := FromFolder(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no image/mask pairs") {
		t.Fatalf("empty folder: %v", err)
	}
}

func TestResizeHelpers(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 200, 100))
	for i := range img.Pix {
		img.Pix[i] = 100
	}
	sq := ResizeSquare(img, 64)
	if sq.Bounds().Dx() != 64 || sq.Bounds().Dy() != 64 || sq.GrayAt(30, 30).Y != 100 {
		t.Fatalf("square resize %v %v", sq.Bounds(), sq.GrayAt(30, 30))
	}
	padded, scale := ResizeLongestSide(img, 64)
	if padded.Bounds().Dx() != 64 || padded.Bounds().Dy() != 64 || scale != 0.32 || padded.GrayAt(10, 40).Y != 0 || padded.GrayAt(10, 10).Y != 100 {
		t.Fatalf("longest side: %v scale %v", padded.Bounds(), scale)
	}
	mask := image.NewGray(image.Rect(0, 0, 4, 4))
	mask.SetGray(1, 1, color.Gray{255})
	up := ResizeMask(mask, 8, 8)
	n := 0
	for _, v := range up.Pix {
		if v != 0 {
			n++
			if v != 255 {
				t.Fatalf("nearest-neighbour resize produced %d", v)
			}
		}
	}
	if n != 4 || up.GrayAt(2, 2).Y != 255 || up.GrayAt(3, 3).Y != 255 {
		t.Fatalf("mask resize kept %d pixels", n)
	}
	in := MedSAMInput(img, 16)
	if len(in) != 16*16*3 {
		t.Fatalf("MedSAM input length %d", len(in))
	}
}
