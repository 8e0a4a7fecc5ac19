package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/medimg"
)

func TestUploadPredictAndLabelsOverHTTP(t *testing.T) {
	_, ts := testServer(t, baseline.NewFloodFill(), nil)
	img, disc, square := sceneImage()
	s := uploadImage(t, ts.URL, map[string][]byte{"scene.png": pngBytes(t, img)})
	if s.Width != 100 || s.Height != 80 || s.Slices != 1 || s.Window != "none" || len(s.ID) != 32 {
		t.Fatalf("session: %+v", s)
	}
	// The slice the model sees is the uploaded picture.
	status, body := do(t, "GET", ts.URL+"/api/sessions/"+s.ID+"/slices/0.png", "", nil)
	if status != 200 {
		t.Fatalf("slice: %d %s", status, body)
	}
	got := decodePNGGrey(t, body)
	for p := range got {
		if got[p] != img.Pix[3*p] {
			t.Fatalf("slice pixel %d is %d, want %d", p, got[p], img.Pix[3*p])
		}
	}

	var pr PredictResponse
	doJSON(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", map[string]any{
		"slice": 0, "points": []map[string]any{{"x": 30, "y": 40, "label": 1}},
	}, &pr)
	if len(pr.Masks) != 3 {
		t.Fatalf("a single click asks for multimask by default: got %d masks", len(pr.Masks))
	}
	for i, m := range pr.Masks {
		pix := decodeDataURLMask(t, m.PNG, 100, 80)
		if n := countDiff(pix, disc); n != 0 {
			t.Errorf("mask %d differs from the disc in %d pixels", i, n)
		}
		if m.Area != countOnes(disc) {
			t.Errorf("mask %d area %d, want %d", i, m.Area, countOnes(disc))
		}
	}
	// Box prompt without multimask over the square.
	doJSON(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", map[string]any{
		"box": []float64{55, 15, 85, 45}, "multimask": false,
	}, &pr)
	if len(pr.Masks) != 1 || countDiff(decodeDataURLMask(t, pr.Masks[0].PNG, 100, 80), square) != 0 {
		t.Fatalf("box prompt: %d masks, or not the square", len(pr.Masks))
	}

	// Keep the square as the label; read it back as PNG and as NIfTI.
	var sq bytes.Buffer
	if err := encodeMaskPNG(&sq, 100, 80, square); err != nil {
		t.Fatal(err)
	}
	status, body = do(t, "PUT", ts.URL+"/api/sessions/"+s.ID+"/labels/0", "image/png", sq.Bytes())
	if status != 200 {
		t.Fatalf("put label: %d %s", status, body)
	}
	_, body = do(t, "GET", ts.URL+"/api/sessions/"+s.ID+"/labels/0.png", "", nil)
	if n := countDiff(decodePNGMask(t, body, 100, 80), square); n != 0 {
		t.Errorf("label PNG differs in %d pixels", n)
	}
	status, body = do(t, "GET", ts.URL+"/api/sessions/"+s.ID+"/labels/volume.nii.gz", "", nil)
	if status != 200 {
		t.Fatalf("label volume: %d %s", status, body)
	}
	path := filepath.Join(t.TempDir(), "label.nii.gz")
	_ = os.WriteFile(path, body, 0o600)
	lv, err := medimg.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if lv.Size != [3]int{100, 80, 1} {
		t.Fatalf("label volume size %v", lv.Size)
	}
	for p, v := range square {
		if lv.Data[p] != float32(v) {
			t.Fatalf("label volume voxel %d = %g, want %d", p, lv.Data[p], v)
		}
	}
	var sj SessionJSON
	doJSON(t, "GET", ts.URL+"/api/sessions/"+s.ID, nil, &sj)
	if len(sj.Labelled) != 1 || sj.Labelled[0] != 0 {
		t.Errorf("labelled slices %v, want [0]", sj.Labelled)
	}
	doJSON(t, "DELETE", ts.URL+"/api/sessions/"+s.ID+"/labels/0", nil, nil)
	_, body = do(t, "GET", ts.URL+"/api/sessions/"+s.ID+"/labels/0", "", nil)
	if countOnes(decodePNGMask(t, body, 100, 80)) != 0 {
		t.Error("label not cleared")
	}
	// Delete the session: it is gone.
	doJSON(t, "DELETE", ts.URL+"/api/sessions/"+s.ID, nil, nil)
	if status, _ := do(t, "GET", ts.URL+"/api/sessions/"+s.ID, "", nil); status != 404 {
		t.Errorf("deleted session answers %d", status)
	}
}

func countOnes(m []uint8) int {
	n := 0
	for _, v := range m {
		n += int(v)
	}
	return n
}

func decodePNGGrey(t *testing.T, b []byte) []uint8 {
	t.Helper()
	img, err := decodeAnyPNG(b)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestBadRequestsGetA4xxWithAMessage(t *testing.T) {
	_, ts := testServer(t, baseline.NewFloodFill(), func(c *Config) {
		c.MaxUploadBytes = 64 << 10
		c.MaxFileBytes = 32 << 10
		c.MaxSlicePixels = 120 * 120
		c.MaxPoints = 4
	})
	img, _, _ := sceneImage()
	s := uploadImage(t, ts.URL, map[string][]byte{"scene.png": pngBytes(t, img)})
	var zeros bytes.Buffer
	zw := gzip.NewWriter(&zeros)
	_, _ = zw.Write(make([]byte, 1<<20)) // 1 MiB of zeros: a small gzip bomb
	_ = zw.Close()
	big := Image{Width: 200, Height: 200, Pix: make([]uint8, 3*200*200)}

	upload := func(name string, data []byte) (int, string) {
		ct, body := multipartBody(t, "file", map[string][]byte{name: data}, nil)
		status, b := do(t, "POST", ts.URL+"/api/sessions", ct, body)
		return status, errorMessage(b)
	}
	for _, tc := range []struct {
		name   string
		status int
		msg    string
		send   func() (int, string)
	}{
		{"garbage file", 422, "cannot read the image", func() (int, string) { return upload("x.png", []byte("not a picture at all")) }},
		{"unknown format", 422, "unsupported format", func() (int, string) { return upload("x.bin", []byte("0123456789")) }},
		{"empty file", 400, "empty", func() (int, string) { return upload("x.png", nil) }},
		{"gzip bomb", 413, "larger than the limit", func() (int, string) { return upload("x.nii.gz", zeros.Bytes()) }},
		{"body too large", 413, "larger than the limit", func() (int, string) { return upload("x.png", bytes.Repeat([]byte{1}, 100<<10)) }},
		{"picture too large", 413, "over the limit", func() (int, string) { return upload("big.png", pngBytes(t, big)) }},
		{"no file", 400, "no file", func() (int, string) {
			ct, body := multipartBody(t, "file", nil, map[string]string{"a": "b"})
			status, b := do(t, "POST", ts.URL+"/api/sessions", ct, body)
			return status, errorMessage(b)
		}},
		{"unknown session", 404, "no session", func() (int, string) {
			status, b := do(t, "GET", ts.URL+"/api/sessions/0123456789abcdef0123456789abcdef", "", nil)
			return status, errorMessage(b)
		}},
		{"malformed session id", 404, "no session", func() (int, string) {
			status, b := do(t, "GET", ts.URL+"/api/sessions/..%2f..%2fetc", "", nil)
			return status, errorMessage(b)
		}},
		{"slice out of range", 400, "slice", func() (int, string) {
			status, b := do(t, "GET", ts.URL+"/api/sessions/"+s.ID+"/slices/3", "", nil)
			return status, errorMessage(b)
		}},
		{"bad window", 400, "unknown window", func() (int, string) {
			status, b := do(t, "GET", ts.URL+"/api/sessions/"+s.ID+"/slices/0?window=purple", "", nil)
			return status, errorMessage(b)
		}},
		{"bad JSON", 400, "bad JSON", func() (int, string) {
			status, b := do(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", "application/json", []byte("{points:"))
			return status, errorMessage(b)
		}},
		{"unknown JSON field", 400, "unknown field", func() (int, string) {
			status, b := do(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", "application/json", []byte(`{"pints":[]}`))
			return status, errorMessage(b)
		}},
		{"empty prompt", 400, "empty prompt", func() (int, string) {
			status, b := do(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", "application/json", []byte(`{"slice":0}`))
			return status, errorMessage(b)
		}},
		{"point outside", 400, "outside", func() (int, string) {
			status, b := do(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", "application/json", []byte(`{"points":[{"x":100,"y":5,"label":1}]}`))
			return status, errorMessage(b)
		}},
		{"no label", 400, "no label", func() (int, string) {
			status, b := do(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", "application/json", []byte(`{"points":[{"x":1,"y":5}]}`))
			return status, errorMessage(b)
		}},
		{"bad label", 400, "label 2", func() (int, string) {
			status, b := do(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", "application/json", []byte(`{"points":[{"x":1,"y":5,"label":2}]}`))
			return status, errorMessage(b)
		}},
		{"too many points", 400, "limit of 4", func() (int, string) {
			p := strings.Repeat(`{"x":1,"y":1,"label":1},`, 5)
			status, b := do(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", "application/json", []byte(`{"points":[`+p[:len(p)-1]+`]}`))
			return status, errorMessage(b)
		}},
		{"mask of wrong size", 400, "is 200x200", func() (int, string) {
			status, b := do(t, "PUT", ts.URL+"/api/sessions/"+s.ID+"/labels/0", "image/png", pngBytes(t, big))
			return status, errorMessage(b)
		}},
		{"unknown label format", 404, "unsupported label format", func() (int, string) {
			status, b := do(t, "GET", ts.URL+"/api/sessions/"+s.ID+"/labels/volume.mha", "", nil)
			return status, errorMessage(b)
		}},
		{"unknown API route", 404, "no API route", func() (int, string) {
			status, b := do(t, "GET", ts.URL+"/api/nothing", "", nil)
			return status, errorMessage(b)
		}},
	} {
		status, msg := tc.send()
		if status != tc.status || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: status %d message %q, want %d containing %q", tc.name, status, msg, tc.status, tc.msg)
		}
	}
}

func TestNoRequestReachesFilesOutsideTheDataFolder(t *testing.T) {
	parent := t.TempDir()
	data := filepath.Join(parent, "data")
	secret := filepath.Join(parent, "secret.png")
	img, _, _ := sceneImage()
	if err := os.WriteFile(secret, pngBytes(t, img), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, ts := testServer(t, baseline.NewFloodFill(), func(c *Config) { c.DataDir = data })
	// An upload named to climb out of its folder lands inside it.
	s := uploadImage(t, ts.URL, map[string][]byte{"../../../evil.png": pngBytes(t, img)})
	entries, _ := os.ReadDir(parent)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("the upload wrote outside the data folder: %v", names)
	}
	stored, err := filepath.Glob(filepath.Join(data, "sessions", s.ID, "*"))
	if err != nil || len(stored) != 1 || filepath.Base(stored[0]) != "evil.png" {
		t.Fatalf("stored as %v (%v)", stored, err)
	}
	if s.Name != "evil.png" {
		t.Errorf("session name %q", s.Name)
	}
	// Paths that try to leave the server's routes or folders are refused.
	for _, p := range []string{
		"/static/../../secret.png", "/static/%2e%2e/%2e%2e/secret.png", "/static/", "/static/..%2fweb.go",
		"/api/sessions/" + s.ID + "/..%2f..%2fsecret.png", "/api/sessions/" + s.ID + "%2f..%2f..%2f..%2fsecret.png/slices/0",
		"/session/..%2f..%2fsecret.png?image=true", "/session/" + s.ID + "%2f..%2f..%2fsecret.png?image=true",
	} {
		status, body := do(t, "GET", ts.URL+p, "", nil)
		if status == 200 && bytes.Contains(body, []byte("PNG")) {
			t.Errorf("GET %s answered a file", p)
		}
	}
	// Deleting the session removes its folder.
	doJSON(t, "DELETE", ts.URL+"/api/sessions/"+s.ID, nil, nil)
	if _, err := os.Stat(filepath.Join(data, "sessions", s.ID)); !os.IsNotExist(err) {
		t.Errorf("session folder left after delete: %v", err)
	}
	_ = srv
}

func TestSessionsExpireAndAreBounded(t *testing.T) {
	srv, ts := testServer(t, baseline.NewFloodFill(), func(c *Config) {
		c.SessionTTL = time.Second
		c.MaxSessions = 2
	})
	img, _, _ := sceneImage()
	first := uploadImage(t, ts.URL, map[string][]byte{"a.png": pngBytes(t, img)})
	uploadImage(t, ts.URL, map[string][]byte{"b.png": pngBytes(t, img)})
	// A third session takes the place of the least recently used one
	// (fairness_sessions_test.go has the rules).
	a := uploadImage(t, ts.URL, map[string][]byte{"c.png": pngBytes(t, img)})
	if status, b := do(t, "GET", ts.URL+"/api/sessions/"+first.ID, "", nil); status != 404 || !strings.Contains(errorMessage(b), "made way for newer uploads") {
		t.Fatalf("the session that made way: %d %s", status, b)
	}
	if n, _ := srv.sessions.stats(); n != 2 {
		t.Fatalf("%d sessions held, limit 2", n)
	}
	// No request comes: the sweeper removes them.
	time.Sleep(1500 * time.Millisecond)
	if n, _ := srv.sessions.stats(); n != 0 {
		t.Fatalf("%d sessions left after expiry", n)
	}
	if _, err := os.Stat(filepath.Join(srv.cfg.DataDir, "sessions", a.ID)); !os.IsNotExist(err) {
		t.Errorf("expired session's folder is still there")
	}
	if status, _ := do(t, "GET", ts.URL+"/api/sessions/"+a.ID, "", nil); status != 404 {
		t.Fatalf("expired session answers %d", status)
	}
	uploadImage(t, ts.URL, map[string][]byte{"c.png": pngBytes(t, img)})
}

// shiftedScene draws a disc of value 200 and radius r centred at (cx, cy)
// on a 64×48 background of 30, and returns the picture and the disc.
func shiftedScene(cx, cy, r int) (Image, []uint8) {
	const w, h = 64, 48
	img := Image{Width: w, Height: h, Pix: make([]uint8, 3*w*h)}
	disc := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8(30)
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
				v, disc[y*w+x] = 200, 1
			}
			img.Pix[3*(y*w+x)], img.Pix[3*(y*w+x)+1], img.Pix[3*(y*w+x)+2] = v, v, v
		}
	}
	return img, disc
}

func TestTwentyConcurrentClientsSeeOnlyTheirOwnWork(t *testing.T) {
	const clients = 20
	// The clients all come from 127.0.0.1: one client to the server.
	_, ts := testServer(t, baseline.NewFloodFill(), func(c *Config) { c.ConcurrentEmbeds, c.MaxSessionsPerClient = 2, clients })
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			cx, cy, r := 12+c, 10+c, 4+c%5
			img, disc := shiftedScene(cx, cy, r)
			s := uploadImage(t, ts.URL, map[string][]byte{"c.png": pngBytes(t, img)})
			for round := 0; round < 3; round++ {
				var pr PredictResponse
				doJSON(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", map[string]any{
					"points": []map[string]any{{"x": cx, "y": cy, "label": 1}}, "multimask": false,
				}, &pr)
				if n := countDiff(decodeDataURLMask(t, pr.Masks[0].PNG, 64, 48), disc); n != 0 {
					errs <- pathf("client %d round %d: mask differs from its own disc in %d pixels", c, round, n)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestEmbedThenStatusIsReady(t *testing.T) {
	_, ts := testServer(t, baseline.NewFloodFill(), nil)
	img, _, _ := sceneImage()
	s := uploadImage(t, ts.URL, map[string][]byte{"scene.png": pngBytes(t, img)})
	var st EmbedStatus
	doJSON(t, "GET", ts.URL+"/api/sessions/"+s.ID+"/embed?slice=0", nil, &st)
	if st.State != "absent" {
		t.Fatalf("before: %+v", st)
	}
	var res map[string]any
	doJSON(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/embed", map[string]any{"slice": 0}, &res)
	if res["state"] != "ready" {
		t.Fatalf("embed: %v", res)
	}
	doJSON(t, "GET", ts.URL+"/api/sessions/"+s.ID+"/embed?slice=0", nil, &st)
	if st.State != "ready" || st.Progress != 1 {
		t.Fatalf("after: %+v", st)
	}
	// Another window is another image: not embedded yet.
	doJSON(t, "GET", ts.URL+"/api/sessions/"+s.ID+"/embed?slice=0&window=10,20", nil, &st)
	if st.State != "absent" {
		t.Fatalf("other window: %+v", st)
	}
	var info InfoJSON
	doJSON(t, "GET", ts.URL+"/api/info", nil, &info)
	if info.Model.Name != "flood-fill" || info.Cache.Entries != 1 || len(info.Windows) < 3 {
		t.Errorf("info: %+v", info)
	}
	raw, _ := json.Marshal(info)
	if strings.Contains(string(raw), s.ID) {
		t.Error("info reveals a session ID")
	}
}

func TestCrossSiteRequestsAreRefused(t *testing.T) {
	_, ts := testServer(t, baseline.NewFloodFill(), nil)
	img, _, _ := sceneImage()
	ct, body := multipartBody(t, "file", map[string][]byte{"a.png": pngBytes(t, img)}, nil)
	send := func(origin string) int {
		req, _ := http.NewRequest("POST", ts.URL+"/api/sessions", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for origin, want := range map[string]int{
		"":                    201, // scripts, 3D Slicer
		ts.URL:                201, // the server's own page
		"http://evil.example": 403,
		"http://127.0.0.1:1":  403,
		"null":                403,
	} {
		if got := send(origin); got != want {
			t.Errorf("Origin %q: status %d, want %d", origin, got, want)
		}
	}
}
