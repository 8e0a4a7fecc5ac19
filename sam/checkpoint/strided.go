package checkpoint

import (
	"fmt"
	"math"
)

// maxExpandedElements bounds how many elements a view may have beyond the
// size of its storage (PyTorch saves expanded tensors with stride 0). It
// keeps a corrupt file from making the reader allocate without limit.
const maxExpandedElements = 1 << 24

// materialize returns the elements of a strided view on a storage of numel
// elements of type d (raw little-endian bytes), in row-major order: element
// (i0, i1, ...) of the view is storage element offset + Σ ik·stride[k].
// Contiguous views alias or decode the storage directly; others are copied.
func materialize(d DType, raw []byte, numel, offset int, size, stride []int) ([]float32, error) {
	elemSize, err := d.Size()
	if err != nil {
		return nil, err
	}
	if numel < 0 || numel > len(raw)/elemSize {
		return nil, fmt.Errorf("storage of %d %s elements has only %d bytes", numel, d, len(raw))
	}
	if len(size) != len(stride) {
		return nil, fmt.Errorf("size %v and stride %v have different ranks", size, stride)
	}
	if offset < 0 {
		return nil, fmt.Errorf("negative storage offset %d", offset)
	}
	n, err := checkedNumElements(size)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return []float32{}, nil
	}
	last := offset // index of the view's last element in the storage
	for k, s := range stride {
		if s < 0 {
			return nil, fmt.Errorf("negative stride in %v", stride)
		}
		if s > 0 && size[k]-1 > (math.MaxInt-last)/s {
			return nil, fmt.Errorf("view size %v stride %v offset %d overflows", size, stride, offset)
		}
		last += (size[k] - 1) * s
	}
	if last >= numel {
		return nil, fmt.Errorf("view (offset %d, size %v, stride %v) reaches element %d of a storage of %d", offset, size, stride, last, numel)
	}
	if n > numel && n > maxExpandedElements {
		return nil, fmt.Errorf("view of %d elements over a storage of %d is too large", n, numel)
	}
	if isContiguous(size, stride) {
		return decodeContiguous(d, raw, offset, n), nil
	}
	out := make([]float32, n)
	rank := len(size)
	index := make([]int, rank) // odometer over all but the last axis
	innerSize, innerStride := size[rank-1], stride[rank-1]
	pos := offset
	for o := 0; o < n; o += innerSize {
		p := pos
		for i := range innerSize {
			out[o+i] = decodeElement(d, raw[p*elemSize:])
			p += innerStride
		}
		for k := rank - 2; k >= 0; k-- {
			index[k]++
			pos += stride[k]
			if index[k] < size[k] {
				break
			}
			pos -= index[k] * stride[k]
			index[k] = 0
		}
	}
	return out, nil
}

// isContiguous reports whether size/stride describe a row-major block (axes
// of size 1 may have any stride).
func isContiguous(size, stride []int) bool {
	want := 1
	for k := len(size) - 1; k >= 0; k-- {
		if size[k] != 1 && stride[k] != want {
			return false
		}
		want *= size[k]
	}
	return true
}
