// Package splitmix holds the finaliser of Steele, Lea and Flood's
// SplitMix64 ("Fast splittable pseudorandom number generators", 2014), the
// one 64-bit mix the project derives seeds with (synth's per-sample
// generators, prompts' per-case click seeds). Changing it changes every
// generated sample and every simulated click.
package splitmix

// Mix returns the SplitMix64 finaliser of x: a bijective mix of 64 bits in
// which each input bit affects each output bit.
func Mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
