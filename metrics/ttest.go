package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// TTest is the result of a paired Student t-test of a against b.
type TTest struct {
	N        int     // pairs
	MeanDiff float64 // mean of a−b
	SDDiff   float64 // sample standard deviation of a−b
	T        float64 // MeanDiff / (SDDiff/√N)
	DF       int     // N−1
	P        float64 // two-sided p-value from Student's t with DF degrees of freedom
}

// PairedTTest tests whether the mean of a−b is zero over paired samples.
// Pairs where either value is NaN are dropped. With zero variance of the
// differences, T is ±Inf and P is 0 (or T = NaN and P = 1 when every
// difference is 0).
func PairedTTest(a, b []float64) (TTest, error) {
	if len(a) != len(b) {
		return TTest{}, fmt.Errorf("paired t-test needs equal lengths, got %d and %d", len(a), len(b))
	}
	var d []float64
	for i := range a {
		if !math.IsNaN(a[i]) && !math.IsNaN(b[i]) {
			d = append(d, a[i]-b[i])
		}
	}
	n := len(d)
	if n < 2 {
		return TTest{N: n}, fmt.Errorf("paired t-test needs at least 2 pairs, got %d", n)
	}
	mean := 0.0
	for _, x := range d {
		mean += x
	}
	mean /= float64(n)
	ss := 0.0
	for _, x := range d {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / float64(n-1))
	r := TTest{N: n, MeanDiff: mean, SDDiff: sd, DF: n - 1}
	switch {
	case sd == 0 && mean == 0:
		r.T, r.P = math.NaN(), 1
	case sd == 0:
		r.T, r.P = math.Copysign(math.Inf(1), mean), 0
	default:
		r.T = mean / (sd / math.Sqrt(float64(n)))
		dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
		r.P = 2 * dist.Survival(math.Abs(r.T))
	}
	return r, nil
}

// MeanSD returns the mean and sample standard deviation of the non-NaN
// values and how many there were (SD is NaN below two values).
func MeanSD(xs []float64) (mean, sd float64, n int) {
	for _, x := range xs {
		if !math.IsNaN(x) {
			mean += x
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	mean /= float64(n)
	if n < 2 {
		return mean, math.NaN(), n
	}
	ss := 0.0
	for _, x := range xs {
		if !math.IsNaN(x) {
			ss += (x - mean) * (x - mean)
		}
	}
	return mean, math.Sqrt(ss / float64(n-1)), n
}
