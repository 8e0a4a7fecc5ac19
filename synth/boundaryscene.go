package synth

import (
	"math"

	"github.com/synthfm/synthfm/synth/labelmap"
)

// boundaryScene paints the boundary-aware module's scene into ws.img and
// the target region into mask (method.md §2).
func (g *Generator) boundaryScene(d draw, ws *workspace, mask []uint8, meta *Metadata) error {
	cfg, bc := g.cfg, g.cfg.Boundary
	side := cfg.Size
	scale := float64(side) / 256
	minPx := g.minAreaPixels()
	bm := &BoundaryMeta{}
	meta.Boundary = bm

	wantPx := 0.0
	if g.sizeRule() {
		wantPx = g.drawTargetArea(d, meta)
	}
	var fg []bool
	var target []labelmap.Run
	for try := 1; try <= cfg.MaxTries && target == nil; try++ {
		bm.Tries = try
		p := labelmap.Params{Labels: d.intUniform(bc.Labels)}
		bm.NoiseSigmas, bm.WarpSigmas = nil, nil
		scales := bc.NoiseScales
		if bc.PLargeScale > 0 { // no draw when off: the first generator's stream
			bm.LargeScale = d.bernoulli(bc.PLargeScale)
			if bm.LargeScale {
				scales = append(scales[:len(scales):len(scales)], bc.LargeScale)
			}
		}
		for _, s := range scales {
			sigma := d.uniform(bc.NoiseSigma)
			p.NoiseSpacings = append(p.NoiseSpacings, s*scale)
			p.NoiseSigmas = append(p.NoiseSigmas, sigma)
			bm.NoiseSigmas = append(bm.NoiseSigmas, sigma)
		}
		for _, s := range bc.WarpScales {
			sigma := d.uniform(bc.WarpSigma) * scale
			p.WarpSpacings = append(p.WarpSpacings, s*scale)
			p.WarpSigmas = append(p.WarpSigmas, sigma)
			bm.WarpSigmas = append(bm.WarpSigmas, sigma)
		}
		labels, err := labelmap.Generate(side, p, d.Rand)
		if err != nil {
			return err
		}
		bm.Labels, bm.LabelsPresent = p.Labels, countLabels(labels)

		// Erode a random subset of labels, each k ~ U{1..k_max} times.
		kmax := int(math.Round(bc.ErodeMax * scale))
		iterations := make([]int, p.Labels)
		bm.Eroded = nil
		for l := range iterations {
			if d.bernoulli(bc.PErode) && kmax >= 1 {
				iterations[l] = 1 + d.IntN(kmax)
				bm.Eroded = append(bm.Eroded, ErodedLabel{Label: l, Iterations: iterations[l]})
			}
		}
		fg = labelmap.Erode(labels, side, side, iterations)

		// The target: one connected region of at least min_area, the one
		// closest to a* in log area under the size rule (method.md §2b),
		// else a random one.
		runs, areas := labelmap.Components(labels, fg, side, side)
		var candidates []int
		for c, a := range areas {
			if a >= minPx {
				candidates = append(candidates, c)
			}
		}
		bm.Regions, bm.Candidates = len(areas), len(candidates)
		if len(candidates) == 0 {
			continue
		}
		var pick int
		if g.sizeRule() {
			candidateAreas := make([]int, len(candidates))
			for i, c := range candidates {
				candidateAreas[i] = areas[c]
			}
			pick = candidates[closestLogArea(candidateAreas, wantPx)]
		} else {
			pick = candidates[d.IntN(len(candidates))]
		}
		for _, r := range runs {
			if r.Comp == pick {
				target = append(target, r)
				bm.TargetLabel = int(r.Label)
			}
		}
	}
	if target == nil {
		return ErrNoTarget
	}
	for _, r := range target {
		row := mask[r.Y*side:]
		for x := r.X0; x < r.X1; x++ {
			row[x] = 255
		}
	}

	// Canvas C ~ U(a, b) with outliers; regions take C, gaps mean(C) + δ.
	img := ws.img
	bm.CanvasMean, bm.CanvasWidth = d.uniform(bc.CanvasMean), d.uniform(bc.CanvasWidth)
	lo := math.Max(bm.CanvasMean-bm.CanvasWidth/2, 0)
	hi := math.Min(bm.CanvasMean+bm.CanvasWidth/2, 1)
	for i := range img {
		img[i] = float32(lo + (hi-lo)*d.Float64())
	}
	bm.Outliers = d.uniform(bc.Outliers)
	replaceOutliers(d, img, bm.Outliers)
	var sum float64
	for _, v := range img {
		sum += float64(v)
	}
	bm.CanvasAverage = sum / float64(len(img))
	bm.Delta = float64(d.sign()) * d.uniform(bc.GapContrast)
	gap := float32(math.Min(math.Max(bm.CanvasAverage+bm.Delta, 0), 1))
	for i, f := range fg {
		if !f {
			img[i] = gap
		}
	}
	meta.Contrast = math.Abs(bm.Delta)
	meta.Noise = []NoiseMeta{}
	if bm.Noise = d.bernoulli(bc.PNoise); bm.Noise {
		applied, err := g.applyNoise(d, img, ws)
		if err != nil {
			return err
		}
		meta.Noise = applied
	}
	return nil
}

// replaceOutliers replaces each value of v, independently with
// probability rho, by a draw from U(0,1). The gaps between replaced
// pixels are drawn from the geometric distribution, which gives the same
// law as one Bernoulli draw per pixel with about rho·len(v) draws.
func replaceOutliers(d draw, v []float32, rho float64) {
	if rho <= 0 {
		return
	}
	if rho >= 1 {
		for i := range v {
			v[i] = float32(d.Float64())
		}
		return
	}
	logq := math.Log1p(-rho)
	for i := -1; ; {
		// Failures before the next success: ⌊ln U / ln(1−ρ)⌋, U in (0,1].
		skip := math.Floor(math.Log(1-d.Float64()) / logq)
		if skip >= float64(len(v)-i-1) {
			return
		}
		i += int(skip) + 1
		v[i] = float32(d.Float64())
	}
}

// countLabels returns how many distinct labels occur in labels.
func countLabels(labels []uint8) int {
	var seen [256]bool
	n := 0
	for _, l := range labels {
		if !seen[l] {
			seen[l] = true
			n++
		}
	}
	return n
}
