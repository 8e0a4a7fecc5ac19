package synth

import (
	"math"
	"math/rand/v2"

	"github.com/synthfm/synthfm/internal/splitmix"
)

// sampleRNG returns the random generator of sample (seed, index): a PCG
// whose 128-bit state is a SplitMix64 hash of both (splitmix.Mix), so neighbouring seeds
// and indices start far apart on the generator's 2¹²⁸ cycle. (PCG costs
// half as much per draw as ChaCha8, and samples draw millions each.)
func sampleRNG(seed uint64, index int) *rand.Rand {
	const domain = 0x5e7f_4d3a_9c1b_2e60 // separates these streams from other uses of seed
	hi := splitmix.Mix(seed ^ domain)
	lo := splitmix.Mix(hi ^ splitmix.Mix(uint64(index)))
	return rand.New(rand.NewPCG(hi, lo))
}

// draw wraps a sample's generator with the distributions the config uses.
type draw struct{ *rand.Rand }

func (d draw) uniform(r Range) float64 { return r.Min + (r.Max-r.Min)*d.Float64() }

func (d draw) intUniform(r IntRange) int { return r.Min + d.IntN(r.Max-r.Min+1) }

func (d draw) bernoulli(p float64) bool { return d.Float64() < p }

// logUniform draws log-uniformly in r (r.Min > 0).
func (d draw) logUniform(r Range) float64 {
	return math.Exp(d.uniform(Range{math.Log(r.Min), math.Log(r.Max)}))
}

// sign is −1 or +1 with equal probability.
func (d draw) sign() int {
	if d.IntN(2) == 0 {
		return -1
	}
	return 1
}
