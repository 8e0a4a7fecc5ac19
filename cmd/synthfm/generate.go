package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/synthfm/synthfm/synth"
	"github.com/synthfm/synthfm/synth/ordered"
	"github.com/synthfm/synthfm/synth/store"
)

const generateExplanation = `
Generate SynthFM's synthetic training data: grey images of random Bézier
objects or of SynthMorph-style touching regions, with the target mask of
each, shaped by the noise library (blur, Perlin shading, speckle, Poisson,
Gaussian, Rician). (--config, --seed, index) fixes every sample, whatever
--workers is.

The output folder gets images/ and masks/ PNG pairs (or NPZ shards with
--format npz), manifest.jsonl (one line of metadata per sample, written
once the sample's files are complete) and run.json (what --resume reuses).
An interrupted run leaves no partial file under a final name; run the same
command with --resume to continue it up to --n samples.

--preview writes a contact sheet (8 columns, up to 4 rows) of the first
samples with the target outlined in red; without --out only the sheet is
written. It also prints the achieved target-size histogram (log bins of
the target's share of the canvas, method.md §2b) of all the samples made:
--preview FILE --n 2000 measures a configuration on 2000 samples.
--print-config prints the resolved configuration as YAML, a starting
point for --config.

Examples:
  synthfm generate --n 10000 --size 1024 --out data/synth --workers 8
  synthfm generate --preview sheet.png --size 256
  synthfm generate --preset boundary-only --print-config > boundary.yaml
  synthfm generate --n 20000 --out data/synth --resume`

// previewColumns, previewRows and previewTile lay out a contact sheet.
const (
	previewColumns = 8
	previewRows    = 4
	previewTile    = 128
)

// generateOptions are the parsed flags of synthfm generate.
type generateOptions struct {
	n, size, workers, shard int
	seed                    uint64
	out, configPath, preset string
	format, preview         string
	resume, printConfig     bool
	set                     map[string]bool // flags given on the command line
}

func runGenerate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "generate", "--n N --out DIR [flags] | --preview FILE [flags] | --print-config", generateExplanation)
	var o generateOptions
	fs.IntVar(&o.n, "n", 0, "number of samples in the run (with --resume: the total to reach); with only --preview, 32 (the sheet shows at most 32)")
	fs.IntVar(&o.size, "size", 0, "image side in pixels (default: the configuration's, 1024)")
	fs.StringVar(&o.out, "out", "", "output folder")
	fs.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "generator goroutines")
	fs.Uint64Var(&o.seed, "seed", 1, "stream seed: sample i of seed K is always the same image")
	fs.StringVar(&o.configPath, "config", "", "YAML or JSON configuration file, read over --preset")
	fs.StringVar(&o.preset, "preset", "default", "configuration preset: "+strings.Join(synth.PresetNames(), ", "))
	fs.StringVar(&o.format, "format", store.FormatPNG, "output format: png (image/mask pairs) or npz (shards)")
	fs.IntVar(&o.shard, "shard", 0, "samples per NPZ shard (default: about 64 MiB of images)")
	fs.BoolVar(&o.resume, "resume", false, "continue the run in --out where it stopped")
	fs.StringVar(&o.preview, "preview", "", "write a contact sheet PNG of the first samples")
	fs.BoolVar(&o.printConfig, "print-config", false, "print the resolved configuration as YAML and exit")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })

	cfg, err := generateConfig(o)
	if err != nil {
		return err
	}
	if o.printConfig {
		y, err := cfg.YAML()
		if err != nil {
			return err
		}
		_, err = env.stdout.Write(y)
		return err
	}
	if err := checkGenerateUsage(&o); err != nil {
		return err
	}
	// A resumed run is opened first (its configuration, read and validated
	// once, replaces cfg); memory is checked before any sample is written.
	var w *store.Writer
	if o.out != "" && o.resume {
		if w, cfg, err = openOutput(o, cfg); err != nil {
			return err
		}
	}
	if err := checkMemory(cfg.Size, o.workers, o.shard); err != nil {
		if w != nil {
			w.Discard()
		}
		return err
	}
	if o.out != "" && !o.resume {
		if w, cfg, err = openOutput(o, cfg); err != nil {
			return err
		}
	}
	return generate(ctx, env, o, cfg, w)
}

// generateConfig resolves --preset, --config and --size into a valid
// configuration (synth.Resolve). A bad --preset or --size is a usage error,
// a bad --config file an ordinary one.
func generateConfig(o generateOptions) (synth.Config, error) {
	var size func(*synth.Config)
	if o.set["size"] {
		size = func(c *synth.Config) { c.Size = o.size }
	}
	cfg, err := synth.Resolve(o.preset, o.configPath, size)
	if err != nil && (errors.Is(err, synth.ErrUnknownPreset) || o.configPath == "") {
		return cfg, usageError{err.Error()}
	}
	return cfg, err
}

// maxGenerateSamples bounds --n: 1,000 times an epoch of the paper's
// recipe (10,000 samples). A mistyped --n would otherwise fill the disk
// (a 1024² sample takes about a megabyte as PNG) before anyone noticed.
const maxGenerateSamples = 10_000_000

// checkGenerateUsage rejects flag combinations that cannot work.
func checkGenerateUsage(o *generateOptions) error {
	switch {
	case o.n < 0:
		return usageError{fmt.Sprintf("--n %d is negative", o.n)}
	case o.n > maxGenerateSamples:
		return usageError{fmt.Sprintf("--n %d: at most %d samples per run (at 1024² that is tens of terabytes and weeks of generation; split larger sets into runs with other --seed values)", o.n, maxGenerateSamples)}
	case o.workers < 1:
		return usageError{fmt.Sprintf("--workers %d must be at least 1", o.workers)}
	case o.shard < 0:
		return usageError{fmt.Sprintf("--shard %d is negative", o.shard)}
	case o.format != store.FormatPNG && o.format != store.FormatNPZ:
		return usageError{fmt.Sprintf("--format %q: choose png or npz", o.format)}
	case o.out == "" && o.preview == "":
		return usageError{"nothing to do: give --out DIR, --preview FILE or --print-config"}
	case o.out == "" && o.resume:
		return usageError{"--resume needs --out DIR"}
	case o.out != "" && o.n == 0:
		return usageError{"--n is required with --out"}
	}
	if o.out == "" && o.n == 0 {
		o.n = previewColumns * previewRows
	}
	if o.preview != "" {
		if dir := filepath.Dir(o.preview); dir != "" {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return fmt.Errorf("preview folder %s does not exist", dir)
			}
		}
	}
	return nil
}

// openOutput creates the run in o.out, or reopens it with --resume and
// returns the configuration the run was started with.
func openOutput(o generateOptions, cfg synth.Config) (*store.Writer, synth.Config, error) {
	run := store.Run{Seed: o.seed, Format: o.format, Shard: o.shard, Config: cfg}
	if !o.resume {
		w, err := store.Create(o.out, run)
		if errors.Is(err, store.ErrRunExists) {
			return nil, cfg, fmt.Errorf("%s already holds a run: add --resume to continue it, or choose another folder", o.out)
		}
		return w, cfg, err
	}
	w, err := store.Resume(o.out)
	if err != nil {
		return nil, cfg, err
	}
	have := w.Run()
	conflicts := []struct {
		flag string
		same bool
		old  any
	}{
		{"seed", have.Seed == o.seed, have.Seed},
		{"format", have.Format == o.format, have.Format},
		{"shard", have.Shard == o.shard, have.Shard},
		{"size", have.Config.Size == cfg.Size, have.Config.Size},
		{"preset", reflect.DeepEqual(have.Config, cfg), "its own configuration"},
		{"config", reflect.DeepEqual(have.Config, cfg), "its own configuration"},
	}
	for _, c := range conflicts {
		if o.set[c.flag] && !c.same {
			w.Discard()
			return nil, cfg, usageError{fmt.Sprintf("--%s differs from the run in %s (which has %v); drop it to resume", c.flag, o.out, c.old)}
		}
	}
	return w, have.Config, nil
}

// checkMemory refuses a size and worker count that cannot fit in the
// memory available now (Linux; elsewhere the check is skipped).
func checkMemory(side, workers, shard int) error {
	available, ok := availableMemory()
	if !ok {
		return nil
	}
	// Each worker's buffers, plus up to 2×workers finished samples in
	// flight and an NPZ shard being filled.
	need := int64(workers)*synth.WorkerMemory(side) + int64(2*workers+max(shard, store.DefaultShard(side)))*2*int64(side)*int64(side)
	if need > available*9/10 {
		return fmt.Errorf("size %d with %d workers needs about %.1f GiB of memory, %.1f GiB is available: lower --size or --workers",
			side, workers, float64(need)/(1<<30), float64(available)/(1<<30))
	}
	return nil
}

// availableMemory reads MemAvailable from /proc/meminfo.
func availableMemory() (int64, bool) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "MemAvailable: %d kB", &kb); err == nil {
			return kb << 10, true
		}
	}
	return 0, false
}

// generate streams samples into the writer and the preview sheet.
func generate(ctx context.Context, env *cliEnv, o generateOptions, cfg synth.Config, w *store.Writer) error {
	g, err := synth.NewGenerator(cfg)
	if err != nil {
		return err
	}
	seed, start := o.seed, 0
	if w != nil {
		seed, start = w.Run().Seed, w.Next()
		if start >= o.n {
			w.Discard()
			fmt.Fprintf(env.stdout, "%s already holds %d samples; nothing to do\n", o.out, start)
			return nil
		}
	}
	var sheet *store.Sheet
	if o.preview != "" {
		rows := min(previewRows, (o.n-start+previewColumns-1)/previewColumns)
		sheet = store.NewSheet(previewColumns, rows, previewTile)
	}
	bar := progressbar.NewOptions(o.n-start,
		progressbar.OptionSetWriter(env.stderr),
		progressbar.OptionSetDescription("generate"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(env.stderr) }),
	)
	began := time.Now()
	done := start
	var targets []float64 // target area fractions, for the preview's histogram
	// Workers make each sample and compress it for the writer; the
	// writer only stores bytes, in index order.
	format := ""
	if w != nil {
		format = w.Run().Format
	}
	prepared := ordered.Map(ctx, start, o.workers, func(index int) (*store.Encoded, error) {
		s, err := g.Sample(seed, index)
		if err != nil {
			return nil, err
		}
		return store.Encode(s, format)
	})
	for e, perr := range prepared {
		if err = perr; err != nil {
			break
		}
		if sheet != nil {
			if !sheet.Full() {
				sheet.Add(e.Sample.Image, e.Sample.Mask)
			}
			targets = append(targets, e.Sample.Meta.TargetFraction())
		}
		if w != nil {
			if err = w.AddEncoded(e); err != nil {
				break
			}
		}
		done++
		bar.Add(1)
		if done >= o.n {
			break
		}
	}
	if w != nil {
		if errors.Is(err, context.Canceled) || err == nil {
			// A clean stop: a partly filled NPZ shard is still written.
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		} else {
			w.Discard()
		}
		complete := w.Next()
		if err != nil && complete < o.n {
			fmt.Fprintf(env.stderr, "\n%s holds %d complete samples; run again with --resume to continue\n", o.out, complete)
		}
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(began)
	if w != nil {
		fmt.Fprintf(env.stdout, "wrote samples %d..%d to %s (%s, seed %d, %d×%d) in %s, %.1f img/s\n",
			start, done-1, o.out, w.Run().Format, seed, cfg.Size, cfg.Size, elapsed.Round(time.Millisecond), float64(done-start)/elapsed.Seconds())
	}
	if sheet != nil {
		if err := sheet.WritePNG(o.preview); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "wrote contact sheet %s\n", o.preview)
		title := o.preset
		if o.configPath != "" {
			title = filepath.Base(o.configPath)
		}
		title = fmt.Sprintf("%s@%d", title, cfg.Size)
		if err := synth.WriteSizeHistograms(env.stdout, []string{title}, []synth.SizeHistogram{synth.TargetSizeHistogram(targets, nil)}); err != nil {
			return err
		}
	}
	return nil
}
