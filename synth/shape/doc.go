// Package shape draws closed Bézier blobs and ellipses and rasterises polygons by even-odd scanline fill.
//
// Coordinates are continuous pixel coordinates: pixel (x, y) covers
// [x, x+1)×[y, y+1) and is inside a shape when its centre (x+0.5, y+0.5)
// is (method.md §1).
package shape
