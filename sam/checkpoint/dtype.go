package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
)

// Size is the number of bytes of one element.
func (d DType) Size() (int, error) {
	switch d {
	case F64, I64:
		return 8, nil
	case F32, I32:
		return 4, nil
	case F16, BF16, I16:
		return 2, nil
	case I8, U8, Bool:
		return 1, nil
	}
	return 0, fmt.Errorf("unsupported element type %q", string(d))
}

// decodeElement converts the little-endian element at b[0:size] to float32.
// The caller guarantees len(b) >= d.Size().
func decodeElement(d DType, b []byte) float32 {
	switch d {
	case F32:
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	case F16:
		return float16.FromBits(binary.LittleEndian.Uint16(b)).Float32()
	case BF16:
		return bfloat16.FromBits(binary.LittleEndian.Uint16(b)).Float32()
	case F64:
		return float32(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	case I64:
		return float32(int64(binary.LittleEndian.Uint64(b)))
	case I32:
		return float32(int32(binary.LittleEndian.Uint32(b)))
	case I16:
		return float32(int16(binary.LittleEndian.Uint16(b)))
	case I8:
		return float32(int8(b[0]))
	case U8:
		return float32(b[0])
	case Bool:
		if b[0] != 0 {
			return 1
		}
		return 0
	}
	return float32(math.NaN())
}

// decodeContiguous converts n consecutive elements starting at element off.
// When the bytes are float32 little-endian, 4-byte aligned and the host is
// little-endian, the result aliases raw instead of copying: checkpoints of
// the large SAM models are gigabytes, and a copy would double the memory
// needed to load them.
func decodeContiguous(d DType, raw []byte, off, n int) []float32 {
	size, _ := d.Size()
	b := raw[off*size : (off+n)*size]
	if n == 0 {
		return []float32{}
	}
	if d == F32 && hostLittleEndian() && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = decodeElement(d, b[i*size:])
	}
	return out
}

// alignedBytes allocates n bytes whose start is 8-byte aligned, so that
// float32 tensors read into them can be aliased by decodeContiguous.
func alignedBytes(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

// hostLittleEndian reports whether the machine stores integers little-endian.
func hostLittleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// float32Bytes returns the little-endian bytes of data (aliasing on a
// little-endian host, a copy otherwise).
func float32Bytes(data []float32) []byte {
	if len(data) == 0 {
		return []byte{}
	}
	if hostLittleEndian() {
		return unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), 4*len(data))
	}
	out := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
	}
	return out
}

// float16Bytes converts float32 values to little-endian IEEE half precision,
// refusing values that overflow it (a silent ±Inf would corrupt a model).
func float16Bytes(data []float32) ([]byte, error) {
	out := make([]byte, 2*len(data))
	for i, v := range data {
		h := toFloat16Bits(v)
		if hv := float16.FromBits(h).Float32(); math.IsInf(float64(hv), 0) && !math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("value %g at element %d does not fit half precision", v, i)
		}
		binary.LittleEndian.PutUint16(out[2*i:], h)
	}
	return out, nil
}

// toFloat16Bits rounds v to the nearest half-precision value (ties to even).
// Magnitudes below the smallest normal half (2⁻¹⁴) become subnormals here,
// because the float16 package's conversion flushes most of them to zero.
func toFloat16Bits(v float32) uint16 {
	const smallestNormal = 1.0 / (1 << 14)
	a := math.Abs(float64(v))
	if a >= smallestNormal || math.IsNaN(a) {
		return float16.FromFloat32(v).Bits()
	}
	var sign uint16
	if math.Signbit(float64(v)) {
		sign = 0x8000
	}
	// Subnormal halves are multiples of 2⁻²⁴; 1024 of them make the
	// smallest normal, whose bit pattern follows the subnormals' directly.
	return sign | uint16(math.RoundToEven(a*(1<<24)))
}
