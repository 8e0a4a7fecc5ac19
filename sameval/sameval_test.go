package sameval

import (
	"context"
	"image"
	"path/filepath"
	"slices"
	"testing"

	"github.com/synthfm/synthfm/internal/shareddata"
	"github.com/synthfm/synthfm/models"
	"github.com/synthfm/synthfm/promptable"
	"github.com/synthfm/synthfm/prompts"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/imageproc"
)

func TestPoints(t *testing.T) {
	got := Points([]prompts.Click{{X: 12, Y: 7, Positive: true}, {X: 3, Y: 40}}, image.Pt(2, 5))
	want := []promptable.Point{{X: 10, Y: 2, Positive: true}, {X: 1, Y: 35}}
	if !slices.Equal(got, want) {
		t.Errorf("Points = %v, want %v", got, want)
	}
}

// TestSegmentMatchesPredictor checks the adapter against the predictor run
// directly on the same RGB image and prompt, with the slice's bounds not at
// the origin, for one click (SAM's multimask choice) and for several
// (the single-mask output).
func TestSegmentMatchesPredictor(t *testing.T) {
	dir := shareddata.Path(t, "fixtures", "sam-tiny-a")
	ctx := context.Background()
	m, err := models.Load(ctx, models.Spec{
		Model:  filepath.Join(dir, "sam_tiny-a.safetensors"),
		Config: filepath.Join(dir, "config_tiny-a.json"),
	})
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 90, 70
	gray := image.NewGray(image.Rect(5, 9, 5+w, 9+h))
	for y := range h {
		for x := range w {
			v := 40 + 2*x
			if (x-50)*(x-50)+(y-30)*(y-30) < 300 {
				v = 230 - y
			}
			gray.Pix[y*gray.Stride+x] = uint8(v)
		}
	}
	model := New(m.Segmenter, "tiny")
	if model.Name() != "tiny" {
		t.Errorf("Name = %q", model.Name())
	}
	prep, err := model.Prepare(ctx, gray)
	if err != nil {
		t.Fatal(err)
	}
	emb, err := m.SAM.Encode(ctx, imageproc.FromImage(gray))
	if err != nil {
		t.Fatal(err)
	}
	for _, clicks := range [][]prompts.Click{
		{{X: 55, Y: 39, Positive: true}},
		{{X: 55, Y: 39, Positive: true}, {X: 60, Y: 45, Positive: true}, {X: 10, Y: 70}},
	} {
		got, err := prep.Segment(ctx, clicks)
		if err != nil {
			t.Fatal(err)
		}
		if got.Bounds() != gray.Bounds() {
			t.Fatalf("mask bounds %v, image bounds %v", got.Bounds(), gray.Bounds())
		}
		pred, err := m.SAM.Predict(ctx, emb, func() sam.Prompt {
			sp := models.SAMPrompt(promptable.Prompt{Points: Points(clicks, gray.Rect.Min)})
			sp.Output = sam.OutputAuto
			return sp
		}())
		if err != nil {
			t.Fatal(err)
		}
		if want := pred.Binary(pred.Best); !slices.Equal(got.Pix, want.Pix) {
			t.Errorf("%d clicks: adapter mask differs from the predictor's", len(clicks))
		}
		if len(clicks) == 1 && pred.Tokens[pred.Best] == 0 {
			t.Errorf("one click chose the single-mask token")
		}
		if len(clicks) > 1 && pred.Tokens[pred.Best] != 0 {
			t.Errorf("%d clicks chose token %d, want the single-mask token 0", len(clicks), pred.Tokens[pred.Best])
		}
	}
	if _, err := prep.Segment(ctx, nil); err == nil {
		t.Error("no clicks accepted")
	}
}
