package train

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"runtime"

	"github.com/synthfm/synthfm/prompts"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/imageproc"
	"github.com/synthfm/synthfm/synth"
)

// dataSource makes the training examples of a recipe: synthetic samples at
// the model's input size, with their clicks. Example i is a pure function of
// (recipe, seed, i), so a resumed run sees exactly the stream it would have.
type dataSource struct {
	gen       *synth.Generator
	seed      uint64
	lowRes    int // side of the decoder's masks
	lossRes   int // side of the loss's targets
	prep      imageproc.Preprocessor
	sampler   prompts.Sampler
	workers   int
	batchSize int
}

// newDataSource builds the synthetic stream: the recipe's generator preset
// and file (synth.Resolve) at the model's input size, which replaces the
// file's size (logged when they differ).
func newDataSource(cfg Config, samCfg sam.Config, log *slog.Logger) (*dataSource, error) {
	sc, err := synth.Resolve(cfg.Data.SynthPreset, cfg.Data.SynthConfig, func(c *synth.Config) {
		if cfg.Data.SynthConfig != "" && c.Size != samCfg.ImgSize {
			log.Info("the generator file's size is replaced by the model's input size",
				"file", cfg.Data.SynthConfig, "file_size", c.Size, "model_size", samCfg.ImgSize)
		}
		c.Size = samCfg.ImgSize
	})
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
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
		gen: gen, seed: cfg.Data.Seed, lowRes: samCfg.LowResSize(), lossRes: lossSize(cfg.Loss, samCfg),
		workers: workers, batchSize: cfg.BatchSize, prep: newPreprocessor(samCfg),
		sampler: prompts.Sampler{MinPos: p.MinPositive, MaxPos: p.MaxPositive, MinNeg: p.MinNegative, MaxNeg: p.MaxNegative},
	}, nil
}

// promptSeed derives the click generator's seed of a training sample from
// the run's seed and the sample's index (a different stream than the
// image's, which synth derives from the same pair).
func promptSeed(seed uint64, index int) uint64 {
	return prompts.CaseSeed(fmt.Sprintf("train/%d", index), seed)
}

// newTrainingExample turns synthetic sample index into a training example
// with a random number of clicks drawn by the training sampler.
func (d *dataSource) newTrainingExample(index int, s *synth.Sample) (*example, error) {
	ex, err := newExample(d.prep, index, s.Image, s.Mask, d.lowRes, d.lossRes)
	if err != nil {
		return nil, err
	}
	ex.clicks, err = d.sampler.Sample(s.Mask, prompts.NewRand(promptSeed(d.seed, index)))
	if err != nil {
		return nil, fmt.Errorf("sample %d: clicks: %w", index, err)
	}
	return ex, nil
}

// batches returns a function yielding the training batches from stream
// position first on: it reads the generator's in-order stream (made ahead
// by its worker pool) batchSize samples at a time. stop releases the
// stream; next and stop must not be called concurrently.
func (d *dataSource) batches(ctx context.Context, first int) (next func() ([]*example, error), stop func()) {
	pull, stop := iter.Pull2(d.gen.Stream(ctx, d.seed, first, d.workers))
	index := first
	next = func() ([]*example, error) {
		batch := make([]*example, 0, d.batchSize)
		for len(batch) < d.batchSize {
			s, err, ok := pull()
			switch {
			case !ok:
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, fmt.Errorf("synthetic stream ended at sample %d", index)
			case err != nil:
				return nil, err
			}
			ex, err := d.newTrainingExample(index, s)
			if err != nil {
				return nil, err
			}
			batch = append(batch, ex)
			index++
		}
		return batch, nil
	}
	return next, stop
}
