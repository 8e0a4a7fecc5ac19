package train

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// cpuSeconds is the process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// benchRounds times b.N training rounds and reports wall and CPU time per
// step and samples per second.
func benchRounds(b *testing.B, e *executors, in roundInputs, batch int) {
	b.Helper()
	if _, err := e.trainRound(1e-4, in); err != nil { // compile and warm up
		b.Fatal(err)
	}
	b.ResetTimer()
	start, cpu := time.Now(), cpuSeconds()
	for range b.N {
		if _, err := e.trainRound(1e-4, in); err != nil {
			b.Fatal(err)
		}
	}
	wall := time.Since(start).Seconds() / float64(b.N)
	b.ReportMetric((cpuSeconds()-cpu)/float64(b.N)*1e3, "cpu-ms/op")
	b.ReportMetric(float64(batch)/wall, "samples/s")
}

// randomInputs are inputs of the right shapes for one round: a positive
// click at the centre and a random target.
func randomInputs(x *tensors.Tensor, batch, side, lossSide int) roundInputs {
	rng := rand.New(rand.NewPCG(1, 2))
	target := make([]float32, batch*lossSide*lossSide)
	for i := range target {
		if rng.IntN(2) == 0 {
			target[i] = 1
		}
	}
	pts := make([]float32, 0, 2*batch)
	lbl := make([]float32, batch)
	multi := make([]float32, batch)
	for i := range batch {
		pts = append(pts, float32(side/2), float32(side*3/8))
		lbl[i], multi[i] = 1, 1
	}
	return roundInputs{x: x,
		points:    tensors.FromFlatDataAndDimensions(pts, batch, 1, 2),
		labels:    tensors.FromFlatDataAndDimensions(lbl, batch, 1),
		target:    tensors.FromFlatDataAndDimensions(target, batch, lossSide, lossSide),
		multimask: tensors.FromFlatDataAndDimensions(multi, batch)}
}

// BenchmarkPaperDecoderStep is one training step of the paper recipe on a
// precomputed image embedding: vit_b prompt encoder and mask decoder
// forward, the recipe's loss (Dice on the low-resolution masks, SAM's
// multimask selection for one click, IoU-head MSE), backward and AdamW,
// batch 1, one click. The PyTorch baseline times the same step
// (scripts/bench-pytorch: decoder_train_step).
func BenchmarkPaperDecoderStep(b *testing.B) {
	cfg, err := Preset("paper")
	if err != nil {
		b.Fatal(err)
	}
	cfg.EncoderCheckpoint = ""
	samCfg, _ := cfg.SAM()
	m := &Model{Config: samCfg, Store: model.NewStore(), Encoder: model.NewStore()}
	e, err := newExecutors(testBackend(b), m, cfg)
	if err != nil {
		b.Fatal(err)
	}
	es := samCfg.EmbeddingSize()
	emb := make([]float32, samCfg.OutChans*es*es)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range emb {
		emb[i] = float32(rng.NormFloat64())
	}
	x := tensors.FromFlatDataAndDimensions(emb, 1, samCfg.OutChans, es, es)
	benchRounds(b, e, randomInputs(x, 1, samCfg.ImgSize, lossSize(cfg.Loss, samCfg)), 1)
}

// BenchmarkLiteTrainStep is one training round of the lite recipe: its
// encoder and decoder forward and backward on a batch of preprocessed
// 256² images with one click each, loss and AdamW. A training step is
// 1 + refine_rounds such rounds.
func BenchmarkLiteTrainStep(b *testing.B) {
	cfg, err := Preset("lite")
	if err != nil {
		b.Fatal(err)
	}
	benchPresetRound(b, cfg)
}

func benchPresetRound(b *testing.B, cfg Config) {
	samCfg, _ := cfg.SAM()
	m := &Model{Config: samCfg, Store: model.NewStore()}
	e, err := newExecutors(testBackend(b), m, cfg)
	if err != nil {
		b.Fatal(err)
	}
	s := samCfg.ImgSize
	img := make([]float32, cfg.BatchSize*3*s*s)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	x := tensors.FromFlatDataAndDimensions(img, cfg.BatchSize, 3, s, s)
	benchRounds(b, e, randomInputs(x, cfg.BatchSize, s, lossSize(cfg.Loss, samCfg)), cfg.BatchSize)
}
