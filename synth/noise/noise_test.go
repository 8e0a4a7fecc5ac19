package noise

import (
	"math"
	"math/rand/v2"
	"testing"
)

func testRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

func constant(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func mean(v []float32) float64 { m, _ := MeanStd(v); return m }

func variance(v []float32) float64 { _, s := MeanStd(v); return s * s }

func TestGaussianKernelWidthAndSum(t *testing.T) {
	for _, sigma := range []float64{0.3, 1, 2.5, 3} {
		k := GaussianKernel(sigma)
		want := 2*int(math.Ceil(3*sigma)) + 1
		if len(k) != want {
			t.Errorf("σ=%g: width %d, want 2⌈3σ⌉+1 = %d", sigma, len(k), want)
		}
		var s float64
		for _, v := range k {
			s += float64(v)
		}
		if math.Abs(s-1) > 1e-6 {
			t.Errorf("σ=%g: kernel sums to %g", sigma, s)
		}
	}
	if k := GaussianKernel(0); len(k) != 1 || k[0] != 1 {
		t.Errorf("σ=0 kernel %v, want identity", k)
	}
}

func TestBlurKeepsMeanAndSpreadsAnImpulseBySigma(t *testing.T) {
	const w, h = 61, 47
	rng := testRNG(1)
	pix := make([]float32, w*h)
	for i := range pix {
		pix[i] = float32(rng.Float64())
	}
	before := mean(pix)
	GaussianBlur(pix, w, h, 2.5, make([]float32, w*h))
	if after := mean(pix); math.Abs(after-before) > 1e-5 {
		t.Errorf("blur changed the mean from %.7f to %.7f", before, after)
	}
	// An impulse becomes the 2-D kernel: its second moment along x is
	// σ² up to the truncation at 3σ (which removes about 1 % of it).
	sigma := 2.0
	imp := make([]float32, w*h)
	imp[23*w+30] = 1
	GaussianBlur(imp, w, h, sigma, make([]float32, w*h))
	var total, m2 float64
	for y := range h {
		for x := range w {
			v := float64(imp[y*w+x])
			total += v
			m2 += v * float64((x-30)*(x-30))
		}
	}
	if math.Abs(total-1) > 1e-5 {
		t.Errorf("impulse mass %g after blur", total)
	}
	if got := m2 / total; math.Abs(got-sigma*sigma)/(sigma*sigma) > 0.03 {
		t.Errorf("impulse variance %g, want ≈ σ² = %g", got, sigma*sigma)
	}
	// Blurring a constant image leaves it constant, borders included.
	c := constant(w*h, 0.25)
	GaussianBlur(c, w, h, 3, make([]float32, w*h))
	for i, v := range c {
		if math.Abs(float64(v)-0.25) > 1e-6 {
			t.Fatalf("constant image changed at %d: %g", i, v)
		}
	}
}

func TestBlurWiderThanImage(t *testing.T) {
	// The reflection must still be defined when the kernel is wider than
	// the image, and the mean must still be kept.
	const w, h = 5, 4
	pix := []float32{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
	before := mean(pix)
	GaussianBlur(pix, w, h, 4, make([]float32, w*h))
	if after := mean(pix); math.Abs(after-before) > 1e-5 {
		t.Errorf("mean %g → %g", before, after)
	}
}

func TestReflect(t *testing.T) {
	got := []int{}
	for i := -3; i < 8; i++ {
		got = append(got, reflect(i, 4))
	}
	want := []int{2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("reflect over -3..7 in [0,4) = %v, want %v", got, want)
		}
	}
}

func TestLatticeFastPathMatchesTextbookFormula(t *testing.T) {
	const w, h = 37, 29
	for _, cell := range []float64{2, 3.7, 11, 40} {
		l := NewLattice(w, h, cell, testRNG(3))
		fast := make([]float32, w*h)
		l.AddOctave(fast, w, h, 1)
		for y := range h {
			for x := range w {
				want := l.At(float64(x)+0.5, float64(y)+0.5)
				if d := math.Abs(float64(fast[y*w+x] - want)); d > 1e-5 {
					t.Fatalf("cell %g: (%d,%d) fast %g, textbook %g", cell, x, y, fast[y*w+x], want)
				}
			}
		}
	}
}

func TestLatticeIsZeroAtLatticePointsAndBounded(t *testing.T) {
	l := NewLattice(64, 64, 8, testRNG(4))
	for j := range 8 {
		for i := range 8 {
			if v := l.At(float64(i*8), float64(j*8)); math.Abs(float64(v)) > 1e-6 {
				t.Fatalf("noise at lattice point (%d,%d) = %g, want 0", i, j, v)
			}
		}
	}
	// 2-D gradient noise with unit gradients is bounded by √2/2·… < 1.
	for y := 0.0; y < 64; y += 0.37 {
		for x := 0.0; x < 64; x += 0.41 {
			if v := l.At(x, y); math.Abs(float64(v)) > 1 {
				t.Fatalf("noise %g at (%g,%g) exceeds 1", v, x, y)
			}
		}
	}
}

func TestPerlinIsStandardizedAndSmooth(t *testing.T) {
	const w, h = 128, 96
	field := make([]float32, w*h)
	p := PerlinParams{Cells: 4, Octaves: 5, Persistence: 0.5, Lacunarity: 2}
	if err := Perlin(field, w, h, p, testRNG(5)); err != nil {
		t.Fatal(err)
	}
	m, s := MeanStd(field)
	if math.Abs(m) > 1e-5 || math.Abs(s-1) > 1e-4 {
		t.Errorf("mean %g std %g, want 0 and 1", m, s)
	}
	// Neighbour correlation along x and along y.
	var cx, cy float64
	for y := range h - 1 {
		for x := range w - 1 {
			v := float64(field[y*w+x])
			cx += v * float64(field[y*w+x+1])
			cy += v * float64(field[(y+1)*w+x])
		}
	}
	n := float64((w - 1) * (h - 1))
	if cx/n < 0.9 || cy/n < 0.9 {
		t.Errorf("neighbour correlation x %.3f y %.3f, want > 0.9 for smooth noise", cx/n, cy/n)
	}
	// White noise has none: a sanity check that the statistic can fail.
	rng := testRNG(6)
	for i := range field {
		field[i] = float32(rng.NormFloat64())
	}
	var cw float64
	for i := range len(field) - 1 {
		cw += float64(field[i] * field[i+1])
	}
	if c := cw / float64(len(field)-1); math.Abs(c) > 0.05 {
		t.Errorf("white-noise neighbour correlation %.3f", c)
	}
}

func TestPerlinSkipsOctavesFinerThanTwoPixels(t *testing.T) {
	// 16 px wide, 4 cells: 4 px cells, then 2 px, then 1 px (skipped). A
	// field with 8 requested octaves must equal the one with 2, given the
	// same random stream.
	const w, h = 16, 16
	p := PerlinParams{Cells: 4, Octaves: 8, Persistence: 0.5, Lacunarity: 2}
	a := make([]float32, w*h)
	b := make([]float32, w*h)
	if err := Perlin(a, w, h, p, testRNG(9)); err != nil {
		t.Fatal(err)
	}
	p.Octaves = 2
	if err := Perlin(b, w, h, p, testRNG(9)); err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("pixel %d differs: %g vs %g", i, a[i], b[i])
		}
	}
}

func TestPerlinRejectsBadParams(t *testing.T) {
	bad := []PerlinParams{{Cells: 0, Octaves: 1, Persistence: .5, Lacunarity: 2},
		{Cells: 2, Octaves: 0, Persistence: .5, Lacunarity: 2},
		{Cells: 2, Octaves: 1, Persistence: 0, Lacunarity: 2},
		{Cells: 2, Octaves: 1, Persistence: .5, Lacunarity: 0.5}}
	for _, p := range bad {
		if err := Perlin(make([]float32, 16), 4, 4, p, testRNG(1)); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}

func TestRayleighHasUnitMeanAndKnownVariance(t *testing.T) {
	r := make([]float32, 200000)
	Rayleigh(r, testRNG(10))
	m, s := MeanStd(r)
	// Var of Rayleigh(scale √(2/π)) = (4−π)/2 · 2/π = (4−π)/π.
	wantVar := (4 - math.Pi) / math.Pi
	if math.Abs(m-1) > 0.005 || math.Abs(s*s-wantVar) > 0.005 {
		t.Errorf("mean %.4f var %.4f, want 1 and %.4f", m, s*s, wantVar)
	}
}

func TestSpeckleIsMultiplicative(t *testing.T) {
	const w, h = 300, 300
	for _, x := range []float32{0.2, 0.8} {
		pix := constant(w*h, x)
		Speckle(pix, w, h, 1, 0, testRNG(11), make([]float32, 2*w*h))
		m, s := MeanStd(pix)
		wantStd := float64(x) * math.Sqrt((4-math.Pi)/math.Pi)
		if math.Abs(m-float64(x)) > 0.01*float64(x) || math.Abs(s-wantStd) > 0.02*wantStd {
			t.Errorf("x=%g: mean %.4f std %.4f, want %g and %.4f", x, m, s, x, wantStd)
		}
	}
	// β = 0 leaves the image alone; smoothing keeps the mean but lowers the variance.
	pix := constant(w*h, 0.5)
	Speckle(pix, w, h, 0, 0, testRNG(12), make([]float32, 2*w*h))
	if m, s := MeanStd(pix); m != 0.5 || s != 0 {
		t.Errorf("β=0 changed the image: mean %g std %g", m, s)
	}
	rough := constant(w*h, 0.5)
	Speckle(rough, w, h, 1, 0, testRNG(13), make([]float32, 2*w*h))
	smooth := constant(w*h, 0.5)
	Speckle(smooth, w, h, 1, 1.5, testRNG(13), make([]float32, 2*w*h))
	mr, sr := MeanStd(rough)
	ms, ss := MeanStd(smooth)
	if math.Abs(ms-mr) > 0.005 || !(ss < 0.5*sr) {
		t.Errorf("smoothing: mean %.4f→%.4f, std %.4f→%.4f", mr, ms, sr, ss)
	}
}

func TestPoissonVarianceIsProportionalToMean(t *testing.T) {
	const n = 100000
	for _, lambda := range []float64{10, 300} {
		for _, x := range []float32{0.05, 0.4, 0.9} {
			pix := constant(n, x)
			Poisson(pix, lambda, testRNG(uint64(lambda)))
			m, s := MeanStd(pix)
			// y = K/λ with K ~ Poisson(λx): E = x, Var = x/λ.
			wantVar := float64(x) / lambda
			if math.Abs(m-float64(x)) > 4*math.Sqrt(wantVar/n) {
				t.Errorf("λ=%g x=%g: mean %.5f", lambda, x, m)
			}
			if math.Abs(s*s-wantVar)/wantVar > 0.03 {
				t.Errorf("λ=%g x=%g: var %.3g, want x/λ = %.3g", lambda, x, s*s, wantVar)
			}
			for _, v := range pix[:1000] {
				if k := float64(v) * lambda; math.Abs(k-math.Round(k)) > 1e-3 {
					t.Fatalf("λ=%g: y·λ = %g is not a count", lambda, k)
				}
			}
		}
	}
	neg := constant(10, -0.3)
	Poisson(neg, 100, testRNG(1))
	for _, v := range neg {
		if v != 0 {
			t.Fatalf("negative intensity gave %g, want 0", v)
		}
	}
}

func TestGaussianNoiseMoments(t *testing.T) {
	pix := constant(200000, 0.5)
	Gaussian(pix, 0.1, testRNG(14))
	m, s := MeanStd(pix)
	if math.Abs(m-0.5) > 0.001 || math.Abs(s-0.1) > 0.001 {
		t.Errorf("mean %.4f std %.4f, want 0.5 and 0.1", m, s)
	}
}

func TestRicianOnZeroHasRayleighMean(t *testing.T) {
	const sigma = 0.08
	pix := make([]float32, 200000)
	Rician(pix, sigma, testRNG(15))
	m, _ := MeanStd(pix)
	if want := sigma * math.Sqrt(math.Pi/2); math.Abs(m-want) > 0.005*want {
		t.Errorf("mean %.5f, want σ√(π/2) = %.5f", m, want)
	}
	// At high SNR the Rician is close to Gaussian around √(x²+σ²).
	hi := constant(200000, 0.8)
	Rician(hi, sigma, testRNG(16))
	m, s := MeanStd(hi)
	if want := math.Sqrt(0.64 + sigma*sigma); math.Abs(m-want) > 0.002 || math.Abs(s-sigma) > 0.003 {
		t.Errorf("high SNR mean %.4f std %.4f, want ≈ %.4f and %.3f", m, s, want, sigma)
	}
}

// TestPoissonVariateMatchesPMF compares draw frequencies with the exact
// probability mass function on both sides of the sampler's switch.
func TestPoissonVariateMatchesPMF(t *testing.T) {
	for _, mu := range []float64{0.3, 3.7, 9.99, 10, 42.5, 700, 55} {
		const n = 200000
		rng := testRNG(uint64(mu * 100))
		sampler := newPoissonSampler()
		counts := map[int]int{}
		for range n {
			counts[int(sampler.variate(mu, rng))]++
		}
		// Chi-square over the values with expected count ≥ 20, the rest pooled.
		lo, hi := int(math.Max(0, mu-6*math.Sqrt(mu)-2)), int(mu+6*math.Sqrt(mu)+2)
		chi2, dof := 0.0, -1
		pooledObs, pooledExp := 0.0, 0.0
		for k := lo; k <= hi; k++ {
			lg, _ := math.Lgamma(float64(k) + 1)
			exp := n * math.Exp(-mu+float64(k)*math.Log(mu)-lg)
			obs := float64(counts[k])
			delete(counts, k)
			if exp < 20 {
				pooledObs += obs
				pooledExp += exp
				continue
			}
			chi2 += (obs - exp) * (obs - exp) / exp
			dof++
		}
		for _, c := range counts { // values outside [lo, hi]
			pooledObs += float64(c)
		}
		pooledExp = n - (n - pooledExp) // mass not in the binned cells
		var binned float64
		for k := lo; k <= hi; k++ {
			lg, _ := math.Lgamma(float64(k) + 1)
			if e := n * math.Exp(-mu+float64(k)*math.Log(mu)-lg); e >= 20 {
				binned += e
			}
		}
		pooledExp = n - binned
		if pooledExp >= 20 {
			chi2 += (pooledObs - pooledExp) * (pooledObs - pooledExp) / pooledExp
			dof++
		}
		// 99.9th percentile of χ² ≈ dof + 3.1·√(2·dof) + 6 for these sizes.
		if limit := float64(dof) + 3.1*math.Sqrt(2*float64(dof)) + 6; chi2 > limit {
			t.Errorf("μ=%g: χ² = %.1f over %d degrees of freedom (limit %.1f)", mu, chi2, dof, limit)
		}
	}
}

func TestPoissonSamplerTables(t *testing.T) {
	s := newPoissonSampler()
	for mu := 0.0; mu < poissonInversionLimit; mu += 0.0137 {
		if got, want := s.expNeg(mu), math.Exp(-mu); math.Abs(got-want) > 1e-12*want {
			t.Fatalf("expNeg(%g) = %.17g, want %.17g", mu, got, want)
		}
	}
	for _, k := range []float64{0, 1, 5, 63, 64, 65, 100, 1234, 5e4} {
		want, _ := math.Lgamma(k + 1)
		if got := s.logFactorial(k); math.Abs(got-want) > 1e-12*math.Max(1, want) {
			t.Errorf("ln %g! = %.17g, want %.17g", k, got, want)
		}
	}
}
