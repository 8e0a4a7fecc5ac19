package medimg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registered with package image for DecodeImage
	_ "image/png"
	"io"

	_ "golang.org/x/image/tiff"
)

// TIFF with signed 16-bit grey (SampleFormat 2, as label maps are often
// saved) is refused by golang.org/x/image/tiff: DecodeImage rewrites the
// tag to unsigned in its copy of the file and reinterprets the decoded
// values as two's complement.

// markTIFFUnsigned rewrites an inline SampleFormat=2 (signed integer) tag of
// the first IFD to 1 and reports whether it did.
func markTIFFUnsigned(raw []byte) bool {
	if len(raw) < 8 {
		return false
	}
	var bo binary.ByteOrder
	switch string(raw[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return false
	}
	off := int(bo.Uint32(raw[4:]))
	if off <= 0 || off+2 > len(raw) {
		return false
	}
	n := int(bo.Uint16(raw[off:]))
	for e := 0; e < n; e++ {
		p := off + 2 + 12*e
		if p+12 > len(raw) {
			return false
		}
		const sampleFormat, typeShort = 339, 3
		if bo.Uint16(raw[p:]) != sampleFormat || bo.Uint16(raw[p+2:]) != typeShort || bo.Uint32(raw[p+4:]) > 2 {
			continue
		}
		signed := false
		for s := 0; s < int(bo.Uint32(raw[p+4:])); s++ {
			if v := raw[p+8+2*s:]; bo.Uint16(v) == 2 {
				bo.PutUint16(v, 1)
				signed = true
			}
		}
		return signed
	}
	return false
}

// signedGray16 marks a Gray16 picture whose samples are two's complement.
type signedGray16 struct{ *image.Gray16 }

// PNG and JPEG (standard library) and TIFF including 16-bit grey
// (golang.org/x/image/tiff, first page only). A picture becomes a volume
// with Size[2] = 1, i along columns and j along rows; grey pictures have one
// channel, colour pictures three (alpha is dropped).

func rasterFormats() []Format {
	mk := func(name, magic string, exts []string) Format {
		return Format{Name: name, Extensions: exts, Magic: magic,
			Read: func(path, _ string, lim Limits) (*Volume, error) {
				f, _, err := openRegular(path)
				if err != nil {
					return nil, err
				}
				defer f.Close()
				img, _, err := DecodeImage(f, lim)
				if err != nil {
					return nil, err
				}
				return FromImage(img)
			}}
	}
	return []Format{
		mk("PNG", "\x89PNG\r\n\x1a\n", []string{".png"}),
		mk("JPEG", "\xff\xd8", []string{".jpg", ".jpeg"}),
		mk("TIFF", "II*\x00", []string{".tif", ".tiff"}),
		mk("TIFF", "MM\x00*", nil),
	}
}

// DecodeImage decodes a picture in any format registered with package image
// (PNG, JPEG and TIFF here; signed 16-bit grey TIFF included) within lim:
// it reads at most lim.MaxBytes of r, and image.DecodeConfig's width and
// height must fit lim (samples as FromImage makes them: one a pixel for
// grey, three for colour; and the decoded picture's bytes) before anything
// decodes the pixels. A 440 KB PNG of 20000×20000 pixels is refused after
// reading its header, instead of allocating gigabytes.
func DecodeImage(r io.Reader, lim Limits) (image.Image, string, error) {
	lim = lim.orDefault()
	raw, err := readBounded(r, lim.MaxBytes, "picture file")
	if err != nil {
		return nil, "", err
	}
	signed := false
	if len(raw) >= 4 && (string(raw[:4]) == "II*\x00" || string(raw[:4]) == "MM\x00*") {
		signed = markTIFFUnsigned(raw)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, "", err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, format, fmt.Errorf("%s picture of %dx%d pixels is empty", format, cfg.Width, cfg.Height)
	}
	channels, depth := int64(3), int64(4)
	switch cfg.ColorModel {
	case color.GrayModel:
		channels, depth = 1, 1
	case color.Gray16Model:
		channels, depth = 1, 2
	case color.RGBA64Model, color.NRGBA64Model:
		depth = 8
	}
	pixels, ok := product(int64(cfg.Width), int64(cfg.Height))
	samples, _ := product(pixels, channels)
	decoded, _ := product(pixels, depth)
	if err := lim.checkData(samples, decoded, ok); err != nil {
		return nil, format, fmt.Errorf("%s picture of %dx%d pixels: %w", format, cfg.Width, cfg.Height, err)
	}
	img, format, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, format, err
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, format, fmt.Errorf("%s picture decodes to %dx%d pixels, its header says %dx%d", format, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	if signed {
		g, ok := img.(*image.Gray16)
		if !ok {
			return nil, format, errors.New("signed samples are supported for 16-bit grey only")
		}
		return signedGray16{g}, format, nil
	}
	return img, format, nil
}

// FromImage converts a decoded picture into a volume.
func FromImage(img image.Image) (*Volume, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	channels, dtype := 3, "uint8"
	if sg, ok := img.(signedGray16); ok {
		v, err := FromImage(sg.Gray16)
		if err != nil {
			return nil, err
		}
		for i, x := range v.Data {
			v.Data[i] = float32(int16(uint16(x)))
		}
		v.DType = "int16"
		return v, nil
	}
	switch img.(type) {
	case *image.Gray:
		channels = 1
	case *image.Gray16:
		channels, dtype = 1, "uint16"
	case *image.RGBA64, *image.NRGBA64:
		dtype = "uint16"
	}
	v, err := NewVolume(w, h, 1, channels, dtype)
	if err != nil {
		return nil, err
	}
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			switch src := img.(type) {
			case *image.Gray:
				v.Data[i] = float32(src.GrayAt(x, y).Y)
			case *image.Gray16:
				v.Data[i] = float32(src.Gray16At(x, y).Y)
			default:
				c := color.NRGBA64Model.Convert(img.At(x, y)).(color.NRGBA64)
				div := float32(257) // 16-bit → 8-bit
				if dtype == "uint16" {
					div = 1
				}
				v.Data[i] = float32(c.R) / div
				v.Data[i+1] = float32(c.G) / div
				v.Data[i+2] = float32(c.B) / div
			}
			i += channels
		}
	}
	return v, nil
}
