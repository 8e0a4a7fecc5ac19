package sam

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/synthfm/synthfm/sam/imageproc"
)

// fixtureImage returns the fixture's original test image.
func (f fixture) image(t testing.TB) *imageproc.Image {
	t.Helper()
	a := f.npy(t, "image_orig.npy")
	pix := make([]uint8, len(a.data))
	for i, v := range a.data {
		pix[i] = uint8(v)
	}
	img, err := imageproc.NewImageFromPix(a.shape[0], a.shape[1], pix)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// casePrompt rebuilds a fixture case's prompt in original-image pixels.
func (f fixture) casePrompt(t testing.TB, k int, out OutputMode) Prompt {
	t.Helper()
	pre := fmt.Sprintf("case%d_", k)
	p := Prompt{Output: out}
	if f.has(pre + "point_coords_orig.npy") {
		pts := f.npy(t, pre+"point_coords_orig.npy").data
		labels := f.npy(t, pre+"point_labels.npy").data
		for i, l := range labels {
			p.Points = append(p.Points, Point{X: float64(pts[2*i]), Y: float64(pts[2*i+1]), Label: int(l)})
		}
	}
	if f.has(pre + "box_orig.npy") {
		b := f.npy(t, pre+"box_orig.npy").data
		p.Box = &[4]float64{float64(b[0]), float64(b[1]), float64(b[2]), float64(b[3])}
	}
	if f.has(pre + "mask_input.npy") {
		p.MaskInput = f.npy(t, pre+"mask_input.npy").data
	}
	return p
}

func (f fixture) predictor(t testing.TB) *Predictor {
	t.Helper()
	p, err := LoadPredictor(context.Background(), newBackend(t), filepath.Join(f.dir, "sam_"+f.name+".pth"), f.cfg, PredictorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPredictorParity is the end-to-end check: the original image and the
// clicks in original pixels go through Predictor (imageproc's resize and
// normalisation, the encoder, prompt coordinates, decoder, selection and
// postprocessing) and must reproduce SamPredictor's outputs.
func TestPredictorParity(t *testing.T) {
	for _, name := range []string{"tiny-a", "tiny-pad"} {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			p := f.predictor(t)
			ctx := context.Background()
			emb, err := p.Encode(ctx, f.image(t))
			if err != nil {
				t.Fatal(err)
			}
			data, err := emb.Data()
			if err != nil {
				t.Fatal(err)
			}
			e := f.cfg.EmbeddingSize()
			assertClose(t, "image_embedding", data, []int{1, f.cfg.OutChans, e, e}, f.npy(t, "image_embedding.npy"), parityTol)
			for k := 1; k <= 4; k++ {
				for _, mode := range []OutputMode{OutputMultimask, OutputSingle} {
					kind := map[OutputMode]string{OutputMultimask: "multi_", OutputSingle: "single_"}[mode]
					pre := fmt.Sprintf("case%d_%s", k, kind)
					pr, err := p.Predict(ctx, emb, f.casePrompt(t, k, mode))
					if err != nil {
						t.Fatal(err)
					}
					want := f.npy(t, pre+"masks_logits.npy")
					assertClose(t, pre+"masks_logits", pr.Masks.Data, []int{pr.Masks.N, pr.Masks.H, pr.Masks.W}, want, parityTol)
					assertClose(t, pre+"low_res_logits", pr.LowRes.Data, []int{pr.LowRes.N, pr.LowRes.H, pr.LowRes.W}, f.npy(t, pre+"low_res_logits.npy"), parityTol)
					assertClose(t, pre+"iou_predictions", pr.IoU, []int{len(pr.IoU)}, f.npy(t, pre+"iou_predictions.npy"), parityTol)
					// Binary masks: identical except where |logit| < 1e-3.
					for i := range pr.Masks.N {
						bin := pr.Binary(i)
						for j, w := range want.data[i*pr.Masks.H*pr.Masks.W : (i+1)*pr.Masks.H*pr.Masks.W] {
							if (bin.Pix[j] == 255) != (w > 0) && math.Abs(float64(w)) >= 1e-3 {
								t.Fatalf("%s: binary mask %d differs at pixel %d (official logit %g)", pre, i, j, w)
							}
						}
					}
				}
				// Auto mode returns the token of SAM's rule.
				pr, err := p.Predict(ctx, emb, f.casePrompt(t, k, OutputAuto))
				if err != nil {
					t.Fatal(err)
				}
				if want := BestMask(pr.AllIoU, map[int]int{1: 2, 2: 6, 3: 3, 4: 2}[k]); len(pr.Tokens) != 1 || pr.Tokens[0] != want {
					t.Errorf("case %d: auto mode returned tokens %v, want [%d]", k, pr.Tokens, want)
				}
			}
		})
	}
}

// TestPredictorConcurrent decodes from several goroutines at once (run it
// with -race): results must equal the sequential ones.
func TestPredictorConcurrent(t *testing.T) {
	f := loadFixture(t, "tiny-pad")
	p := f.predictor(t)
	ctx := context.Background()
	emb, err := p.Encode(ctx, f.image(t))
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]float32, 4)
	for k := 1; k <= 4; k++ {
		pr, err := p.Predict(ctx, emb, f.casePrompt(t, k, OutputMultimask))
		if err != nil {
			t.Fatal(err)
		}
		want[k-1] = pr.Masks.Data
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := g%4 + 1
			if g%4 == 0 { // encoders run concurrently with decoders too
				if _, err := p.Encode(ctx, f.image(t)); err != nil {
					errs <- err
					return
				}
			}
			pr, err := p.Predict(ctx, emb, f.casePrompt(t, k, OutputMultimask))
			if err != nil {
				errs <- err
				return
			}
			for i, v := range pr.Masks.Data {
				if v != want[k-1][i] {
					errs <- fmt.Errorf("case %d: concurrent result differs at %d", k, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPredictorErrors(t *testing.T) {
	f := loadFixture(t, "tiny-a")
	p := f.predictor(t)
	ctx := context.Background()
	emb, err := p.Encode(ctx, f.image(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prompt Prompt
		want   string
	}{
		{Prompt{}, "empty prompt"},
		{Prompt{Points: []Point{{X: 500, Y: 10, Label: 1}}}, "outside"},
		{Prompt{Points: []Point{{X: 5, Y: 10, Label: 7}}}, "label 7"},
		{Prompt{Box: &[4]float64{0, 0, 1000, 10}}, "outside"},
		{Prompt{Points: []Point{{X: 5, Y: 10, Label: 1}}, MaskInput: make([]float32, 10)}, "low-resolution"},
		{Prompt{Points: []Point{{X: 5, Y: 10, Label: 1}}, Output: 9}, "output mode"},
	} {
		_, err := p.Predict(ctx, emb, tc.prompt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Predict(%+v): error %v, want one containing %q", tc.prompt, err, tc.want)
		}
	}
	if _, err := p.EncodeInput(ctx, make([]float32, 5), emb.Geometry); err == nil {
		t.Error("EncodeInput with a wrong input size must fail")
	}
	if _, err := LoadPredictor(ctx, newBackend(t), filepath.Join(loadFixture(t, "tiny-pad").dir, "sam_tiny-pad.pth"), f.cfg, PredictorOptions{}); err == nil ||
		!strings.Contains(err.Error(), "do not fit the SAM tiny-a model") {
		t.Errorf("loading tiny-pad weights as tiny-a: error %v", err)
	}
	// A cached embedding round-trips.
	data, err := emb.Data()
	if err != nil {
		t.Fatal(err)
	}
	emb2, err := p.NewEmbedding(data, emb.Geometry)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Predict(ctx, emb, f.casePrompt(t, 2, OutputSingle))
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Predict(ctx, emb2, f.casePrompt(t, 2, OutputSingle))
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Masks.Data {
		if a.Masks.Data[i] != b.Masks.Data[i] {
			t.Fatal("prediction from a re-wrapped embedding differs")
		}
	}
}

// TestPredictorPromptPoints checks that a config's PromptPoints pads a click
// prompt exactly as padding points given by hand do.
func TestPredictorPromptPoints(t *testing.T) {
	f := loadFixture(t, "tiny-a")
	ctx := context.Background()
	plain := f.predictor(t)
	cfg := f.cfg
	cfg.PromptPoints = 5
	padded, err := LoadPredictor(ctx, newBackend(t), filepath.Join(f.dir, "sam_"+f.name+".pth"), cfg, PredictorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img := f.image(t)
	prompt := Prompt{Points: []Point{{X: 20, Y: 30, Label: LabelPositive}, {X: 40, Y: 10, Label: LabelNegative}}, Output: OutputMultimask}
	byHand := prompt
	byHand.Points = append(append([]Point{}, prompt.Points...), Point{Label: LabelPadding}, Point{Label: LabelPadding}, Point{Label: LabelPadding})
	predict := func(p *Predictor, pr Prompt) []float32 {
		emb, err := p.Encode(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Predict(ctx, emb, pr)
		if err != nil {
			t.Fatal(err)
		}
		return out.Masks.Data
	}
	got, want, unpadded := predict(padded, prompt), predict(plain, byHand), predict(plain, prompt)
	differs := false
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("mask value %d: %g with prompt_points 5, %g with padding points by hand", i, got[i], want[i])
		}
		differs = differs || got[i] != unpadded[i]
	}
	if !differs {
		t.Error("padding changed nothing: the test cannot tell padded from unpadded prompts")
	}
}
