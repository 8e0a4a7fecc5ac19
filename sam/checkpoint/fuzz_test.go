package checkpoint

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/nlpodyssey/safetensors"
	"github.com/synthfm/synthfm/internal/shareddata"
)

// FuzzRead feeds mutated checkpoints to the readers: they must return an
// error or a consistent state dict, never panic or allocate without bound.
// Run with: go test -run '^$' -fuzz FuzzRead -fuzztime 60s ./sam/checkpoint
func FuzzRead(f *testing.F) {
	c := newHandBuiltCase()
	f.Add(buildZipPth(f, c.tensors, false, zip.Store))
	f.Add(buildZipPth(f, c.tensors, true, zip.Deflate))
	f.Add(buildLegacyPth(c.tensors, true))
	view, _ := safetensors.NewTensorView(safetensors.F16, []uint64{2}, le16(0x3C00, 0x4000))
	st, _ := safetensors.Serialize(map[string]safetensors.TensorView{"x": view}, nil)
	f.Add(st)
	// The shared fixtures, read at run time (never committed as corpus files).
	if dir, err := shareddata.Find(); err == nil {
		for _, name := range []string{"sam-tiny-pad/sam_tiny-pad.pth", "sam-tiny-pad/sam_tiny-pad.safetensors"} {
			if b, err := os.ReadFile(filepath.Join(dir, "fixtures", name)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := readFrom(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, name := range sd.Names() {
			tt, _ := sd.Get(name)
			if n, err := checkedNumElements(tt.Shape); err != nil || n != len(tt.Data) {
				t.Fatalf("%s: shape %v with %d values", name, tt.Shape, len(tt.Data))
			}
		}
	})
}

// FuzzPickleEnd checks the opcode walker alone on arbitrary bytes.
func FuzzPickleEnd(f *testing.F) {
	var p pickler
	p.proto()
	p.stateDict(newHandBuiltCase().tensors, true)
	p.stop()
	f.Add(p.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		end, err := pickleEnd(data)
		if err == nil && (end <= 0 || end > len(data) || data[end-1] != '.') {
			t.Fatalf("end %d of %d bytes", end, len(data))
		}
		if err == nil {
			unpickle(data[:end], nil) // must not panic
		}
	})
}
