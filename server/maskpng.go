package server

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
)

// encodeMaskPNG writes a 0/1 mask as an 8-bit grey PNG, 255 inside.
func encodeMaskPNG(w io.Writer, width, height int, pix []uint8) error {
	g := image.NewGray(image.Rect(0, 0, width, height))
	for i, v := range pix {
		if v != 0 {
			g.Pix[i] = 255
		}
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, g)
}

// maskDataURL returns the mask as a data: URL of a PNG, for the JSON API.
func maskDataURL(m Mask) (string, error) {
	var buf bytes.Buffer
	if err := encodeMaskPNG(&buf, m.Width, m.Height, m.Pix); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// decodeMaskDataURL reads a mask sent as a data: URL of a PNG (as
// maskDataURL writes them) of the given size. The request body that holds
// it is already bounded.
func decodeMaskDataURL(url string, width, height int) ([]uint8, error) {
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(url, prefix) {
		return nil, errorf(http.StatusBadRequest, "previous mask must be a data:image/png;base64 URL, as predict returns masks")
	}
	raw, err := base64.StdEncoding.DecodeString(url[len(prefix):])
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "previous mask: %v", err)
	}
	return decodeMaskPNG(bytes.NewReader(raw), width, height)
}

// decodeMaskPNG reads a PNG mask of the given size: a pixel is inside when
// its grey level (or, for pictures with alpha, its opacity) is at least 128.
//
// The PNG's header is checked against the slice's size before its pixels
// are decoded: a small PNG may claim 20000×20000 pixels.
func decodeMaskPNG(r io.Reader, width, height int) ([]uint8, error) {
	raw, err := io.ReadAll(r) // bounded by the caller's MaxBytesReader
	if err != nil {
		return nil, err
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "mask is not a PNG: %v", err)
	}
	if cfg.Width != width || cfg.Height != height {
		return nil, errorf(http.StatusBadRequest, "mask is %dx%d, the slice is %dx%d", cfg.Width, cfg.Height, width, height)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "mask is not a PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != width || b.Dy() != height {
		return nil, errorf(http.StatusBadRequest, "mask is %dx%d, the slice is %dx%d", b.Dx(), b.Dy(), width, height)
	}
	out := make([]uint8, width*height)
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			lum := (r + g + bl) / 3
			if _, opaque := img.(*image.Gray); !opaque && a < 0xffff {
				lum = a
			}
			if lum >= 128*257 {
				out[y*width+x] = 1
			}
		}
	}
	return out, nil
}

// encodeImagePNG writes an RGB image as a PNG (grey when all channels are
// equal, which is smaller).
func encodeImagePNG(w io.Writer, img Image) error {
	grey := true
	for i := 0; i < len(img.Pix) && grey; i += 3 {
		grey = img.Pix[i] == img.Pix[i+1] && img.Pix[i] == img.Pix[i+2]
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if grey {
		g := image.NewGray(image.Rect(0, 0, img.Width, img.Height))
		for p := range g.Pix {
			g.Pix[p] = img.Pix[3*p]
		}
		return enc.Encode(w, g)
	}
	rgba := image.NewNRGBA(image.Rect(0, 0, img.Width, img.Height))
	for p := 0; p < img.Width*img.Height; p++ {
		copy(rgba.Pix[4*p:4*p+3], img.Pix[3*p:3*p+3])
		rgba.Pix[4*p+3] = 255
	}
	if err := enc.Encode(w, rgba); err != nil {
		return fmt.Errorf("encoding slice: %w", err)
	}
	return nil
}
