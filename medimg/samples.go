package medimg

import (
	"encoding/binary"
	"fmt"
	"math"
)

// sampleSize returns the bytes per sample of a dtype name.
func sampleSize(dtype string) int {
	switch dtype {
	case "uint8", "int8":
		return 1
	case "uint16", "int16":
		return 2
	case "uint32", "int32", "float32":
		return 4
	case "uint64", "int64", "float64":
		return 8
	}
	return 0
}

// decodeSamples converts n samples of dtype from raw (in byte order bo)
// into float32. It fails when raw is shorter than needed.
func decodeSamples(raw []byte, n int, dtype string, bo binary.ByteOrder) ([]float32, error) {
	size := sampleSize(dtype)
	if size == 0 {
		return nil, fmt.Errorf("unsupported sample type %q", dtype)
	}
	if n < 0 || len(raw)/size < n {
		return nil, fmt.Errorf("truncated data: %d bytes for %d %s samples (%d needed)", len(raw), n, dtype, n*size)
	}
	out := make([]float32, n)
	convertSamples(out, raw, dtype, bo)
	return out, nil
}

// setAffine fills spacing, direction and origin from a 3×4 affine in LPS
// whose columns are the axis steps (direction × spacing).
func (v *Volume) setAffine(m [3][4]float64) error {
	for c := 0; c < 3; c++ {
		norm := math.Sqrt(m[0][c]*m[0][c] + m[1][c]*m[1][c] + m[2][c]*m[2][c])
		if norm == 0 || math.IsNaN(norm) || math.IsInf(norm, 0) {
			return fmt.Errorf("degenerate orientation matrix (axis %d has length %v)", c, norm)
		}
		v.Spacing[c] = norm
		for r := 0; r < 3; r++ {
			v.Direction[r][c] = m[r][c] / norm
		}
	}
	for r := 0; r < 3; r++ {
		v.Origin[r] = m[r][3]
	}
	v.SpacingKnown = true
	return nil
}
