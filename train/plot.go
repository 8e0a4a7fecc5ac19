package train

import (
	"fmt"
	"image/color"
	"io"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/synthfm/synthfm/internal/atomicfile"
)

// PlotMetrics draws the training curves of a metrics log into a PNG: the
// loss (per step and smoothed), the learning rate and the validation Dice
// (synthetic set and any real manifests), stacked, against the step.
func PlotMetrics(records []Record, pngPath string) error {
	var loss, lr, val plotter.XYs
	real := map[string]plotter.XYs{}
	for _, r := range records {
		x := float64(r.Step)
		if r.Loss != nil {
			loss = append(loss, plotter.XY{X: x, Y: *r.Loss})
		}
		if r.LearningRate != nil {
			lr = append(lr, plotter.XY{X: x, Y: *r.LearningRate})
		}
		if r.ValDice != nil {
			val = append(val, plotter.XY{X: x, Y: *r.ValDice})
		}
		for name, d := range r.ValReal {
			real[name] = append(real[name], plotter.XY{X: x, Y: d})
		}
	}
	panels := []*plot.Plot{plot.New(), plot.New(), plot.New()}
	panels[0].Title.Text = "training loss"
	panels[1].Title.Text = "learning rate"
	panels[2].Title.Text = "validation Dice (1 positive click)"
	for _, p := range panels {
		p.X.Label.Text = "step"
		p.Add(plotter.NewGrid())
	}
	if err := addLine(panels[0], "per step", loss, color.RGBA{R: 170, G: 190, B: 220, A: 255}); err != nil {
		return err
	}
	ys := make([]float64, len(loss))
	for i, p := range loss {
		ys[i] = p.Y
	}
	smooth := make(plotter.XYs, len(loss))
	for i, y := range movingAverage(ys, max(1, len(ys)/50)) {
		smooth[i] = plotter.XY{X: loss[i].X, Y: y}
	}
	if err := addLine(panels[0], "smoothed", smooth, color.RGBA{B: 160, A: 255}); err != nil {
		return err
	}
	if err := addLine(panels[1], "", lr, color.RGBA{R: 200, G: 100, A: 255}); err != nil {
		return err
	}
	if err := addLine(panels[2], "synthetic", val, color.RGBA{G: 140, A: 255}); err != nil {
		return err
	}
	names := make([]string, 0, len(real))
	for n := range real {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		c := plotutilColor(i)
		if err := addLine(panels[2], n, real[n], c); err != nil {
			return err
		}
	}
	panels[2].Y.Min, panels[2].Y.Max = 0, 1

	const width, height = 8 * vg.Inch, 9 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	grid := [][]*plot.Plot{{panels[0]}, {panels[1]}, {panels[2]}}
	canvases := plot.Align(grid, tiles, dc)
	for i := range grid {
		grid[i][0].Draw(canvases[i][0])
	}
	png := vgimg.PngCanvas{Canvas: img}
	if err := atomicfile.Write(pngPath, atomicfile.CrashSafe, func(w io.Writer) error {
		_, err := png.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}

func addLine(p *plot.Plot, name string, xys plotter.XYs, c color.Color) error {
	if len(xys) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	l.Color = c
	l.Width = vg.Points(1.2)
	p.Add(l)
	if len(xys) == 1 {
		s, err := plotter.NewScatter(xys)
		if err == nil {
			s.Color = c
			p.Add(s)
		}
	}
	if name != "" {
		p.Legend.Add(name, l)
		p.Legend.Top = true
	}
	return nil
}

func plotutilColor(i int) color.Color {
	palette := []color.RGBA{{R: 220, G: 120, A: 255}, {R: 150, B: 150, A: 255}, {R: 90, G: 90, B: 90, A: 255}, {R: 200, G: 40, B: 40, A: 255}}
	return palette[i%len(palette)]
}
