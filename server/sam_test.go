//go:build !race

// These tests run GoMLX graphs, whose matrix kernels (gomlx/compute v0.1.2,
// matmul/nosimd_small.go) stop the program under the race detector's
// pointer checks ("checkptr: pointer arithmetic result points to invalid
// allocation"); so they are left out of -race builds. With
// -gcflags=all=-d=checkptr=0 they would run there too.

package server

import (
	"context"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/synthfm/synthfm/internal/npytest"
	"github.com/synthfm/synthfm/internal/shareddata"
	"github.com/synthfm/synthfm/sam"

	"github.com/synthfm/synthfm/models"
)

// The tiny random-weight SAM of the official parity fixtures
// (/work/shared/fixtures/sam-tiny-a): its reference masks and IoU
// predictions come from segment-anything's SamPredictor.

func tinySAM(t testing.TB) (*models.SAM, string) {
	t.Helper()
	dir := shareddata.Path(t, "fixtures", "sam-tiny-a")
	cfg, err := sam.LoadConfig(filepath.Join(dir, "config_tiny-a.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := sam.LoadPredictor(context.Background(), newTestBackend(t), filepath.Join(dir, "sam_tiny-a.safetensors"), cfg, sam.PredictorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return models.NewSAM(p), dir
}

// fixtureCase returns the prompt of case k in original-image pixels.
func fixtureCase(t testing.TB, dir string, k int, multimask bool) Prompt {
	t.Helper()
	pre := filepath.Join(dir, "case")
	_, coords := npytest.Read[float32](t, pre+string(rune('0'+k))+"_point_coords_orig.npy")
	_, labels := npytest.Read[int32](t, pre+string(rune('0'+k))+"_point_labels.npy")
	p := Prompt{Multimask: multimask}
	for i, l := range labels {
		p.Points = append(p.Points, Point{X: float64(coords[2*i]), Y: float64(coords[2*i+1]), Positive: l == 1})
	}
	if k == 3 {
		_, b := npytest.Read[float32](t, pre+"3_box_orig.npy")
		p.Box = &Box{X0: float64(b[0]), Y0: float64(b[1]), X1: float64(b[2]), Y1: float64(b[3])}
	}
	return p
}

// checkAgainstOfficial compares masks with SamPredictor's logits
// (thresholded at 0; pixels whose official logit is within 1e-3 of 0 are
// not judged) and the IoU predictions.
func checkAgainstOfficial(t *testing.T, what string, masks []Mask, dir string, k int, kind string) {
	t.Helper()
	pre := filepath.Join(dir, "case"+string(rune('0'+k))+"_"+kind+"_")
	shape, logits := npytest.Read[float32](t, pre+"masks_logits.npy")
	_, iou := npytest.Read[float32](t, pre+"iou_predictions.npy")
	n := shape[len(shape)-1] * shape[len(shape)-2]
	if len(masks) != len(iou) {
		t.Fatalf("%s: %d masks, official %d", what, len(masks), len(iou))
	}
	for i, m := range masks {
		if math.Abs(float64(m.Score-iou[i])) > 1e-4 {
			t.Errorf("%s mask %d: IoU prediction %g, official %g", what, i, m.Score, iou[i])
		}
		wrong := 0
		for j, l := range logits[i*n : (i+1)*n] {
			if math.Abs(float64(l)) >= 1e-3 && (l > 0) != (m.Pix[j] == 1) {
				wrong++
			}
		}
		if wrong != 0 {
			t.Errorf("%s mask %d: %d pixels differ from SamPredictor's", what, i, wrong)
		}
	}
}

func TestSAMMatchesSamPredictor(t *testing.T) {
	s, dir := tinySAM(t)
	shape, pix := npytest.Read[uint8](t, filepath.Join(dir, "image_orig.npy"))
	img := Image{Width: shape[1], Height: shape[0], Pix: pix}
	emb, err := s.Embed(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 3; k++ {
		for _, multi := range []bool{true, false} {
			masks, err := s.Segment(context.Background(), emb, img.Width, img.Height, fixtureCase(t, dir, k, multi))
			if err != nil {
				t.Fatal(err)
			}
			kind := map[bool]string{true: "multi", false: "single"}[multi]
			checkAgainstOfficial(t, "case"+string(rune('0'+k))+" "+kind, masks, dir, k, kind)
		}
	}
	if info := s.Info(); info.Name != "sam-tiny-a" || info.InputSize != 128 || info.Multimask != 3 {
		t.Errorf("info %+v", info)
	}
}

// TestSAMOverHTTPMatchesSamPredictor uploads the fixture image as a PNG and
// clicks through the JSON API: the masks are SamPredictor's.
func TestSAMOverHTTPMatchesSamPredictor(t *testing.T) {
	s, dir := tinySAM(t)
	_, ts := testServer(t, s, nil)
	shape, pix := npytest.Read[uint8](t, filepath.Join(dir, "image_orig.npy"))
	img := Image{Width: shape[1], Height: shape[0], Pix: pix}
	sess := uploadImage(t, ts.URL, map[string][]byte{"image.png": pngBytes(t, img)})
	if sess.Channels < 3 || sess.Window != "none" {
		t.Fatalf("colour PNG session: %+v", sess)
	}
	p := fixtureCase(t, dir, 2, true)
	var points []map[string]any
	for _, pt := range p.Points {
		label := 0
		if pt.Positive {
			label = 1
		}
		points = append(points, map[string]any{"x": pt.X, "y": pt.Y, "label": label})
	}
	var pr PredictResponse
	doJSON(t, "POST", ts.URL+"/api/sessions/"+sess.ID+"/predict", map[string]any{"points": points, "multimask": true}, &pr)
	var masks []Mask
	for _, m := range pr.Masks {
		masks = append(masks, Mask{Width: img.Width, Height: img.Height, Pix: decodeDataURLMask(t, m.PNG, img.Width, img.Height), Score: m.Score})
	}
	checkAgainstOfficial(t, "HTTP case2 multi", masks, dir, 2, "multi")
}

// TestSAMThroughMONAILabel segments a slice of a grey volume through the
// Slicer plugin's calls with the tiny SAM: the label has the volume's grid
// and its slice is the mask SAM gives for the same slice and click.
func TestSAMThroughMONAILabel(t *testing.T) {
	s, _ := tinySAM(t)
	_, ts := testServer(t, s, nil)
	data, vol, _ := ballVolume(t)
	sid := slicerUpload(t, ts.URL, "volume.nii.gz", data)
	const k = 4
	label, _, _ := slicerLabel(t, ts.URL, sid, map[string]any{
		"label": "object", "foreground": [][]int{{17, 14, k}}, "background": [][]int{{30, 25, k}}, "slice": k,
		"result_extension": ".nrrd", "result_dtype": "uint8",
	}, vol)
	// The reference: slice k as grey RGB (8-bit data keeps its values), two
	// clicks, SAM's single-mask output.
	nx, ny := vol.Size[0], vol.Size[1]
	img := Image{Width: nx, Height: ny, Pix: make([]uint8, 3*nx*ny)}
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			v := uint8(vol.At(i, j, k, 0))
			img.Pix[3*(j*nx+i)], img.Pix[3*(j*nx+i)+1], img.Pix[3*(j*nx+i)+2] = v, v, v
		}
	}
	emb, err := s.Embed(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Segment(context.Background(), emb, nx, ny, Prompt{Points: []Point{{X: 17, Y: 14, Positive: true}, {X: 30, Y: 25}}})
	if err != nil {
		t.Fatal(err)
	}
	diff, elsewhere := 0, 0
	for kk := 0; kk < vol.Size[2]; kk++ {
		for j := 0; j < ny; j++ {
			for i := 0; i < nx; i++ {
				got := label.At(i, j, kk, 0)
				if kk != k {
					if got != 0 {
						elsewhere++
					}
				} else if got != float32(want[0].Pix[j*nx+i]) {
					diff++
				}
			}
		}
	}
	if diff != 0 || elsewhere != 0 {
		t.Errorf("slice %d differs from SAM's mask in %d voxels; %d voxels set on other slices", k, diff, elsewhere)
	}
	if want[0].Area() == 0 || want[0].Area() == nx*ny {
		t.Logf("note: SAM's mask covers %d of %d pixels", want[0].Area(), nx*ny)
	}
}

// TestTwentyConcurrentClientsWithSAM has 20 clients upload different
// pictures and click at the same time; each gets the mask SAM gives for its
// own picture (computed beforehand, one by one).
func TestTwentyConcurrentClientsWithSAM(t *testing.T) {
	s, _ := tinySAM(t)
	const clients = 20
	type job struct {
		img  Image
		x, y int
		want []uint8
	}
	jobs := make([]job, clients)
	for c := range jobs {
		cx, cy := 12+c, 10+c
		img, _ := shiftedScene(cx, cy, 4+c%5)
		emb, err := s.Embed(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Segment(context.Background(), emb, img.Width, img.Height, Prompt{Points: []Point{{X: float64(cx), Y: float64(cy), Positive: true}}})
		if err != nil {
			t.Fatal(err)
		}
		jobs[c] = job{img, cx, cy, m[0].Pix}
	}
	// The clients all come from 127.0.0.1: one client to the server.
	_, ts := testServer(t, s, func(c *Config) { c.ConcurrentEmbeds, c.MaxSessionsPerClient = 2, clients })
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for c, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess := uploadImage(t, ts.URL, map[string][]byte{"c.png": pngBytes(t, j.img)})
			var pr PredictResponse
			doJSON(t, "POST", ts.URL+"/api/sessions/"+sess.ID+"/predict", map[string]any{
				"points": []map[string]any{{"x": j.x, "y": j.y, "label": 1}}, "multimask": false,
			}, &pr)
			if n := countDiff(decodeDataURLMask(t, pr.Masks[0].PNG, j.img.Width, j.img.Height), j.want); n != 0 {
				errs <- pathf("client %d: mask differs from SAM's for its own picture in %d pixels", c, n)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestSAMAnswersEveryPromptShapeWithinTheLimits decodes prompts of every
// shape the server lets through (1 to MaxPoints clicks, with and without a
// box, and a box alone): each shape compiles a decoder graph, and GoMLX
// refuses new graphs past its cache size, so the limits must keep the
// shapes within it.
func TestSAMAnswersEveryPromptShapeWithinTheLimits(t *testing.T) {
	s, _ := tinySAM(t)
	srv, _ := testServer(t, s, nil)
	img, _ := shiftedScene(30, 20, 6)
	emb, err := s.Embed(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	box := &Box{X0: 10, Y0: 5, X1: 50, Y1: 40}
	try := func(p Prompt) {
		t.Helper()
		if err := p.Validate(img.Width, img.Height, srv.cfg.MaxPoints); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Segment(context.Background(), emb, img.Width, img.Height, p); err != nil {
			t.Fatalf("%d points, box %v: %v", len(p.Points), p.Box != nil, err)
		}
	}
	try(Prompt{Box: box})
	var pts []Point
	for n := 1; n <= srv.cfg.MaxPoints; n++ {
		pts = append(pts, Point{X: float64(10 + n), Y: float64(5 + n), Positive: n%3 != 0})
		try(Prompt{Points: pts})
		try(Prompt{Points: pts, Box: box, Multimask: true})
	}
}
