package eval

import (
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// WriteChart draws a grouped bar chart of mean Dice per dataset (pooled
// over structures), one bar per prompt configuration, as a PNG.
func WriteChart(path string, t Table) error {
	var names []string
	var cells [][]Cell
	for _, r := range t.Rows {
		if r.Structure == "all" || !hasAll(t, r.Dataset) {
			names = append(names, r.Dataset)
			cells = append(cells, r.Cells)
		}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Mean Dice of %s by prompt configuration", t.Model)
	p.Y.Label.Text = "mean Dice"
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = true
	width := vg.Points(float64(min(14, 60/max(1, len(t.Configs)))))
	palette := chartPalette()
	for ci, c := range t.Configs {
		vals := make(plotter.Values, len(names))
		for i := range names {
			if m := cells[i][ci].Mean; finite(m) {
				vals[i] = m
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return err
		}
		bars.Color = palette[ci%len(palette)]
		bars.LineStyle.Width = 0
		bars.Offset = width * vg.Length(float64(ci)-float64(len(t.Configs)-1)/2)
		p.Add(bars)
		p.Legend.Add(c.String(), bars)
	}
	return saveDatasetChart(p, names, path)
}

// chartPalette is the bar colours, one per series (matplotlib's tab10).
func chartPalette() []color.RGBA {
	return []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
		{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}}
}

// WriteRunsChart draws several runs side by side as a PNG: for each dataset
// (pooled over its structures) one bar per run, the mean Dice at prompt
// configuration cfg. Each table's Model names its bars; datasets missing
// from a run, or not scored at cfg there, get no bar.
func WriteRunsChart(path string, cfg PromptConfig, tables []Table) error {
	if len(tables) == 0 {
		return fmt.Errorf("chart: no runs")
	}
	var names []string
	seen := map[string]bool{}
	for _, t := range tables {
		for _, r := range t.Rows {
			if !seen[r.Dataset] {
				seen[r.Dataset] = true
				names = append(names, r.Dataset)
			}
		}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Mean Dice per dataset at %s", cfg)
	p.Y.Label.Text = "mean Dice"
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = true
	width := vg.Points(float64(min(14, 60/len(tables))))
	palette := chartPalette()
	scored := false
	for ti, t := range tables {
		ci := slices.Index(t.Configs, cfg)
		vals := make(plotter.Values, len(names))
		if ci >= 0 {
			for _, r := range t.Rows {
				if r.Structure != "all" && hasAll(t, r.Dataset) {
					continue
				}
				if m := r.Cells[ci].Mean; finite(m) {
					vals[slices.Index(names, r.Dataset)] = m
					scored = true
				}
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return err
		}
		bars.Color = palette[ti%len(palette)]
		bars.LineStyle.Width = 0
		bars.Offset = width * vg.Length(float64(ti)-float64(len(tables)-1)/2)
		p.Add(bars)
		p.Legend.Add(t.Model, bars)
	}
	if !scored {
		return fmt.Errorf("chart: no run scored configuration %s", cfg)
	}
	return saveDatasetChart(p, names, path)
}

func hasAll(t Table, dataset string) bool {
	for _, r := range t.Rows {
		if r.Dataset == dataset && r.Structure == "all" {
			return true
		}
	}
	return false
}

// saveDatasetChart labels the x axis with the dataset names (slanted, they
// are long) and writes the chart as a PNG sized to their number.
func saveDatasetChart(p *plot.Plot, names []string, path string) error {
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = draw.XRight // the label ends at its tick
	p.X.Tick.Label.YAlign = draw.YCenter
	return p.Save(vg.Length(max(6, 1.1*float64(len(names))))*vg.Inch, 5*vg.Inch, path)
}
