package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/dataset"
	"github.com/synthfm/synthfm/internal/shareddata"
	"github.com/synthfm/synthfm/medimg"
)

// TestUploadDICOMSeries sends the three files of a CT series in one
// request: the session is the stacked volume medimg reads from the folder,
// with the CT window by default.
func TestUploadDICOMSeries(t *testing.T) {
	dir := shareddata.Path(t, "evaldata", "dcmqi-ct-liver-spine", "ct-3slice")
	want, err := medimg.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	_, ts := testServer(t, baseline.NewFloodFill(), nil)
	s := uploadImage(t, ts.URL, files)
	got := &medimg.Volume{Size: [3]int{s.Width, s.Height, s.Slices}, Spacing: s.Spacing, Origin: s.Origin, Direction: s.Direction}
	if !got.SameGrid(want, 1e-6) || s.Channels != 1 || s.Window != dataset.DefaultWindow {
		t.Fatalf("series session %+v; medimg reads size %v spacing %v origin %v", s, want.Size, want.Spacing, want.Origin)
	}
	// The middle slice renders under the CT window.
	status, body := do(t, "GET", ts.URL+"/api/sessions/"+s.ID+"/slices/1.png?window=lung", "", nil)
	if status != 200 || len(body) < 100 {
		t.Fatalf("slice: %d %s", status, body)
	}
}

// TestUploadRawBody sends a NIfTI as the whole request body, named by the
// query, as a script might with curl --data-binary.
func TestUploadRawBody(t *testing.T) {
	data, vol, _ := ballVolume(t)
	_, ts := testServer(t, baseline.NewFloodFill(), nil)
	status, b := do(t, "POST", ts.URL+"/api/sessions?name=ball.nii.gz", "application/octet-stream", data)
	if status != 201 {
		t.Fatalf("raw upload: %d %s", status, b)
	}
	var s SessionJSON
	doJSON(t, "GET", ts.URL+"/api/sessions/"+sessionIDFrom(t, b), nil, &s)
	got := &medimg.Volume{Size: [3]int{s.Width, s.Height, s.Slices}, Spacing: s.Spacing, Origin: s.Origin, Direction: s.Direction}
	if !got.SameGrid(vol, 1e-4) || s.Name != "ball.nii" {
		t.Fatalf("raw-body session %+v", s)
	}
}
