package server

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/synthfm/synthfm/baseline"
)

// The example picture is a PNG of the generator that opens as a session.
func TestExamplePictureOpens(t *testing.T) {
	_, ts := testServer(t, baseline.NewFloodFill(), nil)
	status, body := do(t, "GET", ts.URL+"/api/example", "", nil)
	if status != 200 {
		t.Fatalf("GET /api/example: %d %s", status, body)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != exampleSize || b.Dy() != exampleSize {
		t.Fatalf("example is %v, want %d px square", b, exampleSize)
	}
	s := uploadImage(t, ts.URL, map[string][]byte{"example.png": body})
	if s.Width != exampleSize || s.Height != exampleSize || s.Slices != 1 {
		t.Errorf("example session %+v", s)
	}
}

// TestWebPageTryAnExample opens the page, presses "Try an example" and
// clicks the picture: a first visitor gets a mask without a file of their
// own.
func TestWebPageTryAnExample(t *testing.T) {
	findChromium(t)
	_, ts := testServer(t, baseline.NewFloodFill(), nil)
	p := openPage(t, ts.URL)
	p.do(chromedp.Click("#example"))
	p.waitReady("example ready")
	// A pixel of the bright polygon in the middle of the example.
	x, y := p.point(50, 90, exampleSize, exampleSize)
	p.do(chromedp.MouseClickXY(x, y))
	p.poll("a mask on the example", `document.body.dataset.state === "ready" && Number(document.getElementById("mask").dataset.maskPixels) > 0`)
}
