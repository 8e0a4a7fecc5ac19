package server

import (
	"bytes"
	"image/png"
	"net/http"
	"sync"

	"github.com/synthfm/synthfm/synth"
)

// The page's "Try an example" opens this picture, so that a first visitor
// can click at once without a file of their own: sample 2 of seed 1 of the
// generator's shape-only preset at 256 px (bright shapes on a dark, noisy
// canvas), made on the first request and kept.
const (
	examplePreset = "shape-only"
	exampleSize   = 256
	exampleSeed   = 1
	exampleIndex  = 2
)

var example struct {
	once sync.Once
	png  []byte
	err  error
}

// examplePNG returns the example picture as PNG bytes.
func examplePNG() ([]byte, error) {
	example.once.Do(func() {
		cfg, err := synth.Resolve(examplePreset, "", func(c *synth.Config) { c.Size = exampleSize })
		if err != nil {
			example.err = err
			return
		}
		g, err := synth.NewGenerator(cfg)
		if err != nil {
			example.err = err
			return
		}
		s, err := g.Sample(exampleSeed, exampleIndex)
		if err != nil {
			example.err = err
			return
		}
		var buf bytes.Buffer
		if example.err = png.Encode(&buf, s.Image); example.err == nil {
			example.png = buf.Bytes()
		}
	})
	return example.png, example.err
}

// handleExample answers GET /api/example with the example picture.
func (s *Server) handleExample(w http.ResponseWriter, r *http.Request) {
	data, err := examplePNG()
	if err != nil {
		s.writeError(w, r, errorf(http.StatusInternalServerError, "example picture: %v", err))
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(data)
}
