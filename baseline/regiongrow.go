// Package baseline holds the classical, training-free segmenters: seeded
// region growing from click prompts (RegionGrow, the floor of every
// evaluation) and the flood fill `synthfm serve` offers (FloodFill).
package baseline

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/synthfm/synthfm/eval"
	"github.com/synthfm/synthfm/maskops"
	"github.com/synthfm/synthfm/prompts"
)

// RegionGrow is competitive seeded region growing (after Adams & Bischof
// 1994) on a Gaussian-smoothed image. Positive clicks seed the object,
// negative clicks the background; each region takes, in order of increasing
// difference to its reference intensity, the unassigned 4-neighbours of its
// pixels. The object's reference is fixed: the mean intensity within
// SpreadRadius of the positive clicks (a running mean drifts and leaks); it
// stops taking pixels that differ from it by more than its tolerance. The
// background's reference is its running mean. The rim lost to smoothing is
// then re-decided pixel by pixel (see refineBorder), the result is opened with a
// disc of radius OpenRadius (cutting thin leaks; skipped when it would
// erase the object), reduced to the pieces that hold a positive click, and
// its holes are filled.
type RegionGrow struct {
	// Sigma is the Gaussian smoothing in pixels (default 1).
	Sigma float64
	// SpreadFactor, MinTolerance and MaxTolerance set the object's stopping
	// tolerance: clamp(SpreadFactor·sd, MinTolerance, MaxTolerance), with sd
	// the standard deviation of the smoothed image within SpreadRadius
	// pixels of the positive clicks (grey levels of 0..255).
	SpreadFactor, MinTolerance, MaxTolerance float64
	SpreadRadius                             int
	// OpenRadius is the radius of the morphological opening (0: none).
	OpenRadius float64
	// BorderWidth is how far outside the grown core the rim is re-decided
	// by nearest mean (0: not at all).
	BorderWidth float64
}

// NewRegionGrow returns the baseline with its default settings.
func NewRegionGrow() *RegionGrow {
	return &RegionGrow{Sigma: 1, SpreadFactor: 2.5, MinTolerance: 8, MaxTolerance: 40, SpreadRadius: 4, OpenRadius: 2, BorderWidth: 3}
}

// Name implements eval.Model.
func (r *RegionGrow) Name() string { return "baseline" }

// Prepare smooths the image once.
func (r *RegionGrow) Prepare(ctx context.Context, img *image.Gray) (eval.Prepared, error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, errors.New("empty image")
	}
	w, h := b.Dx(), b.Dy()
	f := make([]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			f[x+y*w] = float64(img.GrayAt(b.Min.X+x, b.Min.Y+y).Y)
		}
	}
	return &grower{cfg: *r, w: w, h: h, raw: f, img: gaussianBlur(f, w, h, r.Sigma)}, ctx.Err()
}

type grower struct {
	cfg  RegionGrow
	w, h int
	raw  []float64 // the image
	img  []float64 // smoothed
}

const (
	unassigned = 0
	background = 1
)

// Segment grows the object from the clicks.
func (g *grower) Segment(ctx context.Context, clicks []prompts.Click) (*image.Gray, error) {
	// Region 0 is unassigned, 1 the background (negative clicks, running
	// mean), 2.. one object region per positive click with its own fixed
	// reference and tolerance.
	const maxRegions = 255
	labels := make([]uint8, g.w*g.h)
	var regions []region
	regions = append(regions, region{}, region{})
	for _, c := range clicks {
		if c.X < 0 || c.Y < 0 || c.X >= g.w || c.Y >= g.h {
			return nil, fmt.Errorf("click (%d,%d) outside the %dx%d image", c.X, c.Y, g.w, g.h)
		}
		i := c.X + c.Y*g.w
		if labels[i] != unassigned {
			continue
		}
		l := uint8(background)
		if c.Positive && len(regions) < maxRegions {
			ref, tol := g.reference(c)
			regions = append(regions, region{object: true, ref: ref, tol: tol})
			l = uint8(len(regions) - 1)
		} else if c.Positive {
			continue
		}
		labels[i] = l
		regions[l].sum += g.img[i]
		regions[l].n++
	}
	if len(regions) == 2 {
		return nil, errors.New("region growing needs at least one positive click")
	}
	q := &frontier{}
	push := func(i int) {
		l := labels[i]
		r := regions[l]
		ref := r.ref
		if !r.object {
			ref = r.sum / r.n
		}
		x, y := i%g.w, i/g.w
		for _, n := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
			if n[0] < 0 || n[1] < 0 || n[0] >= g.w || n[1] >= g.h {
				continue
			}
			j := n[0] + n[1]*g.w
			if labels[j] == unassigned {
				heap.Push(q, item{delta: math.Abs(g.img[j] - ref), pixel: int32(j), label: l})
			}
		}
	}
	for i, l := range labels {
		if l != unassigned {
			push(i)
		}
	}
	for steps := 0; q.Len() > 0; steps++ {
		if steps%65536 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		it := heap.Pop(q).(item)
		j := int(it.pixel)
		r := &regions[it.label]
		if labels[j] != unassigned || (r.object && it.delta > r.tol) {
			continue
		}
		labels[j] = it.label
		r.sum += g.img[j]
		r.n++
		push(j)
	}
	grid := maskops.NewGrid(g.w, g.h)
	for i, l := range labels {
		grid.Pix[i] = regions[l].object
	}
	grid = keepClicked(g.refineBorder(grid), clicks)
	if g.cfg.OpenRadius > 0 {
		// An object thinner than the opening would vanish: keep it unopened.
		if opened := keepClicked(open(grid, g.cfg.OpenRadius), clicks); opened.Count() > 0 {
			grid = opened
		}
	}
	return fillHoles(grid).Gray(), nil
}

// refineBorder recovers the rim that smoothing and a tight tolerance cut
// off: within BorderWidth pixels outside the grown core, a pixel joins the
// object when its unsmoothed intensity is
// nearer the core's mean than the mean of a ring just beyond (from
// BorderWidth to 2·BorderWidth pixels out).
func (g *grower) refineBorder(core maskops.Grid) maskops.Grid {
	w := g.cfg.BorderWidth
	if w <= 0 {
		return core
	}
	dist := maskops.Distance(core, 1, 1)
	var objSum, objN, ringSum, ringN float64
	for i, d := range dist {
		switch {
		case d == 0:
			objSum, objN = objSum+g.img[i], objN+1
		case d > w && d <= 2*w:
			ringSum, ringN = ringSum+g.img[i], ringN+1
		}
	}
	if objN == 0 || ringN == 0 {
		return core
	}
	obj, ring := objSum/objN, ringSum/ringN
	out := maskops.NewGrid(core.W, core.H)
	for i, d := range dist {
		out.Pix[i] = d == 0 || (d <= w && math.Abs(g.raw[i]-obj) < math.Abs(g.raw[i]-ring))
	}
	return out
}

// region is one growing region: the background, or the object grown from
// one positive click.
type region struct {
	object   bool
	ref, tol float64 // object: fixed reference intensity and tolerance
	sum, n   float64
}

// open is a morphological opening with a disc of radius r.
func open(g maskops.Grid, r float64) maskops.Grid {
	eroded := maskops.NewGrid(g.W, g.H)
	for i, d := range maskops.InsideDistance(g) {
		eroded.Pix[i] = d > r
	}
	out := maskops.NewGrid(g.W, g.H)
	for i, d := range maskops.Distance(eroded, 1, 1) {
		out.Pix[i] = d <= r
	}
	return out
}

// keepClicked keeps the 8-connected pieces of g that hold a positive click.
func keepClicked(g maskops.Grid, clicks []prompts.Click) maskops.Grid {
	labels, sizes := maskops.Components(g, true)
	keep := make([]bool, len(sizes)+1)
	for _, c := range clicks {
		if c.Positive {
			keep[labels[c.X+c.Y*g.W]] = true
		}
	}
	out := maskops.NewGrid(g.W, g.H)
	for i, l := range labels {
		out.Pix[i] = l > 0 && keep[l]
	}
	return out
}

// reference returns an object region's reference intensity and tolerance:
// the mean and clamp(SpreadFactor·sd) of the smoothed image within
// SpreadRadius of the click.
func (g *grower) reference(c prompts.Click) (float64, float64) {
	var s, ss, n float64
	r := g.cfg.SpreadRadius
	for y := max(0, c.Y-r); y <= min(g.h-1, c.Y+r); y++ {
		for x := max(0, c.X-r); x <= min(g.w-1, c.X+r); x++ {
			if (x-c.X)*(x-c.X)+(y-c.Y)*(y-c.Y) <= r*r {
				v := g.img[x+y*g.w]
				s, ss, n = s+v, ss+v*v, n+1
			}
		}
	}
	sd := math.Sqrt(math.Max(0, ss/n-(s/n)*(s/n)))
	return s / n, math.Min(math.Max(g.cfg.SpreadFactor*sd, g.cfg.MinTolerance), g.cfg.MaxTolerance)
}

// fillHoles adds to g the background components that do not touch the border.
func fillHoles(g maskops.Grid) maskops.Grid {
	labels, sizes := maskops.Components(g.Not(), false)
	touches := make([]bool, len(sizes)+1)
	for x := 0; x < g.W; x++ {
		touches[labels[x]] = true
		touches[labels[x+(g.H-1)*g.W]] = true
	}
	for y := 0; y < g.H; y++ {
		touches[labels[y*g.W]] = true
		touches[labels[g.W-1+y*g.W]] = true
	}
	out := maskops.NewGrid(g.W, g.H)
	for i, l := range labels {
		out.Pix[i] = g.Pix[i] || !touches[l]
	}
	return out
}

type item struct {
	delta float64
	pixel int32
	label uint8
}

// frontier is a min-heap of candidate pixels by difference to their region.
type frontier []item

func (f frontier) Len() int { return len(f) }
func (f frontier) Less(a, b int) bool {
	if f[a].delta != f[b].delta {
		return f[a].delta < f[b].delta
	}
	return f[a].pixel < f[b].pixel
}
func (f frontier) Swap(a, b int) { f[a], f[b] = f[b], f[a] }
func (f *frontier) Push(x any)   { *f = append(*f, x.(item)) }
func (f *frontier) Pop() any {
	old := *f
	it := old[len(old)-1]
	*f = old[:len(old)-1]
	return it
}

// gaussianBlur smooths a w×h image with a separable Gaussian of standard
// deviation sigma (edges clamped); sigma ≤ 0 returns a copy.
func gaussianBlur(f []float64, w, h int, sigma float64) []float64 {
	out := append([]float64(nil), f...)
	if sigma <= 0 {
		return out
	}
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	var total float64
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		total += k[i]
	}
	for i := range k {
		k[i] /= total
	}
	tmp := make([]float64, len(f))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float64
			for i, kv := range k {
				xx := min(max(x+i-r, 0), w-1)
				s += kv * f[xx+y*w]
			}
			tmp[x+y*w] = s
		}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float64
			for i, kv := range k {
				yy := min(max(y+i-r, 0), h-1)
				s += kv * tmp[x+yy*w]
			}
			out[x+y*w] = s
		}
	}
	return out
}
