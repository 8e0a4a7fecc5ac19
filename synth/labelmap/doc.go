// Package labelmap draws SynthMorph-style label maps from warped smooth noise and erodes them into touching regions separated by gaps.
//
// See method.md §2. Coordinates are pixel indices 0..side−1; the coarse
// noise grids are upsampled linearly with corners aligned, and are never
// materialised at full resolution: a sum of bilinear grids is bilinear on
// every rectangle of the union of their grid lines, so each rectangle
// stores four coefficients per channel and pixels are evaluated directly.
package labelmap
