package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math/big"
	"sort"
	"testing"
)

// This file builds torch.save files in memory, opcode by opcode, the way
// torch.save (pickle protocol 2) lays them out, so that the readers can be
// tested on fp16, bf16, int64, strided views and wrapped dicts without
// torch and without committing binary fixtures.

// pickler emits pickle opcodes.
type pickler struct{ bytes.Buffer }

func (p *pickler) proto()      { p.Write([]byte{0x80, 2}) }
func (p *pickler) stop()       { p.WriteByte('.') }
func (p *pickler) mark()       { p.WriteByte('(') }
func (p *pickler) tuple()      { p.WriteByte('t') }
func (p *pickler) emptyTuple() { p.WriteByte(')') }
func (p *pickler) reduce()     { p.WriteByte('R') }
func (p *pickler) persID()     { p.WriteByte('Q') }
func (p *pickler) setItems()   { p.WriteByte('u') }
func (p *pickler) emptyDict()  { p.WriteByte('}') }
func (p *pickler) emptyList()  { p.WriteByte(']') }
func (p *pickler) appends()    { p.WriteByte('e') }
func (p *pickler) none()       { p.WriteByte('N') }
func (p *pickler) boolean(b bool) {
	if b {
		p.WriteByte(0x88)
	} else {
		p.WriteByte(0x89)
	}
}

func (p *pickler) global(module, name string) {
	p.WriteString("c" + module + "\n" + name + "\n")
}

func (p *pickler) str(s string) {
	p.WriteByte('X')
	binary.Write(&p.Buffer, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
}

func (p *pickler) integer(n int) {
	switch {
	case n >= 0 && n < 256:
		p.Write([]byte{'K', byte(n)})
	case n >= 0 && n < 65536:
		p.WriteByte('M')
		binary.Write(&p.Buffer, binary.LittleEndian, uint16(n))
	default:
		p.WriteByte('J')
		binary.Write(&p.Buffer, binary.LittleEndian, int32(n))
	}
}

// long1 writes a non-negative big integer with LONG1 (two's complement, little-endian).
func (p *pickler) long1(n *big.Int) {
	be := n.Bytes()
	le := make([]byte, len(be), len(be)+1)
	for i := range be {
		le[i] = be[len(be)-1-i]
	}
	if len(le) > 0 && le[len(le)-1]&0x80 != 0 {
		le = append(le, 0)
	}
	p.Write([]byte{0x8a, byte(len(le))})
	p.Write(le)
}

func (p *pickler) ints(ns []int) {
	p.mark()
	for _, n := range ns {
		p.integer(n)
	}
	p.tuple()
}

// testStorage is a storage with its raw little-endian bytes.
type testStorage struct {
	key, class string // class: FloatStorage, HalfStorage, ...
	numel      int
	data       []byte
}

// testTensor is a view on a storage.
type testTensor struct {
	name          string
	storage       *testStorage
	offset        int
	size, stride  []int
	useParameter  bool // wrap in torch._utils._rebuild_parameter
	legacyStorage bool // persistent id with the 6th (view metadata) field
}

// tensor writes torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()).
func (p *pickler) tensor(t testTensor) {
	if t.useParameter {
		p.global("torch._utils", "_rebuild_parameter")
		p.mark()
	}
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.mark()
	p.mark()
	p.str("storage")
	p.global("torch", t.storage.class)
	p.str(t.storage.key)
	p.str("cpu")
	p.integer(t.storage.numel)
	if t.legacyStorage {
		p.none()
	}
	p.tuple()
	p.persID()
	p.integer(t.offset)
	p.ints(t.size)
	p.ints(t.stride)
	p.boolean(false)
	p.global("collections", "OrderedDict")
	p.emptyTuple()
	p.reduce()
	p.tuple()
	p.reduce()
	if t.useParameter {
		p.boolean(true)
		p.global("collections", "OrderedDict")
		p.emptyTuple()
		p.reduce()
		p.tuple()
		p.reduce()
	}
}

// stateDict writes an OrderedDict of the tensors; with wrap, it is nested
// as {"epoch": 7, "args": argparse.Namespace(), "model": state_dict}.
func (p *pickler) stateDict(tensors []testTensor, wrap bool) {
	if wrap {
		p.emptyDict()
		p.mark()
		p.str("epoch")
		p.integer(7)
		p.str("args")
		p.global("argparse", "Namespace")
		p.emptyTuple()
		p.reduce()
		p.str("model")
	}
	p.global("collections", "OrderedDict")
	p.emptyTuple()
	p.reduce()
	p.mark()
	for _, t := range tensors {
		p.str(t.name)
		p.tensor(t)
	}
	p.setItems()
	if wrap {
		p.setItems()
	}
}

// buildZipPth lays out a torch >= 1.6 zip checkpoint.
func buildZipPth(t testing.TB, tensors []testTensor, wrap bool, method uint16) []byte {
	t.Helper()
	var p pickler
	p.proto()
	p.stateDict(tensors, wrap)
	p.stop()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add("archive/data.pkl", p.Bytes())
	add("archive/byteorder", []byte("little"))
	for _, st := range storagesOf(tensors) {
		add("archive/data/"+st.key, st.data)
	}
	add("archive/version", []byte("3\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// buildLegacyPth lays out the legacy torch.save format.
func buildLegacyPth(tensors []testTensor, wrap bool) []byte {
	var out bytes.Buffer
	var p pickler
	magic, _ := new(big.Int).SetString(legacyMagic, 16)
	p.proto()
	p.long1(magic)
	p.stop()
	p.proto()
	p.integer(1001)
	p.stop()
	p.proto()
	p.emptyDict()
	p.mark()
	p.str("little_endian")
	p.boolean(true)
	p.setItems()
	p.stop()
	out.Write(p.Bytes())
	p.Reset()
	legacy := make([]testTensor, len(tensors))
	for i, tt := range tensors {
		tt.legacyStorage = true
		legacy[i] = tt
	}
	p.proto()
	p.stateDict(legacy, wrap)
	p.stop()
	out.Write(p.Bytes())
	p.Reset()
	storages := storagesOf(tensors)
	p.proto()
	p.emptyList()
	p.mark()
	for _, st := range storages {
		p.str(st.key)
	}
	p.appends()
	p.stop()
	out.Write(p.Bytes())
	for _, st := range storages {
		binary.Write(&out, binary.LittleEndian, uint64(st.numel))
		out.Write(st.data)
	}
	return out.Bytes()
}

// storagesOf lists the distinct storages of the tensors, sorted by key.
func storagesOf(tensors []testTensor) []*testStorage {
	seen := map[*testStorage]bool{}
	var out []*testStorage
	for _, t := range tensors {
		if !seen[t.storage] {
			seen[t.storage] = true
			out = append(out, t.storage)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

func le16(vals ...uint16) []byte {
	b := make([]byte, 2*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

func le32f(vals ...float32) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, vals)
	return b.Bytes()
}

func le64(vals ...int64) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, vals)
	return b.Bytes()
}

// handBuiltCase is a small state_dict with every feature the readers must
// handle, and the values expected from it, worked out by hand.
type handBuiltCase struct {
	tensors []testTensor
	want    map[string]Tensor
	order   []string
}

func newHandBuiltCase() handBuiltCase {
	f32 := &testStorage{key: "0", class: "FloatStorage", numel: 6, data: le32f(1, 2, 3, 4, 5, 6)}
	// float16 bits of 0.5, -2, 1.5, 3, 0.25, 65504, 1
	f16 := &testStorage{key: "1", class: "HalfStorage", numel: 7, data: le16(0x3800, 0xC000, 0x3E00, 0x4200, 0x3400, 0x7BFF, 0x3C00)}
	// bfloat16 bits of 1.5 and -0.125
	bf16 := &testStorage{key: "2", class: "BFloat16Storage", numel: 2, data: le16(0x3FC0, 0xBE00)}
	i64 := &testStorage{key: "3", class: "LongStorage", numel: 2, data: le64(7, -3)}
	tensors := []testTensor{
		{name: "module.a", storage: f32, size: []int{2, 3}, stride: []int{3, 1}},
		// The transpose of the 2x3 block starting at element 1: view (i, j) is
		// storage[1 + i + 3j].
		{name: "module.b", storage: f16, offset: 1, size: []int{3, 2}, stride: []int{1, 3}},
		{name: "module.c", storage: bf16, offset: 1, size: []int{}, stride: []int{}},
		{name: "module.d", storage: f32, offset: 4, size: []int{2}, stride: []int{1}, useParameter: true},
		{name: "module.e", storage: i64, size: []int{2}, stride: []int{1}},
		// stride 0: an expanded view repeating storage element 5
		{name: "module.f", storage: f32, offset: 5, size: []int{2, 2}, stride: []int{0, 0}},
	}
	want := map[string]Tensor{
		"a": {Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}, DType: F32},
		"b": {Shape: []int{3, 2}, Data: []float32{-2, 0.25, 1.5, 65504, 3, 1}, DType: F16},
		"c": {Shape: []int{}, Data: []float32{-0.125}, DType: BF16},
		"d": {Shape: []int{2}, Data: []float32{5, 6}, DType: F32},
		"e": {Shape: []int{2}, Data: []float32{7, -3}, DType: I64},
		"f": {Shape: []int{2, 2}, Data: []float32{6, 6, 6, 6}, DType: F32},
	}
	return handBuiltCase{tensors: tensors, want: want, order: []string{"a", "b", "c", "d", "e", "f"}}
}
