package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/internal/mlbackend"
	"github.com/synthfm/synthfm/sam"
)

// The benchmarks measure what a click costs once the embedding is cached:
// the model's decode alone (the baseline) and the whole HTTP round trip
// (render + hash of the slice, cache hit, decode, three PNG masks in JSON).
// Run them with
//
//	go test ./server -run '^$' -bench . -benchtime 10x
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

func benchClick(b *testing.B, model Segmenter, img Image) {
	_, ts := testServer(b, model, nil)
	s := uploadImage(b, ts.URL, map[string][]byte{"scene.png": pngBytes(b, img)})
	body, _ := json.Marshal(map[string]any{"points": []map[string]any{{"x": 256, "y": 256, "label": 1}}, "multimask": true})
	url := ts.URL + "/api/sessions/" + s.ID + "/predict"
	post := func() {
		resp, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var pr PredictResponse
		err = json.NewDecoder(resp.Body).Decode(&pr)
		resp.Body.Close()
		if err != nil || len(pr.Masks) != model.Info().Multimask {
			b.Fatalf("predict: %v, %d masks", err, len(pr.Masks))
		}
	}
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

func BenchmarkFloodFillDecode512(b *testing.B) { benchDecode(b, NewFloodFill(), bigScene()) }
func BenchmarkFloodFillClickHTTP512(b *testing.B) {
	benchClick(b, NewFloodFill(), bigScene())
}

// randomSAM returns a SAM of a preset architecture with seeded random
// weights: timings do not depend on the values.
func randomSAM(b *testing.B, preset string) *SAM {
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
	return NewSAM(p)
}

// BenchmarkSAMViTBClick is a click on a 512×512 slice with SAM ViT-B once
// the embedding is cached: "decode" is the model alone (the baseline),
// "http" the whole round trip. The one-off costs (encoding, the decoder's
// first compilation) are logged.
func BenchmarkSAMViTBClick(b *testing.B) {
	s := randomSAM(b, "vit_b")
	srv, ts := testServer(b, s, func(c *Config) { c.EmbedTimeout = 30 * time.Minute })
	img := bigScene()
	sess := uploadImage(b, ts.URL, map[string][]byte{"scene.png": pngBytes(b, img)})
	start := time.Now()
	doJSON(b, "POST", ts.URL+"/api/sessions/"+sess.ID+"/embed", map[string]any{"slice": 0}, nil)
	b.Logf("ViT-B embedding of a 512x512 slice: %v", time.Since(start).Round(time.Millisecond))
	body, _ := json.Marshal(map[string]any{"points": []map[string]any{{"x": 256, "y": 256, "label": 1}}, "multimask": true})
	url := ts.URL + "/api/sessions/" + sess.ID + "/predict"
	click := func() {
		resp, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var pr PredictResponse
		err = json.NewDecoder(resp.Body).Decode(&pr)
		resp.Body.Close()
		if err != nil || len(pr.Masks) != 3 {
			b.Fatalf("predict: %v, %d masks", err, len(pr.Masks))
		}
	}
	start = time.Now()
	click()
	b.Logf("first click (compiles the decoder for one point): %v", time.Since(start).Round(time.Millisecond))
	session, err := srv.sessions.get(sess.ID)
	if err != nil {
		b.Fatal(err)
	}
	emb, _, err := srv.embedding(context.Background(), session, 0, session.Window)
	if err != nil {
		b.Fatal(err)
	}
	p := Prompt{Points: []Point{{X: 256, Y: 256, Positive: true}}, Multimask: true}
	b.Run("decode", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Segment(context.Background(), emb, img.Width, img.Height, p); err != nil {
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
