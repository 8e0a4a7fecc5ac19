package clicknet

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads like maths
	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/nnops"
)

// Param is one parameter of the network: its state_dict-style name (dots
// separate scopes), shape and fan-in (for the initialiser; 0 means zeros).
type Param struct {
	Name  string
	Shape []int
	FanIn int
}

// Params lists the network's parameters in a fixed order.
func Params(cfg Config) []Param {
	var ps []Param
	conv := func(name string, in, out int) {
		ps = append(ps, Param{name + ".weight", []int{out, in, 3, 3}, 9 * in}, Param{name + ".bias", []int{out}, 0})
	}
	pp := cfg.Patch * cfg.Patch
	ps = append(ps, Param{"stem.weight", []int{cfg.Widths[0], pp * Channels}, pp * Channels}, Param{"stem.bias", []int{cfg.Widths[0]}, 0})
	in := cfg.Widths[0]
	for l, w := range cfg.Widths {
		conv(fmt.Sprintf("enc%d.conv1", l), in, w)
		conv(fmt.Sprintf("enc%d.conv2", l), w, w)
		in = w
	}
	for l := len(cfg.Widths) - 2; l >= 0; l-- {
		w := cfg.Widths[l]
		conv(fmt.Sprintf("dec%d.conv1", l), cfg.Widths[l+1]+w, w)
		conv(fmt.Sprintf("dec%d.conv2", l), w, w)
	}
	ps = append(ps, Param{"head.weight", []int{pp, cfg.Widths[0]}, cfg.Widths[0]}, Param{"head.bias", []int{pp}, 0})
	return ps
}

// ParamCount is the number of scalar parameters of an architecture.
func ParamCount(cfg Config) int {
	n := 0
	for _, p := range Params(cfg) {
		k := 1
		for _, d := range p.Shape {
			k *= d
		}
		n += k
	}
	return n
}

// VariablePath is the store path of a parameter under scope: its name's
// dots become scope separators ("enc0.conv1.weight" → <scope>/enc0/conv1/weight).
func VariablePath(scope *model.Scope, name string) string {
	path := scope.Scope()
	for _, part := range splitDots(name) {
		path = model.JoinPath(path, part)
	}
	return path
}

func splitDots(s string) []string {
	var parts []string
	start := 0
	for i := range len(s) {
		if s[i] == '.' {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// params resolves variables while a graph is built, creating missing ones
// with He-normal weights (std √(2/fan-in), ReLU network) and zero biases,
// drawn from the store's random state.
type params struct {
	scope *model.Scope
	g     *Graph
	dtype dtypes.DType // the input's: float64 inputs give a float64 model (gradient tests)
	specs map[string]Param
}

func (p *params) get(name string) *Node {
	spec, ok := p.specs[name]
	if !ok {
		panic(fmt.Sprintf("clicknet: unknown parameter %q", name))
	}
	store := p.scope.Store()
	init := func(g *Graph, shape shapes.Shape) *Node {
		if spec.FanIn == 0 {
			return Zeros(g, shape)
		}
		std := math.Sqrt(2 / float64(spec.FanIn))
		if name == "head.weight" {
			std = 1 / math.Sqrt(float64(spec.FanIn))
		}
		return MulScalar(store.RandomNormal(g, shape), std)
	}
	v := store.VariableWithShape(VariablePath(p.scope, name), shapes.Make(p.dtype, spec.Shape...), init)
	return v.NodeValue(p.g)
}

// Logits runs the network on channels-last input x [B, S, S, Channels]
// and returns the mask logits [B, S, S]. The network computes in x's dtype.
func Logits(scope *model.Scope, cfg Config, x *Node) *Node {
	specs := map[string]Param{}
	for _, p := range Params(cfg) {
		specs[p.Name] = p
	}
	p := &params{scope: scope, g: x.Graph(), dtype: x.DType(), specs: specs}
	block := func(name string, h *Node) *Node {
		h = nnops.Conv3x3SameRelu(h, p.get(name+".conv1.weight"), p.get(name+".conv1.bias"))
		return nnops.Conv3x3SameRelu(h, p.get(name+".conv2.weight"), p.get(name+".conv2.bias"))
	}
	levels := len(cfg.Widths)
	skips := make([]*Node, levels)
	d := x.Shape().Dimensions
	b, s, pt := d[0], d[1], cfg.Patch
	n := s / pt
	// Stem: space-to-depth into n×n cells of pt×pt pixels, then a linear map.
	h := Reshape(x, b, n, pt, n, pt, Channels)
	h = TransposeAllAxes(h, 0, 1, 3, 2, 4, 5)
	h = Reshape(h, b, n, n, pt*pt*Channels)
	h = nnops.LinearRelu(h, p.get("stem.weight"), p.get("stem.bias"))
	for l := range levels {
		if l > 0 {
			h = nnops.AvgPool2(h)
		}
		h = block(fmt.Sprintf("enc%d", l), h)
		skips[l] = h
	}
	for l := levels - 2; l >= 0; l-- {
		h = Concatenate([]*Node{nnops.Upsample2(h), skips[l]}, -1)
		h = block(fmt.Sprintf("dec%d", l), h)
	}
	// Head: each cell's pt×pt pixel logits, back to pixels (pixel shuffle).
	out := nnops.Linear(h, p.get("head.weight"), p.get("head.bias")) // [B,n,n,pt·pt]
	out = Reshape(out, b, n, n, pt, pt)
	out = TransposeAllAxes(out, 0, 1, 3, 2, 4)
	return Reshape(out, b, s, s)
}
