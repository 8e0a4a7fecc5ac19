package train

import (
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads like maths
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/sam"
)

// execCacheSize bounds the compiled graphs an executor keeps: one per
// distinct (clicks in the batch, with or without a mask prompt) shape.
const execCacheSize = 64

// executors compiles and runs the model's graphs. The training loop owns
// train and predict; encode belongs to the prefetch goroutine once it runs.
type executors struct {
	model *Model
	// train runs one optimisation step: inputs (lr, x, points, labels,
	// target, multimask[, maskInput]); outputs (loss, segLoss, lowRes, iou).
	train *model.Exec
	// predict runs the model without updating it: inputs (x, points, labels,
	// multimask); output the chosen mask's low-resolution logits [B, h, w].
	predict *model.Exec
	// evaluate computes the training objective without updating the model:
	// inputs (x, points, labels, target, multimask); outputs (loss, segLoss).
	evaluate *model.Exec
	// encode embeds images with the frozen encoder (nil when it trains).
	encode *model.Exec
}

// newExecutors builds the executors of a model for a recipe. x, the image
// input of train and predict, is SAM's preprocessed image [B, 3, S, S]
// (normalised and padded, see imageInput) when the encoder trains and its
// embedding [B, C, E, E] when it is frozen.
func newExecutors(backend compute.Backend, m *Model, cfg Config) (*executors, error) {
	samCfg := m.Config
	frozen := m.Encoder != nil
	embed := func(scope *model.Scope, x *Node) *Node {
		if frozen {
			return x
		}
		return sam.ImageEncoder(scope, samCfg, x)
	}
	var e executors
	e.model = m
	var err error
	e.train, err = model.NewExec(backend, m.Store, func(scope *model.Scope, in []*Node) []*Node {
		lr, x, points, labels, target, multimask := in[0], in[1], in[2], in[3], in[4], in[5]
		var maskInput *Node
		if len(in) > 6 {
			maskInput = in[6]
		}
		g := lr.Graph()
		lowRes, iou := decodeGraph(scope, samCfg, embed(scope, x), points, labels, maskInput)
		total, seg := PromptLoss(cfg.Loss, lossLogits(cfg.Loss, samCfg, lowRes), iou, target, multimask)
		params := variablesInUse(m.Store, g)
		nodes := make([]*Node, len(params))
		decay := make([]bool, len(params))
		for i, v := range params {
			nodes[i] = v.NodeValue(g)
			decay[i] = DecayApplies(StateDictKey(v.Path()), v.Shape().Rank())
		}
		grads := Gradient(total, nodes...)
		cfg.Optimizer.Update(g, m.Store, lr, params, grads, decay)
		return []*Node{total, seg, lowRes, iou}
	})
	if err != nil {
		return nil, err
	}
	e.train.SetMaxCache(execCacheSize)
	e.predict, err = model.NewExec(backend, m.Store, func(scope *model.Scope, in []*Node) *Node {
		x, points, labels, multimask := in[0], in[1], in[2], in[3]
		lowRes, iou := decodeGraph(scope, samCfg, embed(scope, x), points, labels, nil)
		return selectForClicks(lowRes, iou, multimask)
	})
	if err != nil {
		return nil, err
	}
	e.predict.SetMaxCache(execCacheSize)
	e.evaluate, err = model.NewExec(backend, m.Store, func(scope *model.Scope, in []*Node) []*Node {
		x, points, labels, target, multimask := in[0], in[1], in[2], in[3], in[4]
		lowRes, iou := decodeGraph(scope, samCfg, embed(scope, x), points, labels, nil)
		total, seg := PromptLoss(cfg.Loss, lossLogits(cfg.Loss, samCfg, lowRes), iou, target, multimask)
		return []*Node{total, seg}
	})
	if err != nil {
		return nil, err
	}
	e.evaluate.SetMaxCache(execCacheSize)
	if frozen {
		e.encode, err = model.NewExec(backend, m.Encoder, func(scope *model.Scope, x *Node) *Node {
			return sam.ImageEncoder(scope, samCfg, x)
		})
		if err != nil {
			return nil, err
		}
	}
	return &e, nil
}

// lossLogits are the mask logits at the loss's resolution.
func lossLogits(c LossConfig, samCfg sam.Config, lowRes *Node) *Node {
	if c.Resolution == LossAtInput {
		return sam.ResizeBilinear(lowRes, samCfg.ImgSize, samCfg.ImgSize)
	}
	return lowRes
}

// lossSize is the side of the masks the loss compares.
func lossSize(c LossConfig, samCfg sam.Config) int {
	if c.Resolution == LossAtInput {
		return samCfg.ImgSize
	}
	return samCfg.LowResSize()
}

// roundInputs are the host tensors of one round of prompts for a batch.
type roundInputs struct {
	x         *tensors.Tensor // images [B,3,S,S] or embeddings [B,C,E,E]
	points    *tensors.Tensor // [B,N,2] (x, y) in input pixels
	labels    *tensors.Tensor // [B,N]: 1 positive, 0 negative, -1 padding
	target    *tensors.Tensor // [B,r,r] ground truth at the loss's resolution, in [0,1]
	multimask *tensors.Tensor // [B]: 1 where the prompt is a single click
	maskInput *tensors.Tensor // nil or [B,1,h,w]: previous round's logits
}

// roundResult is what one training round returns to the host.
type roundResult struct {
	loss, segLoss float64
	lowRes        []float32 // [B,M,h,w]
	iou           []float32 // [B,M]
}

// trainRound runs one optimisation step with learning rate lr.
func (e *executors) trainRound(lr float64, in roundInputs) (roundResult, error) {
	args := []any{tensors.FromScalar(float32(lr)), in.x, in.points, in.labels, in.target, in.multimask}
	if in.maskInput != nil {
		args = append(args, in.maskInput)
	}
	out, err := e.train.Exec(args...)
	if err != nil {
		return roundResult{}, fmt.Errorf("training step: %w", err)
	}
	var r roundResult
	r.loss = float64(tensors.MustCopyFlatData[float32](out[0])[0])
	r.segLoss = float64(tensors.MustCopyFlatData[float32](out[1])[0])
	r.lowRes = tensors.MustCopyFlatData[float32](out[2])
	r.iou = tensors.MustCopyFlatData[float32](out[3])
	for _, t := range out {
		t.FinalizeAll()
	}
	return r, nil
}
