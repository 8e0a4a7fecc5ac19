package synth

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sync"
)

// Generator makes samples from one validated configuration. It is safe
// for concurrent use; each call gets its own buffers from a pool.
type Generator struct {
	cfg  Config
	pool sync.Pool // *workspace of cfg.Size
}

// workspace holds a sample's full-size buffers so that a worker reuses
// them instead of allocating per sample.
type workspace struct {
	img     []float32 // the image being built
	scratch []float32 // 2 planes for blur, speckle and Perlin fields
	owner   []int8    // shape module: topmost object per pixel, −1 for none
}

// ErrNoTarget reports a sample for which no target of min_area could be
// placed within max_tries; only extreme configurations reach it.
var ErrNoTarget = errors.New("no target of min_area could be placed")

// NewGenerator validates cfg and returns a generator for it.
func NewGenerator(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Copy the slices so that later changes to the caller's Config cannot
	// alter samples.
	cfg.Boundary.NoiseScales = append([]float64(nil), cfg.Boundary.NoiseScales...)
	cfg.Boundary.WarpScales = append([]float64(nil), cfg.Boundary.WarpScales...)
	g := &Generator{cfg: cfg}
	n := cfg.Size * cfg.Size
	g.pool.New = func() any {
		return &workspace{img: make([]float32, n), scratch: make([]float32, 2*n), owner: make([]int8, n)}
	}
	return g, nil
}

// Config returns the generator's configuration.
func (g *Generator) Config() Config { return g.cfg }

// minAreaPixels is min_area in pixels of this canvas (at least 1).
func (g *Generator) minAreaPixels() int {
	return max(1, int(math.Ceil(g.cfg.MinArea*float64(g.cfg.Size*g.cfg.Size))))
}

// Sample makes sample index of stream seed. It is a pure function of
// (configuration, seed, index): the same arguments give byte-identical
// samples in any order, from any goroutine, with any number of workers,
// on any machine of the same architecture. (Go may fuse a multiply and an
// add into one instruction on arm64, ppc64, s390x and riscv64, and on
// amd64 built with GOAMD64=v3 or later, so builds for those can differ
// in the last bit of an intensity, and thus occasionally in a pixel.)
func (g *Generator) Sample(seed uint64, index int) (*Sample, error) {
	if index < 0 {
		return nil, fmt.Errorf("sample index %d is negative", index)
	}
	d := draw{sampleRNG(seed, index)}
	ws := g.pool.Get().(*workspace)
	defer g.pool.Put(ws)
	side := g.cfg.Size
	mask := image.NewGray(image.Rect(0, 0, side, side))
	meta := Metadata{Seed: seed, Index: index, Size: side}
	var err error
	if d.bernoulli(g.cfg.PShape) {
		meta.Module = ModuleShape
		err = g.shapeScene(d, ws, mask.Pix, &meta)
	} else {
		meta.Module = ModuleBoundary
		err = g.boundaryScene(d, ws, mask.Pix, &meta)
	}
	if err != nil {
		return nil, fmt.Errorf("sample %d (seed %d, %s module): %w", index, seed, meta.Module, err)
	}
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i, v := range ws.img {
		img.Pix[i] = uint8(v*255 + 0.5) // v is already clipped to [0,1]
	}
	for _, m := range mask.Pix {
		if m != 0 {
			meta.TargetArea++
		}
	}
	return &Sample{Image: img, Mask: mask, Meta: meta}, nil
}

// WorkerMemory estimates the bytes one worker needs for a side×side
// sample: its float buffers, the boundary module's label map, erosion
// and component scratch, and the finished 8-bit image and mask.
func WorkerMemory(side int) int64 {
	const bytesPerPixel = 4 + 8 + 1 + 6 + 2 // image, scratch, owner, label-map temporaries, output
	return int64(side) * int64(side) * bytesPerPixel
}
