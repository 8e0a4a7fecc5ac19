package server

import (
	"context"
	"testing"

	"github.com/synthfm/synthfm/models"
)

// builtinModel loads the built-in model, skipping in a build without one.
func builtinModel(b *testing.B) Segmenter {
	m, err := models.Load(context.Background(), models.Spec{Model: models.Default})
	if err != nil {
		b.Skipf("built-in model: %v", err)
	}
	return m.Segmenter
}

// BenchmarkBuiltinDecode512 is one click on a 512² slice with the built-in
// clicknet model, once the image is prepared: the whole network runs per
// click (early fusion), so this is the model's click latency.
func BenchmarkBuiltinDecode512(b *testing.B) { benchDecode(b, builtinModel(b), bigScene()) }

// BenchmarkBuiltinClickHTTP512 is the same click through the JSON API.
func BenchmarkBuiltinClickHTTP512(b *testing.B) { benchClick(b, builtinModel(b), bigScene()) }
