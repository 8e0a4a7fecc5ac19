package sam

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

// checkGradients compares the gradients of loss = Σ f(inputs)·R (R a fixed
// random tensor, so every output element matters) with central finite
// differences, in float64, at up to samples random positions of each input.
func checkGradients(t *testing.T, backend compute.Backend, name string, f func(in []*Node) *Node, inputs []*tensors.Tensor, samples int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(len(name))))
	// Build the weighting tensor R from the output shape.
	outShape, err := ExecOnce(backend, func(in []*Node) *Node { return f(in) }, anySlice(inputs)...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	weights := randomTensor[float64](rng, outShape.Shape().Dimensions...)
	lossFn := func(in []*Node) *Node {
		n := len(in) - 1
		return ReduceAllSum(Mul(f(in[:n]), in[n]))
	}
	args := append(anySlice(inputs), weights)
	gradExec := MustNewExec(backend, func(in []*Node) []*Node {
		loss := lossFn(in)
		return Gradient(loss, in[:len(in)-1]...)
	})
	lossExec := MustNewExec(backend, func(in []*Node) *Node { return lossFn(in) })
	grads, err := gradExec.Exec(args...)
	if err != nil {
		t.Fatalf("%s: gradient: %v", name, err)
	}
	const eps = 1e-6
	for i, in := range inputs {
		values := tensors.MustCopyFlatData[float64](in)
		analytic := tensors.MustCopyFlatData[float64](grads[i])
		worst := 0.0
		for s := range min(samples, len(values)) {
			j := s
			if len(values) > samples {
				j = rng.IntN(len(values))
			}
			eval := func(delta float64) float64 {
				v := append([]float64(nil), values...)
				v[j] += delta
				a := append([]any(nil), args...)
				a[i] = tensors.FromFlatDataAndDimensions(v, in.Shape().Dimensions...)
				out, err := lossExec.Exec(a...)
				if err != nil {
					t.Fatal(err)
				}
				return tensors.MustCopyFlatData[float64](out[0])[0]
			}
			numeric := (eval(eps) - eval(-eps)) / (2 * eps)
			diff := math.Abs(numeric-analytic[j]) / math.Max(1, math.Abs(numeric))
			worst = math.Max(worst, diff)
			if diff > 1e-5 {
				t.Errorf("%s: input %d element %d: gradient %g, finite difference %g", name, i, j, analytic[j], numeric)
				return
			}
		}
		t.Logf("%s: input %d: worst relative gradient error %.2g", name, i, worst)
	}
}

func anySlice(ts []*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// TestOpGradients checks every hand-written op of ops.go against finite
// differences: windowed attention with padding and relative positions,
// patch and 3×3 convolutions, the transposed convolution and the bilinear
// resize.
func TestOpGradients(t *testing.T) {
	backend := newBackend(t)
	rng := rand.New(rand.NewPCG(1, 2))
	const samples = 12

	// Windowed self-attention as the encoder does it: 5×5 tokens, windows of
	// 3 (padded to 6×6), two heads of width 4, decomposed relative position.
	const s, ws, heads, hd = 5, 3, 2, 4
	windowedAttention := func(in []*Node) *Node {
		x, wqkv, relH, relW := in[0], in[1], in[2], in[3]
		win, hp, wp := windowPartition(x, ws) // [B·nW, ws, ws, C]
		nb := win.Shape().Dim(0)
		qkv := linear(Reshape(win, nb, ws*ws, heads*hd), wqkv, nil)
		qkv = Reshape(TransposeAllAxes(Reshape(qkv, nb, ws*ws, 3, heads, hd), 2, 0, 3, 1, 4), 3, nb*heads, ws*ws, hd)
		q := Squeeze(Slice(qkv, AxisElem(0)), 0)
		k := Squeeze(Slice(qkv, AxisElem(1)), 0)
		v := Squeeze(Slice(qkv, AxisElem(2)), 0)
		attn := Softmax(relPosLogits(q, k, relH, relW, ws, 0.5), -1)
		out := Reshape(Einsum("bqk,bkc->bqc", attn, v), nb, heads, ws, ws, hd)
		out = Reshape(TransposeAllAxes(out, 0, 2, 3, 1, 4), nb, ws, ws, heads*hd)
		return windowUnpartition(out, ws, hp, wp, s, s)
	}
	checkGradients(t, backend, "windowed attention", windowedAttention, []*tensors.Tensor{
		randomTensor[float64](rng, 1, s, s, heads*hd), randomTensor[float64](rng, 3*heads*hd, heads*hd),
		randomTensor[float64](rng, 2*ws-1, hd), randomTensor[float64](rng, 2*ws-1, hd),
	}, samples)

	checkGradients(t, backend, "relative position table", func(in []*Node) *Node {
		return relativeTable(in[0], 4)
	}, []*tensors.Tensor{randomTensor[float64](rng, 7, 3)}, samples)

	checkGradients(t, backend, "patch conv k2s2", func(in []*Node) *Node {
		return convPatch(in[0], in[1], in[2], 2)
	}, []*tensors.Tensor{randomTensor[float64](rng, 2, 4, 6, 3), randomTensor[float64](rng, 5, 3, 2, 2), randomTensor[float64](rng, 5)}, samples)

	checkGradients(t, backend, "conv 3x3 same", func(in []*Node) *Node {
		return conv3x3Same(in[0], in[1], nil)
	}, []*tensors.Tensor{randomTensor[float64](rng, 1, 4, 5, 3), randomTensor[float64](rng, 2, 3, 3, 3)}, samples)

	// Transposed conv k2s2 as the decoder runs it: the per-pixel matmul with
	// bias (and GELU) fused, then the pixel shuffle of two layers at once.
	checkGradients(t, backend, "transposed conv k2s2 ×2 + unshuffle", func(in []*Node) *Node {
		u := convTranspose2x2Flat(in[0], in[1], in[2]) // [B, E, E, 4·3]
		u = Reshape(u, 2, 3, 3, 4, 3)
		u = gelu(convTranspose2x2Flat(u, in[3], in[4])) // [B, E, E, 4, 4·2]
		u = TransposeAllAxes(Reshape(u, 2, 3*3*16, 2), 0, 2, 1)
		return unshuffle(u, 3)
	}, []*tensors.Tensor{randomTensor[float64](rng, 2, 3, 3, 5), randomTensor[float64](rng, 5, 3, 2, 2), randomTensor[float64](rng, 3),
		randomTensor[float64](rng, 3, 2, 2, 2), randomTensor[float64](rng, 2)}, samples)

	checkGradients(t, backend, "softmax (custom VJP)", func(in []*Node) *Node {
		return softmax(in[0], 1)
	}, []*tensors.Tensor{randomTensor[float64](rng, 3, 5, 4)}, samples)
	checkGradients(t, backend, "gelu (custom VJP)", func(in []*Node) *Node {
		return gelu(MulScalar(in[0], 3))
	}, []*tensors.Tensor{randomTensor[float64](rng, 4, 7)}, samples)

	for _, size := range [][4]int{{4, 6, 9, 13}, {9, 7, 4, 3}} {
		checkGradients(t, backend, fmt.Sprintf("bilinear resize %dx%d→%dx%d", size[0], size[1], size[2], size[3]), func(in []*Node) *Node {
			return ResizeBilinear(in[0], size[2], size[3])
		}, []*tensors.Tensor{randomTensor[float64](rng, 2, size[0], size[1])}, samples)
	}
}
