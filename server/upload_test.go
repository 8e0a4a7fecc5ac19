package server

import (
	"regexp"
	"strings"
	"testing"
)

func TestSanitizeName(t *testing.T) {
	for in, want := range map[string]string{
		"ct.nii.gz":               "ct.nii.gz",
		"../../etc/passwd":        "passwd",
		`C:\Users\me\scan 01.dcm`: "scan_01.dcm",
		"..":                      "upload",
		".hidden":                 "hidden",
		"":                        "upload",
		"/":                       "_",
		"ünïcødé.png":             "_n_c_d_.png",
		"a/b/../../c.nrrd":        "c.nrrd",
		strings.Repeat("x", 300):  strings.Repeat("x", 128),
	} {
		if got := sanitizeName(in); got != want {
			t.Errorf("sanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)

// FuzzSanitizeName checks that any uploaded name becomes one plain file
// name inside the session's folder.
func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"../x", "a/../../b", `..\..\x`, "\x00", "...."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := sanitizeName(s)
		if !safeName.MatchString(got) || got == "." || got == ".." {
			t.Fatalf("sanitizeName(%q) = %q", s, got)
		}
	})
}
