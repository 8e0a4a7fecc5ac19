package imageproc

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/synthfm/synthfm/internal/npytest"
	"github.com/synthfm/synthfm/internal/shareddata"
)

// fixture is one of the shared SAM parity folders.
type fixture struct {
	name      string
	inputSize int
	dir       string
}

func fixtures(t *testing.T) []fixture {
	t.Helper()
	return []fixture{
		{"tiny-a", 128, shareddata.Path(t, "fixtures", "sam-tiny-a")},
		{"tiny-pad", 112, shareddata.Path(t, "fixtures", "sam-tiny-pad")},
	}
}

func (f fixture) image(t *testing.T, name string) *Image {
	t.Helper()
	shape, pix := npytest.Read[uint8](t, filepath.Join(f.dir, name))
	img, err := NewImageFromPix(shape[0], shape[1], pix)
	if err != nil || shape[2] != 3 {
		t.Fatalf("%s: shape %v: %v", name, shape, err)
	}
	return img
}

func TestResizeLongestSideMatchesPillow(t *testing.T) {
	for _, f := range fixtures(t) {
		pairs := [][2]string{{"image_orig.npy", "image_resized.npy"}}
		for i := range 3 {
			pairs = append(pairs, [2]string{fmt.Sprintf("resize%d_image_orig.npy", i), fmt.Sprintf("resize%d_image_resized.npy", i)})
		}
		for _, p := range pairs {
			t.Run(f.name+"/"+p[0], func(t *testing.T) {
				src, want := f.image(t, p[0]), f.image(t, p[1])
				got, err := ResizeLongestSide(src, f.inputSize)
				if err != nil {
					t.Fatal(err)
				}
				if got.H != want.H || got.W != want.W {
					t.Fatalf("%d×%d → %d×%d, want %d×%d", src.H, src.W, got.H, got.W, want.H, want.W)
				}
				mismatches := 0
				for i := range got.Pix {
					if got.Pix[i] != want.Pix[i] {
						if mismatches < 5 {
							t.Errorf("byte %d (y %d, x %d, c %d): got %d, want %d", i, i/3/got.W, i/3%got.W, i%3, got.Pix[i], want.Pix[i])
						}
						mismatches++
					}
				}
				if mismatches > 0 {
					t.Errorf("%d of %d bytes differ from Pillow", mismatches, len(got.Pix))
				}
			})
		}
	}
}

func maxAbsDiff(t *testing.T, got, want []float32) (diff, scale float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		diff = max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	return diff, scale
}

func TestPrepareMatchesSamPreprocess(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			shape, want := npytest.Read[float32](t, filepath.Join(f.dir, "input_preprocessed.npy"))
			if !slices.Equal(shape, []int{1, 3, f.inputSize, f.inputSize}) {
				t.Fatalf("input_preprocessed shape %v", shape)
			}
			p := NewPreprocessor(f.inputSize)
			// From the stored resized image (tests normalisation and padding alone)…
			fromResized, err := p.NormalizePad(f.image(t, "image_resized.npy"))
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := maxAbsDiff(t, fromResized, want); d > 1e-5 {
				t.Errorf("NormalizePad: max abs error %g > 1e-5", d)
			}
			// …and the whole path from the original image.
			orig := f.image(t, "image_orig.npy")
			input, g, err := p.Prepare(orig)
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := maxAbsDiff(t, input, want); d > 1e-5 {
				t.Errorf("Prepare: max abs error %g > 1e-5", d)
			}
			resized := f.image(t, "image_resized.npy")
			if g.OriginalH != orig.H || g.OriginalW != orig.W || g.ResizedH != resized.H || g.ResizedW != resized.W || g.InputSize != f.inputSize {
				t.Errorf("geometry %+v", g)
			}
		})
	}
}

func TestPointsAndBoxesMatchApplyCoords(t *testing.T) {
	for _, f := range fixtures(t) {
		orig := f.image(t, "image_orig.npy")
		g, err := NewGeometry(orig.H, orig.W, f.inputSize)
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= 4; k++ {
			_, in := npytest.Read[float32](t, filepath.Join(f.dir, fmt.Sprintf("case%d_point_coords_orig.npy", k)))
			_, want := npytest.Read[float32](t, filepath.Join(f.dir, fmt.Sprintf("case%d_point_coords.npy", k)))
			for i := 0; i < len(in); i += 2 {
				x, y := g.Point(float64(in[i]), float64(in[i+1]))
				if x != want[i] || y != want[i+1] {
					t.Errorf("%s case %d point %d: got (%v, %v), want (%v, %v)", f.name, k, i/2, x, y, want[i], want[i+1])
				}
			}
		}
		_, box := npytest.Read[float32](t, filepath.Join(f.dir, "case3_box_orig.npy"))
		_, want := npytest.Read[float32](t, filepath.Join(f.dir, "case3_box.npy"))
		got := g.Box(float64(box[0]), float64(box[1]), float64(box[2]), float64(box[3]))
		if !slices.Equal(got[:], want) {
			t.Errorf("%s box: got %v, want %v", f.name, got, want)
		}
	}
}

func TestPostprocessMasksMatchesSam(t *testing.T) {
	for _, f := range fixtures(t) {
		orig := f.image(t, "image_orig.npy")
		g, err := NewGeometry(orig.H, orig.W, f.inputSize)
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= 4; k++ {
			for _, kind := range []string{"single", "multi"} {
				lowShape, low := npytest.Read[float32](t, filepath.Join(f.dir, fmt.Sprintf("case%d_%s_low_res_logits.npy", k, kind)))
				wantShape, want := npytest.Read[float32](t, filepath.Join(f.dir, fmt.Sprintf("case%d_%s_masks_logits.npy", k, kind)))
				got, err := PostprocessMasks(Masks{N: lowShape[0], H: lowShape[1], W: lowShape[2], Data: low}, g)
				if err != nil {
					t.Fatal(err)
				}
				if got.N != wantShape[0] || got.H != wantShape[1] || got.W != wantShape[2] {
					t.Fatalf("shape %d×%d×%d, want %v", got.N, got.H, got.W, wantShape)
				}
				diff, scale := maxAbsDiff(t, got.Data, want)
				t.Logf("%s case %d %s: diff %g scale %g", f.name, k, kind, diff, scale)
				if diff > 1e-4*scale {
					t.Errorf("%s case %d %s: max abs error %g > 1e-4 × %g", f.name, k, kind, diff, scale)
				}
				for i := range want {
					if (got.Data[i] > 0) != (want[i] > 0) && math.Abs(float64(want[i])) >= 1e-3 {
						t.Errorf("%s case %d %s: binary mask differs at %d (logit %g)", f.name, k, kind, i, want[i])
						break
					}
				}
			}
		}
	}
}
