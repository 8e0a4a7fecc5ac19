// Package checkpoint reads and writes model weights as a PyTorch-style state_dict: .pth (zip or legacy) and .safetensors files.
package checkpoint

import (
	"fmt"
	"math"
)

// DType names the element type a tensor had in the file it was read from.
// The spellings are those of the safetensors format.
type DType string

// The element types the readers understand. Every one is converted to
// float32 on reading; DType only records what the file held.
const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	F64  DType = "F64"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	Bool DType = "BOOL"
)

// Tensor is one named entry of a state_dict: float32 values in row-major
// (C) order, the shape in PyTorch's layout, and the file's element type.
type Tensor struct {
	Shape []int
	Data  []float32
	DType DType
}

// NumElements is the product of the shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// StateDict is an ordered map from state_dict names to tensors. The order is
// the order of the file (for .pth: the model's state_dict order).
type StateDict struct {
	// Format says where the tensors came from: "pth-zip", "pth-legacy",
	// "safetensors", or "" for a state dict built in memory.
	Format string
	// Metadata holds a safetensors file's __metadata__ entries (nil otherwise).
	Metadata map[string]string

	names   []string
	tensors map[string]Tensor
}

// NewStateDict returns an empty state dict.
func NewStateDict() *StateDict {
	return &StateDict{tensors: map[string]Tensor{}}
}

// Set stores t under name, replacing an existing entry in place or appending
// a new one at the end. The data length must equal the shape's product.
func (sd *StateDict) Set(name string, t Tensor) error {
	if name == "" {
		return fmt.Errorf("checkpoint: empty tensor name")
	}
	n, err := checkedNumElements(t.Shape)
	if err != nil {
		return fmt.Errorf("checkpoint: tensor %q: %w", name, err)
	}
	if n != len(t.Data) {
		return fmt.Errorf("checkpoint: tensor %q has %d values for shape %v (%d expected)", name, len(t.Data), t.Shape, n)
	}
	if t.DType == "" {
		t.DType = F32
	}
	if sd.tensors == nil {
		sd.tensors = map[string]Tensor{}
	}
	if _, ok := sd.tensors[name]; !ok {
		sd.names = append(sd.names, name)
	}
	sd.tensors[name] = t
	return nil
}

// Get returns the tensor stored under name.
func (sd *StateDict) Get(name string) (Tensor, bool) {
	t, ok := sd.tensors[name]
	return t, ok
}

// Names returns the tensor names in order (a copy).
func (sd *StateDict) Names() []string {
	return append([]string(nil), sd.names...)
}

// Len is the number of tensors.
func (sd *StateDict) Len() int { return len(sd.names) }

// NumValues is the total number of values over all tensors.
func (sd *StateDict) NumValues() int64 {
	var n int64
	for _, t := range sd.tensors {
		n += int64(len(t.Data))
	}
	return n
}

// DTypeCounts reports how many tensors the file held in each element type,
// for messages such as "202 tensors (F16: 202)".
func (sd *StateDict) DTypeCounts() map[DType]int {
	counts := map[DType]int{}
	for _, t := range sd.tensors {
		counts[t.DType]++
	}
	return counts
}

// checkedNumElements multiplies a shape's dimensions, rejecting negative
// dimensions and products that overflow an int.
func checkedNumElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n *= d
	}
	return n, nil
}
