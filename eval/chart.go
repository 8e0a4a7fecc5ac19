package eval

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
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
	palette := []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
		{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}}
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
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = -1
	p.X.Tick.Label.YAlign = 0
	return p.Save(vg.Length(max(6, 1.1*float64(len(names))))*vg.Inch, 5*vg.Inch, path)
}

func hasAll(t Table, dataset string) bool {
	for _, r := range t.Rows {
		if r.Dataset == dataset && r.Structure == "all" {
			return true
		}
	}
	return false
}
