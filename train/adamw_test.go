package train

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// adamwReference is PyTorch's torch.optim.AdamW step, written out on the host
// in float64 for one parameter tensor.
type adamwReference struct {
	p, m, v []float64
	t       int
}

func (r *adamwReference) step(o AdamW, lr float64, g []float64, decay bool) {
	r.t++
	for i := range r.p {
		if decay {
			r.p[i] *= 1 - lr*o.WeightDecay
		}
		r.m[i] = o.Beta1*r.m[i] + (1-o.Beta1)*g[i]
		r.v[i] = o.Beta2*r.v[i] + (1-o.Beta2)*g[i]*g[i]
		mHat := r.m[i] / (1 - math.Pow(o.Beta1, float64(r.t)))
		vHat := r.v[i] / (1 - math.Pow(o.Beta2, float64(r.t)))
		r.p[i] -= lr * mHat / (math.Sqrt(vHat) + o.Epsilon)
	}
}

func newReference(p []float64) *adamwReference {
	return &adamwReference{p: append([]float64(nil), p...), m: make([]float64, len(p)), v: make([]float64, len(p))}
}

func TestAdamWMatchesHandComputation(t *testing.T) {
	backend := testBackend(t)
	store := model.NewStore()
	w0 := []float32{0.5, -1, 2, 0.25, 1.5, -0.75}
	b0 := []float32{0.3, -0.2}
	tok0 := []float32{1, -2}
	mk := func(path string, data []float32, dims ...int) *model.Variable {
		v, err := store.CreateVariable(path, tensors.FromFlatDataAndDimensions(data, dims...))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	wVar := mk("/mask_decoder/lin/weight", w0, 2, 3)
	bVar := mk("/mask_decoder/lin/bias", b0, 2)
	tokVar := mk("/mask_decoder/mask_tokens/weight", tok0, 1, 2)
	params := []*model.Variable{wVar, bVar, tokVar}
	decay := make([]bool, len(params))
	for i, v := range params {
		decay[i] = DecayApplies(StateDictKey(v.Path()), v.Shape().Rank())
	}
	if !decay[0] || decay[1] || decay[2] {
		t.Fatalf("decay flags %v, want weight only", decay)
	}
	opt := AdamW{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, WeightDecay: 0.1}
	x := []float64{1, 2, -1}
	y := []float64{0.5, -0.5}
	// loss = Σ_o (Σ_i W[o,i]·x[i] + b[o] − y[o])² + Σ tok²
	exec := model.MustNewExec(backend, store, func(scope *model.Scope, lr *Node) *Node {
		g := lr.Graph()
		w, b, tok := wVar.NodeValue(g), bVar.NodeValue(g), tokVar.NodeValue(g)
		xn := Const(g, []float32{float32(x[0]), float32(x[1]), float32(x[2])})
		r := Sub(Add(Einsum("oi,i->o", w, xn), b), Const(g, []float32{float32(y[0]), float32(y[1])}))
		loss := Add(ReduceAllSum(Square(r)), ReduceAllSum(Square(tok)))
		grads := Gradient(loss, w, b, tok)
		opt.Update(g, store, lr, params, grads, decay)
		return loss
	})
	refW, refB, refTok := newReference(toF64(w0)), newReference(toF64(b0)), newReference(toF64(tok0))
	for k, lr := range []float64{0.1, 0.05, 0.02, 0.2} {
		// Analytic gradients at the reference's current point.
		gw := make([]float64, 6)
		gb := make([]float64, 2)
		for o := 0; o < 2; o++ {
			r := refB.p[o] - y[o]
			for i := 0; i < 3; i++ {
				r += refW.p[o*3+i] * x[i]
			}
			gb[o] = 2 * r
			for i := 0; i < 3; i++ {
				gw[o*3+i] = 2 * r * x[i]
			}
		}
		gt := []float64{2 * refTok.p[0], 2 * refTok.p[1]}
		if k == 0 {
			// First step in closed form: m̂ = g and v̂ = g², so each
			// component moves by lr·g/(|g|+ε) (≈ lr·sign g), after decay.
			want := w0[0]*float32(1-lr*opt.WeightDecay) - float32(lr*gw[0]/(math.Abs(gw[0])+opt.Epsilon))
			refW.step(opt, lr, gw, true)
			if math.Abs(refW.p[0]-float64(want)) > 1e-6 {
				t.Fatalf("reference first step %g, closed form %g", refW.p[0], want)
			}
		} else {
			refW.step(opt, lr, gw, true)
		}
		refB.step(opt, lr, gb, false)
		refTok.step(opt, lr, gt, false)
		if _, err := exec.Exec(tensors.FromScalar(float32(lr))); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			v   *model.Variable
			ref *adamwReference
		}{{wVar, refW}, {bVar, refB}, {tokVar, refTok}} {
			got := tensors.MustCopyFlatData[float32](c.v.MustValue())
			for i := range got {
				if math.Abs(float64(got[i])-c.ref.p[i]) > 2e-6 {
					t.Fatalf("step %d %s[%d] = %.8g, reference %.8g", k+1, c.v.Path(), i, got[i], c.ref.p[i])
				}
			}
		}
	}
	stepValue := tensors.MustCopyFlatData[int64](store.GetVariable(stepVarPath).MustValue())[0]
	if stepValue != 4 {
		t.Errorf("optimizer step counter = %d, want 4", stepValue)
	}
}

func TestDecayAppliesToWeightsOnly(t *testing.T) {
	cases := map[string]struct {
		rank int
		want bool
	}{
		"mask_decoder.transformer.layers.0.self_attn.q_proj.weight":   {2, true},
		"mask_decoder.output_upscaling.0.weight":                      {4, true},
		"image_encoder.patch_embed.proj.weight":                       {4, true},
		"mask_decoder.transformer.layers.0.self_attn.q_proj.bias":     {1, false},
		"mask_decoder.transformer.layers.0.norm1.weight":              {1, false},
		"mask_decoder.output_upscaling.1.weight":                      {1, false},
		"prompt_encoder.point_embeddings.0.weight":                    {2, false},
		"prompt_encoder.not_a_point_embed.weight":                     {2, false},
		"prompt_encoder.no_mask_embed.weight":                         {2, false},
		"mask_decoder.iou_token.weight":                               {2, false},
		"mask_decoder.mask_tokens.weight":                             {2, false},
		"image_encoder.pos_embed":                                     {4, false},
		"image_encoder.blocks.0.attn.rel_pos_h":                       {2, false},
		"prompt_encoder.pe_layer.positional_encoding_gaussian_matrix": {2, false},
	}
	for key, c := range cases {
		if got := DecayApplies(key, c.rank); got != c.want {
			t.Errorf("DecayApplies(%s) = %v, want %v", key, got, c.want)
		}
	}
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
