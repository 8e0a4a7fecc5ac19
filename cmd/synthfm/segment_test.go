package main

import (
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/internal/atomicfile"
	"github.com/synthfm/synthfm/internal/npytest"
	"github.com/synthfm/synthfm/internal/shareddata"
	"github.com/synthfm/synthfm/medimg"
	"github.com/synthfm/synthfm/promptable"
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
}

func TestWriteLogitsNPY(t *testing.T) {
	p := filepath.Join(t.TempDir(), "logits.npy")
	low := imageproc.Masks{N: 2, H: 2, W: 3, Data: []float32{1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6}}
	if err := writeLogitsNPY(p, low, []float32{0.9, 0.1}); err != nil {
		t.Fatal(err)
	}
	shape, data := npytest.Read[float32](t, p)
	if !slices.Equal(shape, []int{2, 2, 3}) || !slices.Equal(data, low.Data) {
		t.Errorf("shape %v data %v", shape, data)
	}
	if shape, iou := npytest.Read[float32](t, filepath.Join(filepath.Dir(p), "logits_iou.npy")); !slices.Equal(shape, []int{2}) || !slices.Equal(iou, []float32{0.9, 0.1}) {
		t.Errorf("iou %v %v", shape, iou)
	}
}

// skipUnderCheckptr skips tests that run GoMLX graphs in a -race build
// whose pointer checks are on: gomlx/compute v0.1.2's matmul kernels stop
// the program there ("checkptr: pointer arithmetic result points to invalid
// allocation"). With -gcflags=all=-d=checkptr=0 the tests run under -race.
func skipUnderCheckptr(t *testing.T) {
	t.Helper()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	race, checkptrOff := false, false
	for _, s := range bi.Settings {
		race = race || (s.Key == "-race" && s.Value == "true")
		checkptrOff = checkptrOff || (s.Key == "-gcflags" && strings.Contains(s.Value, "checkptr=0"))
	}
	if race && !checkptrOff {
		t.Skip("GoMLX's Go backend fails -race's checkptr instrumentation; run with -gcflags=all=-d=checkptr=0")
	}
}

// tinyFixture is the shared tiny-a SAM: weights, config, image and outputs.
type tinyFixture struct{ dir string }

func (f tinyFixture) path(name string) string { return filepath.Join(f.dir, name) }

// imagePNG writes the fixture's image_orig.npy (H×W×3 uint8) as a PNG.
func (f tinyFixture) imagePNG(t *testing.T) string {
	t.Helper()
	shape, pix := npytest.Read[uint8](t, f.path("image_orig.npy"))
	img, err := imageproc.NewImageFromPix(shape[0], shape[1], pix)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "image.png")
	if err := writePNG(p, img.ToNRGBA()); err != nil {
		t.Fatal(err)
	}
	return p
}

func readMaskPNG(t *testing.T, path string) *image.Gray {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s is a %T, want a grey PNG", path, img)
	}
	return g
}

// The tiny-a fixture's clicks and box, run through the whole command: the
// mask PNG must equal the official predictor's mask (logits > 0) except
// where |logit| < 1e-3, and the low-res logits and IoUs must match.
func TestSegmentMatchesOfficialPredictor(t *testing.T) {
	skipUnderCheckptr(t)
	f := tinyFixture{shareddata.Path(t, "fixtures", "sam-tiny-a")}
	imagePath := f.imagePNG(t)
	for _, tc := range []struct {
		name, kind string // kind: which official output the command must reproduce
		args       []string
	}{
		// one click, --multimask: the highest predicted IoU of the three
		{"case1-multimask", "case1_multi", []string{"--points", "65,49,1", "--multimask"}},
		// five clicks: SAM's rule takes the single-mask output
		{"case2-auto", "case2_single", []string{"--points", "65,49,1;79,43,1;55,59,1;108,76,0;14,92,0"}},
		// box and click: the single-mask output
		{"case3-box", "case3_single", []string{"--points", "68,51,1", "--box", "36,22,94,76"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out, logits := filepath.Join(dir, "mask.png"), filepath.Join(dir, "low.npy")
			args := append([]string{"segment", "--checkpoint", f.path("sam_tiny-a.pth"),
				"--model-config", f.path("config_tiny-a.json"), "--image", imagePath,
				"--out", out, "--overlay", filepath.Join(dir, "over.png"), "--logits-out", logits}, tc.args...)
			code, stdout, stderr := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			_, wantIoU := npytest.Read[float32](t, f.path(tc.kind+"_iou_predictions.npy"))
			_, gotIoU := npytest.Read[float32](t, iouPath(logits))
			best := 0
			for i := range wantIoU {
				if math.Abs(float64(gotIoU[i]-wantIoU[i])) > 1e-4 {
					t.Errorf("IoU %d: got %v, want %v", i, gotIoU[i], wantIoU[i])
				}
				if wantIoU[i] > wantIoU[best] {
					best = i
				}
			}
			wantLowShape, wantLow := npytest.Read[float32](t, f.path(tc.kind+"_low_res_logits.npy"))
			gotLowShape, gotLow := npytest.Read[float32](t, logits)
			if !slices.Equal(gotLowShape, wantLowShape) {
				t.Fatalf("low-res logits shape %v, want %v", gotLowShape, wantLowShape)
			}
			var maxErr, scale float64
			for i := range wantLow {
				maxErr = max(maxErr, math.Abs(float64(gotLow[i]-wantLow[i])))
				scale = max(scale, math.Abs(float64(wantLow[i])))
			}
			if maxErr > 1e-4*scale {
				t.Errorf("low-res logits: max abs error %g > 1e-4 × %g", maxErr, scale)
			}
			shape, logitsFull := npytest.Read[float32](t, f.path(tc.kind+"_masks_logits.npy"))
			h, w := shape[1], shape[2]
			mask := readMaskPNG(t, out)
			if mask.Bounds().Dx() != w || mask.Bounds().Dy() != h {
				t.Fatalf("mask is %v, image is %d×%d", mask.Bounds(), w, h)
			}
			want := logitsFull[best*h*w : (best+1)*h*w]
			differ := 0
			for i, l := range want {
				if (mask.Pix[i] == 255) != (l > 0) && math.Abs(float64(l)) >= 1e-3 {
					differ++
				}
			}
			if differ > 0 {
				t.Errorf("%d mask pixels differ from the official mask", differ)
			}
			if !strings.Contains(stdout, "wrote "+out) {
				t.Errorf("stdout: %s", stdout)
			}
		})
	}
}

func TestSegmentErrors(t *testing.T) {
	skipUnderCheckptr(t)
	f := tinyFixture{shareddata.Path(t, "fixtures", "sam-tiny-a")}
	imagePath := f.imagePNG(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.pth")
	os.WriteFile(broken, []byte("PK\x03\x04 truncated"), 0o644)
	base := []string{"segment", "--image", imagePath, "--out", filepath.Join(dir, "m.png")}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no-prompt", append(slices.Clone(base), "--checkpoint", f.path("sam_tiny-a.pth")), 2, "give --points, --box or both"},
		{"bad-point", append(slices.Clone(base), "--checkpoint", "x", "--points", "1,2"), 2, `point 1 "1,2": want x,y,label`},
		{"outside", append(slices.Clone(base), "--checkpoint", "x", "--points", "500,2,1"), 2, "is outside the 144x108 image"},
		{"broken-checkpoint", append(slices.Clone(base), "--checkpoint", broken, "--points", "5,5,1"), 1, broken},
		{"unknown-preset", append(slices.Clone(base), "--checkpoint", f.path("sam_tiny-a.pth"), "--points", "5,5,1"), 1, "none of vit_b, vit_l, vit_h; give the architecture"},
		{"wrong-model", append(slices.Clone(base), "--checkpoint", f.path("sam_tiny-a.pth"), "--model-config", "vit_b", "--points", "5,5,1"), 1, "do not fit the SAM vit_b model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.contains) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.contains)
			}
		})
	}
}

func TestDrawOverlay(t *testing.T) {
	img := promptable.Image{Width: 30, Height: 20, Pix: slices.Repeat([]uint8{100}, 3*30*20)}
	mask := image.NewGray(image.Rect(0, 0, 30, 20))
	for y := 5; y < 15; y++ {
		for x := 5; x < 15; x++ {
			mask.Pix[y*mask.Stride+x] = 255
		}
	}
	out := drawOverlay(img, mask, []click{{25.7, 3.2, false}}, &[4]float64{2, 2, 18, 18})
	for _, tc := range []struct {
		x, y int
		want color.NRGBA
	}{
		{10, 10, color.NRGBA{72, 118, 162, 255}}, // interior: 100·0.6 + tint·0.4, rounded
		{5, 10, color.NRGBA{255, 215, 0, 255}},   // boundary
		{25, 10, color.NRGBA{100, 100, 100, 255}},
		{25, 3, color.NRGBA{230, 0, 0, 255}},     // negative click, drawn at its pixel's centre
		{25, 6, color.NRGBA{255, 255, 255, 255}}, // its rim (radius 2, rim 1)
		{2, 9, color.NRGBA{255, 0, 255, 255}},    // box edge
	} {
		if got := out.NRGBAAt(tc.x, tc.y); got != tc.want {
			t.Errorf("pixel (%d, %d) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}

// writeTestVolume writes a 40×30×5 uint8 NIfTI volume whose third axis
// points to the patient's feet (so its LPS view is flipped along it), with
// a bright disc around column 20, row 15 in every slice.
func writeTestVolume(t *testing.T, path string) *medimg.Volume {
	t.Helper()
	v, err := medimg.NewVolume(40, 30, 5, 1, "uint8")
	if err != nil {
		t.Fatal(err)
	}
	v.Spacing, v.Origin, v.SpacingKnown = [3]float64{0.8, 0.7, 2.5}, [3]float64{-12, 30.5, 100}, true
	v.Direction[2][2] = -1
	for k := range 5 {
		for j := range 30 {
			for i := range 40 {
				if (i-20)*(i-20)+(j-15)*(j-15) <= 36 {
					v.Data[v.Index(i, j, k, 0)] = 200
				} else {
					v.Data[v.Index(i, j, k, 0)] = 20
				}
			}
		}
	}
	if err := atomicfile.Write(path, atomicfile.CrashSafe, func(w io.Writer) error { return medimg.WriteNIfTI(w, v, true) }); err != nil {
		t.Fatal(err)
	}
	return v
}

// A NIfTI volume through the whole command: the mask is a NIfTI volume on
// the input's grid with only the chosen slice set (view slice 1 is the
// file's slice 3, the third axis being flipped), and a PNG --out gets the
// plane; the middle slice is the default.
func TestSegmentVolumeWritesNIfTIMask(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "ct.nii.gz")
	vol := writeTestVolume(t, in)
	out := filepath.Join(dir, "mask.nii.gz")
	code, stdout, stderr := runCLI(t, "segment", "--model", "baseline", "--image", in, "--slice", "1",
		"--points", "20,15,1", "--out", out, "--overlay", filepath.Join(dir, "over.png"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "slice 1 of 5, window none") {
		t.Errorf("stdout: %s", stdout)
	}
	got, err := medimg.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != vol.Size || !got.SameGrid(vol, 1e-4) {
		t.Fatalf("mask grid %v %v %v %v, want the image's %v %v %v %v", got.Size, got.Spacing, got.Origin, got.Direction, vol.Size, vol.Spacing, vol.Origin, vol.Direction)
	}
	for k := range 5 {
		n := 0
		for j := range 30 {
			for i := range 40 {
				if got.At(i, j, k, 0) != 0 {
					n++
					if vol.At(i, j, k, 0) != 200 {
						t.Fatalf("mask voxel (%d, %d, %d) outside the disc", i, j, k)
					}
				}
			}
		}
		if want := k == 3; (n > 0) != want {
			t.Errorf("slice %d holds %d mask voxels; want voxels only in slice 3", k, n)
		}
	}
	png := filepath.Join(dir, "mask.png")
	if code, stdout, stderr := runCLI(t, "segment", "--model", "baseline", "--image", in, "--points", "20,15,1", "--out", png); code != 0 || !strings.Contains(stdout, "slice 2 of 5") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	if m := readMaskPNG(t, png); m.Bounds().Dx() != 40 || m.Bounds().Dy() != 30 || m.GrayAt(20, 15).Y != 255 || m.GrayAt(2, 2).Y != 0 {
		t.Errorf("PNG mask %v: centre %d, corner %d", m.Bounds(), m.GrayAt(20, 15).Y, m.GrayAt(2, 2).Y)
	}
}

func TestSegmentVolumeErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "ct.nii.gz")
	writeTestVolume(t, in)
	base := []string{"segment", "--model", "baseline", "--image", in, "--points", "20,15,1", "--out", filepath.Join(dir, "m.nii")}
	for _, tc := range []struct {
		name, contains string
		args           []string
	}{
		{"slice-outside", "--slice 5 is outside the image's 5 slices (0 to 4)", []string{"--slice", "5"}},
		{"slice-negative", "--slice -1: give a slice index from 0", []string{"--slice", "-1"}},
		{"window-unknown", `--window: unknown window "purple"`, []string{"--window", "purple"}},
		{"window-width", `--window: unknown window "40,-400"`, []string{"--window", "40,-400"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append(slices.Clone(base), tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.contains) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tc.contains)
			}
			if _, err := os.Stat(filepath.Join(dir, "m.nii")); err == nil {
				t.Error("a mask was written")
			}
		})
	}
}
