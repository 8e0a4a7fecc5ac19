// Package noise implements the synthetic-image noise library (blur, Perlin, speckle, Poisson, Gaussian, Rician).
//
// Every function works in place on a row-major float32 image with
// intensities nominally in [0,1] and draws its randomness from the
// caller's *rand.Rand, so a seeded generator fully determines the result.
// The ranges the parameters are drawn from live in synth.Config; this
// package only applies a model with given parameters (method.md §1, §3).
package noise
