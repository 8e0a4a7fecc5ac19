package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns Debian's chromium (or another Chrome) or skips.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("skipping the browser test: no chromium on PATH (install it with `apt-get install -y chromium`, as scripts/install-deps does)")
	return ""
}

// TestWebPageSegmentsInHeadlessChromium opens the page, uploads a picture,
// clicks, undoes, drags a box, right-clicks and clears, and checks the mask
// the page draws on its canvas each time against the shapes' true areas.
func TestWebPageSegmentsInHeadlessChromium(t *testing.T) {
	chromium := findChromium(t)
	srv, ts := testServer(t, NewFloodFill(), nil)
	img, disc, square := sceneImage()
	file := filepath.Join(t.TempDir(), "scene.png")
	if err := os.WriteFile(file, pngBytes(t, img), 0o600); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.Flag("user-data-dir", t.TempDir()),
		chromedp.WindowSize(1000, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// Start the browser without a deadline (a deadline on the first run
	// would end the browser), then bound the whole scenario.
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	defer tcancel()

	poll := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			status, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.getElementById("status").textContent`))
			t.Fatalf("%s: %v (status line: %q)", what, err, status)
		}
	}
	// pagePoint returns the page coordinates of pixel (x, y)'s centre.
	pagePoint := func(x, y float64) (float64, float64) {
		t.Helper()
		r, err := chromedp.Run(tctx, chromedp.Evaluate[[]float64](`(() => { const r = document.getElementById("prompts").getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`))
		if err != nil {
			t.Fatal(err)
		}
		return r[0] + (x+0.5)*r[2]/float64(img.Width), r[1] + (y+0.5)*r[3]/float64(img.Height)
	}
	maskPixels := func() int {
		t.Helper()
		n, err := chromedp.Run(tctx, chromedp.Evaluate[int](`Number(document.getElementById("mask").dataset.maskPixels || -1)`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitMask := func(what string, want int) {
		t.Helper()
		poll(what, fmt.Sprintf(`document.body.dataset.state === "ready" && Number(document.getElementById("mask").dataset.maskPixels) === %d`, want))
	}

	if err := chromedp.Do(tctx, chromedp.SetUploadFiles("#file", []string{file})); err != nil {
		t.Fatal(err)
	}
	poll("embedding ready", `document.body.dataset.state === "ready" && /Ready/.test(document.getElementById("status").textContent)`)

	// Left click in the disc: three candidate masks, the disc drawn.
	x, y := pagePoint(30, 40)
	if err := chromedp.Do(tctx, chromedp.MouseClickXY(x, y)); err != nil {
		t.Fatal(err)
	}
	waitMask("mask after clicking the disc", countOnes(disc))
	if n, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("#masks button").length`)); n != 3 {
		t.Errorf("multimask picker shows %d masks, want 3", n)
	}
	// Undo: no prompt, no mask.
	if err := chromedp.Do(tctx, chromedp.Click("#undo")); err != nil {
		t.Fatal(err)
	}
	waitMask("mask after undo", 0)

	// Drag a box around the square: the square.
	x0, y0 := pagePoint(55, 15)
	x1, y1 := pagePoint(85, 45)
	if err := chromedp.Do(tctx,
		chromedp.MouseEvent(chromedp.MousePressed, x0, y0, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, (x0+x1)/2, (y0+y1)/2, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x1, y1, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, x1, y1, chromedp.ButtonLeft),
	); err != nil {
		t.Fatal(err)
	}
	waitMask("mask after the box", countOnes(square))
	// The page keeps the chosen mask on the server: the PNG download is it.
	poll("label stored", `document.getElementById("download-png").getAttribute("aria-disabled") === "false"`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		sess, _ := srv.sessions.get(firstSessionID(srv))
		if m := sess.label(0); m != nil && countDiff(m, square) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the page did not store the square as the slice's label")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Right click on the square inside the box: background, nothing left.
	x, y = pagePoint(70, 30)
	if err := chromedp.Do(tctx, chromedp.MouseClickXY(x, y, chromedp.ButtonRight)); err != nil {
		t.Fatal(err)
	}
	waitMask("mask after a right click on the square", 0)
	if err := chromedp.Do(tctx, chromedp.Click("#clear")); err != nil {
		t.Fatal(err)
	}
	poll("cleared", `/Cleared/.test(document.getElementById("status").textContent)`)
	if n := maskPixels(); n != 0 {
		t.Errorf("after clear the page draws %d mask pixels", n)
	}
}

// firstSessionID returns the ID of the only session.
func firstSessionID(s *Server) string {
	s.sessions.mu.Lock()
	defer s.sessions.mu.Unlock()
	for id := range s.sessions.byID {
		return id
	}
	return ""
}
