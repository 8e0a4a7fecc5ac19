package imageproc

import (
	"fmt"
	"math"
)

// SAM resizes with torchvision, which hands uint8 images to Pillow's
// Image.resize(BILINEAR). To reproduce its bytes exactly this file follows
// Pillow 9.4's algorithm as the shared fixture README describes it:
// separable passes (horizontal, then vertical; an axis whose size does not
// change is skipped), each rounding to uint8; a triangle filter widened by
// the scale when downscaling (antialiasing); weights normalised, then fixed
// point with 22 fractional bits. golang.org/x/image/draw's bilinear scaler
// uses other weights and rounding, hence this implementation.

// precisionBits is Pillow's fixed-point precision for 8-bit resampling.
const precisionBits = 32 - 8 - 2

// axisWeights holds the fixed-point filter of one axis: output i reads
// inputs start[i] .. start[i]+count[i]-1 with weights k[i*ksize : ...].
type axisWeights struct {
	ksize int
	start []int
	count []int
	k     []int32
}

// bilinearWeights computes Pillow's bilinear filter for resizing an axis of
// in pixels to out pixels.
func bilinearWeights(in, out int) axisWeights {
	scale := float64(in) / float64(out)
	filterScale := max(scale, 1)
	support := 1.0 * filterScale // the triangle filter's support is 1
	ksize := int(math.Ceil(support))*2 + 1
	aw := axisWeights{ksize: ksize, start: make([]int, out), count: make([]int, out), k: make([]int32, out*ksize)}
	ss := 1.0 / filterScale
	pre := make([]float64, ksize)
	for i := range out {
		center := (float64(i) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), in) - xmin
		var sum float64
		for x := range xmax {
			w := 1 - abs((float64(x+xmin)-center+0.5)*ss)
			w = max(w, 0)
			pre[x] = w
			sum += w
		}
		for x := range xmax {
			v := pre[x]
			if sum != 0 {
				v /= sum
			}
			// round half away from zero, as Pillow's normalize_coeffs_8bpc
			if v < 0 {
				aw.k[i*ksize+x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				aw.k[i*ksize+x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		aw.start[i], aw.count[i] = xmin, xmax
	}
	return aw
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// clip8 converts a fixed-point accumulator to a byte.
func clip8(acc int32) uint8 {
	v := acc >> precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// Resizer resizes images of one size to another, with the filter weights
// computed once (an interactive server resizes every image it is given).
// A Resizer is immutable and safe for concurrent use.
type Resizer struct {
	inH, inW, outH, outW int
	horiz, vert          axisWeights
}

// NewResizer prepares a Pillow-bilinear resize from inH×inW to outH×outW.
func NewResizer(inH, inW, outH, outW int) (*Resizer, error) {
	if inH <= 0 || inW <= 0 || outH <= 0 || outW <= 0 {
		return nil, fmt.Errorf("imageproc: cannot resize %d×%d to %d×%d", inH, inW, outH, outW)
	}
	r := &Resizer{inH: inH, inW: inW, outH: outH, outW: outW}
	if inW != outW {
		r.horiz = bilinearWeights(inW, outW)
	}
	if inH != outH {
		r.vert = bilinearWeights(inH, outH)
	}
	return r, nil
}

// Resize returns src resized; src must have the Resizer's input size.
func (r *Resizer) Resize(src *Image) (*Image, error) {
	if src.H != r.inH || src.W != r.inW || len(src.Pix) != 3*src.H*src.W {
		return nil, fmt.Errorf("imageproc: resizer expects %d×%d, got a %d×%d image", r.inH, r.inW, src.H, src.W)
	}
	cur := src
	if r.inW != r.outW {
		cur = r.resizeHorizontal(cur)
	}
	if r.inH != r.outH {
		cur = r.resizeVertical(cur)
	}
	if cur == src {
		cur = &Image{H: src.H, W: src.W, Pix: append([]uint8(nil), src.Pix...)}
	}
	return cur, nil
}

func (r *Resizer) resizeHorizontal(src *Image) *Image {
	out := NewImage(src.H, r.outW)
	aw := r.horiz
	const half = int32(1) << (precisionBits - 1)
	for y := range src.H {
		in := src.Pix[3*y*src.W : 3*(y+1)*src.W]
		o := out.Pix[3*y*r.outW : 3*(y+1)*r.outW]
		for xx := range r.outW {
			n := aw.count[xx]
			k := aw.k[xx*aw.ksize : xx*aw.ksize+n]
			p := in[3*aw.start[xx] : 3*(aw.start[xx]+n)]
			s0, s1, s2 := half, half, half
			for x, w := range k {
				q := p[3*x : 3*x+3 : 3*x+3]
				s0 += int32(q[0]) * w
				s1 += int32(q[1]) * w
				s2 += int32(q[2]) * w
			}
			o[3*xx], o[3*xx+1], o[3*xx+2] = clip8(s0), clip8(s1), clip8(s2)
		}
	}
	return out
}

func (r *Resizer) resizeVertical(src *Image) *Image {
	out := NewImage(r.outH, src.W)
	aw := r.vert
	rowLen := 3 * src.W
	acc := make([]int32, rowLen)
	const half = int32(1) << (precisionBits - 1)
	for yy := range r.outH {
		for i := range acc {
			acc[i] = half
		}
		k := aw.k[yy*aw.ksize : yy*aw.ksize+aw.count[yy]]
		for y, w := range k {
			row := src.Pix[(aw.start[yy]+y)*rowLen : (aw.start[yy]+y+1)*rowLen]
			for i, v := range row {
				acc[i] += int32(v) * w
			}
		}
		o := out.Pix[yy*rowLen : (yy+1)*rowLen]
		for i, a := range acc {
			o[i] = clip8(a)
		}
	}
	return out
}

// Resize resizes src to outH×outW with Pillow's bilinear filter.
func Resize(src *Image, outH, outW int) (*Image, error) {
	r, err := NewResizer(src.H, src.W, outH, outW)
	if err != nil {
		return nil, err
	}
	return r.Resize(src)
}

// LongestSideSize is the size ResizeLongestSide gives an h×w image for a
// target long side: SAM's get_preprocess_shape, (int(h·s+0.5), int(w·s+0.5))
// with s = target/max(h, w).
func LongestSideSize(h, w, target int) (int, int) {
	scale := float64(target) / float64(max(h, w))
	return int(float64(h)*scale + 0.5), int(float64(w)*scale + 0.5)
}

// ResizeLongestSide resizes src so that its longer side is target pixels,
// as segment_anything's ResizeLongestSide.apply_image does.
func ResizeLongestSide(src *Image, target int) (*Image, error) {
	h, w := LongestSideSize(src.H, src.W, target)
	return Resize(src, h, w)
}
