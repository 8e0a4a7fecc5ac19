//go:build race

package train

// raceEnabled shortens the training tests under the race detector, which
// slows GoMLX's kernels about tenfold; the concurrency they check is the
// same.
const raceEnabled = true
