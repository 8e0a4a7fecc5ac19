package eval

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/synthfm/synthfm/metrics"
)

// Comparison is the paired t-test of run A against run B for one dataset ×
// structure × configuration, over the cases both runs scored.
type Comparison struct {
	Dataset, Structure string
	Config             PromptConfig
	MeanA, MeanB       float64
	Test               metrics.TTest
	Err                error // too few pairs
}

// ModalityRows is the Dataset of the comparisons that pool every dataset's
// cases of one imaging modality (named in Structure), listed last.
const ModalityRows = "modality"

// Compare pairs the rows of two runs by object and configuration (per
// slice), or, with perVolume, first averages each run's Dice over the
// slices of one structure instance of one case and pairs those means. Rows
// without a partner or with NaN Dice are left out. Rows with structure "all"
// pool each dataset; rows with dataset ModalityRows pool each modality over
// all datasets.
func Compare(a, b []Result, perVolume bool) ([]Comparison, error) {
	key := Result.Key
	if perVolume {
		key = Result.VolumeKey
	}
	type group struct {
		dataset, structure string
		config             PromptConfig
	}
	meanBy := func(rows []Result) map[string]Result {
		sum := map[string]float64{}
		n := map[string]int{}
		first := map[string]Result{}
		for _, r := range rows {
			if !finite(r.Dice) {
				continue
			}
			k := key(r)
			if _, ok := first[k]; !ok {
				first[k] = r
			}
			sum[k] += r.Dice
			n[k]++
		}
		out := map[string]Result{}
		for k, r := range first {
			r.Dice = sum[k] / float64(n[k])
			out[k] = r
		}
		return out
	}
	ma, mb := meanBy(a), meanBy(b)
	pairs := map[group][2][]float64{}
	var groups []group
	var keys []string
	for k := range ma {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ra, ok := ma[k]
		rb, okb := mb[k]
		if !ok || !okb {
			continue
		}
		if ra.Seed != rb.Seed {
			return nil, fmt.Errorf("runs used different click seeds (%d and %d): their clicks differ, so the cases are not paired", ra.Seed, rb.Seed)
		}
		gs := []group{{ra.Dataset, ra.Structure, ra.Config}, {ra.Dataset, "all", ra.Config}}
		if ra.Modality != "" {
			gs = append(gs, group{ModalityRows, ra.Modality, ra.Config})
		}
		for _, g := range gs {
			p, seen := pairs[g]
			if !seen {
				groups = append(groups, g)
			}
			pairs[g] = [2][]float64{append(p[0], ra.Dice), append(p[1], rb.Dice)}
		}
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("the two runs share no case")
	}
	sort.SliceStable(groups, func(i, j int) bool {
		gi, gj := groups[i], groups[j]
		if (gi.dataset == ModalityRows) != (gj.dataset == ModalityRows) {
			return gj.dataset == ModalityRows
		}
		if gi.dataset != gj.dataset {
			return gi.dataset < gj.dataset
		}
		if (gi.structure == "all") != (gj.structure == "all") {
			return gj.structure == "all"
		}
		if gi.structure != gj.structure {
			return gi.structure < gj.structure
		}
		if gi.config.Pos != gj.config.Pos {
			return gi.config.Pos < gj.config.Pos
		}
		return gi.config.Neg < gj.config.Neg
	})
	var out []Comparison
	for _, g := range groups {
		p := pairs[g]
		c := Comparison{Dataset: g.dataset, Structure: g.structure, Config: g.config}
		c.MeanA, _, _ = metrics.MeanSD(p[0])
		c.MeanB, _, _ = metrics.MeanSD(p[1])
		c.Test, c.Err = metrics.PairedTTest(p[0], p[1])
		c.Test.N = len(p[0])
		out = append(out, c)
	}
	return out, nil
}

// WriteComparison writes the comparisons as a Markdown table.
func WriteComparison(w io.Writer, nameA, nameB string, cs []Comparison, perVolume bool) error {
	var b bytes.Buffer
	unit := "slice"
	if perVolume {
		unit = "volume"
	}
	fmt.Fprintf(&b, "Paired t-test, A = %s, B = %s, per %s; difference = A − B in Dice; two-sided p from Student's t with n−1 df.\n\n", nameA, nameB, unit)
	b.WriteString("| dataset | structure | config | n | mean A | mean B | mean diff | t | p |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range cs {
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %.3f | %.3f | %+.3f | %s | %s |\n", c.Dataset, c.Structure, c.Config, c.Test.N,
			c.MeanA, c.MeanB, c.MeanA-c.MeanB, num(c.Test.T, c.Err, "%.2f"), num(c.Test.P, c.Err, "%.3g"))
	}
	_, err := w.Write(b.Bytes())
	return err
}

func num(x float64, err error, format string) string {
	if err != nil || math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf(format, x)
}
