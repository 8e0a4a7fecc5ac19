package train

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/synthfm/synthfm/prompts"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/synth"
)

// dataSource makes the training examples of a recipe: synthetic samples at
// the model's input size, with their clicks. Example i is a pure function of
// (recipe, seed, i), so a resumed run sees exactly the stream it would have.
type dataSource struct {
	gen       *synth.Generator
	seed      uint64
	lowRes    int
	sampler   prompts.Sampler
	workers   int
	batchSize int
}

func newDataSource(cfg Config, samCfg sam.Config) (*dataSource, error) {
	sc, err := synth.Preset(cfg.Data.SynthPreset)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if cfg.Data.SynthConfig != "" {
		if sc, err = synth.LoadConfig(cfg.Data.SynthConfig, sc); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
	}
	sc.Size = samCfg.ImgSize
	gen, err := synth.NewGenerator(sc)
	if err != nil {
		return nil, fmt.Errorf("data: synthetic generator: %w", err)
	}
	workers := cfg.Data.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := cfg.Prompts
	return &dataSource{
		gen: gen, seed: cfg.Data.Seed, lowRes: samCfg.LowResSize(), workers: workers, batchSize: cfg.BatchSize,
		sampler: prompts.Sampler{MinPos: p.MinPositive, MaxPos: p.MaxPositive, MinNeg: p.MinNegative, MaxNeg: p.MaxNegative},
	}, nil
}

// promptSeed derives the click generator's seed of a training sample from
// the run's seed and the sample's index (a different stream than the
// image's, which synth derives from the same pair).
func promptSeed(seed uint64, index int) uint64 {
	return prompts.CaseSeed(fmt.Sprintf("train/%d", index), seed)
}

// example makes training example index: the synthetic sample and a random
// number of clicks drawn by the training sampler.
func (d *dataSource) example(index int) (*example, error) {
	s, err := d.gen.Sample(d.seed, index)
	if err != nil {
		return nil, err
	}
	ex, err := newExample(index, s.Image, s.Mask, d.lowRes)
	if err != nil {
		return nil, err
	}
	ex.clicks, err = d.sampler.Sample(s.Mask, prompts.NewRand(promptSeed(d.seed, index)))
	if err != nil {
		return nil, fmt.Errorf("sample %d: clicks: %w", index, err)
	}
	return ex, nil
}

// batch makes the examples first, first+1, … of one batch, generating them
// on up to d.workers goroutines.
func (d *dataSource) batch(ctx context.Context, first int) ([]*example, error) {
	out := make([]*example, d.batchSize)
	errs := make([]error, d.batchSize)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(d.workers, d.batchSize) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i], errs[i] = d.example(first + i)
			}
		}()
	}
	for i := range d.batchSize {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
