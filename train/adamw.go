package train

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads like maths
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), as
// PyTorch's torch.optim.AdamW computes it:
//
//	p ← p·(1 − lr·wd·[decayed]);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//	p ← p − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
//
// Written here rather than taken from GoMLX because GoMLX's
// optimizer.Adam().WeightDecay decays every variable (norms, biases and
// embeddings included) and offers no per-variable exclusion.
type AdamW struct {
	Beta1       float64 `json:"beta1"`
	Beta2       float64 `json:"beta2"`
	Epsilon     float64 `json:"epsilon"`
	WeightDecay float64 `json:"weight_decay"`
}

// Optimizer-state variables live under this scope of the store.
const (
	optimizerScope = "/adamw"
	stepVarPath    = optimizerScope + "/step"
)

// Validate reports the first out-of-range constant.
func (o AdamW) Validate() error {
	if o.Beta1 < 0 || o.Beta1 >= 1 || o.Beta2 < 0 || o.Beta2 >= 1 {
		return fmt.Errorf("adamw betas (%g, %g) must be in [0, 1)", o.Beta1, o.Beta2)
	}
	if o.Epsilon <= 0 {
		return fmt.Errorf("adamw epsilon %g must be > 0", o.Epsilon)
	}
	if o.WeightDecay < 0 {
		return fmt.Errorf("adamw weight decay %g must be >= 0", o.WeightDecay)
	}
	return nil
}

// IsOptimizerState reports whether a store path holds optimiser state
// rather than a model parameter.
func IsOptimizerState(path string) bool {
	return path == optimizerScope || strings.HasPrefix(path, optimizerScope+"/")
}

func momentPaths(v *model.Variable) (m, s string) {
	return optimizerScope + "/m" + v.Path(), optimizerScope + "/v" + v.Path()
}

// stateVariable returns the optimiser-state variable at path, creating it
// (zero-initialised, not trainable) the first time.
func stateVariable(store *model.Store, path string, shape shapes.Shape) *model.Variable {
	return store.VariableWithShape(path, shape, initializer.Zero).SetTrainable(false)
}

// Update builds the graph that applies one AdamW step with learning rate
// lr (a scalar node) to params given their gradients. decay[i] says whether
// params[i] is weight-decayed. It runs inside a model.Exec graph on store;
// the moments (under /adamw/m and /adamw/v, mirroring each parameter's path)
// and the step counter (/adamw/step) are created at zero the first time.
func (o AdamW) Update(g *Graph, store *model.Store, lr *Node, params []*model.Variable, grads []*Node, decay []bool) {
	stepVar := stateVariable(store, stepVarPath, shapes.Make(dtypes.Int64, 1))
	step := AddScalar(stepVar.NodeValue(g), 1)
	stepVar.SetNodeValue(step)
	t := ConvertDType(Reshape(step), dtypes.Float64)
	bc1 := OneMinus(Pow(Scalar(g, dtypes.Float64, o.Beta1), t))
	bc2 := OneMinus(Pow(Scalar(g, dtypes.Float64, o.Beta2), t))
	rate := ConvertDType(lr, dtypes.Float64)
	type constants struct{ bc1, bc2, rate *Node }
	perDType := map[dtypes.DType]constants{}
	for i, v := range params {
		dtype := v.DType()
		c, ok := perDType[dtype]
		if !ok {
			c = constants{ConvertDType(bc1, dtype), ConvertDType(bc2, dtype), ConvertDType(rate, dtype)}
			perDType[dtype] = c
		}
		bc1, bc2, rate := c.bc1, c.bc2, c.rate
		mPath, vPath := momentPaths(v)
		mVar, sVar := stateVariable(store, mPath, v.Shape()), stateVariable(store, vPath, v.Shape())
		grad := grads[i]
		m := Add(MulScalar(mVar.NodeValue(g), o.Beta1), MulScalar(grad, 1-o.Beta1))
		s := Add(MulScalar(sVar.NodeValue(g), o.Beta2), MulScalar(Square(grad), 1-o.Beta2))
		mVar.SetNodeValue(m)
		sVar.SetNodeValue(s)
		p := v.NodeValue(g)
		if decay[i] && o.WeightDecay > 0 {
			p = Mul(p, OneMinus(MulScalar(rate, o.WeightDecay)))
		}
		denom := AddScalar(Sqrt(Div(s, bc2)), o.Epsilon)
		p = Sub(p, Div(Mul(rate, Div(m, bc1)), denom))
		v.SetNodeValue(p)
	}
}

// DecayApplies is the "weights only" rule of the recipe: weight decay
// applies to the weight matrices and convolution kernels of Linear/Conv
// layers (state_dict names ending in ".weight" with rank ≥ 2) and not to
// biases, normalisation scales, positional encodings, relative-position
// tables or embeddings (SAM's point/mask/IoU token embeddings).
func DecayApplies(stateDictKey string, rank int) bool {
	if rank < 2 || !strings.HasSuffix(stateDictKey, ".weight") {
		return false
	}
	for _, embedding := range []string{
		"prompt_encoder.point_embeddings.",
		"prompt_encoder.not_a_point_embed.",
		"prompt_encoder.no_mask_embed.",
		"mask_decoder.iou_token.",
		"mask_decoder.mask_tokens.",
	} {
		if strings.HasPrefix(stateDictKey, embedding) {
			return false
		}
	}
	return true
}
