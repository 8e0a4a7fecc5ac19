package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runMain(context.Background(), &cliEnv{stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestHelpListsCommands(t *testing.T) {
	code, out, _ := runCLI(t, "help")
	if code != 0 {
		t.Fatalf("help exited %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, c.name) {
			t.Errorf("help does not list %q:\n%s", c.name, out)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	code, _, errOut := runCLI(t, "frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("got code %d, stderr %q", code, errOut)
	}
}

func TestBadFlagIsUsageError(t *testing.T) {
	code, _, errOut := runCLI(t, "version", "--nope")
	if code != 2 || !strings.Contains(errOut, "flag provided but not defined") {
		t.Fatalf("got code %d, stderr %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "synthfm ") {
		t.Fatalf("got code %d, stdout %q", code, out)
	}
}

func TestCommandHelpExitsZero(t *testing.T) {
	for _, c := range commands() {
		code, _, errOut := runCLI(t, c.name, "--help")
		if code != 0 || !strings.Contains(errOut, "Usage: synthfm "+c.name) {
			t.Errorf("%s --help: code %d, stderr %q", c.name, code, errOut)
		}
	}
}
