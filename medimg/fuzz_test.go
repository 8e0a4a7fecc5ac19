package medimg

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/tiff"

	"github.com/synthfm/synthfm/internal/hostiletest"
	"github.com/synthfm/synthfm/internal/shareddata"
)

// Fuzz targets, one a reader: go test -run '^$' -fuzz '^FuzzNIfTI$' ./medimg
// (docs/security.md). Each writes its input to a file, reads it under
// fuzzLimits and checks, besides that nothing panics:
//   - the memory ceiling: the read allocates (runtime.MemStats.TotalAlloc,
//     an upper bound of its peak) at most 2× the budget (Limits.Memory)
//     plus 16× the input's size (the DICOM library's integer and string
//     lists cost a few times their bytes) plus 1 MiB of fixed buffers;
//   - a volume returned holds as many samples as its size says, within
//     MaxVoxels.
// Seeds: small files written here, and the evaluation data's files of the
// format when ../shared/evaldata is present (read at fuzz time, not copied).

var fuzzLimits = Limits{MaxVoxels: 1 << 20, MaxBytes: 4 << 20}

func fuzzReader(f *testing.F, format, name string, seeds [][]byte, evalGlobs ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	if dir, err := shareddata.Find(); err == nil {
		for _, g := range evalGlobs {
			paths, _ := filepath.Glob(filepath.Join(dir, "evaldata", g))
			for _, p := range paths {
				if st, err := os.Stat(p); err == nil && st.Size() <= 1<<20 {
					if b, err := os.ReadFile(p); err == nil {
						f.Add(b)
					}
				}
			}
		}
	}
	var read func(string, string, Limits) (*Volume, error)
	for _, fm := range DefaultRegistry().formats {
		if fm.Name == format {
			read = fm.Read
		}
	}
	if read == nil {
		f.Fatalf("no format %s", format)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var v *Volume
		var err error
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v, err = read(path, "", fuzzLimits)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		if ceiling := uint64(2*fuzzLimits.Memory()) + 16*uint64(len(data)) + 1<<20; alloc > ceiling {
			t.Fatalf("read of %d bytes allocated %d bytes, over the ceiling of %d", len(data), alloc, ceiling)
		}
		if err != nil {
			return
		}
		if v.Channels < 1 || len(v.Data) != v.Voxels()*v.Channels || int64(len(v.Data)) > fuzzLimits.MaxVoxels {
			t.Fatalf("volume of size %v × %d channels holds %d samples", v.Size, v.Channels, len(v.Data))
		}
	})
}

func FuzzNIfTI(f *testing.F) {
	id := [3][4]float32{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}
	a, b := niftiBytes(f, id, false), niftiBytes(f, id, true)
	fuzzReader(f, "NIfTI", "x.nii", [][]byte{a, b, gz(f, a)}, "*/*.nii.gz", "*/*/*.nii.gz")
}

func FuzzNRRD(f *testing.F) {
	h := "NRRD0004\ntype: short\ndimension: 3\nsizes: 4 3 2\nspace: left-posterior-superior\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n"
	raw := []byte(h + "encoding: raw\n\n" + strings.Repeat("\x01\x00", 24))
	ascii := []byte(h + "encoding: ascii\n\n" + strings.Repeat("7 ", 24))
	var z bytes.Buffer
	z.WriteString(h + "encoding: gzip\nendian: big\nbyte skip: 0\n\n")
	z.Write(gz(f, make([]byte, 48)))
	rgb := []byte("NRRD0005\ntype: uchar\ndimension: 3\nsizes: 3 4 4\nspace directions: none (1,0,0) (0,1,0)\nencoding: raw\n\n" + strings.Repeat("\x05", 48))
	det := []byte(h + "encoding: raw\ndata file: x.nrrd\nbyte skip: -1\n\n" + strings.Repeat("\x02", 48))
	fuzzReader(f, "NRRD", "x.nrrd", [][]byte{raw, ascii, z.Bytes(), rgb, det}, "*/*.nrrd")
}

func FuzzGIPL(f *testing.F) {
	g := giplBytes(make([]int16, 24))
	fuzzReader(f, "GIPL", "x.gipl", [][]byte{g, gz(f, g)}, "*/*.gipl.gz")
}

func FuzzDICOM(f *testing.F) {
	pix := make([]uint16, 12)
	d := hostiletest.DICOM(3, 4, pix)
	frames := hostiletest.DICOM(2, 2, make([]uint16, 8), hostiletest.DICOMElement(0x0028, 0x0008, "IS", []byte("2")))
	seq := hostiletest.DICOM(2, 2, make([]uint16, 4), hostiletest.DICOMElement(0x0008, 0x1140, "SQ",
		append(append([]byte{0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff}, hostiletest.DICOMElement(0x0008, 0x1150, "UI", []byte("1.2"))...),
			0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0)))
	fuzzReader(f, "DICOM", "x.dcm", [][]byte{d, frames, seq}, "*/*/*.dcm")
}

func FuzzNPY(f *testing.F) {
	a := append(hostiletest.NPYHeader("|u1", "(2, 3, 4)"), make([]byte, 24)...)
	b := append(hostiletest.NPYHeader(">f8", "(4, 4)"), make([]byte, 128)...)
	c := append([]byte(strings.Replace(string(hostiletest.NPYHeader("<i2", "(5, 6, 3)")), "False", "True ", 1)), make([]byte, 180)...)
	fuzzReader(f, "NPY", "x.npy", [][]byte{a, b, c})
}

func FuzzNPZ(f *testing.F) {
	a := append(hostiletest.NPYHeader("|u1", "(2, 3, 4)"), make([]byte, 24)...)
	sp := append(hostiletest.NPYHeader("<f8", "(3,)"), make([]byte, 24)...)
	fuzzReader(f, "NPZ", "x.npz", [][]byte{npzBytes(map[string][]byte{"imgs": a, "spacing": sp}), npzBytes(map[string][]byte{"gts": a})})
}

func FuzzRaster(f *testing.F) {
	g := image.NewGray16(image.Rect(0, 0, 5, 4))
	g.SetGray16(3, 2, color.Gray16{Y: 40000})
	rgb := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	rgb.Set(1, 0, color.NRGBA{255, 0, 0, 255})
	var p, j, t bytes.Buffer
	png.Encode(&p, rgb)
	jpeg.Encode(&j, rgb, nil)
	tiff.Encode(&t, g, nil)
	// The raster formats share one reader; the file's magic picks the decoder.
	fuzzReader(f, "PNG", "x.png", [][]byte{p.Bytes(), j.Bytes(), t.Bytes(), hostiletest.PNGBomb(300, 300)},
		"*/masks/*0.png", "*/masks/*1.jpg", "*/*/*.tif")
}
