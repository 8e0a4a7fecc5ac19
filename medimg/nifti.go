package medimg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// NIfTI-1 (.nii, .nii.gz), read by hand (see the package doc). World
// coordinates are converted from NIfTI's RAS+ to LPS.

func niftiFormat() Format {
	return Format{Name: "NIfTI", Extensions: []string{".nii", ".nii.gz"}, Magic: "n+1\x00", MagicOffset: 344,
		Read: func(path, _ string, lim Limits) (*Volume, error) {
			src, err := openSource(path, lim)
			if err != nil {
				return nil, err
			}
			defer src.Close()
			return decodeNIfTI(src, src.present, src.most, lim)
		}}
}

var niftiTypes = map[int16]string{2: "uint8", 4: "int16", 8: "int32", 16: "float32", 64: "float64",
	256: "int8", 512: "uint16", 768: "uint32", 1024: "int64", 1280: "uint64", 128: "rgb24"}

// decodeNIfTI reads a NIfTI-1 file from r, which holds present bytes (-1:
// unknown, a gzip stream) and at most most. The header's claims are checked against lim and
// present before the samples are read; the samples are decoded as they are
// read, and a gzip stream is inflated no further than the data needs.
func decodeNIfTI(r io.Reader, present, most int64, lim Limits) (*Volume, error) {
	raw := make([]byte, 348)
	if n, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("truncated header (%d bytes, need 348)", n)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	switch {
	case bo.Uint32(raw) == 348:
	case binary.BigEndian.Uint32(raw) == 348:
		bo = binary.BigEndian
	case bo.Uint32(raw) == 540 || binary.BigEndian.Uint32(raw) == 540:
		return nil, errors.New("NIfTI-2 headers are not supported")
	default:
		return nil, errors.New("not a NIfTI-1 file (sizeof_hdr is not 348)")
	}
	if m := string(raw[344:347]); m != "n+1" && m != "ni1" {
		return nil, fmt.Errorf("bad magic %q", raw[344:348])
	}
	i16 := func(off int) int16 { return int16(bo.Uint16(raw[off:])) }
	f32 := func(off int) float64 { return float64(math.Float32frombits(bo.Uint32(raw[off:]))) }
	ndim := int(i16(40))
	if ndim < 1 || ndim > 7 {
		return nil, fmt.Errorf("invalid dimension count %d", ndim)
	}
	size := [3]int{1, 1, 1}
	for d := 1; d <= ndim; d++ {
		n := int(i16(40 + 2*d))
		if n < 1 {
			return nil, fmt.Errorf("invalid size %d along axis %d", n, d)
		}
		if d <= 3 {
			size[d-1] = n
		} else if n > 1 {
			return nil, fmt.Errorf("%d-D data (axis %d has %d elements) is not supported; only 3-D volumes", ndim, d, n)
		}
	}
	code := i16(70)
	dtype, ok := niftiTypes[code]
	if !ok {
		return nil, fmt.Errorf("unsupported datatype code %d", code)
	}
	channels := 1
	if dtype == "rgb24" {
		dtype, channels = "uint8", 3
	}
	v, err := newShape(size[0], size[1], size[2], channels, dtype)
	if err != nil {
		return nil, err
	}
	voxOffset := f32(108)
	if voxOffset == 0 && string(raw[344:347]) == "ni1" {
		return nil, errors.New("detached .hdr/.img pairs are not supported")
	}
	if !(voxOffset >= 348 && voxOffset <= float64(lim.MaxBytes)) || present >= 0 && int64(voxOffset) > present {
		return nil, fmt.Errorf("vox_offset %v outside the file", voxOffset)
	}
	off := int64(voxOffset)
	n := v.Voxels() * channels
	samples, ok := product(int64(size[0]), int64(size[1]), int64(size[2]), int64(channels))
	dataBytes, _ := product(samples, int64(sampleSize(dtype)))
	if err := lim.checkData(samples, off+dataBytes, ok); err != nil {
		return nil, err
	}
	if present >= 0 && present < off+dataBytes {
		return nil, fmt.Errorf("truncated data: the header claims %d bytes of samples after byte %d, the file has %d bytes", dataBytes, off, present)
	}
	if most < off+dataBytes {
		return nil, fmt.Errorf("truncated data: the header claims %d bytes of samples after byte %d, the compressed file can hold at most %d bytes", dataBytes, off, most)
	}
	if err := skipBytes(r, off-348); err != nil {
		return nil, err
	}
	if v.Data, err = readSamples(r, n, dtype, bo, max(-1, present-off), most-off); err != nil {
		return nil, err
	}
	if slope, inter := f32(112), f32(116); slope != 0 && !math.IsNaN(slope) && (slope != 1 || inter != 0) {
		for i, x := range v.Data {
			v.Data[i] = float32(float64(x)*slope + inter)
		}
		v.DType = "float32"
	}
	unit := 1.0 // millimetres
	switch raw[123] & 7 {
	case 1:
		unit = 1000
	case 3:
		unit = 0.001
	}
	var pixdim [8]float64
	for d := range pixdim {
		pixdim[d] = f32(76 + 4*d)
	}
	var m [3][4]float64 // RAS affine
	switch qform, sform := i16(252), i16(254); {
	case sform > 0:
		for r := 0; r < 3; r++ {
			for c := 0; c < 4; c++ {
				m[r][c] = f32(280 + 16*r + 4*c)
			}
		}
	case qform > 0:
		b, c, d := f32(256), f32(260), f32(264)
		a := math.Sqrt(max(0, 1-(b*b+c*c+d*d)))
		rot := [3][3]float64{
			{a*a + b*b - c*c - d*d, 2 * (b*c - a*d), 2 * (b*d + a*c)},
			{2 * (b*c + a*d), a*a + c*c - b*b - d*d, 2 * (c*d - a*b)},
			{2 * (b*d - a*c), 2 * (c*d + a*b), a*a + d*d - c*c - b*b},
		}
		qfac := 1.0
		if pixdim[0] < 0 {
			qfac = -1
		}
		scale := [3]float64{nonZero(pixdim[1]), nonZero(pixdim[2]), qfac * nonZero(pixdim[3])}
		for r := 0; r < 3; r++ {
			for col := 0; col < 3; col++ {
				m[r][col] = rot[r][col] * scale[col]
			}
		}
		m[0][3], m[1][3], m[2][3] = f32(268), f32(272), f32(276)
	default:
		for a := 0; a < 3; a++ {
			m[a][a] = nonZero(pixdim[a+1])
		}
		// No orientation stored (NIfTI's "method 1"): axes along RAS.
	}
	for r := 0; r < 2; r++ { // RAS → LPS
		for c := 0; c < 4; c++ {
			m[r][c] = -m[r][c]
		}
	}
	for r := 0; r < 3; r++ {
		for c := 0; c < 4; c++ {
			m[r][c] *= unit
		}
	}
	if err := v.setAffine(m); err != nil {
		return nil, err
	}
	return v, nil
}

func nonZero(x float64) float64 {
	if x == 0 || math.IsNaN(x) {
		return 1
	}
	return math.Abs(x)
}
