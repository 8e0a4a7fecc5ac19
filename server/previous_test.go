package server

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/models"
	"github.com/synthfm/synthfm/promptable"
)

// TestPredictRefinesThePreviousMask: a predict request's "previous" mask
// reaches the model. Through the API with the built-in clicknet (which
// takes the previous mask as an input channel) the answer equals the model
// run directly with the same clicks and previous mask; bad previous masks
// are refused with 400.
func TestPredictRefinesThePreviousMask(t *testing.T) {
	m, err := models.Load(context.Background(), models.Spec{Model: models.Default})
	if err != nil {
		t.Skipf("built-in model: %v", err)
	}
	_, ts := testServer(t, m.Segmenter, nil)
	img, _, _ := sceneImage()
	sess := uploadImage(t, ts.URL, map[string][]byte{"scene.png": pngBytes(t, img)})
	url := ts.URL + "/api/sessions/" + sess.ID + "/predict"
	var first PredictResponse
	doJSON(t, "POST", url, map[string]any{"points": []map[string]any{{"x": 30, "y": 40, "label": 1}}}, &first)
	prev := first.Masks[first.Best].PNG
	points := []map[string]any{{"x": 30, "y": 40, "label": 1}, {"x": 70, "y": 30, "label": 0}}
	var refined PredictResponse
	doJSON(t, "POST", url, map[string]any{"points": points, "previous": prev}, &refined)
	got := decodeDataURLMask(t, refined.Masks[refined.Best].PNG, img.Width, img.Height)

	ctx := context.Background()
	emb, err := m.Segmenter.Embed(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	want, err := promptable.SegmentOne(ctx, m.Segmenter, emb, img.Width, img.Height, promptable.Prompt{
		Points:   []promptable.Point{{X: 30, Y: 40, Positive: true}, {X: 70, Y: 30}},
		Previous: decodeDataURLMask(t, prev, img.Width, img.Height),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want.Pix) {
		t.Error("the served refinement differs from the model run with the same previous mask")
	}
	for name, body := range map[string]string{
		"not a data URL": `"previous": "mask.png"`,
		"not base64":     `"previous": "data:image/png;base64,@@@"`,
		"wrong size":     `"previous": "` + smallMaskURL(t) + `"`,
	} {
		status, b := do(t, "POST", url, "application/json", []byte(`{"points":[{"x":30,"y":40,"label":1}],`+body+`}`))
		if status != 400 || !strings.Contains(errorMessage(b), "mask") {
			t.Errorf("%s: %d %s", name, status, b)
		}
	}
}

// smallMaskURL is a valid mask data URL of the wrong size (4×4).
func smallMaskURL(t *testing.T) string {
	t.Helper()
	u, err := maskDataURL(Mask{Width: 4, Height: 4, Pix: make([]uint8, 16)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(u)
	return strings.Trim(string(b), `"`)
}
