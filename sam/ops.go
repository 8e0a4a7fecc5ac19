package sam

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph ops read like math.
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/nn"

	"github.com/synthfm/synthfm/nnops"
)

// The graph operations here are written from GoMLX primitives whose
// gradients are correct in v0.28.2 (DotGeneral, Reshape, Transpose, Slice,
// Concatenate, element-wise ops); see engine-gomlx.md for the ones avoided:
// ConvGeneral (slow), Pad/Reverse/Rsqrt (no gradient), bilinear Interpolate and
// multi-axis Gather (wrong gradients). Each is checked against finite
// differences in ops_test.go.

// linear applies a torch nn.Linear: x[..., in] · wᵀ + b, w in PyTorch's
// [out, in] layout; b may be nil. It is GoMLX's fused dense op, which adds
// the bias in the matmul's output buffer (a broadcast Add is a slow generic
// loop in the Go backend).
func linear(x, w, b *Node) *Node { return nnops.Linear(x, w, b) }

// linearRelu is relu(linear(x, w, b)) with the activation fused too.
func linearRelu(x, w, b *Node) *Node { return nnops.LinearRelu(x, w, b) }

// layerNorm normalises over the last axis: (x−mean)/sqrt(var+eps)·w + b with
// the biased variance, as torch's LayerNorm and SAM's LayerNorm2d (which SAM
// applies over channels; here images are channels-last).
func layerNorm(x, w, b *Node, eps float64) *Node {
	return nn.LayerNorm(x, []int{x.Rank() - 1}, eps, w, b, nil)
}

// gelu is the exact (erf) GELU that SAM uses: GoMLX's fused GELU forward,
// with a hand-written derivative Φ(x) + x·φ(x) for the backward pass.
// GoMLX differentiates its own decomposition instead, whose Exp is 50×
// slower in GOEXPERIMENT=simd builds (scalar math.Exp after AVX-512 code);
// here φ comes from the fused softmax's polynomial exp (expNeg).
func gelu(x *Node) *Node {
	out, fused := InternalFusedOpCaller(
		func() *Node { return BackendFusedGelu(x, true) },
		func() *Node {
			return IdentityWithCustomGradient(x, func(x, v *Node) *Node {
				cdf := MulScalar(OnePlus(Erf(MulScalar(x, 1/math.Sqrt2))), 0.5)
				pdf := MulScalar(expNeg(MulScalar(Square(x), 0.5)), 1/math.Sqrt(2*math.Pi))
				return Mul(v, Add(cdf, Mul(x, pdf)))
			})
		}, true)
	if !fused {
		return activation.Gelu(x)
	}
	return out
}

// softmax over axis: GoMLX's fused softmax forward, with the backward pass
// written from its output, s⊙(v − Σ v⊙s), instead of GoMLX's default of
// differentiating a decomposition that recomputes Exp (slow in simd builds).
func softmax(x *Node, axis int) *Node {
	axis = MustAdjustAxis(axis, x)
	var out *Node
	out, fused := InternalFusedOpCaller(
		func() *Node { return BackendFusedSoftmax(x, axis) },
		func() *Node {
			return IdentityWithCustomGradient(x, func(_, v *Node) *Node {
				return Mul(out, Sub(v, ReduceAndKeep(Mul(v, out), ReduceSum, axis)))
			})
		}, true)
	if !fused {
		return Softmax(x, axis)
	}
	return out
}

// expNeg is e^(−a) for a ≥ 0 without the Exp op: the fused softmax of the
// pair (−a, 0) is σ = e^(−a)/(1+e^(−a)), so e^(−a) = σ/(1−σ) (1−σ ≥ ½, so
// no precision is lost). Only gradients use it.
func expNeg(a *Node) *Node {
	pair := Stack([]*Node{Neg(a), ZerosLike(a)}, -1)
	sigma := Squeeze(SliceAxis(Softmax(StopGradient(pair), -1), -1, AxisElem(0)), -1)
	return Div(sigma, OneMinus(sigma))
}

// padZerosAfter appends n zeros at the end of axis (bottom/right padding).
// It concatenates instead of using Pad, which has no gradient in GoMLX.
func padZerosAfter(x *Node, axis, n int) *Node {
	if n == 0 {
		return x
	}
	dims := x.Shape().Clone().Dimensions
	dims[axis] = n
	return Concatenate([]*Node{x, Zeros(x.Graph(), shapes.Make(x.DType(), dims...))}, axis)
}

// windowPartition splits channels-last x [B,H,W,C] into non-overlapping
// ws×ws windows, zero-padding H and W at the bottom/right to multiples of
// ws first. It returns the windows [B·nh·nw, ws, ws, C] and the padded size.
func windowPartition(x *Node, ws int) (windows *Node, hp, wp int) {
	dims := x.Shape().Dimensions
	b, h, w, c := dims[0], dims[1], dims[2], dims[3]
	padH, padW := (ws-h%ws)%ws, (ws-w%ws)%ws
	x = padZerosAfter(padZerosAfter(x, 1, padH), 2, padW)
	hp, wp = h+padH, w+padW
	x = Reshape(x, b, hp/ws, ws, wp/ws, ws, c)
	x = TransposeAllAxes(x, 0, 1, 3, 2, 4, 5)
	return Reshape(x, b*(hp/ws)*(wp/ws), ws, ws, c), hp, wp
}

// windowUnpartition reverses windowPartition: windows [B·nh·nw, ws, ws, C]
// back to [B, h, w, C], cropping the padding.
func windowUnpartition(windows *Node, ws, hp, wp, h, w int) *Node {
	c := windows.Shape().Dim(-1)
	b := windows.Shape().Dim(0) / ((hp / ws) * (wp / ws))
	x := Reshape(windows, b, hp/ws, wp/ws, ws, ws, c)
	x = TransposeAllAxes(x, 0, 1, 3, 2, 4, 5)
	x = Reshape(x, b, hp, wp, c)
	if hp != h || wp != w {
		x = Slice(x, AxisRange(), AxisRange(0, h), AxisRange(0, w), AxisRange())
	}
	return x
}

// relativeTable expands a relative-position table relPos [2S−1, d] into
// R[i, j, :] = relPos[i − j + S − 1] for query/key positions i, j < S, as
// segment-anything's get_rel_pos does when query and key sizes are equal.
// The lookup is a matmul with a constant one-hot tensor, so its gradient is
// exact (GoMLX's multi-axis Gather gradient is not).
func relativeTable(relPos *Node, size int) *Node {
	n := relPos.Shape().Dim(0)
	oneHot := make([]float32, size*size*n)
	for i := range size {
		for j := range size {
			oneHot[(i*size+j)*n+i-j+size-1] = 1
		}
	}
	sel := Reshape(Const(relPos.Graph(), oneHot), size, size, n)
	return DotGeneral(ConvertDType(sel, relPos.DType()), []int{2}, nil, relPos, []int{0}, nil)
}

// relPosLogits computes attention logits with SAM's decomposed relative
// position bias for queries q and keys k [B, S·S, d] on the same S×S grid:
//
//	logits[b, (qh,qw), (kh,kw)] = scale·⟨q, k⟩ + ⟨q, Rh[qh,kh]⟩ + ⟨q, Rw[qw,kw]⟩
//
// (the bias uses the unscaled q). Instead of adding two broadcast bias
// tensors of size B·S⁴ (generic broadcasting is a slow loop in the Go
// backend), the bias terms become extra contracted dimensions of one matmul:
// q' = [scale·q, relH(q), relW(q)] and k' = [k, onehot(kh), onehot(kw)], so
// ⟨q', k'⟩ is the whole logit. Without relative positions (nil tables) it
// is the plain scaled product.
func relPosLogits(q, k, relPosH, relPosW *Node, size int, scale float64) *Node {
	b, n, d := q.Shape().Dim(0), q.Shape().Dim(1), q.Shape().Dim(-1)
	qs := MulScalar(q, scale)
	if relPosH == nil {
		return DotGeneral(qs, []int{2}, []int{0}, k, []int{2}, []int{0})
	}
	q4 := Reshape(q, b, size, size, d)
	relH := Reshape(Einsum("bhwc,hkc->bhwk", q4, relativeTable(relPosH, size)), b, n, size) // [B, N, S(kh)]
	relW := Reshape(Einsum("bhwc,wkc->bhwk", q4, relativeTable(relPosW, size)), b, n, size) // [B, N, S(kw)]
	oneHot := make([]float32, n*2*size)
	for kh := range size {
		for kw := range size {
			row := (kh*size + kw) * 2 * size
			oneHot[row+kh] = 1
			oneHot[row+size+kw] = 1
		}
	}
	sel := ConvertDType(Reshape(Const(q.Graph(), oneHot), 1, n, 2*size), q.DType())
	qx := Concatenate([]*Node{qs, relH, relW}, 2)                        // [B, N, d+2S]
	kx := Concatenate([]*Node{k, BroadcastToDims(sel, b, n, 2*size)}, 2) // [B, N, d+2S]
	return DotGeneral(qx, []int{2}, []int{0}, kx, []int{2}, []int{0})
}

// nchwToNHWC and nhwcToNCHW move the channel axis between PyTorch's layout
// (used at the public boundaries) and channels-last (used inside).
func nchwToNHWC(x *Node) *Node { return TransposeAllAxes(x, 0, 2, 3, 1) }
func nhwcToNCHW(x *Node) *Node { return TransposeAllAxes(x, 0, 3, 1, 2) }

// convPatch applies a torch Conv2d whose stride equals its kernel k (no
// padding) to channels-last x [B,H,W,Cin]: patchify, then one matmul.
// w is [out, in, k, k]; b may be nil. Output [B, H/k, W/k, out].
// Written by hand because GoMLX's ConvGeneral is ~500× slower than a matmul.
func convPatch(x, w, b *Node, k int) *Node {
	dims := x.Shape().Dimensions
	n, h, wd, c := dims[0], dims[1], dims[2], dims[3]
	out := w.Shape().Dim(0)
	if k > 1 {
		x = Reshape(x, n, h/k, k, wd/k, k, c)
		x = TransposeAllAxes(x, 0, 1, 3, 2, 4, 5)
		x = Reshape(x, n, h/k, wd/k, k*k*c)
	}
	// Weight to [out, kh, kw, in] so it matches the patch layout.
	wm := Reshape(TransposeAllAxes(w, 0, 2, 3, 1), out, k*k*c)
	return linear(x, wm, b)
}

// conv3x3Same applies a torch Conv2d with a 3×3 kernel, stride 1 and padding 1
// to channels-last x [B,H,W,Cin] as im2col (9 shifted copies) plus one
// matmul. w is [out, in, 3, 3]; b may be nil.
func conv3x3Same(x, w, b *Node) *Node { return nnops.Conv3x3Same(x, w, b) }

// ResizeBilinear is nnops.ResizeBilinear (torch's bilinear interpolate,
// align_corners=False, with an exact gradient); kept here for sam's callers.
func ResizeBilinear(x *Node, outH, outW int) *Node { return nnops.ResizeBilinear(x, outH, outW) }

// PostprocessMasks maps low-resolution mask logits [B, M, L, L] to the
// original image size as SAM's postprocess_masks does: bilinear to the
// model's input size (img_size), crop the un-padded inputH×inputW part,
// bilinear to origH×origW. Differentiable; see ResizeBilinear.
func PostprocessMasks(cfg Config, lowRes *Node, inputH, inputW, origH, origW int) *Node {
	x := ResizeBilinear(lowRes, cfg.ImgSize, cfg.ImgSize)
	x = Slice(x, AxisRange(), AxisRange(), AxisRange(0, inputH), AxisRange(0, inputW))
	return ResizeBilinear(x, origH, origW)
}

// float32Const makes a float32 constant with the given dimensions.
func float32Const(g *Graph, values []float32, dims ...int) *Node {
	return Reshape(ConstAsDType(g, dtypes.Float32, values), dims...)
}

// shapeF32 is a float32 shape with the given dimensions.
func shapeF32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }

// shapeOf is a shape with like's dtype and the given dimensions.
func shapeOf(like *Node, dims ...int) shapes.Shape { return shapes.Make(like.DType(), dims...) }
