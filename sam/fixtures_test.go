package sam

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/synthfm/synthfm/internal/mlbackend"
	"github.com/synthfm/synthfm/internal/shareddata"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

// array is a float32 NumPy array read from a fixture.
type array struct {
	shape []int
	data  []float32
}

// fixture is one of the shared SAM parity folders (sam-tiny-a, sam-tiny-pad).
type fixture struct {
	name string
	dir  string
	cfg  Config
}

func loadFixture(t testing.TB, name string) fixture {
	t.Helper()
	dir := shareddata.Path(t, "fixtures", "sam-"+name)
	cfg, err := LoadConfig(filepath.Join(dir, "config_"+name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return fixture{name: name, dir: dir, cfg: cfg}
}

// npy reads a fixture array as float32 (int32 and uint8 arrays are converted).
func (f fixture) npy(t testing.TB, file string) array {
	t.Helper()
	a, err := readNPY(filepath.Join(f.dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// has reports whether the fixture holds a file.
func (f fixture) has(file string) bool {
	_, err := os.Stat(filepath.Join(f.dir, file))
	return err == nil
}

func readNPY(path string) (array, error) {
	fh, err := os.Open(path)
	if err != nil {
		return array{}, err
	}
	defer fh.Close()
	r, err := npyio.NewReader(fh)
	if err != nil {
		return array{}, fmt.Errorf("%s: %w", path, err)
	}
	shape := append([]int{}, r.Header.Descr.Shape...)
	var out []float32
	switch strings.Trim(r.Header.Descr.Type, "'\"") {
	case "<f4":
		err = r.Read(&out)
	case "<i4":
		var v []int32
		err = r.Read(&v)
		for _, x := range v {
			out = append(out, float32(x))
		}
	case "|u1":
		var v []uint8
		err = r.Read(&v)
		for _, x := range v {
			out = append(out, float32(x))
		}
	default:
		return array{}, fmt.Errorf("%s: dtype %s not handled", path, r.Header.Descr.Type)
	}
	if err != nil {
		return array{}, fmt.Errorf("%s: %w", path, err)
	}
	return array{shape: shape, data: out}, nil
}

// stateDict reads the fixture's weights (".pth" or ".safetensors").
func (f fixture) stateDict(t testing.TB, ext string) *checkpoint.StateDict {
	t.Helper()
	sd, err := checkpoint.Read(filepath.Join(f.dir, "sam_"+f.name+ext))
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

// newBackend returns the project's backend for a test.
func newBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := mlbackend.New()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadedStore returns a store holding the fixture's weights.
func (f fixture) loadedStore(t testing.TB, ext string) *model.Store {
	t.Helper()
	store := model.NewStore()
	if err := LoadStateDict(store.RootScope(), f.cfg, f.stateDict(t, ext)); err != nil {
		t.Fatal(err)
	}
	return store
}

// assertClose compares got with want: max |got−want| ≤ tol·max|want| (the
// output's scale; tol itself when want is all zeros).
func assertClose(t testing.TB, what string, got []float32, gotShape []int, want array, tol float64) {
	t.Helper()
	if !reflect.DeepEqual(squeezeOnes(gotShape), squeezeOnes(want.shape)) {
		t.Fatalf("%s: shape %v, want %v", what, gotShape, want.shape)
	}
	if len(got) != len(want.data) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want.data))
	}
	scale, maxErr, at := 0.0, 0.0, 0
	for i, w := range want.data {
		scale = math.Max(scale, math.Abs(float64(w)))
		if d := math.Abs(float64(got[i]) - float64(w)); d > maxErr || math.IsNaN(d) {
			maxErr, at = d, i
		}
	}
	limit := tol * scale
	if scale == 0 {
		limit = tol
	}
	if !(maxErr <= limit) {
		t.Errorf("%s: max abs error %.3g at %d (got %g, want %g) > %.3g (scale %.3g)", what, maxErr, at, got[at], want.data[at], limit, scale)
	} else {
		t.Logf("%s: max abs error %.3g (scale %.3g)", what, maxErr, scale)
	}
}

// squeezeOnes drops leading unit dimensions (fixtures sometimes keep a batch axis).
func squeezeOnes(s []int) []int {
	for len(s) > 1 && s[0] == 1 {
		s = s[1:]
	}
	return s
}

// randomTensor is a tensor of N(0,1) values drawn from rng.
func randomTensor[T float32 | float64](rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]T, n)
	for i := range v {
		v[i] = T(rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}
