package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// testServer starts the server with the segmenter on a fresh data folder.
func testServer(t testing.TB, model Segmenter, edit func(*Config)) (*Server, *httptest.Server) {
	t.Helper()
	cfg := Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg, model)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		_ = s.Close()
	})
	return s, ts
}

// pngBytes encodes an RGB image as PNG (grey when it is grey).
func pngBytes(t testing.TB, img Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := encodeImagePNG(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// multipartBody builds a multipart/form-data body with the files under
// field and the plain fields.
func multipartBody(t testing.TB, field string, files map[string][]byte, fields map[string]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		w, err := mw.CreateFormFile(field, name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

// do sends a request and returns the status and body.
func do(t testing.TB, method, url, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// doJSON sends v as JSON (nil for no body) and decodes a 2xx answer into
// out; it fails the test on another status.
func doJSON(t testing.TB, method, url string, v, out any) {
	t.Helper()
	var body []byte
	if v != nil {
		body, _ = json.Marshal(v)
	}
	status, b := do(t, method, url, "application/json", body)
	if status/100 != 2 {
		t.Fatalf("%s %s: status %d: %s", method, url, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
}

// uploadImage creates a session from files and returns it.
func uploadImage(t testing.TB, base string, files map[string][]byte) SessionJSON {
	t.Helper()
	ct, body := multipartBody(t, "file", files, nil)
	status, b := do(t, "POST", base+"/api/sessions", ct, body)
	if status != http.StatusCreated {
		t.Fatalf("upload: status %d: %s", status, b)
	}
	var s SessionJSON
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// errorMessage returns the "error" field of a JSON error answer.
func errorMessage(b []byte) string {
	var e struct{ Error, Detail string }
	_ = json.Unmarshal(b, &e)
	return e.Error + e.Detail
}

// decodeDataURLMask decodes a data: URL PNG mask into 0/1 pixels.
func decodeDataURLMask(t testing.TB, url string, w, h int) []uint8 {
	t.Helper()
	b64, ok := strings.CutPrefix(url, "data:image/png;base64,")
	if !ok {
		t.Fatalf("not a PNG data URL: %.40s", url)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return decodePNGMask(t, raw, w, h)
}

func decodePNGMask(t testing.TB, raw []byte, w, h int) []uint8 {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok || g.Bounds().Dx() != w || g.Bounds().Dy() != h {
		t.Fatalf("mask is %T of %v, want %dx%d grey", img, img.Bounds(), w, h)
	}
	out := make([]uint8, w*h)
	for i, v := range g.Pix {
		switch v {
		case 255:
			out[i] = 1
		case 0:
		default:
			t.Fatalf("mask pixel %d has grey %d, want 0 or 255", i, v)
		}
	}
	return out
}

func countDiff(a, b []uint8) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func pathf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

// decodeAnyPNG decodes a PNG into grey levels (channel 0 for colour).
func decodeAnyPNG(b []byte) ([]uint8, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	r := img.Bounds()
	out := make([]uint8, 0, r.Dx()*r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c, _, _, _ := img.At(x, y).RGBA()
			out = append(out, uint8(c>>8))
		}
	}
	return out, nil
}

// sessionIDFrom reads the "id" of a session answer.
func sessionIDFrom(t testing.TB, b []byte) string {
	t.Helper()
	var s SessionJSON
	if err := json.Unmarshal(b, &s); err != nil || s.ID == "" {
		t.Fatalf("no session in %s (%v)", b, err)
	}
	return s.ID
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// base64Body decodes the PNG of a data: URL.
func base64Body(url string) ([]byte, error) {
	b64, _ := strings.CutPrefix(url, "data:image/png;base64,")
	return base64.StdEncoding.DecodeString(b64)
}
