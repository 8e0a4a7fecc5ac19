package train

import "github.com/synthfm/synthfm/sam"

// The lite recipe's sizes, chosen by measurement (docs/benchmarks.md,
// "Training"): the largest model whose step rate on two CPU cores reaches a
// few epochs in about two hours.
const (
	liteEpochs          = 3
	liteSamplesPerEpoch = 4_000
	liteBatchSize       = 4
	liteLearningRate    = 1e-4
	liteWarmupFraction  = 0.02
)

// liteModel is a small SAM for training from scratch on CPUs: 256² input,
// patch 16 (16×16 tokens), a narrow ViT with windowed and global blocks and
// a slim two-way decoder.
func liteModel() sam.Config {
	c, _ := sam.PresetConfig("vit_b")
	c.Name = "lite"
	c.ImgSize = 256
	c.EmbedDim, c.Depth, c.NumHeads = 192, 4, 3
	c.WindowSize = 8
	c.GlobalAttnIndexes = []int{1, 3}
	c.OutChans, c.PromptEmbedDim = 128, 128
	c.DecoderMLPDim = 512
	c.DecoderNumHeads = 4
	c.IoUHeadHiddenDim = 128
	c.PromptPoints = 11 // the lite recipe's most clicks: 5 positive, 5 negative, 1 refinement
	return c
}

// tinyModel is the smallest sensible SAM: 64² input, 4×4 tokens, for tests.
func tinyModel() sam.Config {
	c, _ := sam.PresetConfig("vit_b")
	c.Name = "tiny"
	c.ImgSize = 64
	c.EmbedDim, c.Depth, c.NumHeads = 32, 2, 2
	c.WindowSize = 2
	c.GlobalAttnIndexes = []int{1}
	c.OutChans, c.PromptEmbedDim = 32, 32
	c.MaskInChans = 8
	c.DecoderDepth, c.DecoderMLPDim, c.DecoderNumHeads = 2, 64, 2
	c.IoUHeadHiddenDim = 32
	return c
}
