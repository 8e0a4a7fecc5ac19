package eval

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/synthfm/synthfm/prompts"
)

// Result is one row of results.csv: one object segmented under one prompt
// configuration.
type Result struct {
	Model      string
	Dataset    string
	Case       string
	Slice      int // -1 for 2-D images
	Structure  string
	Instance   int
	ObjectID   string
	Modality   string
	Config     PromptConfig
	Seed       uint64
	Dice       float64
	NSD        float64 // NaN when not computed
	NSDTol     float64
	NSDUnit    string // "mm" or "px"
	GTPixels   int
	PredPixels int
	Clicks     []prompts.Click
	Millis     float64
}

// Key identifies a row for resuming and pairing: object and configuration.
func (r Result) Key() string { return r.ObjectID + "|" + r.Config.String() }

// VolumeKey groups the slices of one structure instance of one case.
func (r Result) VolumeKey() string {
	return fmt.Sprintf("%s/%s/%s#%d|%s", r.Dataset, r.Case, r.Structure, r.Instance, r.Config)
}

func csvHeader() []string {
	return []string{"model", "dataset", "case", "slice", "structure", "instance", "object_id", "modality",
		"positives", "negatives", "seed", "dice", "nsd", "nsd_tolerance", "nsd_unit", "gt_pixels", "pred_pixels", "clicks", "ms"}
}

func (r Result) record() []string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	return []string{r.Model, r.Dataset, r.Case, strconv.Itoa(r.Slice), r.Structure, strconv.Itoa(r.Instance), r.ObjectID, r.Modality,
		strconv.Itoa(r.Config.Pos), strconv.Itoa(r.Config.Neg), strconv.FormatUint(r.Seed, 10), f(r.Dice), f(r.NSD), f(r.NSDTol), r.NSDUnit,
		strconv.Itoa(r.GTPixels), strconv.Itoa(r.PredPixels), FormatClicks(r.Clicks), strconv.FormatFloat(r.Millis, 'f', 1, 64)}
}

func parseRecord(rec []string) (Result, error) {
	if len(rec) != len(csvHeader()) {
		return Result{}, fmt.Errorf("%d fields, want %d", len(rec), len(csvHeader()))
	}
	var r Result
	var errs []error
	atoi := func(s string) int {
		v, err := strconv.Atoi(s)
		errs = append(errs, err)
		return v
	}
	atof := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		errs = append(errs, err)
		return v
	}
	r.Model, r.Dataset, r.Case = rec[0], rec[1], rec[2]
	r.Slice = atoi(rec[3])
	r.Structure, r.Instance, r.ObjectID, r.Modality = rec[4], atoi(rec[5]), rec[6], rec[7]
	r.Config = PromptConfig{Pos: atoi(rec[8]), Neg: atoi(rec[9])}
	seed, err := strconv.ParseUint(rec[10], 10, 64)
	errs = append(errs, err)
	r.Seed = seed
	r.Dice, r.NSD, r.NSDTol, r.NSDUnit = atof(rec[11]), atof(rec[12]), atof(rec[13]), rec[14]
	r.GTPixels, r.PredPixels = atoi(rec[15]), atoi(rec[16])
	r.Clicks, err = ParseClicks(rec[17])
	errs = append(errs, err)
	r.Millis = atof(rec[18])
	return r, errors.Join(errs...)
}

// FormatClicks writes clicks as "x:y:+ x:y:-".
func FormatClicks(cs []prompts.Click) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		sign := "-"
		if c.Positive {
			sign = "+"
		}
		parts[i] = fmt.Sprintf("%d:%d:%s", c.X, c.Y, sign)
	}
	return strings.Join(parts, " ")
}

// ParseClicks reads FormatClicks' output.
func ParseClicks(s string) ([]prompts.Click, error) {
	var out []prompts.Click
	for _, p := range strings.Fields(s) {
		f := strings.Split(p, ":")
		if len(f) != 3 || (f[2] != "+" && f[2] != "-") {
			return nil, fmt.Errorf("bad click %q", p)
		}
		x, err1 := strconv.Atoi(f[0])
		y, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad click %q", p)
		}
		out = append(out, prompts.Click{X: x, Y: y, Positive: f[2] == "+"})
	}
	return out, nil
}

// ReadResults reads a results.csv.
func ReadResults(path string) ([]Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rows, _, err := parseResults(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// parseResults parses CSV data; complete is the length of the data up to
// the last complete line (a run killed mid-write leaves a partial line).
func parseResults(data []byte) (rows []Result, complete int, err error) {
	complete = bytes.LastIndexByte(data, '\n') + 1
	r := csv.NewReader(bytes.NewReader(data[:complete]))
	header, err := r.Read()
	if err == io.EOF {
		return nil, complete, nil
	}
	if err != nil || strings.Join(header, ",") != strings.Join(csvHeader(), ",") {
		return nil, 0, fmt.Errorf("not a results file of this version (header %v)", header)
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, complete, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("line %d: %w", line, err)
		}
		row, err := parseRecord(rec)
		if err != nil {
			return nil, 0, fmt.Errorf("line %d: %w", line, err)
		}
		rows = append(rows, row)
	}
}

// resultWriter appends rows to results.csv, flushing each one so that an
// interrupted run loses at most the row being written.
type resultWriter struct {
	f *os.File
	w *csv.Writer
}

// openResults opens (or creates) path for appending and returns the rows
// already there. A partial last line is cut off.
func openResults(path string) (*resultWriter, []Result, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	rows, complete, err := parseResults(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w (move it away to start afresh)", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	if err := f.Truncate(int64(complete)); err != nil {
		f.Close()
		return nil, nil, err
	}
	if _, err := f.Seek(int64(complete), io.SeekStart); err != nil {
		f.Close()
		return nil, nil, err
	}
	rw := &resultWriter{f: f, w: csv.NewWriter(f)}
	if complete == 0 {
		if err := rw.write(csvHeader()); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	return rw, rows, nil
}

func (rw *resultWriter) write(rec []string) error {
	if err := rw.w.Write(rec); err != nil {
		return err
	}
	rw.w.Flush()
	return rw.w.Error()
}

func (rw *resultWriter) Close() error { return rw.f.Close() }

// finite reports whether x is a number (not NaN or ±Inf).
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
