package dataset

import (
	"image"
	"math"

	"golang.org/x/image/draw"
)

// ResizeSquare resizes a grey image to size×size with bicubic (Catmull-Rom)
// interpolation, anti-aliased when shrinking (the kernel widens with the
// scale), as MedSAM resizes every slice to 1024×1024. MedSAM uses
// skimage's order-3 spline with Gaussian anti-aliasing; the two agree to a
// few grey levels away from sharp edges.
func ResizeSquare(img *image.Gray, size int) *image.Gray {
	out := image.NewGray(image.Rect(0, 0, size, size))
	draw.CatmullRom.Scale(out, out.Bounds(), img, img.Bounds(), draw.Src, nil)
	return out
}

// ResizeLongestSide scales img so that its longest side is target (bicubic,
// anti-aliased) and pads the bottom and right with zeros to target×target,
// as the SAM predictor does; it returns the scale factor applied.
func ResizeLongestSide(img *image.Gray, target int) (*image.Gray, float64) {
	b := img.Bounds()
	scale := float64(target) / float64(max(b.Dx(), b.Dy()))
	w, h := int(math.Round(float64(b.Dx())*scale)), int(math.Round(float64(b.Dy())*scale))
	out := image.NewGray(image.Rect(0, 0, target, target))
	draw.CatmullRom.Scale(out, image.Rect(0, 0, w, h), img, b, draw.Src, nil)
	return out, scale
}

// ResizeMask resizes a mask to w×h by nearest neighbour (MedSAM's order 0).
func ResizeMask(mask *image.Gray, w, h int) *image.Gray {
	out := image.NewGray(image.Rect(0, 0, w, h))
	draw.NearestNeighbor.Scale(out, out.Bounds(), mask, mask.Bounds(), draw.Src, nil)
	return out
}

// MedSAMInput returns MedSAM's encoder input for a grey slice: the square
// size×size bicubic resize, replicated to 3 channels (height × width ×
// channel order) and min–max normalised to [0,1] (denominator at least 1e-8).
func MedSAMInput(img *image.Gray, size int) []float32 {
	r := ResizeSquare(img, size)
	lo, hi := 255.0, 0.0
	for _, v := range r.Pix {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	den := math.Max(hi-lo, 1e-8)
	out := make([]float32, 0, size*size*3)
	for _, v := range r.Pix {
		x := float32((float64(v) - lo) / den)
		out = append(out, x, x, x)
	}
	return out
}
