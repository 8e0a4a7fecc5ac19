package main

import (
	"bufio"
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/synthfm/synthfm/synth"
	"github.com/synthfm/synthfm/synth/store"
)

func runCLIContext(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = runMain(ctx, &cliEnv{stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func manifestLines(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, store.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// folderBytes maps every file under dir except run.json to its contents.
func folderBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == store.RunFile {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = data
		return nil
	})
	return out
}

func noPartialFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if strings.HasSuffix(p, ".partial") {
			t.Errorf("unfinished file left: %s", p)
		}
		return nil
	})
}

func TestGenerateIsTheSameForAnyWorkerCount(t *testing.T) {
	tmp := t.TempDir()
	var runs []map[string][]byte
	for _, workers := range []string{"1", "3"} {
		dir := filepath.Join(tmp, "w"+workers)
		code, out, errOut := runCLI(t, "generate", "--n", "6", "--size", "48", "--out", dir, "--workers", workers, "--seed", "5")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(out, "wrote samples 0..5") {
			t.Errorf("stdout %q", out)
		}
		runs = append(runs, folderBytes(t, dir))
	}
	if len(runs[0]) != 13 { // 6 images, 6 masks, the manifest
		t.Fatalf("%d files written", len(runs[0]))
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Error("1 and 3 workers wrote different files")
	}
	img, err := os.Open(filepath.Join(tmp, "w1", "images", "00000003.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if cfg, err := png.DecodeConfig(img); err != nil || cfg.Width != 48 || cfg.Height != 48 {
		t.Errorf("image config %+v, %v", cfg, err)
	}
}

func TestGenerateResumeContinuesTheSameStream(t *testing.T) {
	tmp := t.TempDir()
	whole, parts := filepath.Join(tmp, "whole"), filepath.Join(tmp, "parts")
	for _, args := range [][]string{
		{"generate", "--n", "7", "--size", "40", "--out", whole, "--format", "npz", "--shard", "3"},
		{"generate", "--n", "4", "--size", "40", "--out", parts, "--format", "npz", "--shard", "3"},
		{"generate", "--n", "7", "--out", parts, "--resume"},
	} {
		if code, _, errOut := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	if n := len(manifestLines(t, parts)); n != 7 {
		t.Fatalf("%d manifest lines after resume", n)
	}
	// Shards are cut at different places (0-2, 3, 4-6 vs 0-2, 3-5, 6),
	// but the manifest's metadata agree line by line.
	a, b := manifestLines(t, whole), manifestLines(t, parts)
	for i := range a {
		ma, mb := a[i][strings.Index(a[i], `"meta"`):], b[i][strings.Index(b[i], `"meta"`):]
		if ma != mb {
			t.Fatalf("line %d differs:\n%s\n%s", i, ma, mb)
		}
	}
	code, out, _ := runCLI(t, "generate", "--n", "5", "--out", parts, "--resume")
	if code != 0 || !strings.Contains(out, "already holds 7 samples") {
		t.Errorf("resume past --n: %d %q", code, out)
	}
	code, _, errOut := runCLI(t, "generate", "--n", "9", "--out", parts, "--resume", "--size", "64")
	if code != 2 || !strings.Contains(errOut, "--size differs from the run") {
		t.Errorf("conflicting --size: %d %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "generate", "--n", "9", "--size", "40", "--out", parts)
	if code != 1 || !strings.Contains(errOut, "already holds a run: add --resume") {
		t.Errorf("second run without --resume: %d %q", code, errOut)
	}
}

func TestGenerateInterruptedLeavesOnlyCompleteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Interrupt once a few samples are listed.
		for ctx.Err() == nil {
			if data, err := os.ReadFile(filepath.Join(dir, store.ManifestFile)); err == nil && bytes.Count(data, []byte("\n")) >= 3 {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	code, _, errOut := runCLIContext(ctx, "generate", "--n", "100000", "--size", "64", "--out", dir)
	if code != 130 || !strings.Contains(errOut, "interrupted") || !strings.Contains(errOut, "--resume") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	noPartialFiles(t, dir)
	lines := manifestLines(t, dir)
	images, _ := os.ReadDir(filepath.Join(dir, "images"))
	if len(lines) < 3 || len(images) < len(lines) {
		t.Fatalf("%d manifest lines, %d images", len(lines), len(images))
	}
	code, _, errOut = runCLI(t, "generate", "--n", strconv.Itoa(len(lines)+2), "--out", dir, "--resume")
	if code != 0 {
		t.Fatalf("resume: %d %s", code, errOut)
	}
	if n := len(manifestLines(t, dir)); n != len(lines)+2 {
		t.Errorf("%d lines after resume, want %d", n, len(lines)+2)
	}
}

func TestGeneratePreviewAndPrintConfig(t *testing.T) {
	dir := t.TempDir()
	sheet := filepath.Join(dir, "sheet.png")
	code, out, errOut := runCLI(t, "generate", "--preview", sheet, "--size", "64", "--n", "10")
	if code != 0 || !strings.Contains(out, "wrote contact sheet") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	f, err := os.Open(sheet)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(f)
	f.Close()
	// 10 samples: 8 columns, 2 rows of 128 px tiles with 2 px gaps.
	if err != nil || cfg.Width != 8*128+9*2 || cfg.Height != 2*128+3*2 {
		t.Errorf("sheet %dx%d, %v", cfg.Width, cfg.Height, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("preview-only run wrote %d files", len(entries))
	}
	// The target-size histogram of the samples made: all --n of them,
	// beyond the sheet's 32.
	for _, n := range []int{10, 40} {
		code, out, errOut := runCLI(t, "generate", "--preview", sheet, "--size", "64", "--n", strconv.Itoa(n), "--preset", "boundary-only")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if total := histogramColumnTotal(t, out, 0); total != n || !strings.Contains(out, "boundary-only@64") || !strings.Contains(out, "median") {
			t.Errorf("--n %d: histogram counts %d samples in:\n%s", n, total, out)
		}
	}

	code, out, _ = runCLI(t, "generate", "--preset", "shape-only", "--size", "512", "--print-config")
	if code != 0 {
		t.Fatalf("print-config exit %d", code)
	}
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(out), 0o644)
	got, err := synth.LoadConfig(path, synth.DefaultConfig())
	want, _ := synth.Preset("shape-only")
	want.Size = 512
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("printed config reads back as %+v, %v", got, err)
	}
	// The printed file is usable as --config.
	code, out, _ = runCLI(t, "generate", "--config", path, "--print-config")
	if code != 0 || !strings.Contains(out, "p_shape: 1") || !strings.Contains(out, "size: 512") {
		t.Errorf("--config round trip: %d\n%s", code, out)
	}
}

func TestGenerateBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	minMax := write("minmax.yaml", "shape:\n  objects: {min: 4, max: 2}\n")
	prob := write("prob.json", `{"noise": {"p": 1.5}}`)
	file := write("plain", "")
	out := filepath.Join(dir, "out")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown preset", []string{"--preset", "nope", "--n", "1", "--out", out}, 2, `unknown preset "nope"`},
		{"min > max", []string{"--config", minMax, "--n", "1", "--out", out}, 1, "shape.objects: min 4 > max 2"},
		{"probability", []string{"--config", prob, "--n", "1", "--out", out}, 1, "noise.p = 1.5 is not a probability"},
		{"tiny size", []string{"--size", "16", "--n", "1", "--out", out}, 2, "size 16 outside [32, 16384]"},
		{"huge size", []string{"--size", "100000", "--n", "1", "--out", out}, 2, "size 100000 outside"},
		{"memory", []string{"--size", "16384", "--workers", "256", "--n", "1", "--out", out}, 1, "GiB of memory"},
		{"unwritable", []string{"--n", "1", "--size", "32", "--out", filepath.Join(file, "sub")}, 1, "not a directory"},
		{"no n", []string{"--out", out}, 2, "--n is required"},
		{"negative n", []string{"--n", "-3", "--out", out}, 2, "--n -3 is negative"},
		{"format", []string{"--n", "1", "--out", out, "--format", "tiff"}, 2, `--format "tiff"`},
		{"nothing", []string{"--size", "64"}, 2, "nothing to do"},
		{"resume nothing", []string{"--n", "3", "--out", out, "--resume"}, 1, "no run to resume"},
		{"preview folder", []string{"--preview", filepath.Join(dir, "missing", "s.png")}, 1, "does not exist"},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, append([]string{"generate"}, c.args...)...)
		first := strings.SplitN(errOut, "\n", 2)[0]
		if code != c.code || !strings.Contains(first, c.want) || !strings.HasPrefix(first, "synthfm generate: ") {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and one line with %q", c.name, code, errOut, c.code, c.want)
		}
		if c.code == 1 && strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: error is not one line: %q", c.name, errOut)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: left %s behind", c.name, out)
		}
	}
}

// histogramColumnTotal sums column col of the bin rows of the first
// target-size histogram in out, checking that it matches its samples row.
func histogramColumnTotal(t *testing.T, out string, col int) int {
	t.Helper()
	total, inTable := 0, false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "target size"):
			inTable = true
		case !inTable || len(f) == 0 || f[0] == "bin" || f[0] == "median" || f[0] == "p10" || f[0] == "p90":
		case f[0] == "samples":
			if n, err := strconv.Atoi(f[1+col]); err != nil || n != total {
				t.Errorf("samples row %q, bins sum to %d", line, total)
			}
			return total
		default: // a bin: label, then count and percentage per column
			n, err := strconv.Atoi(f[1+2*col])
			if err != nil {
				t.Fatalf("bin row %q: %v", line, err)
			}
			total += n
		}
	}
	t.Errorf("no target-size histogram in:\n%s", out)
	return total
}

func TestBenchGenerate(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "generate", "--sizes", "48", "--presets", "shape-only,boundary-only", "--seconds", "0.05", "--flat", "20")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	rows, heapRows, flat := 0, 0, false
	var samples []int
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if strings.HasPrefix(sc.Text(), "memory over") {
			flat = true
		}
		if len(f) == 7 && (f[0] == "shape-only" || f[0] == "boundary-only") && f[1] == "48" {
			rows++
			n, _ := strconv.Atoi(f[2])
			samples = append(samples, n)
			if f[4] == "0.0" {
				t.Errorf("zero throughput: %q", sc.Text())
			}
			// CPU ms/img is "-" where /proc is missing, else a number
			// (behaviour only: its size depends on the machine's load).
			if _, err := strconv.ParseFloat(f[5], 64); err != nil && f[5] != "-" {
				t.Errorf("CPU column %q", f[5])
			}
		}
		if flat && len(f) == 3 && f[0] != "samples" {
			heapRows++
		}
	}
	if rows != 2 || heapRows != 10 {
		t.Errorf("%d result rows and %d heap rows in:\n%s", rows, heapRows, out)
	}
	// The target-size histogram: one column per case, counting its samples.
	for col, title := range []string{"shape-only@48", "boundary-only@48"} {
		if !strings.Contains(out, title) {
			t.Errorf("histogram lacks column %s:\n%s", title, out)
		}
		if total := histogramColumnTotal(t, out, col); len(samples) == 2 && total != samples[col] {
			t.Errorf("%s: histogram counts %d samples, the table %d", title, total, samples[col])
		}
	}
	if _, ok := processCPUTime(); !ok {
		t.Log("no /proc/self/stat: the CPU column shows -")
	}
	if code, _, errOut := runCLI(t, "bench", "nope"); code != 2 || !strings.Contains(errOut, `unknown bench target "nope"`) {
		t.Errorf("unknown target: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "bench"); code != 2 || !strings.Contains(errOut, "generate") {
		t.Errorf("bare bench: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "bench", "generate", "--sizes", "x"); code != 2 || !strings.Contains(errOut, `"x" is not a number`) {
		t.Errorf("bad sizes: %d %q", code, errOut)
	}
}
