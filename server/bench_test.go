package server

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/internal/mlbackend"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/imageproc"

	"github.com/synthfm/synthfm/models"
)

// The benchmarks measure what a click costs once the embedding is cached:
// the model's decode alone (the baseline) and the whole HTTP round trip
// (render + hash of the slice, cache hit, decode, three PNG masks in JSON).
// Run them with
//
//	go test ./server -run '^$' -bench 'FloodFill|SAMViTBClick' -benchtime 10x
//
// (docs/benchmarks.md, section "Interactive server").

// bigScene is a 512×512 picture with a disc of radius 100.
func bigScene() Image {
	const n = 512
	img := Image{Width: n, Height: n, Pix: make([]uint8, 3*n*n)}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			v := uint8(40 + (x+y)%7)
			if (x-256)*(x-256)+(y-256)*(y-256) <= 100*100 {
				v = 200
			}
			img.Pix[3*(y*n+x)], img.Pix[3*(y*n+x)+1], img.Pix[3*(y*n+x)+2] = v, v, v
		}
	}
	return img
}

// clicker returns a func that clicks at (256, 256) through the predict
// route and checks that the answer has wantMasks masks and took at most
// maxEmbedMS to find the embedding.
func clicker(b *testing.B, url string, wantMasks int, maxEmbedMS float64) func() {
	body, _ := json.Marshal(map[string]any{"points": []map[string]any{{"x": 256, "y": 256, "label": 1}}, "multimask": true})
	return func() {
		resp, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var pr PredictResponse
		err = json.NewDecoder(resp.Body).Decode(&pr)
		resp.Body.Close()
		if err != nil || len(pr.Masks) != wantMasks || pr.EmbedMS > maxEmbedMS {
			b.Fatalf("predict: %v, %d masks, embedding took %g ms", err, len(pr.Masks), pr.EmbedMS)
		}
	}
}

func benchClick(b *testing.B, model Segmenter, img Image) {
	_, ts := testServer(b, model, nil)
	s := uploadImage(b, ts.URL, map[string][]byte{"scene.png": pngBytes(b, img)})
	post := clicker(b, ts.URL+"/api/sessions/"+s.ID+"/predict", model.Info().Multimask, math.Inf(1))
	post() // computes the embedding
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		post()
	}
}

func benchDecode(b *testing.B, model Segmenter, img Image) {
	ctx := context.Background()
	emb, err := model.Embed(ctx, img)
	if err != nil {
		b.Fatal(err)
	}
	p := Prompt{Points: []Point{{X: 256, Y: 256, Positive: true}}, Multimask: true}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := model.Segment(ctx, emb, img.Width, img.Height, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFloodFillDecode512(b *testing.B) { benchDecode(b, baseline.NewFloodFill(), bigScene()) }
func BenchmarkFloodFillClickHTTP512(b *testing.B) {
	benchClick(b, baseline.NewFloodFill(), bigScene())
}

// randomSAM returns a SAM of a preset architecture with seeded random
// weights: timings do not depend on the values.
func randomSAM(b *testing.B, preset string) *models.SAM {
	cfg, err := sam.PresetConfig(preset)
	if err != nil {
		b.Fatal(err)
	}
	backend, err := mlbackend.New()
	if err != nil {
		b.Fatal(err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(1); err != nil {
		b.Fatal(err)
	}
	if err := sam.InitializeVariables(backend, store.RootScope(), cfg); err != nil {
		b.Fatal(err)
	}
	p, err := sam.NewPredictor(backend, store, cfg, sam.PredictorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return models.NewSAM(p)
}

// BenchmarkSAMViTBClick is a click on a 512×512 slice with SAM ViT-B once
// the embedding is cached: "decode" is the model alone (the baseline),
// "http" the whole round trip. The decoder's one-off compilation (first
// click) is logged. The embedding is random values put in the cache (a
// ViT-B encoding takes minutes on 2 cores; decode time does not depend on
// the values); BenchmarkSAMViTBEmbed times the encoder.
func BenchmarkSAMViTBClick(b *testing.B) {
	s := randomSAM(b, "vit_b")
	srv, ts := testServer(b, s, nil)
	img := bigScene()
	sess := uploadImage(b, ts.URL, map[string][]byte{"scene.png": pngBytes(b, img)})
	cfg := s.Predictor().Config()
	e := cfg.EmbeddingSize()
	vals := make([]float32, cfg.OutChans*e*e)
	for i := range vals {
		vals[i] = float32(math.Sin(float64(i)))
	}
	geom, err := imageproc.NewGeometry(img.Height, img.Width, cfg.ImgSize)
	if err != nil {
		b.Fatal(err)
	}
	pe, err := s.Predictor().NewEmbedding(vals, geom)
	if err != nil {
		b.Fatal(err)
	}
	emb := models.WrapSAMEmbedding(pe)
	session, err := srv.sessions.get(sess.ID)
	if err != nil {
		b.Fatal(err)
	}
	rendered, err := session.render(0, session.Window)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := srv.cache.get(ctx, ctx, srv.embedKey(rendered), func(context.Context) (Embedding, error) { return emb, nil }); err != nil {
		b.Fatal(err)
	}
	click := clicker(b, ts.URL+"/api/sessions/"+sess.ID+"/predict", 3, 100)
	start := time.Now()
	click()
	b.Logf("first click (compiles the decoder for one point): %v", time.Since(start).Round(time.Millisecond))
	p := Prompt{Points: []Point{{X: 256, Y: 256, Positive: true}}, Multimask: true}
	b.Run("decode", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Segment(ctx, emb, img.Width, img.Height, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("http", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			click()
		}
	})
}

// BenchmarkSAMViTBEmbed times the ViT-B encoding of a 512×512 slice (the
// wait the page shows progress for). Minutes per op on 2 cores.
func BenchmarkSAMViTBEmbed(b *testing.B) {
	s := randomSAM(b, "vit_b")
	img := bigScene()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Embed(context.Background(), img); err != nil {
			b.Fatal(err)
		}
	}
}
