package checkpoint

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// This file turns the pickle of a torch.save file into tensor references
// with gopickle: the torch classes a state_dict pickle names are mapped to
// small Go types that record storages and views without reading any data.

// storageClass stands for torch.FloatStorage and its siblings.
type storageClass struct{ dtype DType }

// dtypeObject stands for torch.float32 and its siblings (_rebuild_tensor_v3).
type dtypeObject struct{ dtype DType }

// storageRef is a storage named by a persistent id; its bytes are read later.
type storageRef struct {
	key   string
	dtype DType
	numel int
	// base and baseOffset describe a legacy-format storage view: elements
	// [baseOffset, baseOffset+numel) of another storage.
	base       *storageRef
	baseOffset int
}

// tensorRef is a tensor rebuilt by torch._utils._rebuild_tensor*: a strided
// view on a storage.
type tensorRef struct {
	storage *storageRef
	dtype   DType // element type of the view (differs from the storage's only for v3)
	offset  int
	size    []int
	stride  []int
}

// storageDType maps torch storage class names to element types.
func storageDType(name string) (DType, bool) {
	switch name {
	case "FloatStorage":
		return F32, true
	case "HalfStorage":
		return F16, true
	case "BFloat16Storage":
		return BF16, true
	case "DoubleStorage":
		return F64, true
	case "LongStorage":
		return I64, true
	case "IntStorage":
		return I32, true
	case "ShortStorage":
		return I16, true
	case "CharStorage":
		return I8, true
	case "ByteStorage", "UntypedStorage":
		return U8, true
	case "BoolStorage":
		return Bool, true
	}
	return "", false
}

// torchDType maps torch dtype names (torch.float16, ...) to element types.
func torchDType(name string) (DType, bool) {
	switch name {
	case "float32", "float":
		return F32, true
	case "float16", "half":
		return F16, true
	case "bfloat16":
		return BF16, true
	case "float64", "double":
		return F64, true
	case "int64", "long":
		return I64, true
	case "int32", "int":
		return I32, true
	case "int16", "short":
		return I16, true
	case "int8":
		return I8, true
	case "uint8":
		return U8, true
	case "bool":
		return Bool, true
	}
	return "", false
}

// findTorchClass resolves the globals a torch.save pickle refers to. Classes
// it does not know (argparse.Namespace, numpy scalars in a training
// checkpoint's extra entries, ...) become opaque objects, so that only the
// tensors have to be understood.
func findTorchClass(module, name string) (any, error) {
	switch module {
	case "torch":
		if dt, ok := storageDType(name); ok {
			return &storageClass{dt}, nil
		}
		if dt, ok := torchDType(name); ok {
			return &dtypeObject{dt}, nil
		}
	case "torch._utils":
		switch name {
		case "_rebuild_tensor":
			return rebuildTensor{version: 1}, nil
		case "_rebuild_tensor_v2":
			return rebuildTensor{version: 2}, nil
		case "_rebuild_tensor_v3":
			return rebuildTensor{version: 3}, nil
		case "_rebuild_parameter", "_rebuild_parameter_with_state":
			return rebuildParameter{}, nil
		}
		if strings.HasPrefix(name, "_rebuild_") {
			return nil, fmt.Errorf("unsupported tensor kind torch._utils.%s", name)
		}
	case "copyreg":
		if name == "_reconstructor" {
			return &types.Reconstructor{}, nil
		}
	case "builtins":
		if name == "object" {
			return &types.ObjectClass{}, nil
		}
	}
	return &opaqueClass{module + "." + name}, nil
}

// rebuildTensor implements torch._utils._rebuild_tensor (version 1: storage,
// offset, size, stride), _rebuild_tensor_v2 (adds requires_grad, hooks and an
// optional metadata) and _rebuild_tensor_v3 (adds the dtype, then metadata).
type rebuildTensor struct{ version int }

func (r rebuildTensor) Call(args ...any) (any, error) {
	minArgs := map[int]int{1: 4, 2: 6, 3: 8}[r.version]
	if len(args) < minArgs || len(args) > minArgs+1 {
		return nil, fmt.Errorf("_rebuild_tensor (v%d) called with %d arguments", r.version, len(args))
	}
	st, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor: first argument is %T, not a storage", args[0])
	}
	offset, err := pickleInt(args[1])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor: storage offset: %w", err)
	}
	size, err := pickleInts(args[2])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor: size: %w", err)
	}
	stride, err := pickleInts(args[3])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor: stride: %w", err)
	}
	t := &tensorRef{storage: st, dtype: st.dtype, offset: offset, size: size, stride: stride}
	if r.version == 3 {
		dt, ok := args[6].(*dtypeObject)
		if !ok {
			return nil, fmt.Errorf("_rebuild_tensor_v3: dtype argument is %T", args[6])
		}
		t.dtype = dt.dtype
	}
	return t, nil
}

// rebuildParameter implements torch._utils._rebuild_parameter: a Parameter
// is its data tensor here.
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_rebuild_parameter called without arguments")
	}
	t, ok := args[0].(*tensorRef)
	if !ok {
		return nil, fmt.Errorf("_rebuild_parameter: data is %T, not a tensor", args[0])
	}
	return t, nil
}

// opaqueClass is any class the reader does not need to understand.
type opaqueClass struct{ name string }

func (c *opaqueClass) Call(...any) (any, error)  { return &opaqueObject{c.name}, nil }
func (c *opaqueClass) PyNew(...any) (any, error) { return &opaqueObject{c.name}, nil }

// opaqueObject is an instance of an opaqueClass; it accepts and drops state.
type opaqueObject struct{ class string }

func (*opaqueObject) PySetState(any) error        { return nil }
func (*opaqueObject) PyDictSet(any, any) error    { return nil }
func (*opaqueObject) PySetAttr(string, any) error { return nil }
func (o *opaqueObject) String() string            { return "<" + o.class + " object>" }
func (*opaqueObject) Call(...any) (any, error) {
	return nil, fmt.Errorf("cannot call an opaque object")
}
func (o *opaqueObject) PyNew(...any) (any, error) { return &opaqueObject{o.class}, nil }

// unpickle runs gopickle on one pickle (already checked by pickleEnd) with
// the torch class table and the given persistent-id loader. gopickle can
// panic on malformed input; such a panic becomes an error.
func unpickle(data []byte, persistentLoad func(any) (any, error)) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			result, err = nil, fmt.Errorf("malformed pickle: %v", r)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = findTorchClass
	u.PersistentLoad = persistentLoad
	return u.Load()
}

// parseStorageID decodes a persistent id ('storage', class, key, location,
// numel[, view_metadata]) into its parts.
func parseStorageID(pid any) (class *storageClass, key string, numel int, view any, err error) {
	tuple, ok := pid.(*types.Tuple)
	if !ok || tuple.Len() < 5 {
		return nil, "", 0, nil, fmt.Errorf("unexpected persistent id %v", pid)
	}
	if kind, _ := tuple.Get(0).(string); kind != "storage" {
		return nil, "", 0, nil, fmt.Errorf("unsupported persistent id kind %v", tuple.Get(0))
	}
	class, ok = tuple.Get(1).(*storageClass)
	if !ok {
		return nil, "", 0, nil, fmt.Errorf("persistent id names %v, not a torch storage class", tuple.Get(1))
	}
	key, ok = tuple.Get(2).(string)
	if !ok {
		return nil, "", 0, nil, fmt.Errorf("storage key is %T, not a string", tuple.Get(2))
	}
	numel, err = pickleInt(tuple.Get(4))
	if err != nil || numel < 0 || numel > 1<<56 {
		return nil, "", 0, nil, fmt.Errorf("storage %q: bad element count %v", key, tuple.Get(4))
	}
	if tuple.Len() > 5 {
		view = tuple.Get(5)
	}
	return class, key, numel, view, nil
}

// pickleInt converts a pickled Python int to int.
func pickleInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case *big.Int:
		if x.IsInt64() {
			return int(x.Int64()), nil
		}
	}
	return 0, fmt.Errorf("expected an integer, got %v (%T)", v, v)
}

// pickleInts converts a pickled tuple (or list) of ints.
func pickleInts(v any) ([]int, error) {
	var items []any
	switch x := v.(type) {
	case *types.Tuple:
		items = *x
	case *types.List:
		items = *x
	case *opaqueObject: // torch.Size reduced through an unknown class
		return nil, fmt.Errorf("unsupported shape object %v", x)
	default:
		return nil, fmt.Errorf("expected a tuple of integers, got %T", v)
	}
	out := make([]int, len(items))
	for i, it := range items {
		n, err := pickleInt(it)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}
