// Package mlbackend creates the GoMLX compute backend with the project's settings.
package mlbackend

import (
	"fmt"
	"os"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// DefaultConfig is the pure-Go backend configuration every command and test
// uses (see New for why).
const DefaultConfig = ""

// EnvVar overrides DefaultConfig, for measuring alternatives (for example
// SYNTHFM_GOMLX_CONFIG=ops_sequential); the value is the Go backend's
// comma-separated option list.
const EnvVar = "SYNTHFM_GOMLX_CONFIG"

// New returns a new pure-Go GoMLX backend. It imports the Go backend
// directly, not GoMLX's default backend set, so that CGO_ENABLED=0 builds
// work (the XLA backend needs cgo).
func New() (compute.Backend, error) {
	config := DefaultConfig
	if v, ok := os.LookupEnv(EnvVar); ok {
		config = v
	}
	b, err := gobackend.New(config)
	if err != nil {
		return nil, fmt.Errorf("GoMLX backend (config %q): %w", config, err)
	}
	return b, nil
}
