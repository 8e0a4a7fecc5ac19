package checkpoint

import (
	"fmt"
	"io"
	"math"

	"github.com/nlpodyssey/safetensors"

	"github.com/synthfm/synthfm/internal/atomicfile"
)

// readSafetensors parses a whole .safetensors file held in b. Tensors come
// in the order of their data in the file.
func readSafetensors(b []byte) (sd *StateDict, err error) {
	defer func() { // the library panics on some invalid dtypes
		if r := recover(); r != nil {
			sd, err = nil, fmt.Errorf("malformed safetensors file: %v", r)
		}
	}()
	st, err := safetensors.Deserialize(b)
	if err != nil {
		return nil, fmt.Errorf("malformed safetensors file: %w", err)
	}
	_, meta, err := safetensors.ReadMetadata(b)
	if err != nil {
		return nil, fmt.Errorf("malformed safetensors file: %w", err)
	}
	sd = NewStateDict()
	sd.Format = "safetensors"
	sd.Metadata = meta.Metadata()
	for _, name := range st.Names() {
		tv, _ := st.Tensor(name)
		dt := DType(tv.DType().String())
		if _, err := dt.Size(); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		shape := make([]int, len(tv.Shape()))
		for i, d := range tv.Shape() {
			if d > math.MaxInt32 {
				return nil, fmt.Errorf("tensor %q: dimension %d too large", name, d)
			}
			shape[i] = int(d)
		}
		n, err := checkedNumElements(shape)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		if err := sd.Set(name, Tensor{Shape: shape, Data: decodeContiguous(dt, tv.Data(), 0, n), DType: dt}); err != nil {
			return nil, err
		}
	}
	return sd, nil
}

// float32View presents a tensor to the safetensors writer.
type float32View struct {
	shape []uint64
	data  []float32
}

func (v float32View) DType() safetensors.DType { return safetensors.F32 }
func (v float32View) Shape() []uint64          { return v.shape }
func (v float32View) Data() []byte             { return float32Bytes(v.data) }
func (v float32View) DataLen() uint64          { return 4 * uint64(len(v.data)) }

// float16View exposes half-precision bytes to the safetensors writer.
type float16View struct {
	shape []uint64
	data  []byte
}

func (v float16View) DType() safetensors.DType { return safetensors.F16 }
func (v float16View) Shape() []uint64          { return v.shape }
func (v float16View) Data() []byte             { return v.data }
func (v float16View) DataLen() uint64          { return uint64(len(v.data)) }

// WriteSafetensors writes every tensor of sd as float32 under its state_dict
// name, so that PyTorch's safetensors.torch.load_file followed by
// model.load_state_dict accepts the file. metadata goes to the header's
// __metadata__ ("format": "pt" is added unless given). Tensors are laid out
// as the safetensors library (like the Python one) orders them: by name.
// The file is written to a temporary file in the same folder, synced and
// renamed, so that path never holds a partial file.
func WriteSafetensors(path string, sd *StateDict, metadata map[string]string) (err error) {
	return WriteSafetensorsAs(path, sd, metadata, F32)
}

// WriteSafetensorsAs is WriteSafetensors with every tensor stored as dtype:
// F32, or F16 (IEEE half precision, rounded to nearest even; values beyond
// its range become ±Inf, which is refused) to halve the file.
func WriteSafetensorsAs(path string, sd *StateDict, metadata map[string]string, dtype DType) (err error) {
	if sd.Len() == 0 {
		return fmt.Errorf("checkpoint: no tensors to write to %s", path)
	}
	if dtype != F32 && dtype != F16 {
		return fmt.Errorf("checkpoint: cannot write %s tensors (F32 or F16)", dtype)
	}
	views := make(map[string]safetensors.View, sd.Len())
	for _, name := range sd.names {
		t := sd.tensors[name]
		shape := make([]uint64, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = uint64(d)
		}
		if dtype == F32 {
			views[name] = float32View{shape: shape, data: t.Data}
			continue
		}
		half, err := float16Bytes(t.Data)
		if err != nil {
			return fmt.Errorf("checkpoint: %s: %w", name, err)
		}
		views[name] = float16View{shape: shape, data: half}
	}
	meta := map[string]string{"format": "pt"}
	for k, v := range metadata {
		meta[k] = v
	}
	if err := atomicfile.Write(path, atomicfile.Durable, func(w io.Writer) error {
		return safetensors.SerializeToWriter(views, meta, w)
	}); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
