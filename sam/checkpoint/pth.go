package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// maxPickleBytes bounds the size of a state_dict pickle (the tensor data is
// stored beside it; SAM ViT-H's pickle is well under 1 MiB).
const maxPickleBytes = 1 << 30

// legacyMagic is the number torch's legacy (pre-1.6) format starts with.
const legacyMagic = "1950a86a20f9469cfc6c"

// readPthZip reads a torch.save file in the zip format of torch >= 1.6:
// <root>/data.pkl holds the pickle, <root>/data/<key> each storage.
func readPthZip(r io.ReaderAt, size int64) (*StateDict, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a readable zip archive: %w", err)
	}
	records := map[string]*zip.File{}
	var pickleRecord *zip.File
	for _, f := range zr.File {
		records[f.Name] = f
		if path.Base(f.Name) == "constants.pkl" {
			return nil, fmt.Errorf("this is a TorchScript archive, not a torch.save file; save the model's state_dict() instead")
		}
		if path.Base(f.Name) == "data.pkl" && (pickleRecord == nil || len(f.Name) < len(pickleRecord.Name)) {
			pickleRecord = f
		}
	}
	if pickleRecord == nil {
		return nil, fmt.Errorf("zip archive has no data.pkl: not a torch.save file")
	}
	root := strings.TrimSuffix(pickleRecord.Name, "data.pkl")
	if bo, ok := records[root+"byteorder"]; ok {
		if bo.UncompressedSize64 > 16 {
			return nil, fmt.Errorf("%s: unexpected size %d", bo.Name, bo.UncompressedSize64)
		}
		b, err := readZipRecord(bo, bo.UncompressedSize64, size)
		if err != nil {
			return nil, err
		}
		if string(bytes.TrimSpace(b)) != "little" {
			return nil, fmt.Errorf("tensors are stored with byte order %q; only little-endian is supported", b)
		}
	}
	if pickleRecord.UncompressedSize64 > maxPickleBytes {
		return nil, fmt.Errorf("%s: %d bytes is too large for a state_dict pickle", pickleRecord.Name, pickleRecord.UncompressedSize64)
	}
	pkl, err := readZipRecord(pickleRecord, pickleRecord.UncompressedSize64, size)
	if err != nil {
		return nil, err
	}
	if _, err := pickleEnd(pkl); err != nil {
		return nil, fmt.Errorf("%s: %w", pickleRecord.Name, err)
	}
	storages := map[string]*storageRef{}
	persistentLoad := func(pid any) (any, error) {
		class, key, numel, _, err := parseStorageID(pid)
		if err != nil {
			return nil, err
		}
		if st, ok := storages[key]; ok {
			if st.dtype != class.dtype || st.numel != numel {
				return nil, fmt.Errorf("storage %q is declared twice with different types", key)
			}
			return st, nil
		}
		st := &storageRef{key: key, dtype: class.dtype, numel: numel}
		storages[key] = st
		return st, nil
	}
	obj, err := unpickle(pkl, persistentLoad)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pickleRecord.Name, err)
	}
	load := func(st *storageRef) ([]byte, error) {
		rec, ok := records[root+"data/"+st.key]
		if !ok {
			return nil, fmt.Errorf("storage %q: no record %sdata/%s in the archive", st.key, root, st.key)
		}
		elemSize, err := st.dtype.Size()
		if err != nil {
			return nil, err
		}
		return readZipRecord(rec, uint64(st.numel)*uint64(elemSize), size)
	}
	sd, err := buildStateDict(obj, load)
	if err != nil {
		return nil, err
	}
	sd.Format = "pth-zip"
	return sd, nil
}

// readZipRecord reads the first n bytes of a zip record. It refuses sizes
// that are implausible for the archive's size, so that a corrupt header
// cannot cause a huge allocation.
func readZipRecord(f *zip.File, n uint64, archiveSize int64) ([]byte, error) {
	if n > f.UncompressedSize64 {
		return nil, fmt.Errorf("%s: record holds %d bytes, %d expected", f.Name, f.UncompressedSize64, n)
	}
	maxRatio := uint64(1)
	if f.Method != zip.Store {
		maxRatio = 1100 // deflate cannot expand data by more than about 1032:1
	}
	if f.CompressedSize64 > uint64(archiveSize) || n > f.CompressedSize64*maxRatio+64 {
		return nil, fmt.Errorf("%s: record sizes (%d compressed, %d uncompressed) do not fit a %d-byte file", f.Name, f.CompressedSize64, f.UncompressedSize64, archiveSize)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	buf := alignedBytes(int(n))
	if _, err := io.ReadFull(rc, buf); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return buf, nil
}

// readPthLegacy reads torch's legacy (pre-1.6, or _use_new_zipfile_serialization=False)
// format: pickles of the magic number, the protocol version and system
// information, then the object's pickle, then the sorted list of storage
// keys, then each storage as an 8-byte element count followed by its bytes.
func readPthLegacy(b []byte) (*StateDict, error) {
	pos := 0
	next := func(what string, persistentLoad func(any) (any, error)) (any, error) {
		end, err := pickleEnd(b[pos:])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		obj, err := unpickle(b[pos:pos+end], persistentLoad)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		pos += end
		return obj, nil
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Text(16) != legacyMagic {
		return nil, fmt.Errorf("not a torch.save file (bad magic number)")
	}
	version, err := next("protocol version", nil)
	if err != nil {
		return nil, err
	}
	if v, ok := version.(int); !ok || v != 1001 {
		return nil, fmt.Errorf("unsupported legacy protocol version %v", version)
	}
	if _, err := next("system info", nil); err != nil {
		return nil, err
	}
	roots := map[string]*storageRef{}
	var views []*storageRef
	persistentLoad := func(pid any) (any, error) {
		class, key, numel, view, err := parseStorageID(pid)
		if err != nil {
			return nil, err
		}
		st, ok := roots[key]
		if !ok {
			st = &storageRef{key: key, dtype: class.dtype, numel: numel}
			roots[key] = st
		}
		if view == nil {
			return st, nil
		}
		// view metadata (view_key, offset, view_size): a slice of the root storage.
		vt, ok := view.(*types.Tuple)
		if !ok || vt.Len() != 3 {
			return nil, fmt.Errorf("storage %q: unexpected view metadata %v", key, view)
		}
		off, err1 := pickleInt(vt.Get(1))
		n, err2 := pickleInt(vt.Get(2))
		if err1 != nil || err2 != nil || off < 0 || n < 0 {
			return nil, fmt.Errorf("storage %q: bad view metadata %v", key, view)
		}
		v := &storageRef{key: key, dtype: class.dtype, numel: n, base: st, baseOffset: off}
		views = append(views, v)
		return v, nil
	}
	obj, err := next("state_dict pickle", persistentLoad)
	if err != nil {
		return nil, err
	}
	keysObj, err := next("storage key list", nil)
	if err != nil {
		return nil, err
	}
	keyList, ok := keysObj.(*types.List)
	if !ok {
		return nil, fmt.Errorf("storage key list is %T, not a list", keysObj)
	}
	data := map[string][]byte{}
	for _, k := range *keyList {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("storage key %v is not a string", k)
		}
		st, ok := roots[key]
		if !ok {
			return nil, fmt.Errorf("storage %q is listed but never used", key)
		}
		if len(b)-pos < 8 {
			return nil, fmt.Errorf("storage %q: file truncated", key)
		}
		numel := binary.LittleEndian.Uint64(b[pos:])
		pos += 8
		elemSize, err := st.dtype.Size()
		if err != nil {
			return nil, err
		}
		if numel != uint64(st.numel) || numel > uint64(len(b)-pos)/uint64(elemSize) {
			return nil, fmt.Errorf("storage %q: %d elements recorded, %d declared, %d bytes left", key, numel, st.numel, len(b)-pos)
		}
		n := int(numel) * elemSize
		data[key] = b[pos : pos+n]
		pos += n
	}
	load := func(st *storageRef) ([]byte, error) {
		raw, ok := data[st.key]
		if !ok {
			return nil, fmt.Errorf("storage %q has no data in the file", st.key)
		}
		if st.base != nil {
			elemSize, _ := st.dtype.Size()
			if st.baseOffset > st.base.numel || st.numel > st.base.numel-st.baseOffset {
				return nil, fmt.Errorf("storage view %q [%d:+%d] exceeds its storage of %d", st.key, st.baseOffset, st.numel, st.base.numel)
			}
			raw = raw[st.baseOffset*elemSize : (st.baseOffset+st.numel)*elemSize]
		}
		return raw, nil
	}
	sd, err := buildStateDict(obj, load)
	if err != nil {
		return nil, err
	}
	sd.Format = "pth-legacy"
	return sd, nil
}

// buildStateDict finds the state_dict inside a torch.save object and
// materialises its tensors, loading each storage once.
func buildStateDict(obj any, load func(*storageRef) ([]byte, error)) (*StateDict, error) {
	entries, err := findStateDict(obj)
	if err != nil {
		return nil, err
	}
	// Count the views of each storage so that its bytes are dropped once the
	// last one is materialised.
	uses := map[*storageRef]int{}
	for _, e := range entries {
		uses[e.tensor.storage]++
	}
	cache := map[*storageRef][]byte{}
	sd := NewStateDict()
	for _, e := range entries {
		t := e.tensor
		raw, ok := cache[t.storage]
		if !ok {
			if raw, err = load(t.storage); err != nil {
				return nil, err
			}
			cache[t.storage] = raw
		}
		storageElem, err := t.storage.dtype.Size()
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", e.name, err)
		}
		viewElem, err := t.dtype.Size()
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", e.name, err)
		}
		numel := t.storage.numel * storageElem / viewElem
		values, err := materialize(t.dtype, raw, numel, t.offset, t.size, t.stride)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", e.name, err)
		}
		if uses[t.storage]--; uses[t.storage] == 0 {
			delete(cache, t.storage)
		}
		if err := sd.Set(e.name, Tensor{Shape: t.size, Data: values, DType: t.dtype}); err != nil {
			return nil, err
		}
	}
	return sd, nil
}

// namedTensor is one entry of the state_dict found in a pickle.
type namedTensor struct {
	name   string
	tensor *tensorRef
}

// findStateDict returns the entries of the state_dict in obj: obj itself if
// it is a dict of tensors, else the dict under one of the keys with which
// training scripts wrap it ({"model": sd, "optimizer": ..., "epoch": ...}). A
// "module." prefix (torch.nn.DataParallel saves, MedSAM) is removed.
func findStateDict(obj any) ([]namedTensor, error) {
	wrapperKeys := []string{"state_dict", "model", "model_state_dict"}
	for depth := 0; depth < 4; depth++ {
		items, ok := dictItems(obj)
		if !ok {
			return nil, fmt.Errorf("the file holds a %s, not a state_dict", pyTypeName(obj))
		}
		var nested any
		allTensors := true
		for _, it := range items {
			if _, isTensor := it.value.(*tensorRef); !isTensor {
				allTensors = false
			}
		}
		if allTensors {
			return stripModulePrefix(items)
		}
		for _, wk := range wrapperKeys {
			for _, it := range items {
				if k, _ := it.key.(string); k == wk {
					if _, isDict := dictItems(it.value); isDict {
						nested = it.value
						break
					}
				}
			}
			if nested != nil {
				break
			}
		}
		if nested == nil {
			for _, it := range items {
				if _, isTensor := it.value.(*tensorRef); !isTensor {
					return nil, fmt.Errorf("entry %v of the dict is a %s, not a tensor, and no %q entry holds a state_dict", it.key, pyTypeName(it.value), wrapperKeys)
				}
			}
		}
		obj = nested
	}
	return nil, fmt.Errorf("state_dict nested too deeply")
}

// stripModulePrefix turns the dict items into named tensors, removing the
// "module." prefix that multi-GPU training adds to every name.
func stripModulePrefix(items []dictItem) ([]namedTensor, error) {
	out := make([]namedTensor, 0, len(items))
	seen := map[string]bool{}
	for _, it := range items {
		name, ok := it.key.(string)
		if !ok {
			return nil, fmt.Errorf("state_dict key %v is not a string", it.key)
		}
		name = strings.TrimPrefix(name, "module.")
		if seen[name] {
			return nil, fmt.Errorf("state_dict has %q twice (with and without the module. prefix?)", name)
		}
		seen[name] = true
		out = append(out, namedTensor{name, it.value.(*tensorRef)})
	}
	return out, nil
}

type dictItem struct{ key, value any }

// dictItems lists the entries of a pickled dict or OrderedDict in order; a
// key set twice keeps its first position and its last value, as in Python.
func dictItems(obj any) ([]dictItem, bool) {
	var items []dictItem
	switch d := obj.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			items = append(items, dictItem{entry.Key, entry.Value})
		}
		return items, true
	case *types.Dict:
		index := map[any]int{}
		for _, entry := range *d {
			if isHashable(entry.Key) {
				if i, ok := index[entry.Key]; ok {
					items[i].value = entry.Value
					continue
				}
				index[entry.Key] = len(items)
			}
			items = append(items, dictItem{entry.Key, entry.Value})
		}
		return items, true
	}
	return nil, false
}

// isHashable reports whether a pickled key can be a Go map key.
func isHashable(k any) bool {
	switch k.(type) {
	case string, int, bool, float64, nil:
		return true
	}
	return false
}

// pyTypeName describes a pickled value for error messages.
func pyTypeName(v any) string {
	switch x := v.(type) {
	case *tensorRef:
		return "tensor"
	case *types.OrderedDict, *types.Dict:
		return "dict"
	case *types.List:
		return "list"
	case *types.Tuple:
		return "tuple"
	case *opaqueObject:
		return x.class + " object"
	case nil:
		return "None"
	}
	return fmt.Sprintf("%T", v)
}
