package train

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/nlpodyssey/safetensors"

	"github.com/synthfm/synthfm/internal/atomicfile"
)

// checkpointFormat names the layout of a training checkpoint: a
// .safetensors file whose tensors are the store's variables keyed by store
// path (model parameters, AdamW moments under /adamw and its step counter)
// and whose metadata holds the Progress as JSON under "progress".
const checkpointFormat = "synthfm-train-checkpoint/1"

// Progress is everything besides the variables that a resumed run needs to
// continue exactly where the checkpoint was taken.
type Progress struct {
	Step       int             `json:"step"`        // steps completed
	NextSample int             `json:"next_sample"` // index of the next sample of the training stream
	TotalSteps int             `json:"total_steps"` // length of the run (the schedule's horizon)
	Schedule   Schedule        `json:"schedule"`    // learning-rate schedule in force
	BestDice   float64         `json:"best_dice"`   // best validation Dice so far (-1 before any)
	BestStep   int             `json:"best_step"`   // step at which BestDice was reached
	Config     json.RawMessage `json:"config"`      // the run's Config, as JSON
}

// SaveCheckpoint writes every variable of the store and the progress to
// path atomically (see atomicfile.Durable).
func SaveCheckpoint(path string, store *model.Store, p Progress) error {
	views := map[string]safetensors.TensorView{}
	for v := range store.IterVariables() {
		value, err := v.Value()
		if err != nil {
			return fmt.Errorf("checkpoint %s: variable %s: %w", path, v.Path(), err)
		}
		view, err := tensorView(value)
		if err != nil {
			return fmt.Errorf("checkpoint %s: variable %s: %w", path, v.Path(), err)
		}
		views[v.Path()] = view
	}
	progress, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	meta := map[string]string{"format": checkpointFormat, "progress": string(progress)}
	return atomicfile.Write(path, atomicfile.Durable, func(w io.Writer) error {
		return safetensors.SerializeToWriter(views, meta, w)
	})
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint into the
// store: existing variables get the saved values (shapes and dtypes must
// agree), missing ones are created. It returns the saved progress.
func LoadCheckpoint(path string, store *model.Store) (Progress, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Progress{}, fmt.Errorf("read checkpoint: %w", err)
	}
	st, err := safetensors.Deserialize(data)
	if err != nil {
		return Progress{}, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	_, meta, err := safetensors.ReadMetadata(data)
	if err != nil {
		return Progress{}, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	info := meta.Metadata()
	if info["format"] != checkpointFormat {
		return Progress{}, fmt.Errorf("checkpoint %s: format %q, want %q", path, info["format"], checkpointFormat)
	}
	var p Progress
	if err := json.Unmarshal([]byte(info["progress"]), &p); err != nil {
		return Progress{}, fmt.Errorf("checkpoint %s: progress: %w", path, err)
	}
	names := st.Names()
	slices.Sort(names)
	for _, name := range names {
		view, _ := st.Tensor(name)
		value, err := tensorFromView(view)
		if err != nil {
			return Progress{}, fmt.Errorf("checkpoint %s: tensor %s: %w", path, name, err)
		}
		if err := setOrCreate(store, name, value); err != nil {
			return Progress{}, fmt.Errorf("checkpoint %s: %w", path, err)
		}
	}
	return p, nil
}

// setOrCreate gives the variable at path the value, creating it if absent.
func setOrCreate(store *model.Store, path string, value *tensors.Tensor) error {
	v := store.GetVariable(path)
	if v == nil {
		_, err := store.CreateVariable(path, value)
		return err
	}
	if !v.Shape().Equal(value.Shape()) {
		return fmt.Errorf("variable %s has shape %s, saved value %s", path, v.Shape(), value.Shape())
	}
	return v.SetValue(value)
}

var safetensorsDTypes = map[dtypes.DType]safetensors.DType{
	dtypes.Float32: safetensors.F32,
	dtypes.Float64: safetensors.F64,
	dtypes.Int64:   safetensors.I64,
	dtypes.Int32:   safetensors.I32,
	dtypes.Uint64:  safetensors.U64,
}

// tensorView is the safetensors view of a tensor (a copy of its bytes).
// Scalars are not representable by the safetensors library and are rejected.
func tensorView(t *tensors.Tensor) (safetensors.TensorView, error) {
	dt, ok := safetensorsDTypes[t.DType()]
	if !ok {
		return safetensors.TensorView{}, fmt.Errorf("dtype %s not supported", t.DType())
	}
	if t.Shape().Rank() == 0 {
		return safetensors.TensorView{}, fmt.Errorf("scalar variables are not supported")
	}
	dims := make([]uint64, t.Shape().Rank())
	for i, d := range t.Shape().Dimensions {
		dims[i] = uint64(d)
	}
	var data []byte
	if err := t.ConstBytes(func(b []byte) { data = slices.Clone(b) }); err != nil {
		return safetensors.TensorView{}, err
	}
	return safetensors.NewTensorView(dt, dims, data)
}

func tensorFromView(view safetensors.TensorView) (*tensors.Tensor, error) {
	var dtype dtypes.DType
	for d, s := range safetensorsDTypes {
		if s == view.DType() {
			dtype = d
		}
	}
	if dtype == dtypes.InvalidDType {
		return nil, fmt.Errorf("dtype %s not supported", view.DType())
	}
	dims := make([]int, len(view.Shape()))
	for i, d := range view.Shape() {
		dims[i] = int(d)
	}
	t := tensors.FromShape(shapes.Make(dtype, dims...))
	var n int
	if err := t.MutableBytes(func(b []byte) { n = copy(b, view.Data()) }); err != nil {
		return nil, err
	}
	if n != len(view.Data()) {
		return nil, fmt.Errorf("size mismatch: %d bytes for shape %v", len(view.Data()), dims)
	}
	return t, nil
}
