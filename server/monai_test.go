package server

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/dataset"
	"github.com/synthfm/synthfm/internal/shareddata"
	"github.com/synthfm/synthfm/medimg"
)

// ballVolume returns a uint8 volume of 40×32×12 voxels with background 50
// and a ball of value 200 (radius 6 voxels, centre (17, 14, 5)) on an
// oblique grid, written as NIfTI; and the ball's membership test.
func ballVolume(t *testing.T) ([]byte, *medimg.Volume, func(i, j, k int) bool) {
	t.Helper()
	v, _ := medimg.NewVolume(40, 32, 12, 1, "uint8")
	in := func(i, j, k int) bool { return (i-17)*(i-17)+(j-14)*(j-14)+(k-5)*(k-5) <= 36 }
	for k := 0; k < 12; k++ {
		for j := 0; j < 32; j++ {
			for i := 0; i < 40; i++ {
				v.Data[v.Index(i, j, k, 0)] = 50
				if in(i, j, k) {
					v.Data[v.Index(i, j, k, 0)] = 200
				}
			}
		}
	}
	v.Spacing = [3]float64{0.8, 0.9, 2.5}
	v.Origin = [3]float64{-100, 50.5, 20}
	c, s := math.Cos(0.3), math.Sin(0.3)
	v.Direction = [3][3]float64{{c, 0, -s}, {0, 1, 0}, {s, 0, c}}
	var buf bytes.Buffer
	if err := medimg.WriteNIfTI(&buf, v, true); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), v, in
}

// slicerUpload does what MONAILabelClient.create_session does: PUT
// /session/ with the image as a "files" part and the params as form fields.
func slicerUpload(t *testing.T, base, name string, data []byte) string {
	t.Helper()
	ct, body := multipartBody(t, "files", map[string][]byte{name: data}, map[string]string{"client_id": "user-xyz"})
	status, b := do(t, "PUT", base+"/session/", ct, body)
	if status != 200 {
		t.Fatalf("PUT /session/: %d %s", status, b)
	}
	var resp struct {
		SessionID   string         `json:"session_id"`
		SessionInfo map[string]any `json:"session_info"`
	}
	if err := json.Unmarshal(b, &resp); err != nil || resp.SessionID == "" || resp.SessionInfo["image"] != strings.TrimSuffix(name, ".gz") {
		t.Fatalf("PUT /session/ answer %s (%v)", b, err)
	}
	// The plugin checks the session before each inference.
	if status, b := do(t, "GET", base+"/session/"+resp.SessionID, "", nil); status != 200 {
		t.Fatalf("GET /session/: %d %s", status, b)
	}
	return resp.SessionID
}

// slicerInfer does what MONAILabelClient.infer does with a session: POST
// /infer/{model}?image=..&session_id=.. with a multipart "params" field,
// and parses the multipart answer into params and the label file.
func slicerInfer(t *testing.T, base, model, session string, params map[string]any) (int, map[string]any, string, []byte) {
	t.Helper()
	p, _ := json.Marshal(params)
	ct, body := multipartBody(t, "label", nil, map[string]string{"params": string(p)})
	resp, err := http.Post(base+"/infer/"+model+"?image=volume&session_id="+session, ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, map[string]any{"detail": errorMessage(b)}, "", nil
	}
	mt, mp, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("answer is %q, want multipart/form-data", resp.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(resp.Body, mp["boundary"])
	var out map[string]any
	var fileName string
	var file []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part)
		if part.FileName() != "" {
			fileName, file = part.FileName(), b
		} else if part.FormName() == "params" {
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatalf("params part: %v", err)
			}
		}
	}
	return 200, out, fileName, file
}

func readLabel(t *testing.T, name string, data []byte) *medimg.Volume {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := medimg.Read(path)
	if err != nil {
		t.Fatalf("reading the returned %s: %v", name, err)
	}
	return v
}

// slicerLabel makes an inference the plugin's way and returns the label
// volume it answers, after checking that it lies on the image's grid.
func slicerLabel(t *testing.T, base, session string, params map[string]any, image *medimg.Volume) (*medimg.Volume, map[string]any, string) {
	t.Helper()
	status, out, name, file := slicerInfer(t, base, "synthfm", session, params)
	if status != 200 {
		t.Fatalf("infer: %d %v", status, out)
	}
	label := readLabel(t, name, file)
	if !label.SameGrid(image, 1e-3) {
		t.Fatalf("label grid %v %v %v %v differs from the image's %v %v %v %v", label.Size, label.Spacing, label.Origin, label.Direction, image.Size, image.Spacing, image.Origin, image.Direction)
	}
	return label, out, name
}

func TestMONAILabelCallsAsSlicerMakesThem(t *testing.T) {
	_, ts := testServer(t, baseline.NewFloodFill(), nil)
	var info map[string]any
	doJSON(t, "GET", ts.URL+"/info/", nil, &info)
	models, _ := info["models"].(map[string]any)
	m, _ := models["synthfm"].(map[string]any)
	if m["type"] != "deepgrow" || m["dimension"] != float64(2) {
		t.Fatalf("/info/ model: %v", info)
	}
	if c, ok := info["config"]; ok && c != nil {
		t.Fatalf("/info/ has a top-level config, which the plugin refuses: %v", c)
	}
	if labels, _ := info["labels"].([]any); len(labels) == 0 {
		t.Fatalf("/info/ has no labels; the plugin needs one to segment: %v", info)
	}

	data, vol, inBall := ballVolume(t)
	sid := slicerUpload(t, ts.URL, "volume.nii.gz", data)
	for _, tc := range []struct {
		ext  string
		fg   [][]int
		bg   [][]int
		want string
	}{
		{".nrrd", [][]int{{17, 14, 5}}, nil, "label.nrrd"},
		// A click on another slice is dropped; the background click on the
		// chosen slice is outside the ball and takes nothing away.
		{".nii.gz", [][]int{{16, 13, 9}, {18, 15, 4}}, [][]int{{2, 2, 4}}, "label.nii.gz"},
	} {
		k := tc.fg[len(tc.fg)-1][2]
		label, params, name := slicerLabel(t, ts.URL, sid, map[string]any{
			"label": "object", "foreground": tc.fg, "background": tc.bg, "slice": k,
			"result_extension": tc.ext, "result_dtype": "uint8", "client_id": "user-xyz",
		}, vol)
		if name != tc.want || params["slice"] != float64(k) {
			t.Fatalf("infer %s: file %q params %v", tc.ext, name, params)
		}
		wrong := 0
		for kk := 0; kk < 12; kk++ {
			for j := 0; j < 32; j++ {
				for i := 0; i < 40; i++ {
					want := float32(0)
					if kk == k && inBall(i, j, kk) {
						want = 1
					}
					if label.At(i, j, kk, 0) != want {
						wrong++
					}
				}
			}
		}
		if wrong != 0 {
			t.Errorf("infer %s on slice %d: %d voxels differ from the ball's cross-section", tc.ext, k, wrong)
		}
	}

	// The image of the session can be fetched back; then it is deleted.
	status, b := do(t, "GET", ts.URL+"/session/"+sid+"?image=true", "", nil)
	if status != 200 || len(b) < 352 || string(b[344:347]) != "n+1" {
		t.Errorf("GET /session/?image=true: %d, %d bytes", status, len(b))
	}
	if status, b := do(t, "DELETE", ts.URL+"/session/"+sid, "", nil); status != 200 {
		t.Fatalf("DELETE /session/: %d %s", status, b)
	}
	if status, _ := do(t, "GET", ts.URL+"/session/"+sid, "", nil); status != 404 {
		t.Errorf("deleted session answers %d; the plugin re-uploads on 404", status)
	}
}

func TestMONAILabelErrorsUseDetail(t *testing.T) {
	_, ts := testServer(t, baseline.NewFloodFill(), nil)
	data, _, _ := ballVolume(t)
	sid := slicerUpload(t, ts.URL, "volume.nii.gz", data)
	for _, tc := range []struct {
		name   string
		model  string
		params map[string]any
		status int
		msg    string
	}{
		{"unknown model", "deepgrow_3d", map[string]any{"foreground": [][]int{{1, 1, 1}}}, 404, "not on this server"},
		{"no points", "synthfm", map[string]any{"slice": 3}, 400, "no foreground point"},
		{"point outside", "synthfm", map[string]any{"foreground": [][]int{{40, 1, 1}}}, 400, "outside"},
		{"slice outside", "synthfm", map[string]any{"foreground": [][]int{{1, 1, 12}}}, 400, "slice 12"},
		{"bad point", "synthfm", map[string]any{"foreground": [][]int{{1, 1}}}, 400, "want 3 voxel indices"},
		{"bad dtype", "synthfm", map[string]any{"foreground": [][]int{{1, 1, 1}}, "result_dtype": "float32"}, 400, "result_dtype"},
		{"bad extension", "synthfm", map[string]any{"foreground": [][]int{{1, 1, 1}}, "result_extension": ".mha"}, 400, "unsupported label format"},
	} {
		status, params, _, _ := slicerInfer(t, ts.URL, tc.model, sid, tc.params)
		if msg, _ := params["detail"].(string); status != tc.status || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %d %v, want %d with %q", tc.name, status, params, tc.status, tc.msg)
		}
	}
	// Without a session and without a file, the image ID names nothing here.
	ct, body := multipartBody(t, "label", nil, map[string]string{"params": `{"foreground":[[1,1,1]]}`})
	status, b := do(t, "POST", ts.URL+"/infer/synthfm?image=spleen_10", ct, body)
	if status != 404 || !strings.Contains(errorMessage(b), "keeps no datastore") {
		t.Errorf("image without session: %d %s", status, b)
	}
	if status, _ := do(t, "GET", ts.URL+"/session/not-a-session", "", nil); status != 404 {
		t.Errorf("bad session id answers %d", status)
	}
}

func TestMONAILabelInferWithFileAndNoSession(t *testing.T) {
	srv, ts := testServer(t, baseline.NewFloodFill(), nil)
	data, vol, inBall := ballVolume(t)
	ct, body := multipartBody(t, "file", map[string][]byte{"volume.nii.gz": data},
		map[string]string{"params": `{"foreground":[[17,14,5]],"result_extension":".nii.gz"}`})
	resp, err := http.Post(ts.URL+"/infer/synthfm?output=image", ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	label := readLabel(t, "label.nii.gz", b)
	if !label.SameGrid(vol, 1e-4) || label.At(17, 14, 5, 0) != 1 || label.At(17, 14, 4, 0) != 0 || !inBall(17, 14, 5) {
		t.Errorf("label from a sent file is wrong")
	}
	if n, _ := srv.sessions.stats(); n != 0 {
		t.Errorf("the temporary session was kept (%d sessions)", n)
	}
}

// TestMONAILabelOnRealCT segments a real CT volume (stored RAS, so the
// JSON API shows it flipped to LPS) through the MONAI Label calls, and the
// same voxel through the JSON API; the MONAI label (uploaded grid) and the
// JSON API's label download (mapped back from the LPS view) must agree.
func TestMONAILabelOnRealCT(t *testing.T) {
	path := shareddata.Path(t, "evaldata", "totalseg-testfiles-ct-mr", "example_ct_sm.nii.gz")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := medimg.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	_, ts := testServer(t, baseline.NewFloodFill(), nil)
	sid := slicerUpload(t, ts.URL, "example_ct_sm.nii.gz", data)
	var sj SessionJSON
	doJSON(t, "GET", ts.URL+"/api/sessions/"+sid, nil, &sj)
	if sj.Window != dataset.DefaultWindow || sj.Orientation != "LPS" || sj.UploadedOrientation == "LPS" || sj.UploadedSize != ct.Size {
		t.Fatalf("CT session %+v: want the default CT window and an LPS view of a non-LPS upload", sj)
	}
	i, j, k := ct.Size[0]/2, ct.Size[1]/2, ct.Size[2]/2
	label, _, _ := slicerLabel(t, ts.URL, sid, map[string]any{
		"label": "liver", "foreground": [][]int{{i, j, k}}, "background": [][]int{}, "slice": k,
		"result_extension": ".nrrd", "result_dtype": "uint8",
	}, ct)
	if countOnes(medimg.LabelBytes(label)) == 0 {
		t.Fatal("empty MONAI label")
	}
	// The same voxel in the view: solve view origin + A·q = world(i, j, k).
	q := worldToIndex(t, sj, indexToWorld(ct, [3]int{i, j, k}))
	if q[2] < 0 || q[2] >= sj.Slices {
		t.Fatalf("voxel maps to view slice %d", q[2])
	}
	var pr PredictResponse
	doJSON(t, "POST", ts.URL+"/api/sessions/"+sid+"/predict", map[string]any{
		"slice": q[2], "points": []map[string]any{{"x": q[0], "y": q[1], "label": 1}}, "multimask": true,
	}, &pr)
	mask, err := base64Body(pr.Masks[pr.Best].PNG)
	if err != nil {
		t.Fatal(err)
	}
	if status, b := do(t, "PUT", pathf("%s/api/sessions/%s/labels/%d", ts.URL, sid, q[2]), "image/png", mask); status != 200 {
		t.Fatalf("keep label: %d %s", status, b)
	}
	status, body := do(t, "GET", ts.URL+"/api/sessions/"+sid+"/labels/volume.nii.gz", "", nil)
	if status != 200 {
		t.Fatalf("label download: %d", status)
	}
	api := readLabel(t, "label.nii.gz", body)
	if !api.SameGrid(ct, 1e-3) {
		t.Fatal("the JSON API's label download is not on the uploaded grid")
	}
	if n := countDiff(medimg.LabelBytes(api), medimg.LabelBytes(label)); n != 0 {
		t.Errorf("the JSON API's label (via the LPS view) and MONAI Label's differ in %d voxels", n)
	}
}

// indexToWorld returns the LPS position of a voxel's centre.
func indexToWorld(v *medimg.Volume, idx [3]int) [3]float64 {
	var w [3]float64
	for r := 0; r < 3; r++ {
		w[r] = v.Origin[r]
		for c := 0; c < 3; c++ {
			w[r] += v.Direction[r][c] * v.Spacing[c] * float64(idx[c])
		}
	}
	return w
}

// worldToIndex returns the voxel of a session's view at a world position.
func worldToIndex(t *testing.T, s SessionJSON, w [3]float64) [3]int {
	t.Helper()
	grid := medimg.Volume{Spacing: s.Spacing, Origin: s.Origin, Direction: s.Direction}
	x, ok := grid.WorldToIndex(w)
	if !ok {
		t.Fatal("singular view grid")
	}
	var q [3]int
	for r := range q {
		q[r] = int(math.Round(x[r]))
	}
	return q
}
