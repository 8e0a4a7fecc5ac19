package medimg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// GIPL (Guy's Image Processing Lab, .gipl and .gipl.gz), read by hand (see
// the package doc): a 256-byte big-endian header, then the samples, x
// fastest. GIPL stores no orientation, so the direction is the identity.

const giplMagic = 0xefffe9b0

func giplFormat() Format {
	return Format{Name: "GIPL", Extensions: []string{".gipl", ".gipl.gz"},
		Read: func(path, _ string) (*Volume, error) {
			raw, err := readMaybeGzip(path)
			if err != nil {
				return nil, err
			}
			return decodeGIPL(raw)
		}}
}

var giplTypes = map[uint16]string{7: "int8", 8: "uint8", 15: "int16", 16: "uint16", 31: "uint32", 32: "int32", 64: "float32", 65: "float64"}

func decodeGIPL(raw []byte) (*Volume, error) {
	if len(raw) < 256 {
		return nil, fmt.Errorf("truncated header (%d bytes, need 256)", len(raw))
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
	v, err := NewVolume(size[0], size[1], size[2], 1, dtype)
	if err != nil {
		return nil, err
	}
	need := v.Voxels() * sampleSize(dtype)
	if len(raw)-256 < need {
		return nil, fmt.Errorf("truncated data: %d bytes after the header, %d needed", len(raw)-256, need)
	}
	// The samples are the last bytes of the file (some writers pad the header).
	if v.Data, err = decodeSamples(raw[len(raw)-need:], v.Voxels(), dtype, be); err != nil {
		return nil, err
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
