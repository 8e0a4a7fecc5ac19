package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

func runVersion(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "version", "", "Print the module version, the Go version and the VCS revision this binary was built from.")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	version, revision, experiment := "(devel)", "unknown", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "GOEXPERIMENT":
				experiment = s.Value
			}
		}
	}
	fmt.Fprintf(env.stdout, "synthfm %s (revision %s, %s, %s/%s", version, revision, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if experiment != "" {
		fmt.Fprintf(env.stdout, ", GOEXPERIMENT=%s", experiment)
	}
	fmt.Fprintln(env.stdout, ")")
	return nil
}
