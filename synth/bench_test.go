package synth

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkGenerate reports images/s per preset and size on all cores,
// through the stream (the trainer's path).
func BenchmarkGenerate(b *testing.B) {
	for _, preset := range PresetNames() {
		for _, size := range []int{256, 1024} {
			b.Run(fmt.Sprintf("%s/%d", preset, size), func(b *testing.B) {
				cfg, err := Preset(preset)
				if err != nil {
					b.Fatal(err)
				}
				cfg.Size = size
				g, err := NewGenerator(cfg)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				b.ResetTimer()
				for _, err := range g.Stream(context.Background(), 1, 0, runtime.GOMAXPROCS(0)) {
					if err != nil {
						b.Fatal(err)
					}
					if n++; n >= b.N {
						break
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
			})
		}
	}
}

// BenchmarkSample is one sample at a time on one goroutine, for profiles.
func BenchmarkSample(b *testing.B) {
	for _, preset := range PresetNames() {
		for _, size := range []int{256, 1024} {
			b.Run(fmt.Sprintf("%s/%d", preset, size), func(b *testing.B) {
				cfg, _ := Preset(preset)
				cfg.Size = size
				g, err := NewGenerator(cfg)
				if err != nil {
					b.Fatal(err)
				}
				i := 0
				for b.Loop() {
					if _, err := g.Sample(1, i); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}
