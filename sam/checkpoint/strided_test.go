package checkpoint

import (
	"slices"
	"strings"
	"testing"
)

func TestMaterialize(t *testing.T) {
	// storage: 0, 1, ..., 23 as float32
	vals := make([]float32, 24)
	for i := range vals {
		vals[i] = float32(i)
	}
	raw := le32f(vals...)
	for _, tc := range []struct {
		name         string
		offset       int
		size, stride []int
		want         []float32
	}{
		{"contiguous", 2, []int{2, 3}, []int{3, 1}, []float32{2, 3, 4, 5, 6, 7}},
		// (2,3,4) tensor permuted to (4,2,3): element (i,j,k) = 12j + 4k + i
		{"permuted3d", 0, []int{4, 2, 3}, []int{1, 12, 4}, []float32{
			0, 4, 8, 12, 16, 20,
			1, 5, 9, 13, 17, 21,
			2, 6, 10, 14, 18, 22,
			3, 7, 11, 15, 19, 23}},
		// every other column of a 4x6 matrix: element (i,j) = 6i + 2j + 1
		{"sliced", 1, []int{4, 3}, []int{6, 2}, []float32{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23}},
		{"expanded", 7, []int{3}, []int{0}, []float32{7, 7, 7}},
		{"size-one-axis", 5, []int{1, 2}, []int{99, 1}, []float32{5, 6}},
		{"empty", 30, []int{0, 4}, []int{4, 1}, []float32{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := materialize(F32, raw, 24, tc.offset, tc.size, tc.stride)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name         string
		offset       int
		size, stride []int
		want         string
	}{
		{"past-end", 20, []int{2, 3}, []int{3, 1}, "reaches element"},
		{"negative-stride", 10, []int{2}, []int{-1}, "negative stride"},
		{"rank-mismatch", 0, []int{2, 2}, []int{1}, "different ranks"},
		{"too-many", 0, []int{1 << 40, 1 << 40}, []int{1 << 40, 1}, "too many elements"},
		{"overflow", 0, []int{1 << 20, 2}, []int{1 << 62, 1}, "overflow"},
		{"huge-expand", 0, []int{1 << 30}, []int{0}, "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := materialize(F32, raw, 24, tc.offset, tc.size, tc.stride)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestDecodeHalfPrecision(t *testing.T) {
	// float16: 1, -0, smallest subnormal 2^-24, largest 65504, +Inf
	f16, err := materialize(F16, le16(0x3C00, 0x8000, 0x0001, 0x7BFF, 0x7C00), 5, 0, []int{5}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 0, 1.0 / (1 << 24), 65504, float32(posInf())}
	if !slices.Equal(f16, want) {
		t.Errorf("float16 %v, want %v", f16, want)
	}
	// bfloat16 is the top half of a float32: 0x4049 -> 3.140625
	bf, _ := materialize(BF16, le16(0x4049), 1, 0, []int{1}, []int{1})
	if bf[0] != 3.140625 {
		t.Errorf("bfloat16 0x4049 = %v, want 3.140625", bf[0])
	}
}

func posInf() float64 { return 1 / zero() }
func zero() float64   { return 0 }
