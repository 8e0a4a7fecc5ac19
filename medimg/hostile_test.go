package medimg

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/synthfm/synthfm/internal/hostiletest"
)

// The reproductions of issue 12, items 1–5, at the reader level. Each file
// claims far more than it holds or points outside its folder; each read
// must end in an error (or a bounded result) with the bytes allocated
// during the read well under 2× the budget (Limits.Memory).

// readUnder reads path with lim and fails the test when the read allocated
// more than maxAlloc bytes; it returns the read's error.
func readUnder(t *testing.T, lim Limits, path string, maxAlloc uint64) (*Volume, error) {
	t.Helper()
	var v *Volume
	var err error
	got := hostiletest.AllocDuring(func() { v, err = NewRegistry(lim).Read(path) })
	if got > maxAlloc {
		t.Errorf("%s: allocated %d bytes, more than %d (budget %d bytes)", filepath.Base(path), got, maxAlloc, lim.Memory())
	}
	return v, err
}

func wantErr(t *testing.T, err error, target error, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", contains)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("error %q is not %v", err, target)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Errorf("error %q does not say %q", err, contains)
	}
}

// 1. Arbitrary file read through NRRD detached data.
func TestHostileNRRDDetachedDataStaysInItsFolder(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.raw")
	if err := os.WriteFile(secret, bytes.Repeat([]byte{7}, 48), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(outside, "case")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "link.raw")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.raw")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.raw"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "good.raw"), make([]byte, 48), 0o600); err != nil {
		t.Fatal(err)
	}
	header := func(df string) string {
		return "NRRD0004\ntype: short\ndimension: 3\nsizes: 4 3 2\nencoding: raw\ndata file: " + df + "\n\n"
	}
	lim := Limits{MaxVoxels: 1 << 20, MaxBytes: 4 << 20}
	for df, says := range map[string]string{
		"/etc/passwd":   "absolute paths are refused",
		secret:          "absolute paths are refused",
		"../secret.raw": `".." is refused`,
		"a/../../x.raw": `".." is refused`,
		"link.raw":      "data file",     // os.Root: the link leaves the folder
		"zero.raw":      "data file",     // a device, outside the folder
		"fifo.raw":      "not a regular", // would block or stream without end
		"/dev/zero":     "absolute paths are refused",
	} {
		p := filepath.Join(dir, "h.nhdr")
		if err := os.WriteFile(p, []byte(header(df)), 0o600); err != nil {
			t.Fatal(err)
		}
		v, err := readUnder(t, lim, p, 1<<20)
		if err == nil {
			t.Errorf("data file %q was read: %v", df, v.Data[:4])
			continue
		}
		if !strings.Contains(err.Error(), says) {
			t.Errorf("data file %q: error %q does not say %q", df, err, says)
		}
	}
	p := filepath.Join(dir, "h.nhdr")
	if err := os.WriteFile(p, []byte(header("good.raw")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRegistry(lim).Read(p); err != nil {
		t.Fatalf("detached data in the same folder: %v", err)
	}
	lim.NoDetachedData = true
	_, err := NewRegistry(lim).Read(p)
	wantErr(t, err, ErrDetachedData, "detached data files are not accepted")
}

// 2. A 128-byte NPY claiming (100000,100000,100) float64 (8 TB), and
// (30000,30000) float32 (3.4 GB).
func TestHostileNPYHugeShape(t *testing.T) {
	big := write(t, "big.npy", hostiletest.NPYHeader("<f8", "(100000, 100000, 100)"))
	if n := len(hostiletest.NPYHeader("<f8", "(100000, 100000, 100)")); n != 128 {
		t.Fatalf("header of %d bytes, want 128", n)
	}
	lim := Limits{MaxVoxels: 1 << 20, MaxBytes: 8 << 20}
	_, err := readUnder(t, lim, big, 1<<20)
	wantErr(t, err, ErrTooLarge, "over the limit")
	// Under limits that admit the claim, the missing bytes refuse it
	// before anything of that size is allocated.
	mid := write(t, "mid.npy", hostiletest.NPYHeader("<f4", "(30000, 30000)"))
	huge := Limits{MaxVoxels: 1 << 31, MaxBytes: 1 << 34}
	_, err = readUnder(t, huge, mid, 1<<20)
	wantErr(t, err, nil, "truncated data")
	// The default limits refuse it too.
	_, err = readUnder(t, Limits{}, mid, 1<<20)
	wantErr(t, err, ErrTooLarge, "over the limit")
}

// 3. Unbounded reads: /dev/zero as data, a gzip stream without end.
func TestHostileUnboundedReads(t *testing.T) {
	lim := Limits{MaxVoxels: 1 << 16, MaxBytes: 1 << 20}
	if _, err := readUnder(t, lim, "/dev/zero", 1<<20); err == nil {
		t.Error("/dev/zero read as an image")
	}
	// Attached gzip data claiming 4x3x2 shorts followed by 64 MiB of
	// zeros: only what the samples need is inflated.
	var z bytes.Buffer
	z.Write(gz(t, make([]byte, 64<<20)))
	p := write(t, "bomb.nrrd", append([]byte("NRRD0004\ntype: short\ndimension: 3\nsizes: 4 3 2\nencoding: gzip\n\n"), z.Bytes()...))
	v, err := readUnder(t, lim, p, 2*uint64(lim.Memory()))
	if err != nil || len(v.Data) != 24 {
		t.Fatalf("gzip NRRD: %v", err)
	}
	// Ascii data claiming more samples than its bytes can hold.
	p = write(t, "a.nrrd", []byte("NRRD0004\ntype: float\ndimension: 3\nsizes: 64 64 16\nencoding: ascii\n\n1 2 3\n"))
	_, err = readUnder(t, lim, p, 1<<20)
	wantErr(t, err, nil, "truncated data")
}

// 4. Headers claiming GiBs with no data behind them.
func TestHostileHeadersCheckedBeforeAllocating(t *testing.T) {
	lim := Limits{MaxVoxels: 1 << 31, MaxBytes: 1 << 34} // admits every claim below: the bytes present refuse them
	nii := niftiBytes(t, [3][4]float32{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}, false)[:352]
	for d, n := range []int16{3, 1290, 1290, 1290} {
		binary.LittleEndian.PutUint16(nii[40+2*d:], uint16(n))
	}
	binary.LittleEndian.PutUint16(nii[70:], 16) // float32
	_, err := readUnder(t, lim, write(t, "h.nii", nii), 1<<20)
	wantErr(t, err, nil, "truncated data")
	_, err = readUnder(t, lim, write(t, "h.nii.gz", gz(t, nii)), 1<<20)
	wantErr(t, err, nil, "truncated data")
	_, err = readUnder(t, Limits{MaxVoxels: 1 << 20}, write(t, "h2.nii", nii), 1<<20)
	wantErr(t, err, ErrTooLarge, "over the limit")

	gipl := giplBytes(nil)
	for a := range 3 {
		binary.BigEndian.PutUint16(gipl[2*a:], 1290)
	}
	_, err = readUnder(t, lim, write(t, "h.gipl", gipl), 1<<20)
	wantErr(t, err, nil, "truncated data")
	_, err = readUnder(t, lim, write(t, "h.gipl.gz", gz(t, gipl)), 1<<20)
	wantErr(t, err, nil, "truncated data")

	// A DICOM element declaring 1.2 GB in a 600-byte file.
	d := hostiletest.DICOM(4, 4, make([]uint16, 16), hostiletest.DICOMElement(0x0009, 0x0010, "OB", make([]byte, 8)))
	i := bytes.Index(d, []byte{0x09, 0x00, 0x10, 0x00, 'O', 'B'})
	binary.LittleEndian.PutUint32(d[i+8:], 1200<<20)
	_, err = readUnder(t, lim, write(t, "h.dcm", d), 1<<20)
	wantErr(t, err, nil, "declares 1258291200 bytes")
	// Rows×Columns×NumberOfFrames far beyond the pixel data.
	d = hostiletest.DICOM(4, 4, make([]uint16, 16), hostiletest.DICOMElement(0x0028, 0x0008, "IS", []byte("99999999")))
	_, err = readUnder(t, lim, write(t, "f.dcm", d), 1<<20)
	wantErr(t, err, nil, "pixel data of 32 bytes")

	// Short NPY files that panicked inside the NPY library.
	for _, b := range [][]byte{
		[]byte("\x93NUMPY\x01\x00\x00\x00"),
		[]byte("\x93NUMPY\x02\x00\xff\xff"),
		append([]byte("\x93NUMPY\x01\x00\x10\x00"), "{'descr': '<f4'}"...),
		hostiletest.NPYHeader("<f4", "(-1, 4)"),
		hostiletest.NPYHeader("[('a','<f4')]", "(2, 2)"),
	} {
		if _, err := readUnder(t, lim, write(t, "p.npy", b), 1<<20); err == nil {
			t.Errorf("%q accepted", b)
		}
	}
}

// 5. Decompression bombs: a 512³ .nii.gz of ~130 KB; a 20000² PNG.
func TestHostileDecompressionBombs(t *testing.T) {
	var zeros bytes.Buffer
	w := gzipWriter(&zeros)
	nii := niftiBytes(t, [3][4]float32{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}, false)[:352]
	for d, n := range []int16{3, 512, 512, 512} {
		binary.LittleEndian.PutUint16(nii[40+2*d:], uint16(n))
	}
	binary.LittleEndian.PutUint16(nii[70:], 2) // uint8
	w.Write(nii)
	chunk := make([]byte, 1<<20)
	for range 128 {
		w.Write(chunk)
	}
	w.Close()
	if zeros.Len() > 200<<10 {
		t.Fatalf("bomb of %d bytes", zeros.Len())
	}
	p := write(t, "bomb.nii.gz", zeros.Bytes())
	lim := Limits{MaxVoxels: 16 << 20, MaxBytes: 64 << 20}
	_, err := readUnder(t, lim, p, 1<<20)
	wantErr(t, err, ErrTooLarge, "over the limit")

	// Within the limits, the read costs the samples (float32), not a
	// multiple: the output is allocated once, the compressed size having
	// shown that the stream can hold the data (deflate inflates at most
	// 1032:1); before, 512³ cost 1.29 GB for 512 MB of samples.
	small := append([]byte(nil), nii...)
	for d, n := range []int16{3, 256, 256, 256} {
		binary.LittleEndian.PutUint16(small[40+2*d:], uint16(n))
	}
	fits := Limits{MaxVoxels: 256 * 256 * 256, MaxBytes: 256*256*256 + 352}
	v, err := readUnder(t, fits, write(t, "ok.nii.gz", gz(t, append(small, make([]byte, 256*256*256)...))), 4*256*256*256+8<<20)
	if err != nil || v.Voxels() != 256*256*256 {
		t.Fatalf("256³ within the limits: %v", err)
	}

	png := hostiletest.PNGBomb(20000, 20000)
	_, err = readUnder(t, Limits{MaxVoxels: 256 << 20}, write(t, "bomb.png", png), 1<<20)
	wantErr(t, err, ErrTooLarge, "20000x20000")
	_, _, err = DecodeImage(bytes.NewReader(png), Limits{MaxVoxels: 3 * 64 << 20})
	wantErr(t, err, ErrTooLarge, "over the limit")
}

func TestDICOMBytesRoundTrip(t *testing.T) {
	pix := make([]uint16, 12)
	for i := range pix {
		pix[i] = uint16(100 * i)
	}
	v, err := Read(write(t, "x.dcm", hostiletest.DICOM(3, 4, pix)))
	if err != nil {
		t.Fatal(err)
	}
	if v.Size != [3]int{4, 3, 1} || v.At(3, 2, 0, 0) != 1100 {
		t.Fatalf("size %v data %v", v.Size, v.Data)
	}
}

// npzBytes is an archive of NPY arrays, deflated.
func npzBytes(arrays map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range arrays {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Deflate})
		w.Write(b)
	}
	zw.Close()
	return buf.Bytes()
}

func TestHostileNPZ(t *testing.T) {
	lim := Limits{MaxVoxels: 1 << 20, MaxBytes: 4 << 20}
	hdr := hostiletest.NPYHeader("<f8", "(100000, 100000, 100)")
	_, err := readUnder(t, lim, write(t, "a.npz", npzBytes(map[string][]byte{"imgs": hdr})), 1<<20)
	wantErr(t, err, ErrTooLarge, "over the limit")
	// An array of 256 KiB claimed, 64 MiB of zeros inflated behind it:
	// reading stops at the samples.
	arr := append(hostiletest.NPYHeader("|u1", "(256, 1024)"), make([]byte, 64<<20)...)
	v, err := readUnder(t, lim, write(t, "b.npz", npzBytes(map[string][]byte{"imgs": arr})), 2*uint64(lim.Memory()))
	if err != nil || v.Voxels() != 256*1024 {
		t.Fatalf("npz with trailing data: %v", err)
	}
	sp := append(hostiletest.NPYHeader("<f8", "(3,)"), make([]byte, 24)...)
	for a, x := range []float64{0.5, 0.75, 2.5} {
		binary.LittleEndian.PutUint64(sp[len(sp)-24+8*a:], math.Float64bits(x))
	}
	small := append(hostiletest.NPYHeader("|u1", "(2, 3, 4)"), make([]byte, 24)...)
	v, err = Read(write(t, "c.npz", npzBytes(map[string][]byte{"imgs": small, "spacing": sp})))
	if err != nil || v.Spacing != [3]float64{0.5, 0.75, 2.5} {
		t.Fatalf("npz spacing: %v %v", err, v)
	}
}

func gzipWriter(w *bytes.Buffer) *gzip.Writer { return gzip.NewWriter(w) }

// Devices and FIFOs are refused before they are opened: reading one could
// block or never end.
func TestHostileSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	series := filepath.Join(dir, "series")
	os.Mkdir(series, 0o700)
	os.WriteFile(filepath.Join(series, "1.dcm"), hostiletest.DICOM(2, 2, make([]uint16, 4)), 0o600)
	if err := syscall.Mkfifo(filepath.Join(series, "2"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 3)
	go func() { _, err := Read(fifo); done <- err }()
	go func() { _, err := Read("/dev/zero"); done <- err }()
	go func() { _, err := Read(series); done <- err }()
	for range 3 {
		select {
		case err := <-done:
			if err != nil && !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("error %q does not say it is not a regular file", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a read blocked on a FIFO")
		}
	}
}
