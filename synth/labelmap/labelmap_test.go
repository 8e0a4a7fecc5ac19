package labelmap

import (
	"math"
	"math/rand/v2"
	"testing"
)

func testRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 11)) }

// bilinear is the textbook upsampling of one channel of a layer with
// corners aligned, evaluated at (x, y) in [0, side−1].
func bilinear(l Layer, ch, side int, x, y float64) float64 {
	h := float64(side-1) / float64(l.N-1)
	gx, gy := x/h, y/h
	i := min(l.N-2, int(math.Floor(gx)))
	j := min(l.N-2, int(math.Floor(gy)))
	tx, ty := gx-float64(i), gy-float64(j)
	at := func(i, j int) float64 { return float64(l.Values[(j*l.N+i)*l.Channels+ch]) }
	return (1-tx)*(1-ty)*at(i, j) + tx*(1-ty)*at(i+1, j) + (1-tx)*ty*at(i, j+1) + tx*ty*at(i+1, j+1)
}

func TestFieldMatchesSumOfBilinearLayers(t *testing.T) {
	const side = 97
	rng := testRNG(1)
	layers := []Layer{RandomLayer(5, 3, 1, rng), RandomLayer(8, 3, 0.5, rng), RandomLayer(13, 3, 2, rng)}
	f := NewField(side, layers, 7)
	out := make([]float32, 3)
	for range 2000 {
		x, y := rng.Float64()*(side-1), rng.Float64()*(side-1)
		f.At(x, y, out)
		for ch := range 3 {
			var want float64
			for _, l := range layers {
				want += bilinear(l, ch, side, x, y)
			}
			if math.Abs(float64(out[ch])-want) > 1e-4 {
				t.Fatalf("(%g,%g) ch %d: field %g, layers %g", x, y, ch, out[ch], want)
			}
		}
	}
	// Row evaluation agrees with At at integer coordinates.
	row := make([]float32, side)
	for _, y := range []int{0, 13, 50, side - 1} {
		f.Row(y, 2, row)
		for x := range side {
			f.At(float64(x), float64(y), out)
			if math.Abs(float64(row[x]-out[2])) > 1e-5 {
				t.Fatalf("row %d x %d: %g vs %g", y, x, row[x], out[2])
			}
		}
	}
	// Corners interpolate exactly: at node positions the field is the node sum.
	f.At(side-1, 0, out)
	want := layers[0].Values[(0*5+4)*3] + layers[1].Values[(0*8+7)*3] + layers[2].Values[(0*13+12)*3]
	if math.Abs(float64(out[0]-want)) > 1e-5 {
		t.Errorf("corner value %g, want %g", out[0], want)
	}
}

func TestGridPoints(t *testing.T) {
	// 256² canvas with the default 32 and 64 px scales: 8 and 4 nodes.
	if a, b := GridPoints(256, 32), GridPoints(256, 64); a != 8 || b != 4 {
		t.Errorf("got %d and %d nodes, want 8 and 4", a, b)
	}
	if n := GridPoints(100, 1000); n != 2 {
		t.Errorf("coarse scale gives %d nodes, want at least 2", n)
	}
}

func TestArgmaxMatchesBruteForce(t *testing.T) {
	const side = 80
	rng := testRNG(2)
	p := Params{Labels: 12, NoiseSpacings: []float64{10, 20}, NoiseSigmas: []float64{0.7, 0.4},
		WarpSpacings: []float64{5, 10, 20}, WarpSigmas: []float64{2, 3, 1}}
	noise, warp := Fields(side, p, rng)
	got := Argmax(noise, warp)
	val := make([]float32, p.Labels)
	u := make([]float32, 2)
	mismatches, present := 0, map[uint8]bool{}
	for y := range side {
		for x := range side {
			warp.At(float64(x), float64(y), u)
			px := math.Min(math.Max(float64(x)+float64(u[0]), 0), side-1)
			py := math.Min(math.Max(float64(y)+float64(u[1]), 0), side-1)
			noise.At(px, py, val)
			best := 0
			for l := range val {
				if val[l] > val[best] {
					best = l
				}
			}
			g := got[y*side+x]
			present[g] = true
			if int(g) != best && val[best]-val[g] > 1e-5 {
				mismatches++
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d pixels disagree with the brute-force argmax", mismatches)
	}
	if len(present) < 6 {
		t.Errorf("only %d of 12 labels present", len(present))
	}
}

func TestGenerateRejectsBadParams(t *testing.T) {
	if _, err := Generate(64, Params{Labels: 0, NoiseSpacings: []float64{8}, NoiseSigmas: []float64{1}}, testRNG(1)); err == nil {
		t.Error("0 labels accepted")
	}
	if _, err := Generate(64, Params{Labels: 3, NoiseSpacings: []float64{0}, NoiseSigmas: []float64{1}}, testRNG(1)); err == nil {
		t.Error("zero spacing accepted")
	}
}

// erodeNaive applies the 3×3 erosion k times literally, outside the
// canvas counting as the pixel's own label.
func erodeNaive(labels []uint8, w, h int, iterations []int) []bool {
	fg := make([]bool, w*h)
	for i := range fg {
		fg[i] = true
	}
	maxK := 0
	for _, k := range iterations {
		maxK = max(maxK, k)
	}
	for it := 1; it <= maxK; it++ {
		next := append([]bool(nil), fg...)
		for y := range h {
			for x := range w {
				l := labels[y*w+x]
				if iterations[l] < it || !fg[y*w+x] {
					continue
				}
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						xx, yy := x+dx, y+dy
						if xx < 0 || yy < 0 || xx >= w || yy >= h {
							continue
						}
						j := yy*w + xx
						if labels[j] != l || !fg[j] {
							next[y*w+x] = false
						}
					}
				}
			}
		}
		fg = next
	}
	return fg
}

func TestErodeMatchesIteratedThreeByThree(t *testing.T) {
	rng := testRNG(3)
	for trial := range 5 {
		const side = 70
		p := Params{Labels: 10, NoiseSpacings: []float64{9, 18}, NoiseSigmas: []float64{1, 0.5},
			WarpSpacings: []float64{5}, WarpSigmas: []float64{2}}
		labels, err := Generate(side, p, rng)
		if err != nil {
			t.Fatal(err)
		}
		iters := make([]int, p.Labels)
		for l := range iters {
			if rng.IntN(2) == 0 {
				iters[l] = 1 + rng.IntN(4)
			}
		}
		got, want := Erode(labels, side, side, iters), erodeNaive(labels, side, side, iters)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("trial %d: pixel (%d,%d) label %d (k=%d): fast %v, naive %v",
					trial, i%side, i/side, labels[i], iters[labels[i]], got[i], want[i])
			}
		}
	}
}

func TestErodeOpensGapsOnlyBetweenLabels(t *testing.T) {
	// Left half label 0 eroded twice, right half label 1 untouched: a
	// two-column gap on the left of the boundary, none at the canvas edge.
	const w, h = 10, 6
	labels := make([]uint8, w*h)
	for y := range h {
		for x := 5; x < w; x++ {
			labels[y*w+x] = 1
		}
	}
	fg := Erode(labels, w, h, []int{2, 0})
	for y := range h {
		for x := range w {
			want := x < 3 || x >= 5
			if fg[y*w+x] != want {
				t.Fatalf("(%d,%d) foreground %v, want %v", x, y, fg[y*w+x], want)
			}
		}
	}
}

// componentsNaive labels 8-connected same-label foreground pixels by flood fill.
func componentsNaive(labels []uint8, fg []bool, w, h int) []int {
	comp := make([]int, w*h)
	for i := range comp {
		comp[i] = -1
	}
	next := 0
	for s := range comp {
		if !fg[s] || comp[s] >= 0 {
			continue
		}
		stack := []int{s}
		comp[s] = next
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := i%w, i/w
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := x+dx, y+dy
					if xx < 0 || yy < 0 || xx >= w || yy >= h {
						continue
					}
					j := yy*w + xx
					if fg[j] && comp[j] < 0 && labels[j] == labels[i] {
						comp[j] = next
						stack = append(stack, j)
					}
				}
			}
		}
		next++
	}
	return comp
}

func TestComponentsMatchFloodFill(t *testing.T) {
	rng := testRNG(4)
	const w, h = 60, 45
	labels := make([]uint8, w*h)
	fg := make([]bool, w*h)
	for i := range labels {
		labels[i] = uint8(rng.IntN(3))
		fg[i] = rng.Float64() < 0.6
	}
	runs, areas := Components(labels, fg, w, h)
	want := componentsNaive(labels, fg, w, h)
	// Same partition: a bijection between component ids.
	got := make([]int, w*h)
	for i := range got {
		got[i] = -1
	}
	for _, r := range runs {
		for x := r.X0; x < r.X1; x++ {
			got[r.Y*w+x] = r.Comp
		}
	}
	fwd, back := map[int]int{}, map[int]int{}
	for i := range got {
		if (got[i] < 0) != (want[i] < 0) {
			t.Fatalf("pixel %d: run cover %d, flood %d", i, got[i], want[i])
		}
		if got[i] < 0 {
			continue
		}
		if v, ok := fwd[got[i]]; ok && v != want[i] {
			t.Fatalf("component %d spans flood components %d and %d", got[i], v, want[i])
		}
		if v, ok := back[want[i]]; ok && v != got[i] {
			t.Fatalf("flood component %d split into %d and %d", want[i], v, got[i])
		}
		fwd[got[i]], back[want[i]] = want[i], got[i]
	}
	total := 0
	for _, a := range areas {
		total += a
	}
	fgCount := 0
	for _, f := range fg {
		if f {
			fgCount++
		}
	}
	if total != fgCount || len(areas) != len(back) {
		t.Errorf("areas sum %d (fg %d), %d components (flood %d)", total, fgCount, len(areas), len(back))
	}
}

func TestErosionSeparatesErodedLabelsFromTheirNeighbours(t *testing.T) {
	// After erosion, two 8-adjacent foreground pixels of different labels
	// can only both belong to labels left uneroded: every eroded label is
	// cut off from its neighbours by a gap.
	rng := testRNG(5)
	const side = 128
	p := Params{Labels: 13, NoiseSpacings: []float64{16, 32}, NoiseSigmas: []float64{0.8, 0.6},
		WarpSpacings: []float64{8, 16, 32}, WarpSigmas: []float64{4, 6, 3}}
	labels, err := Generate(side, p, rng)
	if err != nil {
		t.Fatal(err)
	}
	iters := make([]int, p.Labels)
	for l := range iters {
		if l%2 == 0 {
			iters[l] = 1 + l%2
		}
	}
	fg := Erode(labels, side, side, iters)
	touching, gaps := 0, 0
	for y := range side {
		for x := range side {
			i := y*side + x
			if !fg[i] {
				gaps++
				continue
			}
			for _, d := range [][2]int{{1, 0}, {0, 1}, {1, 1}, {-1, 1}} {
				xx, yy := x+d[0], y+d[1]
				if xx < 0 || xx >= side || yy >= side {
					continue
				}
				j := yy*side + xx
				if fg[j] && labels[j] != labels[i] {
					if iters[labels[i]] > 0 || iters[labels[j]] > 0 {
						t.Fatalf("eroded label touches another at (%d,%d)-(%d,%d)", x, y, xx, yy)
					}
					touching++
				}
			}
		}
	}
	if gaps == 0 || touching == 0 {
		t.Errorf("%d gap pixels, %d touching pairs of uneroded labels; want both", gaps, touching)
	}
}

func TestPruningKeepsTheArgmax(t *testing.T) {
	const side = 96
	p := Params{Labels: 14, NoiseSpacings: []float64{12, 24}, NoiseSigmas: []float64{1, 0.5},
		WarpSpacings: []float64{6, 12}, WarpSigmas: []float64{3, 2}}
	noise, warp := Fields(side, p, testRNG(8))
	pruned, all := argmax(noise, warp, noise.candidateLists(true)), argmax(noise, warp, noise.candidateLists(false))
	for i := range pruned {
		if pruned[i] != all[i] {
			t.Fatalf("pixel %d: pruned %d, all labels %d", i, pruned[i], all[i])
		}
	}
	kept, total := 0, 0
	for _, c := range noise.candidates() {
		kept += len(c)
		total += p.Labels
	}
	if kept*2 > total {
		t.Errorf("pruning kept %d of %d label patches", kept, total)
	}
}
