//go:build xla

package mlbackend

// Building with -tags xla (cgo required) adds GoMLX's XLA backend, the way
// to GPUs: run with SYNTHFM_BACKEND=xla:cuda (or xla:cpu), and point
// PJRT_PLUGIN_LIBRARY_PATH at an installed PJRT plugin on machines that
// cannot download one. The default build stays pure Go.
import _ "github.com/gomlx/go-xla/compute/xla"
