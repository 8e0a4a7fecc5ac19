// Package synth generates SynthFM's synthetic training samples: shape-aware and boundary-aware images with target masks.
//
// A Config holds every range and probability of method.md §1–3; a
// Generator turns (config, seed, index) into one Sample — image, mask and
// metadata — deterministically, whatever the worker count or order, and
// Stream delivers samples in index order from a worker pool.
package synth
