package eval

import (
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
)

// WriteReports writes summary.md, chart.png and gallery.png for the rows of
// a run into o.OutDir.
func WriteReports(ctx context.Context, o Options, rows []Result) error {
	configs := o.Configs
	if len(configs) == 0 {
		configs = DefaultConfigs()
	}
	t := Summarize(rows, configs)
	f, err := os.Create(filepath.Join(o.OutDir, SummaryFile))
	if err != nil {
		return err
	}
	if err := t.WriteMarkdown(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	if err := WriteChart(filepath.Join(o.OutDir, ChartFile), t); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	n := o.GalleryCases
	if n <= 0 {
		n = 4
	}
	worstRows, bestRows := PickGallery(rows, n)
	worst, err := loadGallery(ctx, o, worstRows)
	if err != nil {
		return fmt.Errorf("gallery: %w", err)
	}
	best, err := loadGallery(ctx, o, bestRows)
	if err != nil {
		return fmt.Errorf("gallery: %w", err)
	}
	g, err := os.Create(filepath.Join(o.OutDir, GalleryFile))
	if err != nil {
		return err
	}
	if err := png.Encode(g, RenderGallery(worst, best)); err != nil {
		g.Close()
		return err
	}
	return g.Close()
}
