package medimg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
	"codeberg.org/sbinet/npyio/npz"
)

// NPY and NPZ arrays, decoded by codeberg.org/sbinet/npyio. Shapes (H, W),
// (Z, H, W) and (H, W, 3|4) (colour) are understood, C or Fortran order.
// In an NPZ archive, "file.npz#key" picks an array; without a key, MedSAM's
// "imgs" is used, or the only array. A "spacing" array of three values (as
// MedSAM's 3-D npz files carry, x y z) sets the voxel spacing.

func npyFormat() Format {
	return Format{Name: "NPY", Extensions: []string{".npy"}, Magic: "\x93NUMPY",
		Read: func(path, _ string) (*Volume, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, errors.Unwrap(err)
			}
			defer f.Close()
			return decodeNPY(bufio.NewReader(f))
		}}
}

func npzFormat() Format {
	return Format{Name: "NPZ", Extensions: []string{".npz"}, Magic: "PK\x03\x04",
		Read: func(path, key string) (*Volume, error) {
			r, err := npz.Open(path)
			if err != nil {
				return nil, err
			}
			defer r.Close()
			keys := r.Keys()
			has := func(k string) bool { return slices.Contains(keys, k) || slices.Contains(keys, k+".npy") }
			if key == "" {
				switch {
				case has("imgs"):
					key = "imgs"
				case len(keys) == 1:
					key = keys[0]
				default:
					return nil, fmt.Errorf("several arrays (%s): name one as file.npz#key", strings.Join(keys, ", "))
				}
			}
			if !has(key) {
				return nil, fmt.Errorf("no array %q (have %s)", key, strings.Join(keys, ", "))
			}
			rc, err := r.Open(key)
			if err != nil {
				return nil, err
			}
			v, err := decodeNPY(rc)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("array %q: %w", key, err)
			}
			if has("spacing") {
				var sp []float64
				if err := r.Read("spacing", &sp); err == nil && len(sp) == 3 {
					copy(v.Spacing[:], sp)
					v.SpacingKnown = true
				}
			}
			return v, nil
		}}
}

func decodeNPY(rd io.Reader) (*Volume, error) {
	r, err := npy.NewReader(rd)
	if err != nil {
		return nil, err
	}
	shape := r.Header.Descr.Shape
	dt := r.Header.Descr.Type
	var nx, ny, nz, channels int
	switch {
	case len(shape) == 2:
		ny, nx, nz, channels = shape[0], shape[1], 1, 1
	case len(shape) == 3 && (shape[2] == 3 || shape[2] == 4) && shape[0] > 4:
		ny, nx, nz, channels = shape[0], shape[1], 1, shape[2]
	case len(shape) == 3:
		nz, ny, nx, channels = shape[0], shape[1], shape[2], 1
	default:
		return nil, fmt.Errorf("unsupported array shape %v (want 2-D, 3-D or H×W×3)", shape)
	}
	n := 1
	for _, s := range shape {
		if s <= 0 {
			return nil, fmt.Errorf("invalid array shape %v", shape)
		}
		n *= s
	}
	flat, dtype, err := readNPYData(r, dt, n)
	if err != nil {
		return nil, err
	}
	v, err := NewVolume(nx, ny, nz, channels, dtype)
	if err != nil {
		return nil, err
	}
	if !r.Header.Descr.Fortran {
		copy(v.Data, flat)
	} else { // Fortran order: the first index runs fastest.
		strides := make([]int, len(shape))
		s := 1
		for d := range shape {
			strides[d] = s
			s *= shape[d]
		}
		idx := make([]int, len(shape))
		for c := range v.Data { // c walks C order: last index fastest
			off := 0
			for d := range idx {
				off += idx[d] * strides[d]
			}
			v.Data[c] = flat[off]
			for d := len(idx) - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < shape[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
	channels = v.Channels
	if channels == 4 { // drop alpha
		rgb := make([]float32, 0, v.Voxels()*3)
		for i := 0; i < len(v.Data); i += 4 {
			rgb = append(rgb, v.Data[i:i+3]...)
		}
		v.Data, v.Channels = rgb, 3
	}
	return v, nil
}

func readNPYData(r *npy.Reader, dt string, n int) ([]float32, string, error) {
	conv := func(ptr any, dtype string, get func() []float32) ([]float32, string, error) {
		if err := r.Read(ptr); err != nil {
			return nil, "", err
		}
		out := get()
		if len(out) != n {
			return nil, "", fmt.Errorf("truncated data: %d of %d samples", len(out), n)
		}
		return out, dtype, nil
	}
	switch strings.TrimLeft(strings.Trim(dt, "'\""), "<>|=") {
	case "b1":
		var d []bool
		return conv(&d, "uint8", func() []float32 { return mapSlice(d, boolToF32) })
	case "u1":
		var d []uint8
		return conv(&d, "uint8", func() []float32 { return toF32(d) })
	case "i1":
		var d []int8
		return conv(&d, "int8", func() []float32 { return toF32(d) })
	case "u2":
		var d []uint16
		return conv(&d, "uint16", func() []float32 { return toF32(d) })
	case "i2":
		var d []int16
		return conv(&d, "int16", func() []float32 { return toF32(d) })
	case "u4":
		var d []uint32
		return conv(&d, "uint32", func() []float32 { return toF32(d) })
	case "i4":
		var d []int32
		return conv(&d, "int32", func() []float32 { return toF32(d) })
	case "i8":
		var d []int64
		return conv(&d, "int64", func() []float32 { return toF32(d) })
	case "u8":
		var d []uint64
		return conv(&d, "uint64", func() []float32 { return toF32(d) })
	case "f4":
		var d []float32
		return conv(&d, "float32", func() []float32 { return d })
	case "f8":
		var d []float64
		return conv(&d, "float64", func() []float32 { return toF32(d) })
	}
	return nil, "", fmt.Errorf("unsupported dtype %q", dt)
}

type number interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64 | ~float64
}

func toF32[T number](d []T) []float32 { return mapSlice(d, func(x T) float32 { return float32(x) }) }

func mapSlice[T any](d []T, f func(T) float32) []float32 {
	out := make([]float32, len(d))
	for i, x := range d {
		out[i] = f(x)
	}
	return out
}

func boolToF32(b bool) float32 {
	if b {
		return 1
	}
	return 0
}
