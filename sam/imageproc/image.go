// Package imageproc does SAM's image pre- and post-processing on host memory: Pillow-exact resizing, normalisation, padding, prompt coordinates and mask upsampling.
package imageproc

import (
	"fmt"
	"image"
	"image/color"
)

// Image is an 8-bit RGB image: H rows of W pixels, each R, G, B (the layout
// of a NumPy H×W×3 uint8 array, which is what SamPredictor.set_image takes).
type Image struct {
	H, W int
	Pix  []uint8
}

// NewImage returns a black h×w image.
func NewImage(h, w int) *Image {
	return &Image{H: h, W: w, Pix: make([]uint8, 3*h*w)}
}

// NewImageFromPix wraps an H×W×3 uint8 buffer, checking its length.
func NewImageFromPix(h, w int, pix []uint8) (*Image, error) {
	if h <= 0 || w <= 0 || len(pix) != 3*h*w {
		return nil, fmt.Errorf("imageproc: %d bytes do not make a %d×%d RGB image", len(pix), h, w)
	}
	return &Image{H: h, W: w, Pix: pix}, nil
}

// GrayToRGB replicates a grey h×w image into the three channels, as MedSAM
// does for single-channel medical images.
func GrayToRGB(h, w int, gray []uint8) (*Image, error) {
	if h <= 0 || w <= 0 || len(gray) != h*w {
		return nil, fmt.Errorf("imageproc: %d bytes do not make a %d×%d grey image", len(gray), h, w)
	}
	out := NewImage(h, w)
	for i, v := range gray {
		out.Pix[3*i], out.Pix[3*i+1], out.Pix[3*i+2] = v, v, v
	}
	return out, nil
}

// FromImage converts any image.Image to RGB. Grey images (Gray, and Gray16
// reduced to its high byte) are replicated into the three channels; alpha
// is dropped (NRGBA keeps its straight colour; RGBA, being premultiplied,
// comes out as if composited over black); YCbCr (JPEG) uses Go's standard
// conversion. Other types go through color.NRGBAModel.
func FromImage(img image.Image) *Image {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	out := NewImage(h, w)
	switch src := img.(type) {
	case *image.Gray:
		for y := range h {
			row := src.Pix[(y)*src.Stride : y*src.Stride+w]
			for x, v := range row {
				o := 3 * (y*w + x)
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = v, v, v
			}
		}
	case *image.Gray16:
		for y := range h {
			row := src.Pix[y*src.Stride : y*src.Stride+2*w]
			for x := range w {
				v := row[2*x] // big-endian: the high byte
				o := 3 * (y*w + x)
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = v, v, v
			}
		}
	case *image.RGBA:
		copyRGB(out, src.Pix, src.Stride, h, w)
	case *image.NRGBA:
		copyRGB(out, src.Pix, src.Stride, h, w)
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi := src.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := src.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
				o := 3 * (y*w + x)
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = r, g, bl
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				o := 3 * (y*w + x)
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = c.R, c.G, c.B
			}
		}
	}
	return out
}

// copyRGB copies the R, G, B bytes of a 4-byte-per-pixel buffer whose Pix
// slice starts at the image's top-left pixel (as SubImage keeps it).
func copyRGB(out *Image, pix []uint8, stride, h, w int) {
	for y := range h {
		row := pix[y*stride : y*stride+4*w]
		for x := range w {
			o := 3 * (y*w + x)
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
}

// ToNRGBA returns the image as an opaque image.NRGBA (for drawing and PNG output).
func (im *Image) ToNRGBA() *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, im.W, im.H))
	for i := range im.H * im.W {
		out.Pix[4*i], out.Pix[4*i+1], out.Pix[4*i+2], out.Pix[4*i+3] = im.Pix[3*i], im.Pix[3*i+1], im.Pix[3*i+2], 255
	}
	return out
}
