package imageproc

import (
	"fmt"
	"image"
)

// Masks is a stack of N single-channel H×W float32 maps (mask logits),
// row-major: map i, row y, column x is Data[(i*H+y)*W+x].
type Masks struct {
	N, H, W int
	Data    []float32
}

// Mask returns map i as a slice of H×W values (sharing Data).
func (m Masks) Mask(i int) []float32 {
	return m.Data[i*m.H*m.W : (i+1)*m.H*m.W]
}

// check verifies that Data matches the dimensions.
func (m Masks) check() error {
	if m.N <= 0 || m.H <= 0 || m.W <= 0 || len(m.Data) != m.N*m.H*m.W {
		return fmt.Errorf("imageproc: %d values do not make %d masks of %d×%d", len(m.Data), m.N, m.H, m.W)
	}
	return nil
}

// PostprocessMasks maps low-resolution mask logits to the original image,
// as Sam.postprocess_masks does: bilinear (align_corners=False) upsampling
// to the square InputSize, cropping to the resized image's ResizedH×ResizedW,
// then bilinear resizing to OriginalH×OriginalW. Only the cropped part of
// the square is computed.
func PostprocessMasks(lowRes Masks, g Geometry) (Masks, error) {
	if err := lowRes.check(); err != nil {
		return Masks{}, err
	}
	if g.ResizedH > g.InputSize || g.ResizedW > g.InputSize || g.ResizedH <= 0 || g.ResizedW <= 0 || g.OriginalH <= 0 || g.OriginalW <= 0 {
		return Masks{}, fmt.Errorf("imageproc: inconsistent geometry %+v", g)
	}
	out := Masks{N: lowRes.N, H: g.OriginalH, W: g.OriginalW, Data: make([]float32, lowRes.N*g.OriginalH*g.OriginalW)}
	up := newBilinear(lowRes.H, lowRes.W, g.InputSize, g.InputSize, g.ResizedH, g.ResizedW)
	down := newBilinear(g.ResizedH, g.ResizedW, g.OriginalH, g.OriginalW, g.OriginalH, g.OriginalW)
	cropped := make([]float32, g.ResizedH*g.ResizedW)
	for i := range lowRes.N {
		up.apply(lowRes.Mask(i), cropped)
		down.apply(cropped, out.Mask(i))
	}
	return out, nil
}

// linearAxis holds PyTorch's linear-interpolation indices and weights for
// one axis (upsample_bilinear2d, align_corners=False, no scale factor).
type linearAxis struct {
	i0, i1     []int
	l0, l1     []float32
	inputLimit int // inputs 0..inputLimit-1 are referenced
}

// newLinearAxis computes the first keep of out outputs of an in→out axis,
// in float32 like PyTorch's CPU kernel for float tensors.
func newLinearAxis(in, out, keep int) linearAxis {
	a := linearAxis{i0: make([]int, keep), i1: make([]int, keep), l0: make([]float32, keep), l1: make([]float32, keep)}
	ratio := float32(in) / float32(out)
	for o := range keep {
		if in == out {
			a.i0[o], a.i1[o], a.l0[o], a.l1[o] = o, o, 1, 0
		} else {
			src := float32(ratio*(float32(o)+0.5)) - 0.5
			src = max(src, 0)
			i0 := int(src)
			i1 := i0
			if i0 < in-1 {
				i1++
			}
			l1 := min(max(src-float32(i0), 0), 1)
			a.i0[o], a.i1[o], a.l0[o], a.l1[o] = i0, i1, 1-l1, l1
		}
		a.inputLimit = max(a.inputLimit, a.i1[o]+1)
	}
	return a
}

// bilinear resizes inH×inW maps to outH×outW and keeps the top-left
// keepH×keepW block.
type bilinear struct {
	inH, inW     int
	keepH, keepW int
	rows, cols   linearAxis
}

func newBilinear(inH, inW, outH, outW, keepH, keepW int) bilinear {
	return bilinear{inH: inH, inW: inW, keepH: keepH, keepW: keepW,
		rows: newLinearAxis(inH, outH, keepH), cols: newLinearAxis(inW, outW, keepW)}
}

// apply computes out = Σ hλ·(Σ wλ·in), widths first, as PyTorch evaluates
// h0λ·(w0λ·a + w1λ·b) + h1λ·(w0λ·c + w1λ·d).
func (b bilinear) apply(in, out []float32) {
	tmp := make([]float32, b.rows.inputLimit*b.keepW)
	c := b.cols
	for y := range b.rows.inputLimit {
		src := in[y*b.inW : (y+1)*b.inW]
		dst := tmp[y*b.keepW : (y+1)*b.keepW]
		for x := range dst {
			dst[x] = float32(c.l0[x]*src[c.i0[x]]) + float32(c.l1[x]*src[c.i1[x]])
		}
	}
	r := b.rows
	for y := range b.keepH {
		t0 := tmp[r.i0[y]*b.keepW : (r.i0[y]+1)*b.keepW]
		t1 := tmp[r.i1[y]*b.keepW : (r.i1[y]+1)*b.keepW]
		dst := out[y*b.keepW : (y+1)*b.keepW]
		l0, l1 := r.l0[y], r.l1[y]
		for x := range dst {
			dst[x] = float32(l0*t0[x]) + float32(l1*t1[x])
		}
	}
}

// Binary returns map i thresholded (value > threshold) as a grey image with
// 255 inside the mask and 0 outside. SAM's threshold is 0 on logits.
func (m Masks) Binary(i int, threshold float32) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, m.W, m.H))
	for j, v := range m.Mask(i) {
		if v > threshold {
			img.Pix[j] = 255
		}
	}
	return img
}
