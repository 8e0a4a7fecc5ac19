package medimg

import (
	"math"
	"testing"
)

// TestIndexMapFollowsToLPS reorients volumes with ToLPS and checks
// that the map derived from the geometry sends every voxel of the view to
// the uploaded voxel holding the same value.
func TestIndexMapFollowsToLPS(t *testing.T) {
	c, s := math.Cos(0.2), math.Sin(0.2)
	for name, dir := range map[string][3][3]float64{
		"RAS (flips i and j)":          {{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}},
		"sagittal (axes permuted)":     {{0, 0, 1}, {1, 0, 0}, {0, -1, 0}},
		"oblique, left-handed":         {{c, -s, 0}, {s, c, 0}, {0, 0, -1}},
		"identity (nothing to change)": Identity(),
	} {
		v, _ := NewVolume(5, 4, 3, 1, "float32")
		for i := range v.Data {
			v.Data[i] = float32(i)
		}
		v.Direction, v.Spacing, v.Origin = dir, [3]float64{0.5, 1.5, 3}, [3]float64{10, -20, 30}
		view, err := ToLPS(v)
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewIndexMap(view, v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k := 0; k < view.Size[2]; k++ {
			for j := 0; j < view.Size[1]; j++ {
				for i := 0; i < view.Size[0]; i++ {
					o := m.Apply([3]int{i, j, k})
					if o[0] < 0 || o[1] < 0 || o[2] < 0 || o[0] >= 5 || o[1] >= 4 || o[2] >= 3 {
						t.Fatalf("%s: view voxel %v maps outside the volume to %v", name, [3]int{i, j, k}, o)
					}
					if got, want := v.At(o[0], o[1], o[2], 0), view.At(i, j, k, 0); got != want {
						t.Fatalf("%s: view voxel %v holds %g, mapped voxel %v holds %g", name, [3]int{i, j, k}, want, o, got)
					}
				}
			}
		}
	}
}

func TestIndexMapRefusesOtherGrids(t *testing.T) {
	a, _ := NewVolume(4, 4, 4, 1, "uint8")
	b, _ := NewVolume(4, 4, 4, 1, "uint8")
	b.Origin = [3]float64{0.5, 0, 0} // half a voxel off
	if _, err := NewIndexMap(a, b); err == nil {
		t.Error("half-voxel shift accepted")
	}
	b.Origin = [3]float64{}
	b.Spacing = [3]float64{2, 1, 1} // other spacing
	if _, err := NewIndexMap(a, b); err == nil {
		t.Error("other spacing accepted")
	}
	b.Spacing = [3]float64{0, 1, 1}
	if _, err := NewIndexMap(a, b); err == nil {
		t.Error("degenerate axes accepted")
	}
}

func TestWorldToIndexInvertsTheGrid(t *testing.T) {
	c, s := math.Cos(0.3), math.Sin(0.3)
	v := &Volume{Spacing: [3]float64{0.8, 0.9, 2.5}, Origin: [3]float64{-100, 50.5, 20},
		Direction: [3][3]float64{{c, 0, -s}, {0, 1, 0}, {s, 0, c}}}
	idx := [3]float64{3, -2, 7.5}
	var w [3]float64
	for r := 0; r < 3; r++ {
		w[r] = v.Origin[r]
		for a := 0; a < 3; a++ {
			w[r] += v.Direction[r][a] * v.Spacing[a] * idx[a]
		}
	}
	got, ok := v.WorldToIndex(w)
	if !ok {
		t.Fatal("grid called degenerate")
	}
	for a := range idx {
		if math.Abs(got[a]-idx[a]) > 1e-9 {
			t.Fatalf("WorldToIndex = %v, want %v", got, idx)
		}
	}
	v.Spacing[1] = 0
	if _, ok := v.WorldToIndex(w); ok {
		t.Error("zero spacing accepted")
	}
}
