package checkpoint

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/synthfm/synthfm/internal/shareddata"
)

// vitBFiles writes a ViT-B-sized checkpoint (the official key list, 375 MB
// of float32) as .pth and .safetensors into a temporary folder.
func vitBFiles(b *testing.B) (pth, st string) {
	b.Helper()
	specs, err := ReadKeyList(shareddata.Path(b, "fixtures", "sam-keys", "keys_vit_b.txt"))
	if err != nil {
		b.Fatal(err)
	}
	sd := NewStateDict()
	var tensors []testTensor
	for i, s := range specs {
		n, _ := checkedNumElements(s.Shape)
		data := make([]float32, n)
		for j := range data {
			data[j] = float32(j%251) / 251
		}
		if err := sd.Set(s.Name, Tensor{Shape: s.Shape, Data: data}); err != nil {
			b.Fatal(err)
		}
		stride := make([]int, len(s.Shape))
		acc := 1
		for k := len(s.Shape) - 1; k >= 0; k-- {
			stride[k] = acc
			acc *= s.Shape[k]
		}
		st := &testStorage{key: strconv.Itoa(i), class: "FloatStorage", numel: n, data: float32Bytes(data)}
		tensors = append(tensors, testTensor{name: s.Name, storage: st, size: s.Shape, stride: stride})
	}
	dir := b.TempDir()
	pth, st = filepath.Join(dir, "vit_b.pth"), filepath.Join(dir, "vit_b.safetensors")
	if err := os.WriteFile(pth, buildZipPth(b, tensors, false, zip.Store), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := WriteSafetensors(st, sd, nil); err != nil {
		b.Fatal(err)
	}
	return pth, st
}

// BenchmarkReadViTB reads a ViT-B-sized checkpoint in each format, next to
// os.ReadFile of the .safetensors file (the raw I/O) as the baseline.
// Run: go test ./sam/checkpoint -run '^$' -bench ReadViTB -benchtime 3x
func BenchmarkReadViTB(b *testing.B) {
	pth, st := vitBFiles(b)
	b.Run("os.ReadFile", func(b *testing.B) {
		for b.Loop() {
			if _, err := os.ReadFile(st); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, p := range []string{pth, st} {
		b.Run(filepath.Ext(p)[1:], func(b *testing.B) {
			for b.Loop() {
				if _, err := Read(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
