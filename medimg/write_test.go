package medimg

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// obliqueLabel returns a 7×5×3 label volume with distinct values, unequal
// spacing, an origin and a rotated, left-handed direction, so that any
// axis, sign or transposition mistake in a writer shows.
func obliqueLabel() *Volume {
	v, _ := NewVolume(7, 5, 3, 1, "uint8")
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

// writerRoundTrip writes v in the format of the file-name ending ext,
// lets patch change the bytes, and reads them back with Read.
func writerRoundTrip(t *testing.T, ext string, v *Volume, patch func([]byte) []byte) *Volume {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch ext {
	case ".nii.gz":
		err = WriteNIfTI(&buf, v, true)
	case ".nii":
		err = WriteNIfTI(&buf, v, false)
	case ".nrrd":
		err = WriteNRRD(&buf, v)
	default:
		t.Fatalf("no writer for %s", ext)
	}
	if err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if patch != nil {
		data = patch(data)
	}
	path := filepath.Join(t.TempDir(), "label"+ext)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatalf("cannot read our %s: %v", ext, err)
	}
	return got
}

func checkSameLabel(t *testing.T, what string, got, want *Volume) {
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

func TestWritersRoundTripThroughReaders(t *testing.T) {
	want := obliqueLabel()
	for _, ext := range []string{".nii.gz", ".nii", ".nrrd"} {
		checkSameLabel(t, ext, writerRoundTrip(t, ext, want, nil), want)
	}
}

func TestWrittenNIfTIQformAloneGivesTheSameGrid(t *testing.T) {
	// Clear sform_code so that the reader must use the quaternion.
	clearSform := func(b []byte) []byte {
		binary.LittleEndian.PutUint16(b[254:], 0)
		return b
	}
	want := obliqueLabel()
	checkSameLabel(t, "qform only", writerRoundTrip(t, ".nii", want, clearSform), want)
	// And a right-handed, axis-swapping direction (trace < 0 branch).
	want.Direction = [3][3]float64{{0, 1, 0}, {1, 0, 0}, {0, 0, -1}}
	checkSameLabel(t, "qform only, swapped axes", writerRoundTrip(t, ".nii", want, clearSform), want)
}

func TestLabelBytesRoundsAndClamps(t *testing.T) {
	v, _ := NewVolume(5, 1, 1, 1, "float32")
	copy(v.Data, []float32{-3, 0.4, 0.6, 254.5, 300})
	if got, want := LabelBytes(v), []byte{0, 0, 1, 255, 255}; !bytes.Equal(got, want) {
		t.Errorf("LabelBytes = %v, want %v", got, want)
	}
}

func TestWriteNIfTIRefusesOversizedVolumes(t *testing.T) {
	v := &Volume{Size: [3]int{math.MaxInt16 + 1, 1, 1}, Channels: 1}
	if err := WriteNIfTI(&bytes.Buffer{}, v, false); err == nil {
		t.Error("a size NIfTI-1 cannot store was accepted")
	}
}
