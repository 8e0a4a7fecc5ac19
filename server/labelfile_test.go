package server

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/synthfm/synthfm/medimg"
)

// obliqueLabel returns a 7×5×3 label volume with distinct values, unequal
// spacing, an origin and a rotated, left-handed direction, so that any
// axis, sign or transposition mistake in a writer shows.
func obliqueLabel() *medimg.Volume {
	v, _ := medimg.NewVolume(7, 5, 3, 1, "uint8")
	for i := range v.Data {
		v.Data[i] = float32(i % 251)
	}
	v.Spacing = [3]float64{0.7, 1.3, 2.5}
	v.Origin = [3]float64{-12.5, 30.25, 7}
	c, s := math.Cos(0.4), math.Sin(0.4)
	// Columns: rotated x and y axes, and −z (left-handed).
	v.Direction = [3][3]float64{{c, -s, 0}, {s, c, 0}, {0, 0, -1}}
	v.SpacingKnown = true
	return v
}

func roundTrip(t *testing.T, ext string, v *medimg.Volume, patch func([]byte) []byte) *medimg.Volume {
	t.Helper()
	f, err := labelFormatFor(ext)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.write(&buf, v); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if patch != nil {
		data = patch(data)
	}
	path := filepath.Join(t.TempDir(), "label"+f.ext)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := medimg.Read(path)
	if err != nil {
		t.Fatalf("medimg cannot read our %s: %v", ext, err)
	}
	return got
}

func checkSameLabel(t *testing.T, what string, got, want *medimg.Volume) {
	t.Helper()
	if !got.SameGrid(want, 1e-4) {
		t.Errorf("%s: grid differs:\n got size %v spacing %v origin %v direction %v\nwant size %v spacing %v origin %v direction %v",
			what, got.Size, got.Spacing, got.Origin, got.Direction, want.Size, want.Spacing, want.Origin, want.Direction)
	}
	if got.Channels != 1 || len(got.Data) != len(want.Data) {
		t.Fatalf("%s: %d channels, %d samples", what, got.Channels, len(got.Data))
	}
	for i := range want.Data {
		if got.Data[i] != want.Data[i] {
			t.Fatalf("%s: sample %d is %g, want %g", what, i, got.Data[i], want.Data[i])
		}
	}
}

func TestLabelFilesRoundTripThroughMedimg(t *testing.T) {
	want := obliqueLabel()
	for _, ext := range []string{".nii.gz", ".nii", ".nrrd"} {
		checkSameLabel(t, ext, roundTrip(t, ext, want, nil), want)
	}
}

func TestNIfTIQformAloneGivesTheSameGrid(t *testing.T) {
	// Clear sform_code so that the reader must use the quaternion.
	want := obliqueLabel()
	got := roundTrip(t, ".nii", want, func(b []byte) []byte {
		binary.LittleEndian.PutUint16(b[254:], 0)
		return b
	})
	checkSameLabel(t, "qform only", got, want)
	// And a right-handed, axis-swapping direction (trace < 0 branch).
	want.Direction = [3][3]float64{{0, 1, 0}, {1, 0, 0}, {0, 0, -1}}
	got = roundTrip(t, ".nii", want, func(b []byte) []byte {
		binary.LittleEndian.PutUint16(b[254:], 0)
		return b
	})
	checkSameLabel(t, "qform only, swapped axes", got, want)
}

func TestLabelFormatForRejectsUnknown(t *testing.T) {
	if _, err := labelFormatFor(".mha"); err == nil {
		t.Error("accepted .mha")
	}
}
