package sam

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// float64Store holds the fixture's weights as float64 variables: the model
// then computes in float64, so finite differences are precise.
func (f fixture) float64Store(t testing.TB) *model.Store {
	t.Helper()
	sd := f.stateDict(t, ".safetensors")
	store := model.NewStore()
	for _, s := range ParamSpecs(f.cfg) {
		tv, _ := sd.Get(s.Name)
		if _, err := store.CreateVariable(VariablePath(store.RootScope(), s.Name), tensors.FromFlatDataAndDimensions(to64(tv.Data), s.Shape...)); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// npy64 reads a fixture array as a float64 tensor with the given dimensions
// (its own when none are given).
func (f fixture) npy64(t testing.TB, file string, dims ...int) *tensors.Tensor {
	a := f.npy(t, file)
	if len(dims) == 0 {
		dims = a.shape
	}
	return tensors.FromFlatDataAndDimensions(to64(a.data), dims...)
}

// directionalCheck compares the autodiff gradient of a scalar loss with
// respect to every variable of the named components with a central finite
// difference along a random direction v: (L(θ+hv) − L(θ−hv))/2h ≈ ⟨∇L, v⟩.
// The model runs in float64.
func directionalCheck(t *testing.T, backend compute.Backend, f fixture, prefixes []string,
	loss func(scope *model.Scope, in []*Node) *Node, args ...any) {
	t.Helper()
	store := f.float64Store(t)
	var vars []*model.Variable
	for _, s := range ParamSpecs(f.cfg) {
		for _, p := range prefixes {
			if strings.HasPrefix(s.Name, p) {
				vars = append(vars, store.GetVariable(VariablePath(store.RootScope(), s.Name)))
			}
		}
	}
	gradExec, err := model.NewExec(backend, store, func(scope *model.Scope, in []*Node) []*Node {
		l := loss(scope, in)
		nodes := make([]*Node, len(vars))
		for i, v := range vars {
			nodes[i] = v.NodeValue(l.Graph())
		}
		return Gradient(l, nodes...)
	})
	if err != nil {
		t.Fatal(err)
	}
	lossExec, err := model.NewExec(backend, store, func(scope *model.Scope, in []*Node) *Node { return loss(scope, in) })
	if err != nil {
		t.Fatal(err)
	}
	grads, err := gradExec.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	orig := make([][]float64, len(vars))
	dirs := make([][]float64, len(vars))
	analytic := 0.0
	for i, v := range vars {
		orig[i] = tensors.MustCopyFlatData[float64](v.MustValue())
		g := tensors.MustCopyFlatData[float64](grads[i])
		dirs[i] = make([]float64, len(orig[i]))
		for j := range dirs[i] {
			dirs[i][j] = rng.NormFloat64()
			analytic += g[j] * dirs[i][j]
		}
	}
	at := func(h float64) float64 {
		for i, v := range vars {
			p := make([]float64, len(orig[i]))
			for j := range p {
				p[j] = orig[i][j] + h*dirs[i][j]
			}
			v.MustSetValue(tensors.FromFlatDataAndDimensions(p, v.Shape().Dimensions...))
		}
		out, err := lossExec.Exec(args...)
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float64](out[0])[0]
	}
	const h = 1e-6
	numeric := (at(h) - at(-h)) / (2 * h)
	rel := math.Abs(numeric-analytic) / math.Max(math.Abs(numeric), 1e-9)
	t.Logf("%v: directional derivative %.10g (autodiff) vs %.10g (finite difference), relative difference %.2g over %d variables",
		prefixes, analytic, numeric, rel, len(vars))
	if rel > 1e-5 {
		t.Errorf("%v: autodiff gradient disagrees with finite differences: %g vs %g", prefixes, analytic, numeric)
	}
}

// TestDecoderGradients differentiates the prompt encoder and mask decoder
// (as the trainer does, with a frozen image embedding) for a prompt with
// points, a box and a mask, on tiny-pad, component by component.
func TestDecoderGradients(t *testing.T) {
	f := loadFixture(t, "tiny-pad")
	backend := newBackend(t)
	rng := rand.New(rand.NewPCG(5, 6))
	l, m := f.cfg.LowResSize(), f.cfg.NumMaskTokens()
	n := f.npy(t, "case2_point_coords.npy").shape[0]
	args := []any{
		f.npy64(t, "image_embedding.npy"),
		f.npy64(t, "case2_point_coords.npy", 1, n, 2),
		f.npy64(t, "case2_point_labels.npy", 1, n),
		f.npy64(t, "case3_box.npy", 1, 4),
		f.npy64(t, "case4_mask_input.npy"),
		randomTensor[float64](rng, 1, m, l, l), randomTensor[float64](rng, 1, m),
	}
	loss := func(scope *model.Scope, in []*Node) *Node {
		sparse, dense := PromptEncoder(scope, f.cfg, in[1], in[2], in[3], in[4])
		pe := DensePositionalEncoding(scope, f.cfg, in[0].Graph())
		masks, iou := MaskDecoder(scope, f.cfg, in[0], pe, sparse, dense)
		return Add(ReduceAllSum(Mul(masks, in[5])), ReduceAllSum(Mul(iou, in[6])))
	}
	for _, prefix := range []string{
		"prompt_encoder.pe_layer.", "prompt_encoder.point_embeddings.", "prompt_encoder.mask_downscaling.",
		"mask_decoder.transformer.layers.0.", "mask_decoder.transformer.layers.1.", "mask_decoder.transformer.final",
		"mask_decoder.iou_token.", "mask_decoder.mask_tokens.", "mask_decoder.output_upscaling.",
		"mask_decoder.output_hypernetworks_mlps.", "mask_decoder.iou_prediction_head.",
	} {
		directionalCheck(t, backend, f, []string{prefix}, loss, args...)
	}
}

// TestEncoderGradients differentiates the image encoder of tiny-pad (whose
// windowed block pads 7×7 tokens to 8×8) with respect to its weights.
func TestEncoderGradients(t *testing.T) {
	f := loadFixture(t, "tiny-pad")
	backend := newBackend(t)
	rng := rand.New(rand.NewPCG(7, 8))
	e, c := f.cfg.EmbeddingSize(), f.cfg.OutChans
	loss := func(scope *model.Scope, in []*Node) *Node {
		return ReduceAllSum(Mul(ImageEncoder(scope, f.cfg, in[0]), in[1]))
	}
	args := []any{f.npy64(t, "input_preprocessed.npy"), randomTensor[float64](rng, 1, c, e, e)}
	for _, prefix := range []string{
		"image_encoder.patch_embed.", "image_encoder.pos_embed", "image_encoder.blocks.0.", "image_encoder.blocks.1.", "image_encoder.neck.",
	} {
		directionalCheck(t, backend, f, []string{prefix}, loss, args...)
	}
}
