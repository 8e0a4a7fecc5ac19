package medimg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// GIPL (Guy's Image Processing Lab, .gipl and .gipl.gz), read by hand (see
// the package doc): a 256-byte big-endian header, then the samples, x
// fastest. GIPL stores no orientation, so the direction is the identity.

const giplMagic = 0xefffe9b0

func giplFormat() Format {
	return Format{Name: "GIPL", Extensions: []string{".gipl", ".gipl.gz"},
		Read: func(path, _ string, lim Limits) (*Volume, error) {
			src, err := openSource(path, lim)
			if err != nil {
				return nil, err
			}
			defer src.Close()
			return decodeGIPL(src, src.present, src.most, lim)
		}}
}

// giplMaxPad bounds the bytes some writers put between the 256-byte header
// and the samples, in a compressed file (an uncompressed one is read from
// its end).
const giplMaxPad = 1 << 20

var giplTypes = map[uint16]string{7: "int8", 8: "uint8", 15: "int16", 16: "uint16", 31: "uint32", 32: "int32", 64: "float32", 65: "float64"}

// decodeGIPL reads a GIPL file from r, which holds present bytes (-1:
// unknown, a gzip stream) and at most most. The header's claims are checked against lim and
// present before the samples are read.
func decodeGIPL(r io.Reader, present, most int64, lim Limits) (*Volume, error) {
	raw := make([]byte, 256)
	if n, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("truncated header (%d bytes, need 256)", n)
	}
	be := binary.BigEndian
	if m := be.Uint32(raw[252:]); m != giplMagic {
		return nil, fmt.Errorf("bad magic number %#x", m)
	}
	size := [3]int{}
	for a := 0; a < 3; a++ {
		size[a] = int(be.Uint16(raw[2*a:]))
	}
	if t := be.Uint16(raw[6:]); t > 1 {
		return nil, errors.New("4-D GIPL data is not supported")
	}
	code := be.Uint16(raw[8:])
	dtype, ok := giplTypes[code]
	if !ok {
		return nil, fmt.Errorf("unsupported image type code %d", code)
	}
	v, err := newShape(size[0], size[1], size[2], 1, dtype)
	if err != nil {
		return nil, err
	}
	samples, ok := product(int64(size[0]), int64(size[1]), int64(size[2]))
	need := samples * int64(sampleSize(dtype))
	if err := lim.checkData(samples, 256+need, ok); err != nil {
		return nil, err
	}
	// The samples are the last bytes of the file (some writers pad the header).
	if present >= 0 {
		if present-256 < need {
			return nil, fmt.Errorf("truncated data: %d bytes after the header, %d needed", present-256, need)
		}
		if err := skipBytes(r, present-256-need); err != nil {
			return nil, err
		}
		if v.Data, err = readSamples(r, int(samples), dtype, be, need, need); err != nil {
			return nil, err
		}
	} else {
		if most-256 < need {
			return nil, fmt.Errorf("truncated data: the compressed file can hold at most %d bytes after the header, %d needed", most-256, need)
		}
		rest, err := readBounded(r, min(need+giplMaxPad, lim.MaxBytes), "GIPL data after the header")
		if err != nil {
			return nil, err
		}
		if int64(len(rest)) < need {
			return nil, fmt.Errorf("truncated data: %d bytes after the header, %d needed", len(rest), need)
		}
		if v.Data, err = decodeSamples(rest[int64(len(rest))-need:], int(samples), dtype, be); err != nil {
			return nil, err
		}
	}
	for a := 0; a < 3; a++ {
		s := float64(math.Float32frombits(be.Uint32(raw[10+4*a:])))
		if s > 0 && !math.IsInf(s, 0) {
			v.Spacing[a] = s
			v.SpacingKnown = true
		}
		o := math.Float64frombits(be.Uint64(raw[204+8*a:]))
		if !math.IsNaN(o) && !math.IsInf(o, 0) {
			v.Origin[a] = o
		}
	}
	return v, nil
}
