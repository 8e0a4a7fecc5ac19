package imageproc

import "fmt"

// Normalization selects how pixel values become model inputs.
type Normalization int

const (
	// MeanStd is SAM's Sam.preprocess: (x − pixel_mean) / pixel_std per channel.
	MeanStd Normalization = iota
	// UnitRange is MedSAM's input: the image min–max scaled to [0, 1]
	// (over all pixels and channels; a constant image becomes 0).
	UnitRange
)

// Preprocessor turns an image into SAM's model input: longest side resized
// to InputSize, normalised, zero-padded at the bottom and right to an
// InputSize square, as a 3×InputSize×InputSize channels-first float32 array.
type Preprocessor struct {
	InputSize           int
	PixelMean, PixelStd [3]float32
	Normalization       Normalization
}

// NewPreprocessor returns SAM's preprocessing for a square input of the
// given side (1024 for the released models), with SAM's pixel statistics
// (RGB, 0–255 scale, from build_sam.py).
func NewPreprocessor(inputSize int) Preprocessor {
	return Preprocessor{
		InputSize: inputSize,
		PixelMean: [3]float32{123.675, 116.28, 103.53},
		PixelStd:  [3]float32{58.395, 57.12, 57.375},
	}
}

// Prepare resizes, normalises and pads img; the Geometry it returns maps
// prompts in and masks out.
func (p Preprocessor) Prepare(img *Image) ([]float32, Geometry, error) {
	g, err := NewGeometry(img.H, img.W, p.InputSize)
	if err != nil {
		return nil, Geometry{}, err
	}
	resized, err := Resize(img, g.ResizedH, g.ResizedW)
	if err != nil {
		return nil, Geometry{}, err
	}
	input, err := p.NormalizePad(resized)
	if err != nil {
		return nil, Geometry{}, err
	}
	return input, g, nil
}

// NormalizePad normalises an already resized image and zero-pads it to the
// square input (the padding is 0 after normalisation, as in Sam.preprocess).
// The arithmetic is float32, like PyTorch's.
func (p Preprocessor) NormalizePad(resized *Image) ([]float32, error) {
	s := p.InputSize
	if resized.H > s || resized.W > s || resized.H <= 0 || resized.W <= 0 {
		return nil, fmt.Errorf("imageproc: a %d×%d image does not fit the %d×%d input", resized.H, resized.W, s, s)
	}
	var scale, shift [3]float32 // value = (x - shift) / scale
	switch p.Normalization {
	case MeanStd:
		for c := range 3 {
			if p.PixelStd[c] == 0 {
				return nil, fmt.Errorf("imageproc: pixel std of channel %d is 0", c)
			}
			shift[c], scale[c] = p.PixelMean[c], p.PixelStd[c]
		}
	case UnitRange:
		lo, hi := uint8(255), uint8(0)
		for _, v := range resized.Pix {
			lo, hi = min(lo, v), max(hi, v)
		}
		rng := float32(hi) - float32(lo)
		if rng == 0 {
			rng = 1 // a constant image maps to 0
		}
		for c := range 3 {
			shift[c], scale[c] = float32(lo), rng
		}
	default:
		return nil, fmt.Errorf("imageproc: unknown normalization %d", p.Normalization)
	}
	out := make([]float32, 3*s*s)
	w := resized.W
	for c := range 3 {
		plane := out[c*s*s : (c+1)*s*s]
		for y := range resized.H {
			row := plane[y*s : y*s+w]
			in := resized.Pix[3*y*w:]
			for x := range row {
				row[x] = (float32(in[3*x+c]) - shift[c]) / scale[c]
			}
		}
	}
	return out, nil
}

// Geometry records how an original image maps onto the model input.
type Geometry struct {
	OriginalH, OriginalW int // the image as given
	ResizedH, ResizedW   int // after ResizeLongestSide: SAM's input_size
	InputSize            int // side of the padded square input (img_size)
}

// NewGeometry computes the resized size of an origH×origW image for a
// square model input of side inputSize.
func NewGeometry(origH, origW, inputSize int) (Geometry, error) {
	if origH <= 0 || origW <= 0 || inputSize <= 0 {
		return Geometry{}, fmt.Errorf("imageproc: bad sizes: image %d×%d, input %d", origH, origW, inputSize)
	}
	h, w := LongestSideSize(origH, origW, inputSize)
	if h == 0 || w == 0 {
		return Geometry{}, fmt.Errorf("imageproc: a %d×%d image is too elongated for a %d input", origH, origW, inputSize)
	}
	return Geometry{OriginalH: origH, OriginalW: origW, ResizedH: h, ResizedW: w, InputSize: inputSize}, nil
}

// Point maps (x, y) in original-image pixels to the model input frame as
// ResizeLongestSide.apply_coords does (x·new_w/old_w, y·new_h/old_h in
// float64), then to float32 as SamPredictor.predict passes it on. The
// +0.5 pixel-centre shift belongs to the prompt encoder, not here.
func (g Geometry) Point(x, y float64) (float32, float32) {
	sx := float64(g.ResizedW) / float64(g.OriginalW)
	sy := float64(g.ResizedH) / float64(g.OriginalH)
	return float32(x * sx), float32(y * sy)
}

// Box maps a box (x0, y0, x1, y1) like apply_boxes: as two corner points.
func (g Geometry) Box(x0, y0, x1, y1 float64) [4]float32 {
	a, b := g.Point(x0, y0)
	c, d := g.Point(x1, y1)
	return [4]float32{a, b, c, d}
}
