package sam

import (
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph ops read like math.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// VariablePath is the GoMLX variable path of a state_dict key under scope:
// the key's dots become scope separators, so "image_encoder.blocks.0.attn.qkv.weight"
// is variable "weight" in scope <scope>/image_encoder/blocks/0/attn/qkv.
func VariablePath(scope *model.Scope, name string) string {
	return model.JoinPath(scope.Scope(), strings.ReplaceAll(name, ".", model.ScopeSeparator))
}

// params resolves the model's variables, by state_dict key, while a graph is
// built. Every key must be one of ParamSpecs(cfg); a variable that does not
// exist yet is created with its PyTorch-like initialiser. The model computes
// in the dtype of its inputs (float32 normally; float64 variables and inputs
// give a float64 model, which the gradient tests use).
type params struct {
	scope *model.Scope
	g     *Graph
	dtype dtypes.DType
	specs map[string]ParamSpec
	order []ParamSpec // state_dict order

	attnChunkBytes int // see attentionChunkBytes; tests lower it
}

func newParams(scope *model.Scope, cfg Config, like *Node) *params {
	all := ParamSpecs(cfg)
	specs := make(map[string]ParamSpec, len(all))
	for _, s := range all {
		specs[s.Name] = s
	}
	dtype := like.DType()
	if !dtype.IsFloat() {
		exceptions.Panicf("sam: model inputs must be float32 (or float64), got %s", dtype)
	}
	return &params{scope: scope, g: like.Graph(), dtype: dtype, specs: specs, order: all, attnChunkBytes: attentionChunkBytes}
}

// get returns the value node of the variable named by its state_dict key.
func (p *params) get(name string) *Node {
	spec, ok := p.specs[name]
	if !ok {
		exceptions.Panicf("sam: internal error: no parameter %q in this configuration", name)
	}
	shape := shapes.Make(p.dtype, spec.Shape...)
	v := p.scope.Store().VariableWithShape(VariablePath(p.scope, name), shape, initializerFor(p.scope.Store(), spec))
	return v.NodeValue(p.g)
}

// opt returns the variable if the configuration has it, else nil (e.g. the
// qkv bias when qkv_bias is false).
func (p *params) opt(name string) *Node {
	if _, ok := p.specs[name]; !ok {
		return nil
	}
	return p.get(name)
}

// initializerFor returns the from-scratch initialiser of a parameter,
// following PyTorch's defaults (sam-reference.md §4.7). Random draws use the
// store's RNG state (model.Store.SetRNGStateFromSeed makes them reproducible).
func initializerFor(store *model.Store, spec ParamSpec) model.VariableInitializer {
	return func(g *Graph, shape shapes.Shape) *Node {
		switch spec.Init {
		case InitOnes:
			return Ones(g, shape)
		case InitNormal:
			return store.RandomNormal(g, shape)
		case InitUniformFanIn:
			bound := 1 / math.Sqrt(float64(max(spec.FanIn, 1)))
			u := store.RandomUniform(g, shape) // [0, 1)
			return MulScalar(AddScalar(MulScalar(u, 2), -1), bound)
		default:
			return Zeros(g, shape)
		}
	}
}

// InitializeVariables creates every parameter of cfg under scope that does
// not exist yet, with the PyTorch-like initialisation of ParamSpec.Init drawn
// from the store's random state (model.Store.SetRNGStateFromSeed), and
// computes their values. Graph functions create missing variables lazily in
// the same way, so this is only needed to export or inspect a fresh model.
func InitializeVariables(backend compute.Backend, scope *model.Scope, cfg Config) (err error) {
	if err := cfg.Validate(); err != nil {
		return err
	}
	store := scope.Store()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sam.InitializeVariables: %v", r)
		}
	}()
	for _, s := range ParamSpecs(cfg) {
		store.VariableWithShape(VariablePath(scope, s.Name), shapes.Make(dtypes.Float32, s.Shape...), initializerFor(store, s))
	}
	return store.InitializeVariables(backend, nil)
}
