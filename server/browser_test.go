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

	"github.com/synthfm/synthfm/baseline"
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

// page drives the web page in headless Chromium.
type page struct {
	t   *testing.T
	ctx context.Context
}

// openPage starts Chromium on the server's page; the browser ends with the
// test.
func openPage(t *testing.T, url string) *page {
	t.Helper()
	chromium := findChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.Flag("user-data-dir", t.TempDir()),
		chromedp.WindowSize(1000, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser without a deadline (a deadline on the first run
	// would end the browser), then bound the whole scenario.
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(tcancel)
	return &page{t: t, ctx: tctx}
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatal(err)
	}
}

// poll waits until the JavaScript expression is true.
func (p *page) poll(what, expr string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		status, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent`))
		p.t.Fatalf("%s: %v (status line: %q)", what, err, status)
	}
}

func (p *page) eval(expr string) int {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

// point returns the page coordinates of the centre of pixel (x, y) of a
// width×height slice.
func (p *page) point(x, y float64, width, height int) (float64, float64) {
	p.t.Helper()
	r, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.getElementById("prompts").getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`))
	if err != nil {
		p.t.Fatal(err)
	}
	return r[0] + (x+0.5)*r[2]/float64(width), r[1] + (y+0.5)*r[3]/float64(height)
}

// waitMask waits until the page is ready and draws a mask of want pixels
// (counted from the mask canvas itself).
func (p *page) waitMask(what string, want int) {
	p.t.Helper()
	p.poll(what, fmt.Sprintf(`document.body.dataset.state === "ready" && Number(document.getElementById("mask").dataset.maskPixels) === %d`, want))
}

func (p *page) waitReady(what string) {
	p.t.Helper()
	p.poll(what, `document.body.dataset.state === "ready" && /Ready/.test(document.getElementById("status").textContent)`)
}

// TestWebPageSegmentsInHeadlessChromium opens the page, uploads a picture,
// clicks, undoes, drags a box, right-clicks and clears, and checks the mask
// the page draws on its canvas each time against the shapes' true areas.
func TestWebPageSegmentsInHeadlessChromium(t *testing.T) {
	findChromium(t)
	srv, ts := testServer(t, baseline.NewFloodFill(), nil)
	img, disc, square := sceneImage()
	file := filepath.Join(t.TempDir(), "scene.png")
	if err := os.WriteFile(file, pngBytes(t, img), 0o600); err != nil {
		t.Fatal(err)
	}
	p := openPage(t, ts.URL)
	p.do(chromedp.SetUploadFiles("#file", []string{file}))
	p.waitReady("embedding ready")

	// Left click in the disc: three candidate masks, the disc drawn.
	x, y := p.point(30, 40, img.Width, img.Height)
	p.do(chromedp.MouseClickXY(x, y))
	p.waitMask("mask after clicking the disc", countOnes(disc))
	if n := p.eval(`document.querySelectorAll("#masks button").length`); n != 3 {
		t.Errorf("multimask picker shows %d masks, want 3", n)
	}
	// Undo: no prompt, no mask.
	p.do(chromedp.Click("#undo"))
	p.waitMask("mask after undo", 0)

	// Drag a box around the square: the square.
	x0, y0 := p.point(55, 15, img.Width, img.Height)
	x1, y1 := p.point(85, 45, img.Width, img.Height)
	p.do(
		chromedp.MouseEvent(chromedp.MousePressed, x0, y0, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, (x0+x1)/2, (y0+y1)/2, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x1, y1, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, x1, y1, chromedp.ButtonLeft),
	)
	p.waitMask("mask after the box", countOnes(square))
	// The page keeps the chosen mask on the server: the PNG download is it.
	p.poll("label stored", `document.getElementById("download-png").getAttribute("aria-disabled") === "false"`)
	if m := onlySession(t, srv).label(0); m == nil || countDiff(m, square) != 0 {
		t.Fatal("the page did not store the square as the slice's label")
	}

	// Right click on the square inside the box: background, nothing left.
	x, y = p.point(70, 30, img.Width, img.Height)
	p.do(chromedp.MouseClickXY(x, y, chromedp.ButtonRight))
	p.waitMask("mask after a right click on the square", 0)
	p.do(chromedp.Click("#clear"))
	p.poll("cleared", `/Cleared/.test(document.getElementById("status").textContent)`)
	if n := p.eval(`Number(document.getElementById("mask").dataset.maskPixels)`); n != 0 {
		t.Errorf("after clear the page draws %d mask pixels", n)
	}
	if m := onlySession(t, srv).label(0); m != nil {
		t.Error("clear left a kept mask on the server")
	}
}

// TestWebPageVolumeSlices opens a NIfTI volume, segments two slices with the
// slice slider, returns to the first (its kept mask is drawn again) and
// checks the label volume the NIfTI download gives.
func TestWebPageVolumeSlices(t *testing.T) {
	findChromium(t)
	srv, ts := testServer(t, baseline.NewFloodFill(), nil)
	data, vol, inBall := ballVolume(t)
	file := filepath.Join(t.TempDir(), "ball.nii.gz")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	nx, ny, nz := vol.Size[0], vol.Size[1], vol.Size[2]
	area := func(k int) int {
		n := 0
		for j := 0; j < ny; j++ {
			for i := 0; i < nx; i++ {
				if inBall(i, j, k) {
					n++
				}
			}
		}
		return n
	}
	p := openPage(t, ts.URL)
	p.do(chromedp.SetUploadFiles("#file", []string{file}))
	p.waitReady("first slice ready")
	if max, cur := p.eval(`Number(document.getElementById("slice").max)`), p.eval(`state.slice`); max != nz-1 || cur != nz/2 {
		t.Fatalf("slider max %d at %d, want %d at %d", max, cur, nz-1, nz/2)
	}
	click := func(k int) {
		t.Helper()
		x, y := p.point(17, 14, nx, ny)
		p.do(chromedp.MouseClickXY(x, y))
		p.waitMask(fmt.Sprintf("mask on slice %d", k), area(k))
		p.poll("kept", fmt.Sprintf(`state.kept.has(%d)`, k))
	}
	click(nz / 2)
	// Move the slider to slice 5 as a user would (input, then change).
	p.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("slice"); s.value = "5"; s.dispatchEvent(new Event("input")); s.dispatchEvent(new Event("change")); })()`))
	p.waitReady("slice 5 ready")
	if n := p.eval(`Number(document.getElementById("mask").dataset.maskPixels)`); n != 0 {
		t.Errorf("a new slice starts with %d mask pixels drawn", n)
	}
	click(5)
	// Back to the first slice: its kept mask is drawn again.
	p.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.getElementById("slice"); s.value = "%d"; s.dispatchEvent(new Event("change")); })()`, nz/2)))
	p.waitMask("kept mask shown again", area(nz/2))

	// The NIfTI download holds both slices on the volume's grid.
	href, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.getElementById("download-nifti").href`))
	if err != nil {
		t.Fatal(err)
	}
	status, body := do(t, "GET", href, "", nil)
	if status != 200 {
		t.Fatalf("download: %d", status)
	}
	label := readLabel(t, "mask.nii.gz", body)
	if !label.SameGrid(vol, 1e-4) {
		t.Fatal("downloaded label is not on the volume's grid")
	}
	wrong := 0
	for k := 0; k < nz; k++ {
		for j := 0; j < ny; j++ {
			for i := 0; i < nx; i++ {
				want := float32(0)
				if (k == 5 || k == nz/2) && inBall(i, j, k) {
					want = 1
				}
				if label.At(i, j, k, 0) != want {
					wrong++
				}
			}
		}
	}
	if wrong != 0 {
		t.Errorf("downloaded label differs from the two cross-sections in %d voxels", wrong)
	}
	_ = srv
}

// onlySession returns the server's only session.
func onlySession(t *testing.T, s *Server) *Session {
	t.Helper()
	s.sessions.mu.Lock()
	defer s.sessions.mu.Unlock()
	if len(s.sessions.byID) != 1 {
		t.Fatalf("%d sessions, want 1", len(s.sessions.byID))
	}
	for _, sess := range s.sessions.byID {
		return sess
	}
	return nil
}
