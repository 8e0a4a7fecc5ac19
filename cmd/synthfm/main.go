// Command synthfm generates synthetic training data, trains and runs a
// promptable medical-image segmentation model, evaluates it and serves it.
//
// Each subcommand lives in its own file and is a thin layer over an
// importable package; run `synthfm help` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand of the synthfm tool.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv carries the process streams so that subcommands are testable.
type cliEnv struct {
	stdout io.Writer
	stderr io.Writer
}

// commands lists every subcommand. Keep one line per command.
func commands() []command {
	return []command{
		// subcommands: keep sorted by name, one per line.
		{"bench", "measure the speed of a part of SynthFM (bench generate)", runBench},
		{"compare", "paired t-test of two evaluation runs per structure and configuration", runCompare},
		{"convert", "convert model weights (.pth or .safetensors) to .safetensors in float32 or half precision", runConvert},
		{"demo", "segment held-out synthetic cases with the built-in model and draw an overlay sheet with Dice", runDemo},
		{"eval", "measure a segmenter on real images with simulated clicks (Dice, reports)", runEval},
		{"generate", "write synthetic training images and masks, or a contact sheet of them", runGenerate},
		{"segment", "segment one image with SAM from clicks and/or a box (mask PNG, overlay, logits)", runSegment},
		{"serve", "serve a model to a web page, scripts and 3D Slicer (MONAI Label)", runServe},
		{"train", "train the segmentation model on synthetic data (paper, lite, tiny recipes; resume)", runTrain},
		{"version", "print the version and build settings", runVersion},
	}
}

// usageError marks errors caused by bad command-line usage (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	// The first Ctrl-C or SIGTERM ends ctx: eval, train, generate and serve
	// stop cleanly and save what they save. Then the signals get their
	// default action back, so a second one ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := runMain(ctx, &cliEnv{stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// runMain dispatches to a subcommand and turns its error into an exit status.
func runMain(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return runMain(ctx, env, []string{args[1], "--help"})
		}
		printUsage(env.stdout)
		return 0
	}
	name := args[0]
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintf(env.stderr, "synthfm %s: %v\nRun 'synthfm %s --help' for usage.\n", name, err, name)
			return 2
		case errors.Is(err, context.Canceled):
			fmt.Fprintf(env.stderr, "synthfm %s: interrupted\n", name)
			return 130
		default:
			fmt.Fprintf(env.stderr, "synthfm %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(env.stderr, "synthfm: unknown command %q\n\n", name)
	printUsage(env.stderr)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "synthfm: synthetic data to a promptable medical-image segmentation model.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: synthfm <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'synthfm <command> --help' for a command's flags and examples.")
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints a usage text made of a synopsis, an explanation and the flags.
func newFlagSet(env *cliEnv, name, synopsis, explanation string) *flag.FlagSet {
	fs := flag.NewFlagSet("synthfm "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: synthfm %s %s\n\n", name, synopsis)
		if explanation != "" {
			fmt.Fprintln(out, strings.TrimSpace(explanation))
			fmt.Fprintln(out)
		}
		fmt.Fprintln(out, "Flags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and wraps parse errors as usage errors. Positional
// arguments are rejected unless allowPositional is set.
func parseFlags(fs *flag.FlagSet, args []string, allowPositional bool) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return flag.ErrHelp
	}
	if err != nil {
		return usageError{err.Error()}
	}
	if !allowPositional && fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
