package sam

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// The benchmarks run the vit_b architecture with random weights (timing does
// not depend on the values): the encoder on one 1024² image and the prompt
// encoder + mask decoder for one click on a cached embedding. Run them with
//
//	go test ./sam -run '^$' -bench . -benchtime 5x
//
// (see docs/benchmarks.md, section "SAM model", for results and the build
// settings compared).

// benchModel returns a vit_b store with random weights.
func benchModel(b *testing.B, backend compute.Backend) (Config, *model.Store) {
	b.Helper()
	cfg, err := PresetConfig("vit_b")
	if err != nil {
		b.Fatal(err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(1); err != nil {
		b.Fatal(err)
	}
	if err := InitializeVariables(backend, store.RootScope(), cfg); err != nil {
		b.Fatal(err)
	}
	return cfg, store
}

func BenchmarkEncoderViTB(b *testing.B) {
	backend := newBackend(b)
	cfg, store := benchModel(b, backend)
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *Node) *Node {
		return ImageEncoder(scope, cfg, x)
	})
	if err != nil {
		b.Fatal(err)
	}
	x := randomTensor[float32](rand.New(rand.NewPCG(1, 1)), 1, 3, cfg.ImgSize, cfg.ImgSize)
	if _, err := exec.Exec(x); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start)
	for b.Loop() {
		out, err := exec.Exec(x)
		if err != nil {
			b.Fatal(err)
		}
		out[0].FinalizeAll()
	}
}

// BenchmarkDecoderClickViTB is one click on a cached embedding through the
// Predictor: prompt encoder, mask decoder, SAM's selection (one mask) and
// the upsampling of its logits to a 1024×768 original image.
func BenchmarkDecoderClickViTB(b *testing.B) {
	benchClick(b, OutputAuto)
}

// BenchmarkDecoderClickMultimaskViTB returns all three multimask outputs.
func BenchmarkDecoderClickMultimaskViTB(b *testing.B) {
	benchClick(b, OutputMultimask)
}

// BenchmarkDecoderGraphViTB is the prompt encoder and mask decoder alone
// (all four mask tokens, no selection or upsampling), one click, the same
// work as the PyTorch baseline's decoder_per_prompt.
func BenchmarkDecoderGraphViTB(b *testing.B) {
	backend := newBackend(b)
	cfg, store := benchModel(b, backend)
	rng := rand.New(rand.NewPCG(2, 2))
	e := cfg.EmbeddingSize()
	emb := randomTensor[float32](rng, 1, e, e, cfg.OutChans)
	pe, err := model.ExecOnce(backend, store, func(scope *model.Scope, g *Graph) *Node {
		return nchwToNHWC(DensePositionalEncoding(scope, cfg, g))
	})
	if err != nil {
		b.Fatal(err)
	}
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, emb, pe, pts, labels *Node) []*Node {
		sparse, dense := promptEncoderNHWC(scope, cfg, pts, labels, nil, nil)
		st := maskDecoderNHWC(scope, cfg, emb, pe, sparse, dense)
		return []*Node{st.masks, st.iou}
	})
	if err != nil {
		b.Fatal(err)
	}
	pts := tensors.FromFlatDataAndDimensions([]float32{512, 384}, 1, 1, 2)
	labels := tensors.FromFlatDataAndDimensions([]float32{1}, 1, 1)
	if _, err := exec.Exec(emb, pe, pts, labels); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start)
	for b.Loop() {
		out, err := exec.Exec(emb, pe, pts, labels)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range out {
			o.FinalizeAll()
		}
	}
}

func benchClick(b *testing.B, mode OutputMode) {
	backend := newBackend(b)
	cfg, store := benchModel(b, backend)
	p, err := NewPredictor(backend, store, cfg, PredictorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	e := cfg.EmbeddingSize()
	geom, err := imageproc.NewGeometry(768, 1024, cfg.ImgSize)
	if err != nil {
		b.Fatal(err)
	}
	emb, err := p.NewEmbedding(tensors.MustCopyFlatData[float32](randomTensor[float32](rng, cfg.OutChans*e*e)), geom)
	if err != nil {
		b.Fatal(err)
	}
	prompt := Prompt{Points: []Point{{X: 400, Y: 300, Label: LabelPositive}}, Output: mode}
	ctx := context.Background()
	if _, err := p.Predict(ctx, emb, prompt); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start)
	for b.Loop() {
		if _, err := p.Predict(ctx, emb, prompt); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU time per iteration as a metric "cpu-ms/op": on a
// shared machine it varies less than wall time (the ratio cpu/wall shows
// how well the 2 cores were used).
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// BenchmarkDecoderTrainStepViTB is the trainer's inner work at SAM size:
// prompt encoder and mask decoder forward and backward (gradients of a loss
// on all mask logits and IoUs with respect to every decoder parameter), for
// a batch of 1 or 4 one-click prompts on cached embeddings.
func BenchmarkDecoderTrainStepViTB(b *testing.B) {
	for _, batch := range []int{1, 4} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchTrainStep(b, batch) })
	}
}

func benchTrainStep(b *testing.B, batch int) {
	backend := newBackend(b)
	cfg, store := benchModel(b, backend)
	rng := rand.New(rand.NewPCG(3, 3))
	e, l, m := cfg.EmbeddingSize(), cfg.LowResSize(), cfg.NumMaskTokens()
	emb := randomTensor[float32](rng, batch, cfg.OutChans, e, e)
	clicks := make([]float32, 2*batch)
	labelValues := make([]float32, batch)
	for i := range batch {
		clicks[2*i], clicks[2*i+1], labelValues[i] = float32(100+200*i), float32(300+100*i), 1
	}
	pts := tensors.FromFlatDataAndDimensions(clicks, batch, 1, 2)
	labels := tensors.FromFlatDataAndDimensions(labelValues, batch, 1)
	target := randomTensor[float32](rng, batch, m, l, l)
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, emb, pts, labels, target *Node) []*Node {
		sparse, dense := PromptEncoder(scope, cfg, pts, labels, nil, nil)
		pe := DensePositionalEncoding(scope, cfg, emb.Graph())
		masks, iou := MaskDecoder(scope, cfg, emb, pe, sparse, dense)
		loss := Add(ReduceAllMean(Square(Sub(masks, target))), ReduceAllMean(Square(iou)))
		var vars []*Node
		for _, s := range ParamSpecs(cfg) {
			if !strings.HasPrefix(s.Name, ComponentImageEncoder+".") {
				vars = append(vars, store.GetVariable(VariablePath(scope, s.Name)).NodeValue(emb.Graph()))
			}
		}
		return append([]*Node{loss}, Gradient(loss, vars...)...)
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := exec.Exec(emb, pts, labels, target); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start)
	for b.Loop() {
		out, err := exec.Exec(emb, pts, labels, target)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range out {
			o.FinalizeAll()
		}
	}
}
