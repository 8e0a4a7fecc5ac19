package train

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestMetricsLogResumeDropsRepeatedSteps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	log, err := OpenMetricsLog(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= 5; s++ {
		if err := log.Append(Record{Step: s, Loss: ptr(1 / float64(s)), LearningRate: ptr(0.1)}); err != nil {
			t.Fatal(err)
		}
	}
	log.Append(Record{Step: 5, ValDice: ptr(0.5), ValReal: map[string]float64{"ct": 0.25}})
	log.Close()
	// Simulate a crash mid-line.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"step":6,"lo`)
	f.Close()
	// Resume from a checkpoint at step 3.
	log, err = OpenMetricsLog(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	log.Append(Record{Step: 4, Loss: ptr(0.3)})
	log.Close()
	recs, err := ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	for _, r := range recs {
		steps = append(steps, r.Step)
	}
	if len(steps) != 4 || steps[0] != 1 || steps[2] != 3 || steps[3] != 4 || *recs[3].Loss != 0.3 {
		t.Errorf("steps after resume = %v, want [1 2 3 4] with the new step 4", steps)
	}
	// A malformed line in the middle is an error.
	os.WriteFile(path, []byte("{\"step\":1}\nnot json\n{\"step\":2}\n"), 0o644)
	if _, err := ReadMetrics(path); err == nil {
		t.Error("malformed middle line accepted")
	}
}

func TestPlotMetricsWritesPNG(t *testing.T) {
	var recs []Record
	for s := 1; s <= 200; s++ {
		r := Record{Step: s, Loss: ptr(1 / float64(s)), LearningRate: ptr(1e-4 * float64(s) / 200)}
		if s%50 == 0 {
			r.ValDice = ptr(float64(s) / 250)
			r.ValReal = map[string]float64{"ct": float64(s) / 400}
		}
		recs = append(recs, r)
	}
	path := filepath.Join(t.TempDir(), "metrics.png")
	if err := PlotMetrics(recs, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 500 {
		t.Errorf("plot is %v, too small", b)
	}
	// The loss curve's colour appears somewhere in the image.
	found := false
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y && !found; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r == 0 && g == 0 && b>>8 == 160 {
				found = true
				break
			}
		}
	}
	if !found {
		t.Error("smoothed loss line not drawn")
	}
	if err := PlotMetrics(nil, path); err != nil {
		t.Errorf("empty log: %v", err)
	}
}

func TestMovingAverage(t *testing.T) {
	got := movingAverage([]float64{1, 2, 3, 4, 5}, 2)
	want := []float64{1, 1.5, 2.5, 3.5, 4.5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("movingAverage = %v, want %v", got, want)
		}
	}
}
