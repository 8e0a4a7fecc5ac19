package server

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/internal/hostiletest"
	"github.com/synthfm/synthfm/medimg"
)

// Issue 12, items 1–5, against the real server: each hostile upload is
// answered with a 4xx that says why, allocates (runtime.MemStats
// TotalAlloc, the whole process during the request) less than 2× the
// reader's budget, and the server goes on answering.

// hostileLimits are small limits, so that what a request allocates is
// measured against a budget a regression would exceed.
func hostileLimits(c *Config) {
	c.MaxVoxels = 1 << 20
	c.MaxFileBytes = 8 << 20
}

// budget is the reader budget of the config (medimg.Limits.Memory).
func budget(c Config) uint64 {
	return uint64(medimg.Limits{MaxVoxels: c.MaxVoxels, MaxBytes: c.MaxFileBytes}.Memory())
}

// uploadHostile posts one file and returns the status, the error message
// and the bytes allocated meanwhile.
func uploadHostile(t *testing.T, base, name string, data []byte) (int, string, uint64) {
	t.Helper()
	ct, body := multipartBody(t, "file", map[string][]byte{name: data}, nil)
	var status int
	var b []byte
	alloc := hostiletest.AllocDuring(func() { status, b = do(t, "POST", base+"/api/sessions", ct, body) })
	return status, errorMessage(b), alloc
}

// stillAnswers checks that the server takes a valid upload after the
// hostile ones.
func stillAnswers(t *testing.T, base string) {
	t.Helper()
	img := Image{Width: 8, Height: 6, Pix: make([]uint8, 8*6*3)}
	s := uploadImage(t, base, map[string][]byte{"ok.png": pngBytes(t, img)})
	if s.Width != 8 || s.Height != 6 {
		t.Fatalf("valid upload after hostile ones: %+v", s)
	}
}

func gzBytes(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestHostileUploads(t *testing.T) {
	var cfg Config
	_, ts := testServer(t, baseline.NewFloodFill(), func(c *Config) { hostileLimits(c); cfg = *c })
	limit := 2 * budget(cfg)
	nrrd := func(extra string) []byte {
		return []byte("NRRD0004\ntype: short\ndimension: 3\nsizes: 4 3 2\nencoding: raw\n" + extra + "\n")
	}
	bombNIfTI := func(n int) []byte { // n³ uint8, all zero: ~130 KB gzipped for 512³
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(hostiletest.NIfTIHeader(n, n, n, 2))
		zero := make([]byte, 1<<20)
		for left := n * n * n; left > 0; left -= len(zero) {
			w.Write(zero[:min(left, len(zero))])
		}
		w.Close()
		return buf.Bytes()
	}
	dcm := hostiletest.DICOM(4, 4, make([]uint16, 16), hostiletest.DICOMElement(0x0009, 0x0010, "OB", make([]byte, 8)))
	i := bytes.Index(dcm, []byte{0x09, 0x00, 0x10, 0x00, 'O', 'B'})
	dcm[i+8], dcm[i+9], dcm[i+10], dcm[i+11] = 0, 0, 0, 0x48 // 1.2 GB declared
	for _, c := range []struct {
		item, name string
		data       []byte
		status     int
		says       string
	}{
		{"1", "passwd.nrrd", nrrd("data file: /etc/passwd\n"), 422, "detached data files are not accepted"},
		{"1", "up.nhdr", nrrd("data file: ../../../../etc/passwd\n"), 422, "detached data files are not accepted"},
		{"2", "huge.npy", hostiletest.NPYHeader("<f8", "(100000, 100000, 100)"), 413, "over the server's limits"},
		{"2", "mid.npy", hostiletest.NPYHeader("<f4", "(30000, 30000)"), 413, "over the server's limits"},
		{"3", "zero.nrrd", nrrd("data file: /dev/zero\n"), 422, "detached data files are not accepted"},
		{"4", "big.nii", hostiletest.NIfTIHeader(1290, 1290, 1290, 16), 413, "over the server's limits"},
		{"4", "big.gipl", hostiletest.GIPLHeader(1290, 1290, 1290), 413, "over the server's limits"},
		{"4", "big.dcm", dcm, 422, "declares 1207959552 bytes"},
		{"4", "short.npy", []byte("\x93NUMPY\x02\x00\xff\xff"), 422, "cannot read the image"},
		{"5", "bomb.nii.gz", bombNIfTI(512), 413, "larger than the limit"},
		{"5", "bomb.png", hostiletest.PNGBomb(20000, 20000), 413, "20000x20000"},
	} {
		t.Run(c.item+"/"+c.name, func(t *testing.T) {
			status, msg, alloc := uploadHostile(t, ts.URL, c.name, c.data)
			if status != c.status || !strings.Contains(msg, c.says) {
				t.Errorf("status %d %q; want %d saying %q", status, msg, c.status, c.says)
			}
			if strings.Contains(msg, "root:") {
				t.Errorf("the answer holds /etc/passwd: %q", msg)
			}
			if alloc > limit {
				t.Errorf("the request allocated %d MiB, over 2× the budget (%d MiB)", alloc>>20, limit>>20)
			}
			t.Logf("%d bytes: %d %q, %d KiB allocated", len(c.data), status, msg, alloc>>10)
		})
	}
	// Ten header-only NIfTI uploads in a row got the server OOM-killed.
	alloc := hostiletest.AllocDuring(func() {
		for range 10 {
			if status, msg, _ := uploadHostile(t, ts.URL, "big.nii", hostiletest.NIfTIHeader(1290, 1290, 1290, 16)); status != 413 {
				t.Fatalf("status %d %q", status, msg)
			}
		}
	})
	if alloc > limit {
		t.Errorf("ten uploads allocated %d MiB", alloc>>20)
	}
	stillAnswers(t, ts.URL)
}

// A .nii.gz bomb within the upload limit (stored gunzipped, 128 MiB) but
// claiming more samples than the server reads: refused from its header.
func TestHostileNIfTIBombWithinTheFileLimit(t *testing.T) {
	var cfg Config
	_, ts := testServer(t, baseline.NewFloodFill(), func(c *Config) { c.MaxVoxels = 1 << 20; c.MaxFileBytes = 256 << 20; cfg = *c })
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(hostiletest.NIfTIHeader(512, 512, 512, 2))
	zero := make([]byte, 1<<20)
	for range 128 {
		w.Write(zero)
	}
	w.Close()
	status, msg, alloc := uploadHostile(t, ts.URL, "bomb.nii.gz", buf.Bytes())
	if status != 413 || !strings.Contains(msg, "134217728 samples is over the limit of 1048576") {
		t.Errorf("status %d %q", status, msg)
	}
	if alloc > 2*budget(cfg) || alloc > 64<<20 {
		t.Errorf("allocated %d MiB (budget %d MiB)", alloc>>20, budget(cfg)>>20)
	}
	stillAnswers(t, ts.URL)
}

// A label PNG claiming 20000×20000 pixels is refused from its header
// (item 5: it was decoded whole before its size was compared).
func TestHostileLabelPNGBomb(t *testing.T) {
	_, ts := testServer(t, baseline.NewFloodFill(), hostileLimits)
	img := Image{Width: 8, Height: 6, Pix: make([]uint8, 8*6*3)}
	s := uploadImage(t, ts.URL, map[string][]byte{"ok.png": pngBytes(t, img)})
	var status int
	var b []byte
	alloc := hostiletest.AllocDuring(func() {
		status, b = do(t, "PUT", fmt.Sprintf("%s/api/sessions/%s/labels/0", ts.URL, s.ID), "image/png", hostiletest.PNGBomb(20000, 20000))
	})
	if status != http.StatusBadRequest || !strings.Contains(errorMessage(b), "mask is 20000x20000, the slice is 8x6") {
		t.Errorf("status %d %s", status, b)
	}
	if alloc > 16<<20 {
		t.Errorf("allocated %d MiB", alloc>>20)
	}
	stillAnswers(t, ts.URL)
}
