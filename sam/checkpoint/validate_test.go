package checkpoint

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/internal/shareddata"
)

func smallStateDict(t *testing.T) *StateDict {
	t.Helper()
	sd := NewStateDict()
	for _, s := range []Spec{{"w", []int{2, 3}}, {"b", []int{3}}, {"s", []int{}}} {
		n, _ := checkedNumElements(s.Shape)
		if err := sd.Set(s.Name, Tensor{Shape: s.Shape, Data: make([]float32, n)}); err != nil {
			t.Fatal(err)
		}
	}
	return sd
}

func TestValidate(t *testing.T) {
	sd := smallStateDict(t)
	specs := []Spec{{"w", []int{2, 3}}, {"b", []int{3}}, {"s", []int{}}}
	if err := Validate(sd, specs); err != nil {
		t.Fatalf("matching specs: %v", err)
	}
	for _, tc := range []struct {
		name  string
		specs []Spec
		want  string
	}{
		{"missing", append(slices.Clone(specs), Spec{"extra", []int{1}}), `tensor "extra" (shape [1]) is missing`},
		{"shape", []Spec{{"w", []int{3, 2}}, {"b", []int{3}}, {"s", []int{}}}, `tensor "w" has shape [2 3], the model expects [3 2]`},
		{"unexpected", specs[:2], `unexpected tensor "s"`},
		{"first-of-many", []Spec{{"b", []int{4}}, {"q", []int{1}}}, `tensor "b" has shape [3], the model expects [4] (in all: 1 missing, 1 wrongly shaped, 2 unexpected)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(sd, tc.specs)
			var me *MismatchError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a MismatchError containing %q", err, tc.want)
			}
		})
	}
}

func TestStateDictSet(t *testing.T) {
	sd := NewStateDict()
	if err := sd.Set("x", Tensor{Shape: []int{2, 2}, Data: make([]float32, 3)}); err == nil {
		t.Error("3 values for shape [2 2] accepted")
	}
	if err := sd.Set("x", Tensor{Shape: []int{-1}, Data: nil}); err == nil {
		t.Error("negative dimension accepted")
	}
	sd.Set("x", Tensor{Shape: []int{1}, Data: []float32{1}})
	sd.Set("y", Tensor{Shape: []int{1}, Data: []float32{2}})
	sd.Set("x", Tensor{Shape: []int{2}, Data: []float32{3, 4}})
	if got := sd.Names(); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("replacing reordered the names: %v", got)
	}
	if x, _ := sd.Get("x"); x.DType != F32 || sd.NumValues() != 3 {
		t.Errorf("x %+v, %d values", x, sd.NumValues())
	}
}

// The sam-keys fixtures list the official ViT-B/L/H state_dicts; their
// README gives the key and value counts independently.
func TestReadKeyListFixtures(t *testing.T) {
	for _, tc := range []struct {
		variant string
		keys    int
		values  int64
	}{
		{"vit_b", 314, 93_735_728},
		{"vit_l", 482, 312_343_088},
		{"vit_h", 594, 641_090_864},
	} {
		specs, err := ReadKeyList(shareddata.Path(t, "fixtures", "sam-keys", fmt.Sprintf("keys_%s.txt", tc.variant)))
		if err != nil {
			t.Fatal(err)
		}
		var values int64
		for _, s := range specs {
			n, _ := checkedNumElements(s.Shape)
			values += int64(n)
		}
		if len(specs) != tc.keys || values != tc.values {
			t.Errorf("%s: %d keys, %d values; want %d, %d", tc.variant, len(specs), values, tc.keys, tc.values)
		}
	}
}

func TestParseShape(t *testing.T) {
	for in, want := range map[string][]int{"[]": {}, "[3]": {3}, "[1, 64, 64, 768]": {1, 64, 64, 768}} {
		got, err := parseShape(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseShape(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"3", "[a]", "[-1]", "[1,,2]"} {
		if _, err := parseShape(in); err == nil {
			t.Errorf("parseShape(%q) accepted", in)
		}
	}
}
