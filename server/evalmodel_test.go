package server

import (
	"context"
	"image"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/prompts"

	"github.com/synthfm/synthfm/models"
)

// TestServesTheEvaluationBaseline clicks through the JSON API with the
// region-growing baseline and compares with the baseline run directly on
// the grey picture.
func TestServesTheEvaluationBaseline(t *testing.T) {
	_, ts := testServer(t, models.NewEvalModel(baseline.NewRegionGrow(), "region growing"), nil)
	img, disc, _ := sceneImage()
	s := uploadImage(t, ts.URL, map[string][]byte{"scene.png": pngBytes(t, img)})
	var pr PredictResponse
	doJSON(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", map[string]any{
		"points": []map[string]any{{"x": 30, "y": 40, "label": 1}, {"x": 70, "y": 30, "label": 0}},
	}, &pr)
	if len(pr.Masks) != 1 {
		t.Fatalf("%d masks", len(pr.Masks))
	}
	got := decodeDataURLMask(t, pr.Masks[0].PNG, img.Width, img.Height)

	g := image.NewGray(image.Rect(0, 0, img.Width, img.Height))
	for i := range g.Pix {
		g.Pix[i] = img.Pix[3*i]
	}
	prep, err := baseline.NewRegionGrow().Prepare(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	want, err := prep.Segment(context.Background(), []prompts.Click{{X: 30, Y: 40, Positive: true}, {X: 70, Y: 30}})
	if err != nil {
		t.Fatal(err)
	}
	diff := 0
	for i, v := range want.Pix {
		if (v != 0) != (got[i] == 1) {
			diff++
		}
	}
	if diff != 0 {
		t.Errorf("served mask differs from the baseline's in %d pixels", diff)
	}
	// A sanity check against the picture: the baseline finds the disc.
	if n := countDiff(got, disc); n > countOnes(disc)/10 {
		t.Errorf("baseline mask differs from the disc in %d of %d pixels", n, countOnes(disc))
	}
	for body, msg := range map[string]string{
		`{"box":[10,10,50,50]}`:                "no box",
		`{"points":[{"x":5,"y":5,"label":0}]}`: "at least one click on the object",
	} {
		status, b := do(t, "POST", ts.URL+"/api/sessions/"+s.ID+"/predict", "application/json", []byte(body))
		if status != 400 || !strings.Contains(errorMessage(b), msg) {
			t.Errorf("%s: %d %s", body, status, b)
		}
	}
}
