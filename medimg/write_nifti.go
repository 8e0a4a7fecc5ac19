package medimg

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// The writers serve label volumes (the masks `synthfm serve` and MONAI
// Label return): they store uint8 samples only, on v's grid. They are
// written by hand from the NIfTI-1 and NRRD specifications, like the
// readers, and each is checked by a round trip through this package's
// reader.

// LabelBytes returns v's samples as uint8: rounded, and clamped to 0..255.
func LabelBytes(v *Volume) []byte {
	out := make([]byte, len(v.Data))
	for i, x := range v.Data {
		out[i] = uint8(max(0, min(255, math.Round(float64(x)))))
	}
	return out
}

// WriteNIfTI writes v as a single-file NIfTI-1 of uint8 samples (see
// LabelBytes), gzipped when gz is set, with both its qform and sform set
// from v's geometry (LPS here, RAS in NIfTI).
func WriteNIfTI(w io.Writer, v *Volume, gz bool) error {
	if v.Size[0] > math.MaxInt16 || v.Size[1] > math.MaxInt16 || v.Size[2] > math.MaxInt16 {
		return fmt.Errorf("NIfTI-1 cannot store a size of %v", v.Size)
	}
	hdr := make([]byte, 352)
	le := binary.LittleEndian
	put16 := func(off int, x int16) { le.PutUint16(hdr[off:], uint16(x)) }
	putF := func(off int, x float64) { le.PutUint32(hdr[off:], math.Float32bits(float32(x))) }
	le.PutUint32(hdr[0:], 348)
	put16(40, 3)
	for d := 0; d < 3; d++ {
		put16(42+2*d, int16(v.Size[d]))
	}
	for d := 3; d < 7; d++ {
		put16(42+2*d, 1)
	}
	put16(70, 2) // DT_UINT8
	put16(72, 8) // bitpix
	// RAS affine columns: a[r][c] for r, c in 0..2, translation t.
	var a [3][3]float64
	var t [3]float64
	for r := 0; r < 3; r++ {
		sign := 1.0
		if r < 2 {
			sign = -1 // LPS → RAS
		}
		for c := 0; c < 3; c++ {
			a[r][c] = sign * v.Direction[r][c] * v.Spacing[c]
		}
		t[r] = sign * v.Origin[r]
	}
	// qform: rotation R (columns = unit axes), qfac for a left-handed frame.
	var rot [3][3]float64
	for c := 0; c < 3; c++ {
		n := math.Sqrt(a[0][c]*a[0][c] + a[1][c]*a[1][c] + a[2][c]*a[2][c])
		if n == 0 {
			n = 1
		}
		for r := 0; r < 3; r++ {
			rot[r][c] = a[r][c] / n
		}
	}
	qfac := 1.0
	if det3(rot) < 0 {
		qfac = -1
		for r := 0; r < 3; r++ {
			rot[r][2] = -rot[r][2]
		}
	}
	qb, qc, qd := rotationQuaternion(rot)
	putF(76, qfac)
	for d := 0; d < 3; d++ {
		putF(80+4*d, v.Spacing[d])
	}
	putF(108, 352) // vox_offset
	putF(112, 1)   // scl_slope
	hdr[123] = 2   // xyzt_units: millimetres
	putF(124, 1)   // cal_max: labels are 0/1
	copy(hdr[148:228], "synthfm label")
	put16(252, 1) // qform_code: scanner
	put16(254, 1) // sform_code: scanner
	putF(256, qb)
	putF(260, qc)
	putF(264, qd)
	for r := 0; r < 3; r++ {
		putF(268+4*r, t[r])
		for c := 0; c < 3; c++ {
			putF(280+16*r+4*c, a[r][c])
		}
		putF(280+16*r+12, t[r])
	}
	copy(hdr[344:], "n+1\x00")
	return writeMaybeGzip(w, gz, hdr, LabelBytes(v))
}

func det3(m [3][3]float64) float64 {
	return m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) -
		m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
		m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
}

// rotationQuaternion returns (b, c, d) of the unit quaternion (a, b, c, d),
// a >= 0, of a proper rotation matrix, choosing the numerically safest of
// the four classic formulas.
func rotationQuaternion(m [3][3]float64) (b, c, d float64) {
	tr := m[0][0] + m[1][1] + m[2][2]
	var a float64
	switch {
	case tr > 0:
		s := 2 * math.Sqrt(1+tr)
		a, b, c, d = s/4, (m[2][1]-m[1][2])/s, (m[0][2]-m[2][0])/s, (m[1][0]-m[0][1])/s
	case m[0][0] > m[1][1] && m[0][0] > m[2][2]:
		s := 2 * math.Sqrt(1+m[0][0]-m[1][1]-m[2][2])
		a, b, c, d = (m[2][1]-m[1][2])/s, s/4, (m[0][1]+m[1][0])/s, (m[0][2]+m[2][0])/s
	case m[1][1] > m[2][2]:
		s := 2 * math.Sqrt(1+m[1][1]-m[0][0]-m[2][2])
		a, b, c, d = (m[0][2]-m[2][0])/s, (m[0][1]+m[1][0])/s, s/4, (m[1][2]+m[2][1])/s
	default:
		s := 2 * math.Sqrt(1+m[2][2]-m[0][0]-m[1][1])
		a, b, c, d = (m[1][0]-m[0][1])/s, (m[0][2]+m[2][0])/s, (m[1][2]+m[2][1])/s, s/4
	}
	if a < 0 {
		b, c, d = -b, -c, -d
	}
	return b, c, d
}

// writeMaybeGzip writes the parts to w, as one gzip stream when gz is set.
// The compressed bytes are buffered so that w sees one write.
func writeMaybeGzip(w io.Writer, gz bool, parts ...[]byte) error {
	if !gz {
		for _, p := range parts {
			if _, err := w.Write(p); err != nil {
				return err
			}
		}
		return nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	for _, p := range parts {
		if _, err := zw.Write(p); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
