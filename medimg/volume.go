// Package medimg reads medical images and volumes (NIfTI, DICOM, NRRD, GIPL,
// PNG/JPEG/TIFF, NPY/NPZ) into one volume type that keeps voxel spacing,
// origin and direction.
//
// Formats register themselves with RegisterFormat, in the shape of the
// standard library's image.RegisterFormat. DICOM uses
// github.com/suyashkumar/dicom, NPY/NPZ codeberg.org/sbinet/npyio and the
// raster formats the standard library and golang.org/x/image/tiff. NIfTI,
// NRRD and GIPL are read by hand: no maintained pure-Go reader for them is
// served by the module proxy this project uses.
package medimg

import (
	"fmt"
	"math"
)

// Volume is a scalar (or multi-channel) image of up to three dimensions.
//
// Voxels are stored with the first axis fastest: the value of channel c at
// voxel (i, j, k) is Data[c + Channels*(i + Size[0]*(j + Size[1]*k))]. For a
// 2-D picture i is the column, j the row and Size[2] is 1.
//
// Spacing, Origin and Direction place voxel centres in patient space, in
// millimetres, in the LPS convention of DICOM and ITK (x grows to the
// patient's left, y to posterior, z to superior): world = Origin +
// Direction · (Spacing ⊙ index). Column c of Direction is the unit vector of
// axis c. Readers of formats without a patient frame (PNG, TIFF, NPY) leave
// Direction as the identity, Spacing as 1 and SpacingKnown false.
type Volume struct {
	Size         [3]int
	Channels     int
	Data         []float32
	Spacing      [3]float64
	Origin       [3]float64
	Direction    [3][3]float64
	SpacingKnown bool
	// DType names the stored sample type ("uint8", "int16", "float32", ...).
	DType string
}

// NewVolume returns a zero-filled volume with unit spacing and identity
// direction.
func NewVolume(nx, ny, nz, channels int, dtype string) (*Volume, error) {
	v, err := newShape(nx, ny, nz, channels, dtype)
	if err != nil {
		return nil, err
	}
	v.Data = make([]float32, v.Voxels()*channels)
	return v, nil
}

// newShape returns a volume with its size and no samples yet (Data nil):
// readers fill Data once the file has shown it holds them.
func newShape(nx, ny, nz, channels int, dtype string) (*Volume, error) {
	if nx <= 0 || ny <= 0 || nz <= 0 || channels <= 0 {
		return nil, fmt.Errorf("invalid volume size %dx%dx%d with %d channels", nx, ny, nz, channels)
	}
	n := nx * ny * nz * channels
	if n/channels/nz/ny != nx || n > 1<<31 {
		return nil, fmt.Errorf("volume size %dx%dx%dx%d is too large", nx, ny, nz, channels)
	}
	v := &Volume{
		Size:     [3]int{nx, ny, nz},
		Channels: channels,
		Spacing:  [3]float64{1, 1, 1},
		DType:    dtype,
	}
	v.Direction = Identity()
	return v, nil
}

// Identity returns the identity direction matrix.
func Identity() [3][3]float64 {
	return [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
}

// Voxels returns the number of voxels (not samples).
func (v *Volume) Voxels() int { return v.Size[0] * v.Size[1] * v.Size[2] }

// Index returns the position in Data of channel c of voxel (i, j, k).
func (v *Volume) Index(i, j, k, c int) int {
	return c + v.Channels*(i+v.Size[0]*(j+v.Size[1]*k))
}

// At returns channel c of voxel (i, j, k).
func (v *Volume) At(i, j, k, c int) float32 { return v.Data[v.Index(i, j, k, c)] }

// Is8Bit reports whether the samples were stored as 8-bit integers.
func (v *Volume) Is8Bit() bool { return v.DType == "uint8" || v.DType == "int8" }

// Range returns the minimum and maximum sample.
func (v *Volume) Range() (lo, hi float32) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, x := range v.Data {
		lo = min(lo, x)
		hi = max(hi, x)
	}
	return lo, hi
}

// Orientation returns the three-letter code of the directions the axes point
// to (as nibabel's aff2axcodes does): "RAS" means i grows towards the
// patient's right, j anterior, k superior; "LPS" is the DICOM default.
func (v *Volume) Orientation() string {
	code := make([]byte, 3)
	for c := 0; c < 3; c++ {
		best, bestAbs := 0, -1.0
		for r := 0; r < 3; r++ {
			if a := math.Abs(v.Direction[r][c]); a > bestAbs {
				best, bestAbs = r, a
			}
		}
		pos := v.Direction[best][c] > 0
		code[c] = "LPS"[best]
		if !pos {
			code[c] = "RAI"[best]
		}
	}
	return string(code)
}

// SameGrid reports whether w has v's size and, within tol millimetres,
// v's spacing, origin and direction.
func (v *Volume) SameGrid(w *Volume, tol float64) bool {
	if v.Size != w.Size {
		return false
	}
	for a := 0; a < 3; a++ {
		if math.Abs(v.Spacing[a]-w.Spacing[a]) > tol || math.Abs(v.Origin[a]-w.Origin[a]) > tol {
			return false
		}
		for b := 0; b < 3; b++ {
			if math.Abs(v.Direction[a][b]-w.Direction[a][b]) > 1e-3 {
				return false
			}
		}
	}
	return true
}
