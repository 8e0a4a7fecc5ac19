// Package nnops holds the GoMLX graph building blocks that more than one
// model family uses (SAM, clicknet): dense layers, 3×3 convolutions as
// im2col + matmul, pooling, upsampling and a differentiable bilinear resize.
//
// Every operation is written from GoMLX primitives whose gradients are
// correct in v0.28.2 (DotGeneral, Reshape, Transpose, Slice, Concatenate,
// element-wise ops); engine-gomlx.md lists the ones avoided: ConvGeneral
// (a single-threaded direct loop, ~500× slower than a matmul), Pad/Reverse/
// Rsqrt (no gradient), bilinear Interpolate and multi-axis Gather (wrong
// gradients). Tests compare each gradient with finite differences.
package nnops

import (
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph ops read like math.
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/nn"
)

// Linear applies a torch nn.Linear: x[..., in] · wᵀ + b, w in PyTorch's
// [out, in] layout; b may be nil. It is GoMLX's fused dense op, which adds
// the bias in the matmul's output buffer (a broadcast Add is a slow generic
// loop in the Go backend).
func Linear(x, w, b *Node) *Node {
	return nn.Dense(x, w, b, compute.DenseLayoutOutputsInput)
}

// LinearRelu is relu(Linear(x, w, b)) with the activation fused too.
func LinearRelu(x, w, b *Node) *Node {
	return nn.Dense(x, w, b, compute.DenseLayoutOutputsInput, activation.TypeRelu)
}

// Im2col3x3 returns the 3×3 neighbourhoods of channels-last x [B,H,W,C]
// with a zero border of one pixel: [B, H, W, 9·C], ordered (dy, dx, c).
// The border is concatenated, not padded (Pad has no gradient).
func Im2col3x3(x *Node) *Node {
	dims := x.Shape().Dimensions
	h, wd, c := dims[1], dims[2], dims[3]
	g := x.Graph()
	zRow := Zeros(g, shapes.Make(x.DType(), dims[0], 1, wd, c))
	p := Concatenate([]*Node{zRow, x, zRow}, 1)
	zCol := Zeros(g, shapes.Make(x.DType(), dims[0], h+2, 1, c))
	p = Concatenate([]*Node{zCol, p, zCol}, 2)
	cols := make([]*Node, 0, 9)
	for dy := range 3 {
		for dx := range 3 {
			cols = append(cols, Slice(p, AxisRange(), AxisRange(dy, dy+h), AxisRange(dx, dx+wd), AxisRange()))
		}
	}
	return Concatenate(cols, 3)
}

// convWeightMatrix turns a torch Conv2d weight [out, in, 3, 3] into the
// [out, 9·in] matrix that matches Im2col3x3's patch layout.
func convWeightMatrix(w *Node) *Node {
	out, in := w.Shape().Dim(0), w.Shape().Dim(1)
	return Reshape(TransposeAllAxes(w, 0, 2, 3, 1), out, 9*in)
}

// Conv3x3Same applies a torch Conv2d with a 3×3 kernel, stride 1 and
// padding 1 to channels-last x [B,H,W,Cin] as im2col plus one matmul.
// w is [out, in, 3, 3]; b may be nil.
func Conv3x3Same(x, w, b *Node) *Node {
	return Linear(Im2col3x3(x), convWeightMatrix(w), b)
}

// Conv3x3SameRelu is relu(Conv3x3Same(x, w, b)), the activation fused.
func Conv3x3SameRelu(x, w, b *Node) *Node {
	return LinearRelu(Im2col3x3(x), convWeightMatrix(w), b)
}

// AvgPool2 halves H and W of channels-last x [B,H,W,C] (both even) by
// averaging 2×2 blocks.
func AvgPool2(x *Node) *Node {
	d := x.Shape().Dimensions
	return ReduceMean(Reshape(x, d[0], d[1]/2, 2, d[2]/2, 2, d[3]), 2, 4)
}

// Upsample2 doubles H and W of channels-last x [B,H,W,C] by repeating each
// pixel into a 2×2 block (nearest neighbour).
func Upsample2(x *Node) *Node {
	d := x.Shape().Dimensions
	x = Reshape(x, d[0], d[1], 1, d[2], 1, d[3])
	x = BroadcastToDims(x, d[0], d[1], 2, d[2], 2, d[3])
	return Reshape(x, d[0], 2*d[1], 2*d[2], d[3])
}

// BilinearMatrix returns the [out, in] matrix of a 1-D linear interpolation
// with PyTorch's align_corners=False rule (no antialiasing): source
// coordinate (i+0.5)·in/out − 0.5, clamped at 0, neighbours clamped at in−1.
func BilinearMatrix(in, out int) []float32 {
	m := make([]float32, out*in)
	scale := float64(in) / float64(out)
	for i := range out {
		src := max((float64(i)+0.5)*scale-0.5, 0)
		i0 := min(int(math.Floor(src)), in-1)
		i1 := min(i0+1, in-1)
		l1 := src - float64(i0)
		m[i*in+i0] += float32(1 - l1)
		m[i*in+i1] += float32(l1)
	}
	return m
}

// ResizeBilinear resizes the last two axes of x [..., H, W] to outH×outW
// with bilinear interpolation, align_corners=False and no antialiasing
// (torch.nn.functional.interpolate(mode="bilinear")). It is two matmuls with
// constant interpolation matrices, so its gradient is exact (GoMLX's
// Interpolate gradient is wrong in v0.28.2). It costs O(H·W·outW) per image.
func ResizeBilinear(x *Node, outH, outW int) *Node {
	rank := x.Rank()
	h, w := x.Shape().Dim(-2), x.Shape().Dim(-1)
	g := x.Graph()
	if w != outW {
		mw := ConvertDType(Reshape(Const(g, BilinearMatrix(w, outW)), outW, w), x.DType())
		x = DotGeneral(x, []int{rank - 1}, nil, mw, []int{1}, nil) // [..., H, outW]
	}
	if h != outH {
		mh := ConvertDType(Reshape(Const(g, BilinearMatrix(h, outH)), outH, h), x.DType())
		// Contract axis H: result [..., outW, outH]; swap back.
		x = DotGeneral(x, []int{rank - 2}, nil, mh, []int{1}, nil)
		x = Transpose(x, rank-2, rank-1)
	}
	return x
}
