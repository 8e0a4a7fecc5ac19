package medimg

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npz"
	"golang.org/x/image/tiff"
)

// niftiBytes builds a NIfTI-1 int16 volume 4x3x2 with values i+10j+100k
// and the given sform (RAS).
func niftiBytes(t testing.TB, srow [3][4]float32, qform bool) []byte {
	t.Helper()
	h := make([]byte, 352)
	le := binary.LittleEndian
	le.PutUint32(h[0:], 348)
	for d, v := range []int16{3, 4, 3, 2, 1, 1, 1, 1} {
		le.PutUint16(h[40+2*d:], uint16(v))
	}
	le.PutUint16(h[70:], 4)  // int16
	le.PutUint16(h[72:], 16) // bitpix
	for d, v := range []float32{1, 2, 3, 4, 1, 1, 1, 1} {
		le.PutUint32(h[76+4*d:], math.Float32bits(v))
	}
	le.PutUint32(h[108:], math.Float32bits(352))
	h[123] = 2 // mm
	if qform {
		// qform with a 180° rotation about z (b=c=0, d=1): x and y flip.
		le.PutUint16(h[252:], 1)
		le.PutUint32(h[264:], math.Float32bits(1))
		for a, v := range []float32{10, 20, 30} {
			le.PutUint32(h[268+4*a:], math.Float32bits(v))
		}
	} else {
		le.PutUint16(h[254:], 1)
		for r := 0; r < 3; r++ {
			for c := 0; c < 4; c++ {
				le.PutUint32(h[280+16*r+4*c:], math.Float32bits(srow[r][c]))
			}
		}
	}
	copy(h[344:], "n+1\x00")
	var buf bytes.Buffer
	buf.Write(h)
	for k := 0; k < 2; k++ {
		for j := 0; j < 3; j++ {
			for i := 0; i < 4; i++ {
				binary.Write(&buf, le, int16(i+10*j+100*k))
			}
		}
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkValues(t *testing.T, v *Volume) {
	t.Helper()
	if v.Size != [3]int{4, 3, 2} {
		t.Fatalf("size %v", v.Size)
	}
	for _, ijk := range [][3]int{{0, 0, 0}, {3, 2, 1}, {1, 2, 0}} {
		if got, want := v.At(ijk[0], ijk[1], ijk[2], 0), float32(ijk[0]+10*ijk[1]+100*ijk[2]); got != want {
			t.Fatalf("voxel %v = %v, want %v", ijk, got, want)
		}
	}
}

func TestNIfTISformAndQform(t *testing.T) {
	srow := [3][4]float32{{-2, 0, 0, 5}, {0, 3, 0, 6}, {0, 0, 4, 7}}
	for _, name := range []string{"a.nii", "a.nii.gz"} {
		data := niftiBytes(t, srow, false)
		if strings.HasSuffix(name, ".gz") {
			data = gz(t, data)
		}
		v, err := Read(write(t, name, data))
		if err != nil {
			t.Fatal(err)
		}
		checkValues(t, v)
		// In RAS, +x points to the patient's right; axis 0 steps −2 mm in x,
		// i.e. towards the left: LPS x grows by +2 along it.
		if v.Spacing != [3]float64{2, 3, 4} || v.Orientation() != "LAS" {
			t.Fatalf("spacing %v orientation %s, want [2 3 4] LAS", v.Spacing, v.Orientation())
		}
		if v.Origin != [3]float64{-5, -6, 7} {
			t.Fatalf("origin %v, want LPS (-5,-6,7)", v.Origin)
		}
	}
	v, err := Read(write(t, "q.nii", niftiBytes(t, srow, true)))
	if err != nil {
		t.Fatal(err)
	}
	// qform rotation 180° about z turns RAS +x into -x: axes point L, P, S.
	if v.Orientation() != "LPS" || v.Spacing != [3]float64{2, 3, 4} || v.Origin != [3]float64{-10, -20, 30} {
		t.Fatalf("qform: orientation %s spacing %v origin %v", v.Orientation(), v.Spacing, v.Origin)
	}
}

func TestNRRDEncodings(t *testing.T) {
	var raw bytes.Buffer
	for k := 0; k < 2; k++ {
		for j := 0; j < 3; j++ {
			for i := 0; i < 4; i++ {
				binary.Write(&raw, binary.BigEndian, uint16(i+10*j+100*k))
			}
		}
	}
	head := "NRRD0004\ntype: unsigned short\ndimension: 3\nspace: right-anterior-superior\nsizes: 4 3 2\n" +
		"space directions: (1.5,0,0) (0,2,0) (0,0,3)\nspace origin: (1,2,3)\nendian: big\n"
	var ascii strings.Builder
	for k := 0; k < 2; k++ {
		for j := 0; j < 3; j++ {
			for i := 0; i < 4; i++ {
				fmt.Fprintf(&ascii, "%d ", i+10*j+100*k)
			}
		}
	}
	for enc, body := range map[string][]byte{"raw": raw.Bytes(), "gzip": gz(t, raw.Bytes()), "ascii": []byte(ascii.String())} {
		v, err := Read(write(t, "x.nrrd", append([]byte(head+"encoding: "+enc+"\n\n"), body...)))
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		checkValues(t, v)
		if v.Orientation() != "RAS" || v.Spacing != [3]float64{1.5, 2, 3} || v.Origin != [3]float64{-1, -2, 3} {
			t.Fatalf("%s: orientation %s spacing %v origin %v", enc, v.Orientation(), v.Spacing, v.Origin)
		}
	}
}

func giplBytes(data []int16) []byte {
	h := make([]byte, 256)
	be := binary.BigEndian
	for a, n := range []uint16{4, 3, 2, 1} {
		be.PutUint16(h[2*a:], n)
	}
	be.PutUint16(h[8:], 15)
	for a, s := range []float32{0.5, 0.75, 2} {
		be.PutUint32(h[10+4*a:], math.Float32bits(s))
	}
	be.PutUint32(h[252:], giplMagic)
	var buf bytes.Buffer
	buf.Write(h)
	binary.Write(&buf, be, data)
	return buf.Bytes()
}

func TestGIPL(t *testing.T) {
	data := make([]int16, 24)
	for k := 0; k < 2; k++ {
		for j := 0; j < 3; j++ {
			for i := 0; i < 4; i++ {
				data[i+4*j+12*k] = int16(i + 10*j + 100*k)
			}
		}
	}
	v, err := Read(write(t, "x.gipl.gz", gz(t, giplBytes(data))))
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, v)
	if v.Spacing != [3]float64{0.5, 0.75, 2} || v.DType != "int16" {
		t.Fatalf("spacing %v dtype %s", v.Spacing, v.DType)
	}
}

func TestNPYAndNPZ(t *testing.T) {
	// A (2,3,4) uint8 array in C order: Z=2, H=3, W=4.
	data := make([]uint8, 24)
	for i := range data {
		data[i] = uint8(i%4 + 10*(i/4%3) + 100*(i/12))
	}
	// The NPY header written by hand (format 1.0), so the test does not
	// depend on the reader's library to produce it.
	dict := "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3, 4), }"
	dict += strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), byte(len(dict)>>8))
	b = append(append(b, dict...), data...)
	v, err := Read(write(t, "x.npy", b))
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, v)
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npz")
	if err := npz.Write(path, map[string]any{"imgs": []float32{1, 2, 3}, "gts": []uint8{0, 1, 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path + "#gts"); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Fatalf("1-D array accepted: %v", err)
	}
	if _, err := Read(path + "#nope"); err == nil || !strings.Contains(err.Error(), "no array") {
		t.Fatalf("missing key: %v", err)
	}
}

func TestRasterFormats(t *testing.T) {
	g := image.NewGray16(image.Rect(0, 0, 5, 4))
	g.SetGray16(3, 2, color.Gray16{Y: 40000})
	var buf bytes.Buffer
	if err := tiff.Encode(&buf, g, nil); err != nil {
		t.Fatal(err)
	}
	v, err := Read(write(t, "x.tif", buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if v.Size != [3]int{5, 4, 1} || v.At(3, 2, 0, 0) != 40000 || v.DType != "uint16" || v.SpacingKnown {
		t.Fatalf("tiff: %v %v %s", v.Size, v.At(3, 2, 0, 0), v.DType)
	}
	buf.Reset()
	rgb := image.NewRGBA(image.Rect(0, 0, 2, 2))
	rgb.Set(1, 0, color.RGBA{255, 0, 0, 255})
	png.Encode(&buf, rgb)
	v, err = Read(write(t, "noext", buf.Bytes())) // found by its magic
	if err != nil {
		t.Fatal(err)
	}
	if v.Channels != 3 || v.At(1, 0, 0, 0) != 255 || v.At(1, 0, 0, 1) != 0 {
		t.Fatalf("png: channels %d red %v", v.Channels, v.Data)
	}
}

func TestCorruptFilesGiveErrorsNamingTheFile(t *testing.T) {
	valid := map[string][]byte{
		"a.nii":  niftiBytes(t, [3][4]float32{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}, false),
		"a.gipl": giplBytes(make([]int16, 24)),
		"a.nrrd": []byte("NRRD0004\ntype: short\ndimension: 3\nsizes: 4 3 2\nencoding: raw\n\n" + strings.Repeat("\x00", 48)),
	}
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 8, 8)))
	valid["a.png"] = pngBuf.Bytes()
	for name, data := range valid {
		for _, cut := range []int{0, 10, len(data) / 2, len(data) - 1} {
			p := write(t, name, data[:cut])
			_, err := Read(p)
			if err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("%s cut at %d: error %v does not name the file", name, cut, err)
			}
		}
	}
	if _, err := Read(write(t, "x.xyz", []byte("hello"))); err == nil || !strings.Contains(err.Error(), "unsupported format") {
		t.Errorf("unknown format: %v", err)
	}
	bad := append([]byte(nil), valid["a.nii"]...)
	binary.LittleEndian.PutUint16(bad[70:], 9999)
	if _, err := Read(write(t, "b.nii", bad)); err == nil || !strings.Contains(err.Error(), "datatype") {
		t.Errorf("bad datatype: %v", err)
	}
	if _, err := Read(write(t, "c.dcm", []byte(strings.Repeat("x", 200)))); err == nil {
		t.Error("garbage DICOM accepted")
	}
}

func TestToLPSAndSlices(t *testing.T) {
	v, err := Read(write(t, "a.nii", niftiBytes(t, [3][4]float32{{2, 0, 0, 0}, {0, 3, 0, 0}, {0, 0, 4, 0}}, false)))
	if err != nil {
		t.Fatal(err)
	}
	if v.Orientation() != "RAS" {
		t.Fatalf("orientation %s", v.Orientation())
	}
	w, err := ToLPS(v)
	if err != nil {
		t.Fatal(err)
	}
	// i and j are flipped: LPS voxel (0,0,k) is RAS voxel (3,2,k).
	if w.Orientation() != "LPS" || w.At(0, 0, 1, 0) != v.At(3, 2, 1, 0) || w.At(3, 2, 0, 0) != v.At(0, 0, 0, 0) {
		t.Fatalf("ToLPS: %s %v", w.Orientation(), w.Data)
	}
	// The first voxel's world position is unchanged by reorientation.
	world := func(u *Volume, i, j, k int) [3]float64 {
		var p [3]float64
		for r := 0; r < 3; r++ {
			p[r] = u.Origin[r] + u.Direction[r][0]*u.Spacing[0]*float64(i) + u.Direction[r][1]*u.Spacing[1]*float64(j) + u.Direction[r][2]*u.Spacing[2]*float64(k)
		}
		return p
	}
	if a, b := world(w, 0, 0, 1), world(v, 3, 2, 1); math.Abs(a[0]-b[0])+math.Abs(a[1]-b[1])+math.Abs(a[2]-b[2]) > 1e-9 {
		t.Fatalf("world positions differ: %v vs %v", a, b)
	}
	p, err := w.Slice(Coronal, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Coronal plane at j=1: width 4 (i), height 2 (k, superior on top).
	if p.W != 4 || p.H != 2 || p.Data[0] != w.At(0, 1, 1, 0) || p.SY != 4 {
		t.Fatalf("coronal plane %+v", p)
	}
	if _, err := w.Slice("oblique", 0); err == nil {
		t.Fatal("unknown axis accepted")
	}
}
