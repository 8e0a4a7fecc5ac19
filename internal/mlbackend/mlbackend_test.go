package mlbackend

import (
	"strings"
	"testing"
)

func TestBackendEnvVar(t *testing.T) {
	t.Setenv(BackendEnvVar, "go")
	b, err := New()
	if err != nil {
		t.Fatalf("%s=go: %v", BackendEnvVar, err)
	}
	b.Finalize()
	t.Setenv(BackendEnvVar, "no-such-backend:cuda")
	if _, err := New(); err == nil || !strings.Contains(err.Error(), "not in this build") || !strings.Contains(err.Error(), "-tags xla") {
		t.Errorf("unknown backend: err = %v", err)
	}
}
