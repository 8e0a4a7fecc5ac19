// Package npytest reads NumPy .npy files in tests (the official SAM fixtures).
package npytest

import (
	"os"
	"testing"

	"codeberg.org/sbinet/npyio"
)

// Read returns the shape and the flat row-major data of a .npy file whose
// element type matches T, failing the test on any error.
func Read[T any](tb testing.TB, path string) ([]int, []T) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var data []T
	if err := r.Read(&data); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return r.Header.Descr.Shape, data
}
