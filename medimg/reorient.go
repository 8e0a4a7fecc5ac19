package medimg

import "fmt"

// ToLPS returns v with its axes permuted and flipped so that axis 0 points
// as nearly as possible to the patient's left, axis 1 posterior and axis 2
// superior (the nearest-axis reorientation of ITK's DICOMOrient "LPS").
// Volumes without a patient frame are returned unchanged.
func ToLPS(v *Volume) (*Volume, error) {
	var perm [3]int // perm[newAxis] = old axis
	var flip [3]bool
	used := [3]bool{}
	for c := 0; c < 3; c++ {
		best, bestAbs := -1, -1.0
		for r := 0; r < 3; r++ {
			a := v.Direction[r][c]
			if a < 0 {
				a = -a
			}
			if !used[r] && a > bestAbs {
				best, bestAbs = r, a
			}
		}
		used[best] = true
		perm[best] = c
		flip[best] = v.Direction[best][c] < 0
	}
	if perm == [3]int{0, 1, 2} && flip == [3]bool{} {
		return v, nil
	}
	var size [3]int
	for a := 0; a < 3; a++ {
		size[a] = v.Size[perm[a]]
	}
	out, err := NewVolume(size[0], size[1], size[2], v.Channels, v.DType)
	if err != nil {
		return nil, fmt.Errorf("reorient: %w", err)
	}
	out.SpacingKnown = v.SpacingKnown
	out.Origin = v.Origin
	for a := 0; a < 3; a++ {
		old := perm[a]
		out.Spacing[a] = v.Spacing[old]
		sign := 1.0
		if flip[a] {
			sign = -1
			for r := 0; r < 3; r++ { // the new first voxel is the old last one
				out.Origin[r] += v.Direction[r][old] * v.Spacing[old] * float64(v.Size[old]-1)
			}
		}
		for r := 0; r < 3; r++ {
			out.Direction[r][a] = sign * v.Direction[r][old]
		}
	}
	var idx, src [3]int
	for idx[2] = 0; idx[2] < size[2]; idx[2]++ {
		for idx[1] = 0; idx[1] < size[1]; idx[1]++ {
			for idx[0] = 0; idx[0] < size[0]; idx[0]++ {
				for a := 0; a < 3; a++ {
					src[perm[a]] = idx[a]
					if flip[a] {
						src[perm[a]] = size[a] - 1 - idx[a]
					}
				}
				o := out.Index(idx[0], idx[1], idx[2], 0)
				s := v.Index(src[0], src[1], src[2], 0)
				copy(out.Data[o:o+v.Channels], v.Data[s:s+v.Channels])
			}
		}
	}
	return out, nil
}

// Plane is one 2-D cut through a volume: W×H samples of Channels channels,
// row-major, with the pixel sizes along columns (SX) and rows (SY).
type Plane struct {
	W, H, Channels int
	Data           []float32
	SX, SY         float64
}

// Axis names a slicing direction of an LPS-oriented volume.
type Axis string

// Slicing directions. Axial planes have the patient's right at the left
// and anterior at the top (radiological display); coronal and sagittal
// planes have superior at the top.
const (
	Axial    Axis = "axial"
	Coronal  Axis = "coronal"
	Sagittal Axis = "sagittal"
)

// SliceCount returns the number of planes along axis.
func (v *Volume) SliceCount(axis Axis) (int, error) {
	switch axis {
	case Axial, "":
		return v.Size[2], nil
	case Coronal:
		return v.Size[1], nil
	case Sagittal:
		return v.Size[0], nil
	}
	return 0, fmt.Errorf("unknown slice axis %q (want axial, coronal or sagittal)", axis)
}

// Slice returns plane index along axis. Call it on a volume from ToLPS.
func (v *Volume) Slice(axis Axis, index int) (Plane, error) {
	n, err := v.SliceCount(axis)
	if err != nil {
		return Plane{}, err
	}
	if index < 0 || index >= n {
		return Plane{}, fmt.Errorf("slice %d outside 0..%d", index, n-1)
	}
	p := Plane{Channels: v.Channels}
	var at func(x, y int) int
	switch axis {
	case Axial, "":
		p.W, p.H, p.SX, p.SY = v.Size[0], v.Size[1], v.Spacing[0], v.Spacing[1]
		at = func(x, y int) int { return v.Index(x, y, index, 0) }
	case Coronal:
		p.W, p.H, p.SX, p.SY = v.Size[0], v.Size[2], v.Spacing[0], v.Spacing[2]
		at = func(x, y int) int { return v.Index(x, index, v.Size[2]-1-y, 0) }
	case Sagittal:
		p.W, p.H, p.SX, p.SY = v.Size[1], v.Size[2], v.Spacing[1], v.Spacing[2]
		at = func(x, y int) int { return v.Index(index, x, v.Size[2]-1-y, 0) }
	}
	p.Data = make([]float32, 0, p.W*p.H*p.Channels)
	for y := 0; y < p.H; y++ {
		for x := 0; x < p.W; x++ {
			i := at(x, y)
			p.Data = append(p.Data, v.Data[i:i+v.Channels]...)
		}
	}
	return p, nil
}
