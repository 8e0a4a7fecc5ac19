package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/synthfm/synthfm/synth"
)

// benchTarget is one thing `synthfm bench` can measure. Add a target by
// writing its run function in its own file and one line in benchTargets.
type benchTarget struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// benchTargets lists the bench targets. Keep one line per target, sorted.
func benchTargets() []benchTarget {
	return []benchTarget{
		{"generate", "synthetic images per second per module and size, and memory over a long run", runBenchGenerate},
		{"train", "clicknet's training step and loop (samples/s), beside PyTorch with --pytorch", runBenchTrain},
	}
}

func runBench(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printBenchUsage(env.stderr)
		if len(args) == 0 {
			return usageError{"missing target"}
		}
		return flag.ErrHelp
	}
	for _, t := range benchTargets() {
		if t.name == args[0] {
			return t.run(ctx, env, args[1:])
		}
	}
	return usageError{fmt.Sprintf("unknown bench target %q", args[0])}
}

func printBenchUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: synthfm bench <target> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Measure how fast a part of SynthFM runs on this machine. Targets:")
	for _, t := range benchTargets() {
		fmt.Fprintf(w, "  %-10s %s\n", t.name, t.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'synthfm bench <target> --help' for a target's flags. Example:")
	fmt.Fprintln(w, "  synthfm bench generate --sizes 256,1024 --seconds 10")
}

const benchGenerateExplanation = `
Measure the synthetic data engine: for each preset (default mixes the two
modules, shape-only and boundary-only are one module each) and each size,
generate through the streaming API on --workers goroutines for --seconds
and report images per second and the peak heap, then the achieved
target-size histogram of each case (log bins, method.md §2b). With --flat N, also
generate N samples of the default preset at the first size and report
the heap every N/10 samples, to show that memory stays flat.

Example:
  synthfm bench generate --sizes 256,1024 --seconds 10 --flat 10000`

func runBenchGenerate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "bench generate", "[--sizes 256,1024] [--presets ...] [--seconds S] [--flat N]", benchGenerateExplanation)
	sizes := fs.String("sizes", "256,1024", "comma-separated image sides")
	presets := fs.String("presets", strings.Join(synth.PresetNames(), ","), "comma-separated presets")
	seconds := fs.Float64("seconds", 5, "measuring time per case")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "generator goroutines")
	flat := fs.Int("flat", 0, "also generate this many default-preset samples at the first size, reporting the heap")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	var sides []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return usageError{fmt.Sprintf("--sizes: %q is not a number", s)}
		}
		sides = append(sides, n)
	}
	if *seconds <= 0 || *workers < 1 || *flat < 0 {
		return usageError{"--seconds, --workers and --flat must be positive"}
	}
	fmt.Fprintf(env.stdout, "synthetic data engine, %d workers, GOMAXPROCS %d, %s/%s, %s\n",
		*workers, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	const row = "%-14s %6v %8v %8v %8v %11v %14v\n"
	fmt.Fprintf(env.stdout, row, "preset", "size", "samples", "seconds", "img/s", "CPU ms/img", "peak heap MiB")
	var titles []string
	var hists []synth.SizeHistogram
	for _, side := range sides {
		for _, p := range strings.Split(*presets, ",") {
			g, err := benchGenerator(strings.TrimSpace(p), side)
			if err != nil {
				return err
			}
			r, err := measureGeneration(ctx, g, *workers, 0, time.Duration(*seconds*float64(time.Second)), nil)
			if err != nil {
				return err
			}
			cpu := "-"
			if r.cpu > 0 {
				cpu = fmt.Sprintf("%.1f", r.cpu.Seconds()*1000/float64(r.samples))
			}
			fmt.Fprintf(env.stdout, row, p, side, r.samples, fmt.Sprintf("%.2f", r.elapsed.Seconds()),
				fmt.Sprintf("%.1f", float64(r.samples)/r.elapsed.Seconds()), cpu, fmt.Sprintf("%.0f", float64(r.peakHeap)/(1<<20)))
			titles = append(titles, fmt.Sprintf("%s@%d", strings.TrimSpace(p), side))
			hists = append(hists, synth.TargetSizeHistogram(r.targets, nil))
		}
	}
	fmt.Fprintln(env.stdout)
	if err := synth.WriteSizeHistograms(env.stdout, titles, hists); err != nil {
		return err
	}
	if *flat == 0 {
		return nil
	}
	g, err := benchGenerator("default", sides[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "\nmemory over %d default samples at %d²:\n", *flat, sides[0])
	const heapRow = "%8v %16v %18v\n"
	fmt.Fprintf(env.stdout, heapRow, "samples", "heap in use MiB", "runtime total MiB")
	report := func(n int, heap, total uint64) {
		fmt.Fprintf(env.stdout, heapRow, n, fmt.Sprintf("%.0f", float64(heap)/(1<<20)), fmt.Sprintf("%.0f", float64(total)/(1<<20)))
	}
	r, err := measureGeneration(ctx, g, *workers, *flat, 0, report)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%d samples in %.1f s, %.1f img/s\n", r.samples, r.elapsed.Seconds(), float64(r.samples)/r.elapsed.Seconds())
	return nil
}

func benchGenerator(preset string, side int) (*synth.Generator, error) {
	cfg, err := synth.Resolve(preset, "", func(c *synth.Config) { c.Size = side })
	if err != nil {
		return nil, usageError{err.Error()}
	}
	g, err := synth.NewGenerator(cfg)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return g, nil
}

type generationResult struct {
	samples  int
	elapsed  time.Duration
	cpu      time.Duration // process CPU time, 0 when unknown
	peakHeap uint64
	targets  []float64 // each sample's target area, fraction of the canvas
}

// measureGeneration streams samples until n are made (n > 0) or d has
// passed, sampling the heap ten times along the way; report, when not
// nil, gets each heap sample.
func measureGeneration(ctx context.Context, g *synth.Generator, workers, n int, d time.Duration, report func(n int, heap, total uint64)) (generationResult, error) {
	var r generationResult
	var ms runtime.MemStats
	runtime.GC()
	cpuBefore, cpuOK := processCPUTime()
	began := time.Now()
	every := max(1, n/10)
	nextHeapCheck := time.Duration(0)
	for s, err := range g.Stream(ctx, 1, 0, workers) {
		if err != nil {
			return r, err
		}
		r.samples++
		r.targets = append(r.targets, s.Meta.TargetFraction())
		r.elapsed = time.Since(began)
		check := (n > 0 && r.samples%every == 0) || (n == 0 && r.elapsed >= nextHeapCheck)
		if check {
			runtime.ReadMemStats(&ms)
			r.peakHeap = max(r.peakHeap, ms.HeapInuse)
			nextHeapCheck = r.elapsed + d/10
			if report != nil {
				report(r.samples, ms.HeapInuse, ms.Sys)
			}
		}
		if (n > 0 && r.samples >= n) || (n == 0 && r.elapsed >= d) {
			if cpuAfter, ok := processCPUTime(); ok && cpuOK {
				r.cpu = cpuAfter - cpuBefore
			}
			return r, nil
		}
	}
	return r, ctx.Err()
}

// processCPUTime reads the user and system CPU time of this process from
// /proc/self/stat (Linux; fields 14 and 15, in clock ticks of 1/100 s,
// the USER_HZ of every mainstream Linux). CPU time per image stays
// meaningful when other processes share the cores, unlike wall time.
func processCPUTime() (time.Duration, bool) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest) // f[0] is field 3
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const tick = 10 * time.Millisecond
	return time.Duration(utime+stime) * tick, true
}
