package clicknet

import (
	"fmt"
	"math"
)

// Point is a click in the input frame: continuous coordinates where pixel
// (i, j) covers [i, i+1) × [j, j+1), so its centre is (i+0.5, j+0.5).
type Point struct {
	X, Y     float64
	Positive bool
}

// Box is a box prompt in the input frame (continuous coordinates, corners
// included).
type Box struct{ X0, Y0, X1, Y1 float64 }

// Frame is one model input: the grey image resized into the top-left
// ResizedH×ResizedW part of an S×S square (the rest is padding).
type Frame struct {
	Size               int       // S, the model's input size
	ResizedH, ResizedW int       // the image's part of the square
	Image              []float32 // S×S grey values in [0,1], 0 on the padding
}

// minStd keeps the image standardisation from amplifying the noise of a
// nearly flat image.
const minStd = 0.05

// Encode writes the network input for one prompt into dst [S·S·Channels]
// (channels-last, allocated when dst is too short) and returns it. prev is
// the previous prediction [S·S] (0/1, see Binarise) or nil; box may be nil.
func (f Frame) Encode(dst []float32, points []Point, box *Box, prev []float32, radius float64) ([]float32, error) {
	s := f.Size
	if len(f.Image) != s*s || f.ResizedH < 1 || f.ResizedW < 1 || f.ResizedH > s || f.ResizedW > s {
		return nil, fmt.Errorf("clicknet: frame of %d values, size %d, image %d×%d", len(f.Image), s, f.ResizedH, f.ResizedW)
	}
	if prev != nil && len(prev) != s*s {
		return nil, fmt.Errorf("clicknet: previous mask of %d values for a %d² input", len(prev), s)
	}
	n := s * s * Channels
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	clear(dst)
	// Standardise the image over its valid part.
	var sum, sq float64
	for y := range f.ResizedH {
		for _, v := range f.Image[y*s : y*s+f.ResizedW] {
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
	}
	count := float64(f.ResizedH * f.ResizedW)
	mean := sum / count
	std := max(math.Sqrt(max(sq/count-mean*mean, 0)), minStd)
	for y := range f.ResizedH {
		for x := range f.ResizedW {
			i := y*s + x
			dst[i*Channels+ChImage] = float32((float64(f.Image[i]) - mean) / std)
			dst[i*Channels+ChValid] = 1
		}
	}
	for _, p := range points {
		ch := ChNegative
		if p.Positive {
			ch = ChPositive
		}
		paintDisk(dst, s, ch, p.X, p.Y, radius)
	}
	if box != nil {
		x0, x1 := clampInt(int(math.Floor(box.X0)), 0, s-1), clampInt(int(math.Ceil(box.X1))-1, 0, s-1)
		y0, y1 := clampInt(int(math.Floor(box.Y0)), 0, s-1), clampInt(int(math.Ceil(box.Y1))-1, 0, s-1)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				dst[(y*s+x)*Channels+ChBox] = 1
			}
		}
	}
	if prev != nil {
		for i, v := range prev {
			dst[i*Channels+ChPrevious] = v
		}
	}
	return dst, nil
}

// paintDisk sets channel ch to 1 on every pixel whose centre lies within r
// of (cx, cy), and on the pixel containing (cx, cy) in any case.
func paintDisk(dst []float32, s, ch int, cx, cy, r float64) {
	px, py := clampInt(int(math.Floor(cx)), 0, s-1), clampInt(int(math.Floor(cy)), 0, s-1)
	dst[(py*s+px)*Channels+ch] = 1
	x0, x1 := clampInt(int(math.Floor(cx-r)), 0, s-1), clampInt(int(math.Ceil(cx+r)), 0, s-1)
	y0, y1 := clampInt(int(math.Floor(cy-r)), 0, s-1), clampInt(int(math.Ceil(cy+r)), 0, s-1)
	for y := y0; y <= y1; y++ {
		dy := float64(y) + 0.5 - cy
		for x := x0; x <= x1; x++ {
			dx := float64(x) + 0.5 - cx
			if dx*dx+dy*dy <= r*r {
				dst[(y*s+x)*Channels+ch] = 1
			}
		}
	}
}

func clampInt(v, lo, hi int) int { return min(max(v, lo), hi) }

// Binarise returns the mask logits > 0 as 0/1 values (the previous-mask
// channel's encoding), reusing dst when it is large enough.
func Binarise(dst, logits []float32) []float32 {
	if cap(dst) < len(logits) {
		dst = make([]float32, len(logits))
	}
	dst = dst[:len(logits)]
	for i, v := range logits {
		dst[i] = 0
		if v > 0 {
			dst[i] = 1
		}
	}
	return dst
}
