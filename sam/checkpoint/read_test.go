package checkpoint

import (
	"archive/zip"
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"
	"github.com/synthfm/synthfm/internal/shareddata"
)

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkHandBuilt(t *testing.T, sd *StateDict, c handBuiltCase) {
	t.Helper()
	if got := sd.Names(); !slices.Equal(got, c.order) {
		t.Fatalf("names %v, want %v (module. prefix removed, file order kept)", got, c.order)
	}
	for name, want := range c.want {
		got, _ := sd.Get(name)
		if !slices.Equal(got.Shape, want.Shape) || !slices.Equal(got.Data, want.Data) || got.DType != want.DType {
			t.Errorf("%s: got shape %v data %v dtype %s, want %v %v %s", name, got.Shape, got.Data, got.DType, want.Shape, want.Data, want.DType)
		}
	}
}

func TestReadHandBuiltPth(t *testing.T) {
	c := newHandBuiltCase()
	for _, tc := range []struct {
		name   string
		data   []byte
		format string
	}{
		{"zip-stored", buildZipPth(t, c.tensors, false, zip.Store), "pth-zip"},
		{"zip-deflated-wrapped", buildZipPth(t, c.tensors, true, zip.Deflate), "pth-zip"},
		{"legacy", buildLegacyPth(c.tensors, false), "pth-legacy"},
		{"legacy-wrapped", buildLegacyPth(c.tensors, true), "pth-legacy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sd, err := Read(writeTemp(t, "model.pth", tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if sd.Format != tc.format {
				t.Errorf("format %q, want %q", sd.Format, tc.format)
			}
			checkHandBuilt(t, sd, c)
		})
	}
}

func TestReadSafetensorsOtherDTypes(t *testing.T) {
	mk := func(dt safetensors.DType, shape []uint64, data []byte) safetensors.TensorView {
		v, err := safetensors.NewTensorView(dt, shape, data)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	b, err := safetensors.Serialize(map[string]safetensors.TensorView{
		"h": mk(safetensors.F16, []uint64{2, 2}, le16(0x3800, 0xC000, 0x7BFF, 0x3C00)),
		"g": mk(safetensors.BF16, []uint64{1}, le16(0x3FC0)),
		"i": mk(safetensors.I64, []uint64{2}, le64(7, -3)),
	}, map[string]string{"note": "built in a test"})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Read(writeTemp(t, "w.bin", b))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Tensor{
		"h": {Shape: []int{2, 2}, Data: []float32{0.5, -2, 65504, 1}, DType: F16},
		"g": {Shape: []int{1}, Data: []float32{1.5}, DType: BF16},
		"i": {Shape: []int{2}, Data: []float32{7, -3}, DType: I64},
	}
	for name, w := range want {
		got, ok := sd.Get(name)
		if !ok || !slices.Equal(got.Shape, w.Shape) || !slices.Equal(got.Data, w.Data) || got.DType != w.DType {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
	}
	if sd.Metadata["note"] != "built in a test" || sd.Format != "safetensors" {
		t.Errorf("format %q metadata %v", sd.Format, sd.Metadata)
	}
}

// The two fixture files were written by different programs (torch.save and
// the fixture author's own safetensors writer); they must give the same
// tensors bit for bit.
func TestFixturePthAndSafetensorsAgree(t *testing.T) {
	for _, model := range []struct {
		name     string
		nTensors int
		peShape  []int
	}{
		{"tiny-a", 202, []int{2, 16}},
		{"tiny-pad", 0, []int{2, 8}},
	} {
		t.Run(model.name, func(t *testing.T) {
			dir := shareddata.Path(t, "fixtures", "sam-"+model.name)
			pth, err := Read(filepath.Join(dir, "sam_"+model.name+".pth"))
			if err != nil {
				t.Fatal(err)
			}
			st, err := Read(filepath.Join(dir, "sam_"+model.name+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if pth.Format != "pth-zip" || st.Format != "safetensors" {
				t.Errorf("formats %q, %q", pth.Format, st.Format)
			}
			if model.nTensors > 0 && pth.Len() != model.nTensors {
				t.Errorf("%d tensors in the .pth, README says %d", pth.Len(), model.nTensors)
			}
			if !slices.Equal(pth.Names(), st.Names()) {
				t.Fatalf("names or order differ:\npth %v\nsafetensors %v", pth.Names(), st.Names())
			}
			for _, name := range pth.Names() {
				a, _ := pth.Get(name)
				b, _ := st.Get(name)
				if !slices.Equal(a.Shape, b.Shape) || a.DType != F32 || b.DType != F32 {
					t.Fatalf("%s: shapes %v/%v dtypes %s/%s", name, a.Shape, b.Shape, a.DType, b.DType)
				}
				for i := range a.Data {
					if a.Data[i] != b.Data[i] {
						t.Fatalf("%s[%d]: pth %v, safetensors %v", name, i, a.Data[i], b.Data[i])
					}
				}
			}
			pe, ok := pth.Get("prompt_encoder.pe_layer.positional_encoding_gaussian_matrix")
			if !ok || !slices.Equal(pe.Shape, model.peShape) {
				t.Errorf("positional encoding buffer: %v %v", ok, pe.Shape)
			}
			if _, ok := pth.Get("pixel_mean"); ok {
				t.Error("pixel_mean is a non-persistent buffer and must not be in the file")
			}
			if st.Metadata["format"] != "pt" || st.Metadata["source"] != "sam_"+model.name+".pth" {
				t.Errorf("metadata %v", st.Metadata)
			}
		})
	}
}

func TestWriteSafetensorsRoundTrip(t *testing.T) {
	c := newHandBuiltCase()
	src, err := Read(writeTemp(t, "m.pth", buildZipPth(t, c.tensors, false, zip.Store)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out.safetensors")
	if err := os.WriteFile(out, []byte("old content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteSafetensors(out, src, map[string]string{"trained_by": "synthfm"}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries after the write, want only the output", len(entries))
	}
	back, err := Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if back.Metadata["format"] != "pt" || back.Metadata["trained_by"] != "synthfm" {
		t.Errorf("metadata %v", back.Metadata)
	}
	if back.Len() != src.Len() {
		t.Fatalf("%d tensors back, %d written", back.Len(), src.Len())
	}
	for _, name := range src.Names() {
		a, _ := src.Get(name)
		b, ok := back.Get(name)
		if !ok || !slices.Equal(a.Shape, b.Shape) || !slices.Equal(a.Data, b.Data) || b.DType != F32 {
			t.Errorf("%s: wrote %+v, read %+v", name, a, b)
		}
	}
	// Python's safetensors parses the header as JSON with the tensors in data
	// order, 8-byte aligned; check the layout with the library's own parser.
	raw, _ := os.ReadFile(out)
	n, meta, err := safetensors.ReadMetadata(raw)
	if err != nil || n%8 != 0 {
		t.Fatalf("header length %d, err %v", n, err)
	}
	for name, info := range meta.Tensors() {
		if info.DType != safetensors.F32 {
			t.Errorf("%s stored as %s", name, info.DType)
		}
	}
	if err := WriteSafetensors(filepath.Join(dir, "no", "such", "dir.safetensors"), src, nil); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

func TestReadFixtureRoundTrip(t *testing.T) {
	p := shareddata.Path(t, "fixtures", "sam-tiny-a", "sam_tiny-a.pth")
	src, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "tiny.safetensors")
	if err := WriteSafetensors(out, src, nil); err != nil {
		t.Fatal(err)
	}
	back, err := Read(out)
	if err != nil {
		t.Fatal(err)
	}
	specs := make([]Spec, 0, src.Len())
	for _, name := range src.Names() {
		tt, _ := src.Get(name)
		specs = append(specs, Spec{name, tt.Shape})
	}
	if err := Validate(back, specs); err != nil {
		t.Fatal(err)
	}
	for _, name := range src.Names() {
		a, _ := src.Get(name)
		b, _ := back.Get(name)
		if !slices.Equal(a.Data, b.Data) {
			t.Fatalf("%s differs after the round trip", name)
		}
	}
}

func TestReadErrorsNameFileAndReason(t *testing.T) {
	c := newHandBuiltCase()
	good := buildZipPth(t, c.tensors, false, zip.Store)
	legacy := buildLegacyPth(c.tensors, false)
	bad := newHandBuiltCase()
	bad.tensors[0].size = []int{3, 3} // 9 elements of a 6-element storage
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"empty", "empty file", nil},
		{"text", "unrecognised format", []byte("hello, this is not a checkpoint at all")},
		{"truncated-zip", "zip", good[:len(good)/2]},
		{"truncated-legacy", "truncated", legacy[:len(legacy)-5]},
		{"view-out-of-storage", "reaches element", buildZipPth(t, bad.tensors, false, zip.Store)},
		{"safetensors-truncated", "exceeds", append([]byte{0xff, 0xff, 0, 0, 0, 0, 0, 0}, []byte(`{"a":{}}`)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, tc.name+".pth", tc.data)
			_, err := Read(p)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q should name %s and say %q", err, p, tc.want)
			}
		})
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing.pth")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestReadRejectsNonStateDict(t *testing.T) {
	var p pickler
	p.proto()
	p.emptyDict()
	p.mark()
	p.str("epoch")
	p.integer(3)
	p.setItems()
	p.stop()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("archive/data.pkl")
	w.Write(p.Bytes())
	zw.Close()
	_, err := Read(writeTemp(t, "x.pth", buf.Bytes()))
	if err == nil || !strings.Contains(err.Error(), "epoch") {
		t.Errorf("want an error naming the non-tensor entry, got %v", err)
	}
}

func TestWriteSafetensorsHalfPrecision(t *testing.T) {
	sd := NewStateDict()
	// Values exactly representable in half precision come back exactly;
	// 1/3 comes back within half precision's relative step (2^-11).
	exact := []float32{0, 1, -2, 0.5, 65504, -0.000061035156, 1023.5, 3 * 5.9604645e-08, -1000 * 5.9604645e-08}
	if err := sd.Set("a.weight", Tensor{Shape: []int{9}, Data: exact, DType: F32}); err != nil {
		t.Fatal(err)
	}
	if err := sd.Set("b.bias", Tensor{Shape: []int{1, 1}, Data: []float32{1.0 / 3}, DType: F32}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "half.safetensors")
	if err := WriteSafetensorsAs(out, sd, nil, F16); err != nil {
		t.Fatal(err)
	}
	back, err := Read(out)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := back.Get("a.weight")
	if a.DType != F16 || !slices.Equal(a.Data, exact) {
		t.Errorf("a.weight read back as %s %v, want F16 %v", a.DType, a.Data, exact)
	}
	b, _ := back.Get("b.bias")
	if d := math.Abs(float64(b.Data[0]) - 1.0/3); d > 1.0/3/2048 || !slices.Equal(b.Shape, []int{1, 1}) {
		t.Errorf("b.bias read back as %v %v (error %g)", b.Shape, b.Data, d)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() > 8+512+2*8 {
		t.Errorf("half-precision file size %v, %v", fi.Size(), err)
	}

	big := NewStateDict()
	if err := big.Set("x", Tensor{Shape: []int{1}, Data: []float32{1e6}}); err != nil {
		t.Fatal(err)
	}
	if err := WriteSafetensorsAs(filepath.Join(t.TempDir(), "big.safetensors"), big, nil, F16); err == nil || !strings.Contains(err.Error(), "half precision") {
		t.Errorf("overflowing value: err = %v", err)
	}
	if err := WriteSafetensorsAs(filepath.Join(t.TempDir(), "i8.safetensors"), sd, nil, I8); err == nil {
		t.Error("writing I8 succeeded")
	}
}
