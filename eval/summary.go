package eval

import (
	"bytes"
	"fmt"
	"io"
	"sort"

	"github.com/synthfm/synthfm/metrics"
)

// Cell is the aggregate of one dataset × structure × configuration.
type Cell struct {
	Mean, SD float64
	N        int
	NSDMean  float64 // NaN when NSD was not computed
}

// Table is the paper's Table 1 shape: rows are dataset × structure, columns
// prompt configurations.
type Table struct {
	Model   string
	Configs []PromptConfig
	Rows    []TableRow
}

// TableRow is one dataset × structure line; Structure "all" pools the dataset.
type TableRow struct {
	Dataset, Structure string
	Cells              []Cell // one per Configs entry
}

// Summarize aggregates rows (cases with an empty ground truth have NaN
// Dice and are left out, as method.md §6 says).
func Summarize(rows []Result, configs []PromptConfig) Table {
	t := Table{Configs: configs}
	if len(rows) > 0 {
		t.Model = rows[0].Model
	}
	type key struct{ d, s string }
	dice := map[key]map[PromptConfig][]float64{}
	nsd := map[key]map[PromptConfig][]float64{}
	var datasets []string
	structures := map[string][]string{}
	add := func(k key, r Result) {
		if dice[k] == nil {
			dice[k], nsd[k] = map[PromptConfig][]float64{}, map[PromptConfig][]float64{}
		}
		dice[k][r.Config] = append(dice[k][r.Config], r.Dice)
		nsd[k][r.Config] = append(nsd[k][r.Config], r.NSD)
	}
	for _, r := range rows {
		if _, ok := structures[r.Dataset]; !ok {
			datasets = append(datasets, r.Dataset)
			structures[r.Dataset] = nil
		}
		k := key{r.Dataset, r.Structure}
		if dice[k] == nil {
			structures[r.Dataset] = append(structures[r.Dataset], r.Structure)
		}
		add(k, r)
		add(key{r.Dataset, "all"}, r)
	}
	for _, d := range datasets {
		ss := structures[d]
		sort.Strings(ss)
		if len(ss) > 1 {
			ss = append(ss, "all")
		}
		for _, s := range ss {
			row := TableRow{Dataset: d, Structure: s}
			for _, c := range configs {
				mean, sd, n := metrics.MeanSD(dice[key{d, s}][c])
				nm, _, _ := metrics.MeanSD(nsd[key{d, s}][c])
				row.Cells = append(row.Cells, Cell{Mean: mean, SD: sd, N: n, NSDMean: nm})
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

// WriteMarkdown writes the table: mean Dice ± SD (n) per cell, and the mean
// NSD below it when computed.
func (t Table) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Mean Dice of %s per structure and prompt configuration\n\n", t.Model)
	b.WriteString("Configuration (p,n): p positive and n negative simulated clicks (method.md §4). ")
	b.WriteString("Cells: mean Dice ± sample SD (n cases); NSD: mean normalised surface Dice.\n\n")
	b.WriteString("| dataset | structure |")
	for _, c := range t.Configs {
		fmt.Fprintf(&b, " %s |", c)
	}
	b.WriteString("\n|---|---|")
	for range t.Configs {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		s := r.Structure
		if s == "all" {
			s = "**all**"
		}
		fmt.Fprintf(&b, "| %s | %s |", r.Dataset, s)
		for _, c := range r.Cells {
			switch {
			case c.N == 0:
				b.WriteString(" – |")
			case c.N == 1:
				fmt.Fprintf(&b, " %.3f (1) |", c.Mean)
			default:
				fmt.Fprintf(&b, " %.3f ± %.3f (%d) |", c.Mean, c.SD, c.N)
			}
			if finite(c.NSDMean) {
				b.Truncate(b.Len() - 2)
				fmt.Fprintf(&b, "<br>NSD %.3f |", c.NSDMean)
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
