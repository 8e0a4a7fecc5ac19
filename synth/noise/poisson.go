package noise

import (
	"math"
	"math/rand/v2"
)

// Poisson sampling is written here rather than taken from gonum's
// distuv.Poisson because the mean changes at every pixel: distuv draws
// mean+1 exponentials below a mean of 10 and redoes its set-up through a
// fresh rand.Rand per call, which made shot noise the most expensive step
// of a sample. Below poissonInversionLimit this uses inversion by
// sequential search (one uniform, one exp); above it, Hörmann's
// transformed rejection with squeeze, PTRS (W. Hörmann, "The transformed
// rejection method for generating Poisson random variables", Insurance:
// Mathematics and Economics 12, 1993), which accepts ~90 % of draws
// without evaluating a logarithm.
const poissonInversionLimit = 10

// poissonVariate draws one Poisson(mu) count, mu ≥ 0.
func poissonVariate(mu float64, rng *rand.Rand) float64 {
	if mu < poissonInversionLimit {
		return poissonInversion(mu, rng)
	}
	return poissonPTRS(mu, rng)
}

// poissonInversion walks the cumulative distribution from 0 until it
// passes a uniform draw.
func poissonInversion(mu float64, rng *rand.Rand) float64 {
	u := rng.Float64()
	p := math.Exp(-mu)
	cdf := p
	k := 0.0
	for u > cdf {
		k++
		p *= mu / k
		cdf += p
		if p == 0 { // u fell in the rounding gap at the far tail
			break
		}
	}
	return k
}

// poissonPTRS is algorithm PTRS of Hörmann (1993) for mu ≥ 10.
func poissonPTRS(mu float64, rng *rand.Rand) float64 {
	smu := math.Sqrt(mu)
	b := 0.931 + 2.53*smu
	a := -0.059 + 0.02483*b
	invAlpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + mu + 0.43)
		if us >= 0.07 && v <= vr {
			return k
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lgk, _ := math.Lgamma(k + 1)
		if math.Log(v*invAlpha/(a/(us*us)+b)) <= -mu+k*math.Log(mu)-lgk {
			return k
		}
	}
}
