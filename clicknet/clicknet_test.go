package clicknet

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/internal/mlbackend"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

// tinyConfig is a two-level network on a 16² input, small enough for
// finite differences.
func tinyConfig() Config {
	return Config{Family: Family, Name: "tiny", InputSize: 16, Patch: 2, Widths: []int{4, 6}, ClickRadius: 2}
}

func TestPresetsValidate(t *testing.T) {
	for name, c := range Presets() {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := tinyConfig()
	bad.InputSize = 18 // not divisible by patch·2
	if bad.Validate() == nil {
		t.Error("input size 18 with patch 2 and two levels accepted")
	}
	if _, err := ParseConfig([]byte(`{"name":"x"}`)); err == nil {
		t.Error("config without family accepted")
	}
}

// TestGradientMatchesFiniteDifferences checks the autodiff gradient of a
// loss of the logits with respect to every parameter, along a random
// direction, against a central finite difference, in float64.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	backend, err := mlbackend.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig()
	rng := rand.New(rand.NewPCG(1, 2))
	b, s := 2, cfg.InputSize
	xs := make([]float64, b*s*s*Channels)
	for i := range xs {
		xs[i] = rng.NormFloat64()
	}
	ws := make([]float64, b*s*s)
	for i := range ws {
		ws[i] = rng.NormFloat64()
	}
	x := tensors.FromFlatDataAndDimensions(xs, b, s, s, Channels)
	wt := tensors.FromFlatDataAndDimensions(ws, b, s, s)
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(3); err != nil {
		t.Fatal(err)
	}
	// A smooth loss (ReLU kinks aside): Σ w·tanh(logits).
	loss := func(scope *model.Scope, x, w *Node) *Node {
		return ReduceAllSum(Mul(w, Tanh(Logits(scope, cfg, x))))
	}
	lossExec := model.MustNewExec(backend, store, loss)
	lossExec.MustExec(x, wt) // creates the variables
	var vars []*model.Variable
	for v := range store.IterVariables() {
		if v.Name()[0] != '#' { // the store's random-number state
			vars = append(vars, v)
		}
	}
	if len(vars) != len(Params(cfg)) {
		t.Fatalf("%d variables, want %d", len(vars), len(Params(cfg)))
	}
	gradExec := model.MustNewExec(backend, store, func(scope *model.Scope, x, w *Node) []*Node {
		l := loss(scope, x, w)
		nodes := make([]*Node, len(vars))
		for i, v := range vars {
			nodes[i] = v.NodeValue(l.Graph())
		}
		return Gradient(l, nodes...)
	})
	grads := gradExec.MustExec(x, wt)
	// Biases start at zero; give them values so their gradients are general.
	base := make([][]float64, len(vars))
	dirs := make([][]float64, len(vars))
	var want float64
	for i, v := range vars {
		val := tensors.MustCopyFlatData[float64](v.MustValue())
		for j := range val {
			if val[j] == 0 {
				val[j] = 0.1 * rng.NormFloat64()
			}
		}
		base[i] = val
		dirs[i] = make([]float64, len(val))
		for j := range dirs[i] {
			dirs[i][j] = rng.NormFloat64()
		}
	}
	set := func(h float64) {
		for i, v := range vars {
			val := make([]float64, len(base[i]))
			for j := range val {
				val[j] = base[i][j] + h*dirs[i][j]
			}
			v.MustSetValue(tensors.FromFlatDataAndDimensions(val, v.Shape().Dimensions...))
		}
	}
	set(0)
	grads = gradExec.MustExec(x, wt)
	for i := range vars {
		g := tensors.MustCopyFlatData[float64](grads[i])
		for j := range g {
			want += g[j] * dirs[i][j]
		}
	}
	const h = 1e-5
	set(h)
	lp := tensors.MustCopyFlatData[float64](lossExec.MustExec(x, wt)[0])[0]
	set(-h)
	lm := tensors.MustCopyFlatData[float64](lossExec.MustExec(x, wt)[0])[0]
	got := (lp - lm) / (2 * h)
	t.Logf("directional derivative: finite difference %.10g, autodiff %.10g", got, want)
	if rel := math.Abs(got-want) / math.Max(math.Abs(want), 1e-12); rel > 1e-5 {
		t.Errorf("directional derivative: finite difference %.10g, autodiff %.10g (relative error %.2g)", got, want, rel)
	}
}

// TestEncodeChannels checks the input encoding by hand on a 4×4 frame.
func TestEncodeChannels(t *testing.T) {
	f := Frame{Size: 4, ResizedH: 2, ResizedW: 3, Image: make([]float32, 16)}
	// Valid part: values 0, 0.5, 1 / 0, 0.5, 1 → mean 0.5, std √(1/6).
	for y := range 2 {
		f.Image[y*4], f.Image[y*4+1], f.Image[y*4+2] = 0, 0.5, 1
	}
	prev := make([]float32, 16)
	prev[5] = 1
	x, err := f.Encode(nil, []Point{{X: 0.5, Y: 0.5, Positive: true}, {X: 3.5, Y: 3.5}}, &Box{X0: 1, Y0: 1, X1: 3, Y1: 2}, prev, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	at := func(px, py, ch int) float32 { return x[(py*4+px)*Channels+ch] }
	std := math.Sqrt(1.0 / 6)
	if got, want := float64(at(2, 1, ChImage)), 0.5/std; math.Abs(got-want) > 1e-5 {
		t.Errorf("standardised image = %g, want %g", got, want)
	}
	if at(3, 3, ChImage) != 0 || at(3, 3, ChValid) != 0 || at(2, 1, ChValid) != 1 {
		t.Error("padding must be 0 in the image and valid channels, the image 1 in valid")
	}
	if at(0, 0, ChPositive) != 1 || at(1, 0, ChPositive) != 0 || at(3, 3, ChNegative) != 1 || at(0, 0, ChNegative) != 0 {
		t.Error("click disks of radius 0.5 must cover exactly the clicked pixel")
	}
	for py := range 4 {
		for px := range 4 {
			in := px >= 1 && px <= 2 && py == 1
			if (at(px, py, ChBox) == 1) != in {
				t.Errorf("box channel at (%d,%d) = %g", px, py, at(px, py, ChBox))
			}
		}
	}
	if at(1, 1, ChPrevious) != 1 || at(0, 1, ChPrevious) != 0 {
		t.Error("previous-mask channel not copied")
	}
	if _, err := f.Encode(nil, nil, nil, make([]float32, 3), 1); err == nil {
		t.Error("previous mask of the wrong size accepted")
	}
}

// TestWeightsRoundTripAndPredict exports a fresh model's weights, loads
// them into a predictor and checks that the prediction has the image's
// size and that the same weights give the same logits.
func TestWeightsRoundTripAndPredict(t *testing.T) {
	backend, err := mlbackend.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig()
	sd, err := InitStateDict(backend, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPredictor(backend, cfg, sd)
	if err != nil {
		t.Fatal(err)
	}
	gray := make([]uint8, 20*30)
	for i := range gray {
		gray[i] = uint8(i * 7)
	}
	prep, err := p.Prepare(20, 30, gray)
	if err != nil {
		t.Fatal(err)
	}
	if prep.Frame.ResizedW != 16 || prep.Frame.ResizedH != 11 {
		t.Errorf("resized %dx%d, want 16x11", prep.Frame.ResizedW, prep.Frame.ResizedH)
	}
	pr := Prompt{Points: []ImagePoint{{X: 3, Y: 4, Positive: true}}}
	a, err := p.Predict(context.Background(), prep, pr)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 20*30 {
		t.Fatalf("%d logits for a 30x20 image", len(a))
	}
	b, _ := p.Predict(context.Background(), prep, pr)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("two predictions of the same prompt differ")
		}
	}
	pr.Previous = make([]uint8, 7)
	if _, err := p.Predict(context.Background(), prep, pr); err == nil {
		t.Error("previous mask of the wrong size accepted")
	}
	// A state dict with a wrong shape is refused.
	w, _ := sd.Get("head.weight")
	w.Shape = []int{len(w.Data), 1}
	bad := checkpoint.NewStateDict()
	for _, n := range sd.Names() {
		tv, _ := sd.Get(n)
		if n == "head.weight" {
			tv = w
		}
		if err := bad.Set(n, tv); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := NewPredictor(backend, cfg, bad); err == nil {
		t.Error("state dict with a wrongly shaped tensor accepted")
	}
}
