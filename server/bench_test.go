package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

// The benchmarks measure what a click costs once the embedding is cached:
// the model's decode alone (the baseline) and the whole HTTP round trip
// (render + hash of the slice, cache hit, decode, three PNG masks in JSON).
// Run them with
//
//	go test ./server -run '^$' -bench . -benchtime 20x
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
