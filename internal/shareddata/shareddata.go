// Package shareddata locates the project's shared folder (evaluation data,
// SAM fixtures, documents) that sits beside a developer's or CI's clone.
//
// A user's fresh clone has no shared folder; tests that need it call Dir or
// Path, which skip the test with a clear message when it is absent.
package shareddata

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides the location of the shared folder.
const EnvVar = "SYNTHFM_SHARED"

// Find returns the shared folder: $SYNTHFM_SHARED if set, else "../shared"
// next to the module root found by walking up from the working directory.
func Find() (string, error) {
	if d := os.Getenv(EnvVar); d != "" {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return "", errors.New(EnvVar + "=" + d + " is not a folder")
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(dir), "shared")
			if st, err := os.Stat(shared); err == nil && st.IsDir() {
				return shared, nil
			}
			return "", errors.New("no shared folder at " + shared + " (set " + EnvVar + ")")
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("module root not found above " + wd)
		}
	}
}

// Dir returns the shared folder or skips the test when it is absent.
func Dir(tb testing.TB) string {
	tb.Helper()
	d, err := Find()
	if err != nil {
		tb.Skipf("skipping: shared data not available: %v", err)
	}
	return d
}

// Path returns a path inside the shared folder, skipping the test when the
// folder or the path is absent.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Dir(tb)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("skipping: %s not available: %v", p, err)
	}
	return p
}
