package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// randomLogits returns values of magnitude in [0.05, 3] with random signs, so
// that no finite-difference probe crosses the binarisation threshold at 0.
func randomLogits(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 0.05 + 2.95*rng.Float64()
		if rng.IntN(2) == 0 {
			x[i] = -x[i]
		}
	}
	return x
}

func randomTargets(rng *rand.Rand, n int, soft bool) []float64 {
	t := make([]float64, n)
	for i := range t {
		if soft {
			t[i] = rng.Float64()
		} else if rng.IntN(3) == 0 {
			t[i] = 1
		}
	}
	return t
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// referenceDice and referenceFocal are the textbook formulas, computed on the
// host in float64 for one mask.
func referenceDice(x, t []float64, smooth float64) float64 {
	var inter, sp, st float64
	for i := range x {
		p := sigmoid(x[i])
		inter += p * t[i]
		sp += p
		st += t[i]
	}
	return 1 - (2*inter+smooth)/(sp+st+smooth)
}

func referenceFocal(x, t []float64, alpha, gamma float64) float64 {
	var sum float64
	for i := range x {
		p := sigmoid(x[i])
		ce := -t[i]*math.Log(p) - (1-t[i])*math.Log(1-p)
		pt := p*t[i] + (1-p)*(1-t[i])
		at := alpha*t[i] + (1-alpha)*(1-t[i])
		sum += at * math.Pow(1-pt, gamma) * ce
	}
	return sum / float64(len(x))
}

func TestLossValuesMatchReference(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(1, 2))
	const n, h, w = 3, 5, 7
	x := randomLogits(rng, n*h*w)
	tg := randomTargets(rng, n*h*w, true)
	out := MustExecOnceN(backend, func(xn, tn *Node) []*Node {
		return []*Node{DiceLoss(xn, tn, 1), FocalLoss(xn, tn, 0.25, 2), FocalLoss(xn, tn, 0.4, 1.5), BCELoss(xn, tn)}
	}, tensors.FromFlatDataAndDimensions(x, n, h, w), tensors.FromFlatDataAndDimensions(tg, n, h, w))
	dice := tensors.MustCopyFlatData[float64](out[0])
	focal := tensors.MustCopyFlatData[float64](out[1])
	focal15 := tensors.MustCopyFlatData[float64](out[2])
	bce := tensors.MustCopyFlatData[float64](out[3])
	for i := 0; i < n; i++ {
		xs, ts := x[i*h*w:(i+1)*h*w], tg[i*h*w:(i+1)*h*w]
		if want := referenceDice(xs, ts, 1); math.Abs(dice[i]-want) > 1e-12 {
			t.Errorf("dice[%d] = %.15g, want %.15g", i, dice[i], want)
		}
		if want := referenceFocal(xs, ts, 0.25, 2); math.Abs(focal[i]-want) > 1e-12 {
			t.Errorf("focal[%d] = %.15g, want %.15g", i, focal[i], want)
		}
		if want := referenceFocal(xs, ts, 0.4, 1.5); math.Abs(focal15[i]-want) > 1e-12 {
			t.Errorf("focal(γ=1.5)[%d] = %.15g, want %.15g", i, focal15[i], want)
		}
		// Focal with α = 0.5 and γ = 0 is half the cross-entropy.
		if want := 2 * referenceFocal(xs, ts, 0.5, 0); math.Abs(bce[i]-want) > 1e-12 {
			t.Errorf("bce[%d] = %.15g, want %.15g", i, bce[i], want)
		}
	}
	// A perfect, confident prediction has (almost) zero Dice loss.
	perfect := MustExecOnce(backend, func(xn, tn *Node) *Node { return DiceLoss(xn, tn, 1) },
		tensors.FromFlatDataAndDimensions([]float64{30, -30, 30, -30}, 1, 2, 2),
		tensors.FromFlatDataAndDimensions([]float64{1, 0, 1, 0}, 1, 2, 2))
	if v := tensors.MustCopyFlatData[float64](perfect)[0]; math.Abs(v) > 1e-9 {
		t.Errorf("dice loss of a perfect prediction = %g, want 0", v)
	}
}

// checkGradient compares the graph gradient of a scalar loss of x against
// central finite differences of the same loss, in float64.
func checkGradient(t *testing.T, name string, x []float64, dims []int, loss func(x *Node) *Node) {
	t.Helper()
	backend := testBackend(t)
	gradExec := MustNewExec(backend, func(xn *Node) []*Node {
		l := loss(xn)
		return []*Node{l, Gradient(l, xn)[0]}
	})
	valueExec := MustNewExec(backend, func(xn *Node) *Node { return loss(xn) })
	outs := gradExec.MustCall(tensors.FromFlatDataAndDimensions(x, dims...))
	grad := tensors.MustCopyFlatData[float64](outs[1])
	const h = 1e-6
	probe := append([]float64(nil), x...)
	eval := func() float64 {
		v := valueExec.MustCall(tensors.FromFlatDataAndDimensions(probe, dims...))[0]
		return tensors.MustCopyFlatData[float64](v)[0]
	}
	var worst, largest float64
	for i := range x {
		probe[i] = x[i] + h
		up := eval()
		probe[i] = x[i] - h
		down := eval()
		probe[i] = x[i]
		fd := (up - down) / (2 * h)
		scale := math.Max(math.Abs(fd), math.Abs(grad[i]))
		largest = math.Max(largest, scale)
		if scale < 1e-9 {
			continue // both vanish
		}
		// Central differences in float64 carry about 1e-10 of rounding error.
		diff := math.Abs(fd - grad[i])
		worst = math.Max(worst, diff/scale)
		if diff > 1e-5*scale+5e-10 {
			t.Fatalf("%s: d/dx[%d] graph %.10g, finite differences %.10g", name, i, grad[i], fd)
		}
	}
	if largest < 1e-6 {
		t.Fatalf("%s: every gradient component is below 1e-6: the check would prove nothing", name)
	}
	if dtypes.Float64 != outs[1].DType() {
		t.Fatalf("%s: gradient dtype %s", name, outs[1].DType())
	}
	t.Logf("%s: %d components, largest |gradient| %.3g, worst relative error %.2g", name, len(x), largest, worst)
}

func TestLossGradientsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const b, m, h, w = 2, 4, 5, 6
	x := randomLogits(rng, b*m*h*w)
	target := randomTargets(rng, b*h*w, false)
	soft := randomTargets(rng, b*m*h*w, true)
	iouPred := []float64{0.1, 0.8, 0.4, 0.6, 0.9, 0.2, 0.3, 0.5}

	checkGradient(t, "dice", x, []int{b, m, h, w}, func(xn *Node) *Node {
		tn := Const(xn.Graph(), tensors.FromFlatDataAndDimensions(soft, b, m, h, w))
		return ReduceAllSum(DiceLoss(xn, tn, 1))
	})
	checkGradient(t, "focal γ=2", x, []int{b, m, h, w}, func(xn *Node) *Node {
		tn := Const(xn.Graph(), tensors.FromFlatDataAndDimensions(soft, b, m, h, w))
		return ReduceAllSum(FocalLoss(xn, tn, 0.25, 2))
	})
	checkGradient(t, "focal γ=1.5", x, []int{b, m, h, w}, func(xn *Node) *Node {
		tn := Const(xn.Graph(), tensors.FromFlatDataAndDimensions(soft, b, m, h, w))
		return ReduceAllSum(FocalLoss(xn, tn, 0.25, 1.5))
	})
	checkGradient(t, "bce", x, []int{b, m, h, w}, func(xn *Node) *Node {
		tn := Const(xn.Graph(), tensors.FromFlatDataAndDimensions(soft, b, m, h, w))
		return ReduceAllSum(BCELoss(xn, tn))
	})
	for _, cfg := range []LossConfig{
		{Kind: "dice", DiceSmooth: 1, IoUWeight: 1},
		{Kind: "dice_bce", DiceSmooth: 1, BCEWeight: 1, IoUWeight: 1},
		{Kind: "dice_focal", DiceSmooth: 1, FocalWeight: 20, FocalAlpha: 0.25, FocalGamma: 2, IoUWeight: 1},
	} {
		checkGradient(t, "prompt loss "+cfg.Kind, x, []int{b, m, h, w}, func(xn *Node) *Node {
			g := xn.Graph()
			tn := Const(g, tensors.FromFlatDataAndDimensions(target, b, h, w))
			iou := Const(g, tensors.FromFlatDataAndDimensions(iouPred, b, m))
			multi := Const(g, []float64{1, 0})
			total, _ := PromptLoss(cfg, xn, iou, tn, multi)
			return total
		})
	}
	// The IoU head's gradient: d/dp of the squared error is 2(p − IoU)/|allowed|.
	checkGradient(t, "prompt loss wrt iou prediction", iouPred, []int{b, m}, func(pn *Node) *Node {
		g := pn.Graph()
		xn := Const(g, tensors.FromFlatDataAndDimensions(x, b, m, h, w))
		tn := Const(g, tensors.FromFlatDataAndDimensions(target, b, h, w))
		total, _ := PromptLoss(LossConfig{Kind: "dice", DiceSmooth: 1, IoUWeight: 1}, xn, pn, tn, Const(g, []float64{1, 0}))
		return total
	})
}

func TestPromptLossSelectsMasksLikeSAM(t *testing.T) {
	backend := testBackend(t)
	// Sample 0 is ambiguous (one click): its loss is that of the best of masks
	// 1–3 although mask 0 is perfect. Sample 1 is not: mask 0 counts.
	const h, w = 2, 2
	target := []float64{1, 0, 1, 0, 1, 1, 0, 0}
	logits := []float64{
		9, -9, 9, -9, // s0 m0: perfect, not eligible
		9, 9, 9, 9, // s0 m1: Dice loss 1 − 4/6
		9, -9, 9, 9, // s0 m2: Dice loss 1 − 4/5, the best eligible
		-9, -9, -9, -9, // s0 m3: empty, loss 1
		9, 9, -9, -9, // s1 m0: perfect, chosen
		-9, -9, 9, 9, // s1 m1: all wrong
		-9, -9, 9, 9, // s1 m2
		-9, -9, -9, -9, // s1 m3
	}
	seg := MustExecOnce(backend, func(xn *Node) *Node {
		g := xn.Graph()
		_, s := PromptLoss(LossConfig{Kind: "dice"}, xn, Zeros(g, shapes.Make(dtypes.Float64, 2, 4)),
			Const(g, tensors.FromFlatDataAndDimensions(target, 2, h, w)), Const(g, []float64{1, 0}))
		return s
	}, tensors.FromFlatDataAndDimensions(logits, 2, 4, h, w))
	// Mean over the batch of 0.2 and 0 (sigmoid(9) is not exactly 1).
	if v := tensors.MustCopyFlatData[float64](seg)[0]; math.Abs(v-0.1) > 1e-3 {
		t.Errorf("selected segmentation loss = %g, want 0.1", v)
	}
}
