package imageproc

import (
	"image"
	"image/color"
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/image/draw"
)

// Pillow's bilinear weights worked out by hand for 2 → 4 pixels: outputs
// 0 and 3 copy the ends, 1 and 2 mix them 3:1 and 1:3. With 0 and 100 the
// sums are exact quarters, so the fixed point gives 0, 25, 75, 100; with
// 0 and 255 it gives round(63.75) = 64 and round(191.25) = 191.
func TestResizeHandComputed(t *testing.T) {
	src, _ := NewImageFromPix(1, 2, []uint8{0, 0, 255, 100, 100, 0})
	got, err := Resize(src, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{0, 0, 255, 25, 25, 191, 75, 75, 64, 100, 100, 0}
	if !slices.Equal(got.Pix, want) {
		t.Errorf("got %v, want %v", got.Pix, want)
	}
	// Downscaling 4 → 2 averages with the widened (antialiasing) triangle:
	// output 0 has centre 1, support 2: inputs 0..2, weights
	// 1 − |(x − 1 + 0.5)/2| = 0.75, 0.75, 0.25 (/1.75):
	// (0·0.75 + 40·0.75 + 80·0.25)/1.75 = 28.57, plus rounding → 29.
	src, _ = GrayToRGB(4, 1, []uint8{0, 40, 80, 120})
	got, _ = Resize(src, 2, 1)
	if got.Pix[0] != 29 || got.Pix[1] != 29 {
		t.Errorf("vertical downscale: got %v, want 29 first", got.Pix)
	}
	// output 1: centre 3, inputs 1..3, weights 0.25, 0.75, 0.75:
	// (40·0.25 + 80·0.75 + 120·0.75)/1.75 = 91.43 → 91.
	if got.Pix[3] != 91 {
		t.Errorf("vertical downscale: got %v, want 91 second", got.Pix)
	}
}

func TestResizeProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := NewImage(37, 53)
	for i := range src.Pix {
		src.Pix[i] = uint8(rng.IntN(256))
	}
	same, _ := Resize(src, 37, 53)
	if !slices.Equal(same.Pix, src.Pix) || &same.Pix[0] == &src.Pix[0] {
		t.Error("resizing to the same size must return an equal copy")
	}
	flat := NewImage(19, 23)
	for i := range flat.Pix {
		flat.Pix[i] = 200
	}
	for _, size := range [][2]int{{40, 7}, {5, 60}, {19, 100}, {3, 3}} {
		out, _ := Resize(flat, size[0], size[1])
		for _, v := range out.Pix {
			if v != 200 {
				t.Fatalf("constant image resized to %v has value %d", size, v)
			}
		}
	}
	if _, err := Resize(src, 0, 10); err == nil {
		t.Error("resize to 0 rows accepted")
	}
	if h, w := LongestSideSize(1500, 2000, 1024); h != 768 || w != 1024 {
		t.Errorf("LongestSideSize(1500, 2000) = %d, %d", h, w)
	}
	if h, w := LongestSideSize(198, 90, 128); h != 128 || w != 58 {
		t.Errorf("LongestSideSize(198, 90) = %d, %d", h, w) // 90·128/198 = 58.18
	}
}

// PyTorch's bilinear align_corners=False upsampling of [0, 1] to 4 gives
// 0, 0.25, 0.75, 1 (sources -0.25→0, 0.25, 0.75, 1.25 clamped at the edge).
func TestBilinearHandComputed(t *testing.T) {
	b := newBilinear(1, 2, 1, 4, 1, 4)
	out := make([]float32, 4)
	b.apply([]float32{0, 1}, out)
	if want := []float32{0, 0.25, 0.75, 1}; !slices.Equal(out, want) {
		t.Errorf("got %v, want %v", out, want)
	}
	// 2D: the crop keeps the top-left 3×3 of a 2×2 → 4×4 upsampling; centre
	// value (1,1) = 0.75·(0.75·a + 0.25·b) + 0.25·(0.75·c + 0.25·d).
	b = newBilinear(2, 2, 4, 4, 3, 3)
	out = make([]float32, 9)
	b.apply([]float32{0, 4, 8, 16}, out)
	if want := float32(0.75*(0.75*0+0.25*4) + 0.25*(0.75*8+0.25*16)); out[4] != want {
		t.Errorf("centre %v, want %v", out[4], want)
	}
}

func TestFromImageTypes(t *testing.T) {
	rect := image.Rect(0, 0, 3, 2)
	gray := image.NewGray(rect)
	gray16 := image.NewGray16(rect)
	rgba := image.NewRGBA(rect)
	nrgba := image.NewNRGBA(rect)
	paletted := image.NewPaletted(rect, color.Palette{color.Black, color.RGBA{10, 20, 30, 255}})
	for y := range 2 {
		for x := range 3 {
			v := uint8(40*y + 10*x)
			gray.SetGray(x, y, color.Gray{v})
			gray16.SetGray16(x, y, color.Gray16{uint16(v)<<8 | 0x7f})
			rgba.SetRGBA(x, y, color.RGBA{v, v + 1, v + 2, 255})
			nrgba.SetNRGBA(x, y, color.NRGBA{v, v + 1, v + 2, 17})
			paletted.SetColorIndex(x, y, uint8(x%2))
		}
	}
	greyWant := []uint8{0, 0, 0, 10, 10, 10, 20, 20, 20, 40, 40, 40, 50, 50, 50, 60, 60, 60}
	colourWant := []uint8{0, 1, 2, 10, 11, 12, 20, 21, 22, 40, 41, 42, 50, 51, 52, 60, 61, 62}
	for name, tc := range map[string]struct {
		img  image.Image
		want []uint8
	}{
		"gray":     {gray, greyWant},
		"gray16":   {gray16, greyWant},
		"rgba":     {rgba, colourWant},
		"nrgba":    {nrgba, colourWant}, // alpha dropped, straight colour kept
		"paletted": {paletted, []uint8{0, 0, 0, 10, 20, 30, 0, 0, 0, 0, 0, 0, 10, 20, 30, 0, 0, 0}},
	} {
		got := FromImage(tc.img)
		if got.H != 2 || got.W != 3 || !slices.Equal(got.Pix, tc.want) {
			t.Errorf("%s: got %d×%d %v, want %v", name, got.H, got.W, got.Pix, tc.want)
		}
	}
	// A sub-image starts at its own top-left corner.
	sub := FromImage(gray.SubImage(image.Rect(1, 1, 3, 2)))
	if !slices.Equal(sub.Pix, []uint8{50, 50, 50, 60, 60, 60}) {
		t.Errorf("sub-image: %v", sub.Pix)
	}
	// YCbCr with neutral chroma is grey: Y passes through.
	ycc := image.NewYCbCr(rect, image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(30 * i)
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = 128, 128
	}
	got := FromImage(ycc)
	for i := range 6 {
		if got.Pix[3*i] != uint8(30*i) || got.Pix[3*i+1] != uint8(30*i) || got.Pix[3*i+2] != uint8(30*i) {
			t.Errorf("ycbcr pixel %d: %v", i, got.Pix[3*i:3*i+3])
		}
	}
	back := got.ToNRGBA()
	if c := back.NRGBAAt(2, 1); c != (color.NRGBA{150, 150, 150, 255}) {
		t.Errorf("ToNRGBA: %v", c)
	}
}

func TestUnitRangeNormalisation(t *testing.T) {
	img, _ := NewImageFromPix(1, 2, []uint8{10, 20, 30, 40, 50, 110})
	p := Preprocessor{InputSize: 3, Normalization: UnitRange}
	out, err := p.NormalizePad(img)
	if err != nil {
		t.Fatal(err)
	}
	// min 10, max 110: (v - 10)/100; channel planes 3×3, padding 0.
	want := []float32{
		0, 0.3, 0, 0, 0, 0, 0, 0, 0,
		0.1, 0.4, 0, 0, 0, 0, 0, 0, 0,
		0.2, 1, 0, 0, 0, 0, 0, 0, 0,
	}
	if d, _ := maxAbsDiff(t, out, want); d > 1e-7 {
		t.Errorf("got %v, want %v", out, want)
	}
	if _, err := p.NormalizePad(NewImage(4, 1)); err == nil {
		t.Error("a 4-row image fits a 3×3 input?")
	}
	if _, err := (Preprocessor{InputSize: 3}).NormalizePad(img); err == nil {
		t.Error("zero pixel std accepted")
	}
}

func TestMasksValidation(t *testing.T) {
	g, _ := NewGeometry(10, 20, 16)
	if _, err := PostprocessMasks(Masks{N: 1, H: 4, W: 4, Data: make([]float32, 15)}, g); err == nil {
		t.Error("short mask data accepted")
	}
	m := Masks{N: 2, H: 1, W: 3, Data: []float32{-1, 0, 2, 3, -0.5, 0.1}}
	if b := m.Binary(1, 0); !slices.Equal(b.Pix, []uint8{255, 0, 255}) {
		t.Errorf("Binary: %v", b.Pix)
	}
	if _, err := GrayToRGB(2, 2, []uint8{1}); err == nil {
		t.Error("GrayToRGB accepted a short buffer")
	}
}

// BenchmarkResizeLongestSide1024 resizes a 1500×2000 image to 768×1024 with
// the Pillow-exact resize, next to golang.org/x/image/draw's bilinear scaler
// (not Pillow-exact) on the same pixels as the baseline.
// Run: go test ./sam/imageproc -run '^$' -bench . -benchtime 20x
func BenchmarkResizeLongestSide1024(b *testing.B) {
	src := NewImage(1500, 2000)
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	b.Run("pillow-exact", func(b *testing.B) {
		r, _ := NewResizer(1500, 2000, 768, 1024)
		for b.Loop() {
			r.Resize(src)
		}
	})
	b.Run("xdraw-bilinear", func(b *testing.B) {
		in := src.ToNRGBA()
		for b.Loop() {
			out := image.NewNRGBA(image.Rect(0, 0, 1024, 768))
			draw.BiLinear.Scale(out, out.Bounds(), in, in.Bounds(), draw.Src, nil)
		}
	})
}

// BenchmarkPostprocessMasks maps one 256² low-res mask to a 1500×2000
// image, next to x/image/draw's bilinear scaling of a 256² grey image to
// 1500×2000 as the baseline.
func BenchmarkPostprocessMasks(b *testing.B) {
	g, _ := NewGeometry(1500, 2000, 1024)
	low := Masks{N: 1, H: 256, W: 256, Data: make([]float32, 256*256)}
	for i := range low.Data {
		low.Data[i] = float32(i%97) - 48
	}
	b.Run("postprocess", func(b *testing.B) {
		for b.Loop() {
			PostprocessMasks(low, g)
		}
	})
	b.Run("xdraw-bilinear-gray", func(b *testing.B) {
		in := image.NewGray(image.Rect(0, 0, 256, 256))
		for b.Loop() {
			out := image.NewGray(image.Rect(0, 0, 2000, 1500))
			draw.BiLinear.Scale(out, out.Bounds(), in, in.Bounds(), draw.Src, nil)
		}
	})
}
