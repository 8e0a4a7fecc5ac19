package eval_test

import (
	"context"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/baseline"
	"github.com/synthfm/synthfm/dataset"
	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/prompts"
)

// toyData writes three 64x64 noisy images, each with a bright disc and a
// dark square labelled 1 and 2, and returns the dataset.
func toyData(t *testing.T) *dataset.Dataset {
	t.Helper()
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	for c := 0; c < 3; c++ {
		img := image.NewGray(image.Rect(0, 0, 64, 64))
		lab := image.NewGray(img.Bounds())
		r := 10 + 2*c
		for y := 0; y < 64; y++ {
			for x := 0; x < 64; x++ {
				v := 100.0
				if dx, dy := x-20, y-20; dx*dx+dy*dy <= r*r {
					v, lab.Pix[x+64*y] = 200, 1
				}
				if x >= 38 && x < 58 && y >= 36 && y < 56 {
					v, lab.Pix[x+64*y] = 20, 2
				}
				img.Pix[x+64*y] = uint8(v + 4*rng.NormFloat64())
			}
		}
		for name, m := range map[string]*image.Gray{"img": img, "lab": lab} {
			os.MkdirAll(filepath.Join(root, name), 0o755)
			f, _ := os.Create(filepath.Join(root, name, string(rune('a'+c))+".png"))
			png.Encode(f, m)
			f.Close()
		}
	}
	m, err := dataset.ParseManifest([]byte("name: toy\nmodality: other\ncases:\n  - image: img/*.png\n    labels: [{file: \"lab/{stem}.png\", values: {1: disc, 2: square}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := dataset.New(m, root)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fillAll is a deliberately bad model: it marks the whole image.
type fillAll struct{}

func (fillAll) Name() string { return "fill-all" }
func (fillAll) Prepare(_ context.Context, img *image.Gray) (eval.Prepared, error) {
	return fillAllPrepared{img.Bounds()}, nil
}

type fillAllPrepared struct{ b image.Rectangle }

func (p fillAllPrepared) Segment(context.Context, []prompts.Click) (*image.Gray, error) {
	m := image.NewGray(p.b)
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	return m, nil
}

func TestRunResumeReportsAndCompare(t *testing.T) {
	ctx := context.Background()
	d := toyData(t)
	out := t.TempDir()
	configs := []eval.PromptConfig{{1, 0}, {3, 3}}
	o := eval.Options{Datasets: []*dataset.Dataset{d}, Model: baseline.NewRegionGrow(), Configs: configs, NSDTolerance: 2, OutDir: out, GalleryCases: 2}
	rows, err := eval.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3*2*2 {
		t.Fatalf("%d rows, want 12", len(rows))
	}
	for _, r := range rows {
		if r.Dice < 0.9 || r.NSDUnit != "px" || !(r.NSD > 0.5) || len(r.Clicks) != r.Config.Pos+r.Config.Neg {
			t.Fatalf("row %+v: the baseline should segment these high-contrast objects", r)
		}
	}
	for _, f := range []string{eval.SummaryFile, eval.ChartFile, eval.GalleryFile, eval.RunFile} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s missing: %v", f, err)
		}
	}
	gf, _ := os.Open(filepath.Join(out, eval.GalleryFile))
	g, err := png.Decode(gf)
	gf.Close()
	if err != nil || g.Bounds().Dx() != 2*256 {
		t.Fatalf("gallery: %v %v", g.Bounds(), err)
	}
	summary, _ := os.ReadFile(filepath.Join(out, eval.SummaryFile))
	if !strings.Contains(string(summary), "| toy | disc |") || !strings.Contains(string(summary), "(3,3)") {
		t.Fatalf("summary:\n%s", summary)
	}

	// Interrupt: keep the header, 5 rows and half of the 6th, then resume.
	csvPath := filepath.Join(out, eval.ResultsFile)
	data, _ := os.ReadFile(csvPath)
	lines := strings.SplitAfter(string(data), "\n")
	cut := strings.Join(lines[:6], "") + lines[6][:len(lines[6])/2]
	os.WriteFile(csvPath, []byte(cut), 0o644)
	resumed, err := eval.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(csvPath)
	if len(resumed) != 12 || strings.Count(string(again), "\n") != 13 {
		t.Fatalf("resume: %d rows, %d lines", len(resumed), strings.Count(string(again), "\n"))
	}
	byKey := map[string]float64{}
	for _, r := range rows {
		byKey[r.Key()] = r.Dice
	}
	for _, r := range resumed {
		if byKey[r.Key()] != r.Dice {
			t.Fatalf("%s: Dice %v after resume, %v before: clicks are not reproducible", r.Key(), r.Dice, byKey[r.Key()])
		}
	}
	// Another model in the same folder is refused.
	o2 := o
	o2.Model = fillAll{}
	if _, err := eval.Run(ctx, o2); err == nil || !strings.Contains(err.Error(), "baseline") {
		t.Fatalf("mixing models in one folder: %v", err)
	}
	o2.OutDir = t.TempDir()
	bad, err := eval.Run(ctx, o2)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := eval.Compare(resumed, bad, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 8 { // (disc, square, all, modality "other") × 2 configs
		t.Fatalf("%d comparisons", len(cs))
	}
	for i, c := range cs {
		pooled := c.Structure == "all" || c.Dataset == eval.ModalityRows
		// Fill-all scores 2|G|/(|G|+4096): far below the baseline.
		if c.Test.N != map[bool]int{true: 6, false: 3}[pooled] || c.MeanA-c.MeanB < 0.5 || !(c.Test.P < 0.05) || c.Test.T <= 0 {
			t.Fatalf("comparison %+v", c)
		}
		if (i >= 6) != (c.Dataset == eval.ModalityRows) || (c.Dataset == eval.ModalityRows && c.Structure != "other") {
			t.Fatalf("comparison %d is %s/%s: the modality rows come last", i, c.Dataset, c.Structure)
		}
	}
	// One dataset of the modality: its pooled row and the modality's agree.
	if cs[6].MeanA != cs[4].MeanA || cs[6].Test.T != cs[4].Test.T || cs[6].Config != cs[4].Config {
		t.Fatalf("modality row %+v differs from the dataset's %+v", cs[6], cs[4])
	}
	same, err := eval.Compare(resumed, resumed, true)
	if err != nil || same[0].Test.P != 1 || same[0].MeanA != same[0].MeanB {
		t.Fatalf("self comparison %+v %v", same, err)
	}
	var sb strings.Builder
	eval.WriteComparison(&sb, "a", "b", cs, false)
	if !strings.Contains(sb.String(), "| toy | disc | (1,0) | 3 |") {
		t.Fatalf("comparison table:\n%s", sb.String())
	}
}

func TestParseConfigsAndClicks(t *testing.T) {
	c, err := eval.ParseConfigs("1,0 (3,0); 1,1 3,3 1,0")
	if err != nil || len(c) != 4 || c[1] != (eval.PromptConfig{Pos: 3, Neg: 0}) {
		t.Fatalf("%v %v", c, err)
	}
	for _, bad := range []string{"", "0,1", "1", "a,b", "1,-1"} {
		if _, err := eval.ParseConfigs(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	cl := []prompts.Click{{X: 3, Y: 4, Positive: true}, {X: 10, Y: 0}}
	back, err := eval.ParseClicks(eval.FormatClicks(cl))
	if err != nil || len(back) != 2 || back[0] != cl[0] || back[1] != cl[1] {
		t.Fatalf("round trip %v %v", back, err)
	}
}

func TestSummarizeLeavesOutNaN(t *testing.T) {
	rows := []eval.Result{
		{Dataset: "d", Structure: "s", Config: eval.PromptConfig{Pos: 1}, Dice: 0.5},
		{Dataset: "d", Structure: "s", Config: eval.PromptConfig{Pos: 1}, Dice: 1},
		{Dataset: "d", Structure: "s", Config: eval.PromptConfig{Pos: 1}, Dice: math.NaN()},
	}
	tab := eval.Summarize(rows, []eval.PromptConfig{{Pos: 1}})
	c := tab.Rows[0].Cells[0]
	if c.N != 2 || c.Mean != 0.75 || math.Abs(c.SD-math.Sqrt(0.125)) > 1e-12 {
		t.Fatalf("cell %+v", c)
	}
}
