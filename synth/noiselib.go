package synth

import (
	"github.com/synthfm/synthfm/synth/noise"
)

// Noise model names, in the order the library applies them.
const (
	NoiseBlur     = "blur"
	NoisePerlin   = "perlin"
	NoiseSpeckle  = "speckle"
	NoisePoisson  = "poisson"
	NoiseGaussian = "gaussian"
	NoiseRician   = "rician"
)

// perlinParams draws the Perlin field settings shared by the shading
// model and the object texture.
func (g *Generator) perlinParams(d draw) noise.PerlinParams {
	p := g.cfg.Noise.Perlin
	return noise.PerlinParams{Cells: d.intUniform(p.Cells), Octaves: d.intUniform(p.Octaves),
		Persistence: p.Persistence, Lacunarity: p.Lacunarity}
}

// applyNoise runs the noise library over img (method.md §1): each model
// is switched on with probability noise.p, in the fixed order blur →
// Perlin → speckle → Poisson → Gaussian → Rician, then the image is
// clipped to [0,1]. It returns the models applied with their parameters.
func (g *Generator) applyNoise(d draw, img []float32, ws *workspace) ([]NoiseMeta, error) {
	nc, side := g.cfg.Noise, g.cfg.Size
	scale256, scale1024 := float64(side)/256, float64(side)/1024
	applied := []NoiseMeta{}
	if d.bernoulli(nc.P) {
		sigma := d.uniform(nc.Blur.Sigma) * scale1024
		noise.GaussianBlur(img, side, side, sigma, ws.scratch)
		applied = append(applied, NoiseMeta{NoiseBlur, map[string]float64{"sigma": sigma}})
	}
	if d.bernoulli(nc.P) {
		amplitude := d.uniform(nc.Perlin.Amplitude)
		p := g.perlinParams(d)
		if err := noise.AddPerlin(img, side, side, amplitude, p, d.Rand, ws.scratch); err != nil {
			return nil, err
		}
		applied = append(applied, NoiseMeta{NoisePerlin, map[string]float64{
			"amplitude": amplitude, "cells": float64(p.Cells), "octaves": float64(p.Octaves)}})
	}
	if d.bernoulli(nc.P) {
		beta := d.uniform(nc.Speckle.Beta)
		smooth := 0.0
		if d.bernoulli(nc.Speckle.PSmooth) {
			smooth = d.uniform(nc.Speckle.SmoothSigma) * scale256
		}
		noise.Speckle(img, side, side, beta, smooth, d.Rand, ws.scratch)
		applied = append(applied, NoiseMeta{NoiseSpeckle, map[string]float64{"beta": beta, "smooth_sigma": smooth}})
	}
	if d.bernoulli(nc.P) {
		peak := d.logUniform(nc.Poisson.Peak)
		noise.Poisson(img, peak, d.Rand)
		applied = append(applied, NoiseMeta{NoisePoisson, map[string]float64{"peak": peak}})
	}
	if d.bernoulli(nc.P) {
		sigma := d.uniform(nc.Gaussian.Sigma)
		noise.Gaussian(img, sigma, d.Rand)
		applied = append(applied, NoiseMeta{NoiseGaussian, map[string]float64{"sigma": sigma}})
	}
	if d.bernoulli(nc.P) {
		sigma := d.uniform(nc.Rician.Sigma)
		noise.Rician(img, sigma, d.Rand)
		applied = append(applied, NoiseMeta{NoiseRician, map[string]float64{"sigma": sigma}})
	}
	clip01(img)
	return applied, nil
}

// clip01 clamps every value of v to [0,1]. (Plain comparisons: the
// min/max builtins also order NaNs and signed zeros, which costs 5 % of
// a sample here; the noise models never produce NaN.)
func clip01(v []float32) {
	for i, x := range v {
		if x < 0 {
			v[i] = 0
		} else if x > 1 {
			v[i] = 1
		}
	}
}
