package main

import (
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
	"github.com/synthfm/synthfm/sam/imageproc"
)

func TestParseClicks(t *testing.T) {
	got, err := parseClicks(" 65,49,1; 108.5, 76 ,0 ;")
	want := []click{{65, 49, true}, {108.5, 76, false}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
	if got, err := parseClicks(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v, %v", got, err)
	}
	for in, wantErr := range map[string]string{
		"1,2":         `point 1 "1,2": want x,y,label`,
		"1,2,1;a,2,1": `point 2 "a,2,1": x "a" is not a number`,
		"1,NaN,1":     `y "NaN" is not a number`,
		"1,2,-1":      `label "-1" must be 1 (positive) or 0 (negative)`,
		"1,2,yes":     `label "yes"`,
	} {
		if _, err := parseClicks(in); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("parseClicks(%q) = %v, want error containing %q", in, err, wantErr)
		}
	}
}

func TestParseBox(t *testing.T) {
	b, err := parseBox("36, 22,94,76.5")
	if err != nil || b != [4]float64{36, 22, 94, 76.5} {
		t.Fatalf("got %v, %v", b, err)
	}
	for _, in := range []string{"1,2,3", "1,2,x,4", "10,2,5,4", "1,9,5,4"} {
		if _, err := parseBox(in); err == nil {
			t.Errorf("parseBox(%q) accepted", in)
		}
	}
	if err := checkInside([]click{{10, 5, true}}, &[4]float64{0, 0, 20, 10}, 20, 10); err != nil {
		t.Errorf("inside prompts rejected: %v", err)
	}
	if err := checkInside([]click{{20, 5, true}}, nil, 20, 10); err == nil || !strings.Contains(err.Error(), "point 1 (20, 5) lies outside the 20×10") {
		t.Errorf("outside point: %v", err)
	}
	if err := checkInside(nil, &[4]float64{0, 0, 21, 10}, 20, 10); err == nil {
		t.Error("box past the right edge accepted")
	}
}

func TestDrawOverlay(t *testing.T) {
	img := imageproc.NewImage(20, 30)
	for i := range img.Pix {
		img.Pix[i] = 100
	}
	mask := image.NewGray(image.Rect(0, 0, 30, 20))
	for y := 5; y < 15; y++ {
		for x := 5; x < 15; x++ {
			mask.Pix[y*mask.Stride+x] = 255
		}
	}
	col := defaultOverlayColors()
	out := drawOverlay(img, mask, []click{{25, 3, false}}, &[4]float64{2, 2, 18, 18})
	if c := out.NRGBAAt(10, 10); c.R != blend(100, col.tint.R, 0.4) || c.B != blend(100, col.tint.B, 0.4) {
		t.Errorf("interior %v not tinted", c)
	}
	if c := out.NRGBAAt(5, 10); c != col.outline {
		t.Errorf("boundary pixel %v, want outline colour", c)
	}
	if c := out.NRGBAAt(25, 10); c.R != 100 || c.G != 100 || c.B != 100 {
		t.Errorf("outside pixel %v changed", c)
	}
	if c := out.NRGBAAt(25, 3); c != col.negative {
		t.Errorf("negative click centre %v", c)
	}
	if c := out.NRGBAAt(2, 9); c != col.box {
		t.Errorf("box edge %v", c)
	}
}

func TestWriteLogitsNPY(t *testing.T) {
	p := filepath.Join(t.TempDir(), "logits.npy")
	low := imageproc.Masks{N: 2, H: 2, W: 3, Data: []float32{1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6}}
	if err := writeLogitsNPY(p, low, []float32{0.9, 0.1}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(p)
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var data []float32
	if err := r.Read(&data); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Header.Descr.Shape, []int{2, 2, 3}) || !slices.Equal(data, low.Data) {
		t.Errorf("shape %v data %v", r.Header.Descr.Shape, data)
	}
	g, _ := os.Open(filepath.Join(filepath.Dir(p), "logits_iou.npy"))
	defer g.Close()
	var iou []float32
	if err := npyio.Read(g, &iou); err != nil || !slices.Equal(iou, []float32{0.9, 0.1}) {
		t.Errorf("iou %v, %v", iou, err)
	}
}
