package synth

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// sizeRule reports whether the target-size rule of method.md §2b is on.
func (g *Generator) sizeRule() bool { return g.cfg.TargetArea != (Range{}) }

// drawTargetArea draws a*, log-uniform in target_area, records it in
// meta and returns it in pixels.
func (g *Generator) drawTargetArea(d draw, meta *Metadata) float64 {
	meta.DesiredArea = d.logUniform(g.cfg.TargetArea)
	return meta.DesiredArea * float64(g.cfg.Size*g.cfg.Size)
}

// closestLogArea returns the index of the area closest to want in log
// scale, |ln a − ln want| smallest, the first one on a tie; areas ≤ 0
// are no candidates. It returns −1 when there is none. The distance is
// compared as the ratio max(a, want)/min(a, want), which ranks the same
// way and keeps exact ties exact.
func closestLogArea(areas []int, want float64) int {
	best, bestRatio := -1, math.Inf(1)
	for i, a := range areas {
		if a <= 0 {
			continue
		}
		r := float64(a) / want
		if r < 1 {
			r = want / float64(a)
		}
		if r < bestRatio {
			best, bestRatio = i, r
		}
	}
	return best
}

// TargetSizeEdges are the default log bins of TargetSizeHistogram, as
// fractions of the canvas.
var TargetSizeEdges = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 1}

// SizeHistogram counts target sizes (fractions of the canvas) in bins.
type SizeHistogram struct {
	Edges  []float64 // bin i is [Edges[i], Edges[i+1]); the last bin includes its upper edge
	Counts []int     // len(Edges)−1 bins
	Below  int       // fractions under Edges[0]
	Above  int       // fractions over the last edge
	N      int       // all fractions counted
	// Quantiles of the fractions (linear interpolation between order
	// statistics); 0 when N is 0.
	Median, P10, P90 float64
}

// TargetSizeHistogram bins the target-size fractions (for a sample,
// Meta.TargetFraction()) by edges, TargetSizeEdges when edges is nil,
// and computes their median, 10th and 90th percentiles.
func TargetSizeHistogram(fractions []float64, edges []float64) SizeHistogram {
	if edges == nil {
		edges = TargetSizeEdges
	}
	h := SizeHistogram{Edges: slices.Clone(edges), Counts: make([]int, max(len(edges)-1, 0)), N: len(fractions)}
	last := len(edges) - 1
	for _, f := range fractions {
		switch {
		case last < 0 || f < edges[0]:
			h.Below++
		case f > edges[last]:
			h.Above++
		default:
			// The first edge above f closes f's bin.
			i, _ := slices.BinarySearch(edges, f)
			if i < len(edges) && edges[i] == f {
				i++
			}
			h.Counts[min(i-1, last-1)]++
		}
	}
	sorted := slices.Sorted(slices.Values(fractions))
	h.Median, h.P10, h.P90 = quantile(sorted, 0.5), quantile(sorted, 0.1), quantile(sorted, 0.9)
	return h
}

// quantile is the q-quantile of sorted values, interpolating linearly.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}

// FractionAbove is the share of counted fractions at or above the edge
// x, which must be one of Edges (else it is rounded up to the next).
func (h SizeHistogram) FractionAbove(x float64) float64 {
	if h.N == 0 {
		return 0
	}
	n := h.Above
	for i, c := range h.Counts {
		if h.Edges[i] >= x {
			n += c
		}
	}
	return float64(n) / float64(h.N)
}

// WriteSizeHistograms writes histograms side by side as a text table:
// one row per bin with the count and percentage of each histogram, then
// the median, p10 and p90 (in % of the canvas). The histograms must
// share their edges; titles name the columns.
func WriteSizeHistograms(w io.Writer, titles []string, hs []SizeHistogram) error {
	if len(hs) == 0 {
		return nil
	}
	const first = "%-14s"
	var b strings.Builder
	fmt.Fprintf(&b, "target size, fraction of the canvas (method.md §2b); count and %% of samples per bin\n")
	fmt.Fprintf(&b, first, "bin")
	for i := range hs {
		fmt.Fprintf(&b, " %20s", titles[i])
	}
	b.WriteByte('\n')
	cell := func(n, total int) string {
		p := 0.0
		if total > 0 {
			p = 100 * float64(n) / float64(total)
		}
		return fmt.Sprintf("%d %5.1f%%", n, p)
	}
	row := func(label string, get func(h SizeHistogram) int) {
		fmt.Fprintf(&b, first, label)
		for _, h := range hs {
			fmt.Fprintf(&b, " %20s", cell(get(h), h.N))
		}
		b.WriteByte('\n')
	}
	edges := hs[0].Edges
	if len(edges) > 0 {
		row("<"+percent(edges[0]), func(h SizeHistogram) int { return h.Below })
	}
	for i := 0; i+1 < len(edges); i++ {
		row(percent(edges[i])+"–"+percent(edges[i+1]), func(h SizeHistogram) int { return h.Counts[i] })
	}
	if len(edges) > 0 && edges[len(edges)-1] < 1 {
		row(">"+percent(edges[len(edges)-1]), func(h SizeHistogram) int { return h.Above })
	}
	stat := func(label string, get func(h SizeHistogram) float64) {
		fmt.Fprintf(&b, first, label)
		for _, h := range hs {
			fmt.Fprintf(&b, " %20s", fmt.Sprintf("%.2f%%", 100*get(h)))
		}
		b.WriteByte('\n')
	}
	stat("median", func(h SizeHistogram) float64 { return h.Median })
	stat("p10", func(h SizeHistogram) float64 { return h.P10 })
	stat("p90", func(h SizeHistogram) float64 { return h.P90 })
	fmt.Fprintf(&b, first, "samples")
	for _, h := range hs {
		fmt.Fprintf(&b, " %20d", h.N)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// percent writes a fraction as a short percentage: 0.001 → "0.1%".
func percent(f float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%g", 100*f), ".0") + "%"
}
