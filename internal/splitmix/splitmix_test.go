package splitmix

import "testing"

// TestMixKnownValues pins the outputs: SplitMix64 seeded with 0 yields
// these first values (its state after n steps is n·0x9e3779b97f4a7c15).
func TestMixKnownValues(t *testing.T) {
	for i, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := Mix(uint64(i) * 0x9e3779b97f4a7c15); got != want {
			t.Errorf("step %d: %#x, want %#x", i+1, got, want)
		}
	}
}
