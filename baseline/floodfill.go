package baseline

import (
	"context"
	"fmt"

	"github.com/synthfm/synthfm/promptable"
)

// FloodFill is a classical promptable segmenter that needs no checkpoint:
// each positive click grows a 4-connected region of pixels whose grey level
// is within a tolerance of the clicked pixel's, negative clicks grow regions
// the same way that are taken out, and a box confines the result. It is
// what `synthfm serve --model flood-fill` serves (the counterpart of the
// flood-fill tools of image editors), and its masks can be predicted by
// hand, which the server's tests rely on. It is a promptable.Segmenter,
// safe for concurrent use.
type FloodFill struct {
	// Tolerances are the grey-level tolerances of the three multimask
	// outputs, tightest first; a single-mask prompt uses the middle one.
	Tolerances [3]float64
}

var _ promptable.Segmenter = (*FloodFill)(nil)

// NewFloodFill returns a flood-fill segmenter with tolerances 8, 24 and 48
// grey levels.
func NewFloodFill() *FloodFill { return &FloodFill{Tolerances: [3]float64{8, 24, 48}} }

// Info describes the segmenter: "flood-fill", one mask per tolerance for a
// multimask prompt.
func (f *FloodFill) Info() promptable.ModelInfo {
	return promptable.ModelInfo{Name: "flood-fill", Description: f.Description(), Multimask: len(f.Tolerances)}
}

// Description is one line for people.
func (f *FloodFill) Description() string {
	return fmt.Sprintf("classical flood fill from the clicks (grey-level tolerances %g, %g, %g)", f.Tolerances[0], f.Tolerances[1], f.Tolerances[2])
}

// GreyImage is the flood fill's encoding of an image: its grey levels.
type GreyImage struct {
	Width, Height int
	Grey          []float32
}

// SizeBytes is the memory the encoding holds.
func (g *GreyImage) SizeBytes() int64 { return int64(4 * len(g.Grey)) }

// Embed turns the image into grey levels (a *GreyImage), the mean of red,
// green and blue.
func (f *FloodFill) Embed(ctx context.Context, img promptable.Image) (promptable.Embedding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if img.Width <= 0 || img.Height <= 0 || len(img.Pix) != 3*img.Width*img.Height {
		return nil, fmt.Errorf("flood fill: image %dx%d has %d samples, want %d", img.Width, img.Height, len(img.Pix), 3*img.Width*img.Height)
	}
	g := &GreyImage{Width: img.Width, Height: img.Height, Grey: make([]float32, img.Width*img.Height)}
	for i := range g.Grey {
		p := img.Pix[3*i : 3*i+3]
		g.Grey[i] = (float32(p[0]) + float32(p[1]) + float32(p[2])) / 3
	}
	return g, nil
}

// Segment floods from the prompt's points at each tolerance (the middle
// one for a single-mask prompt). A prompt with a box and no positive point
// seeds from the box's centre; a previous mask is not used. The score of a
// mask is its stability: the intersection over union of the regions grown
// at the tolerance and at twice the tolerance.
func (f *FloodFill) Segment(ctx context.Context, emb promptable.Embedding, width, height int, p promptable.Prompt) ([]promptable.Mask, error) {
	g, ok := emb.(*GreyImage)
	if !ok {
		return nil, fmt.Errorf("flood fill: embedding of type %T is not from this segmenter", emb)
	}
	if g.Width != width || g.Height != height {
		return nil, fmt.Errorf("flood fill: embedding is %dx%d, prompt is for %dx%d", g.Width, g.Height, width, height)
	}
	tols := f.Tolerances[:]
	if !p.Multimask {
		tols = tols[1:2]
	}
	masks := make([]promptable.Mask, 0, len(tols))
	for _, t := range tols {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m := g.region(p, t)
		wide := g.region(p, 2*t)
		masks = append(masks, promptable.Mask{Width: width, Height: height, Pix: m, Score: float32(iou(m, wide))})
	}
	return masks, nil
}

// region grows the mask of prompt p at tolerance tol.
func (g *GreyImage) region(p promptable.Prompt, tol float64) []uint8 {
	var pos, neg []promptable.Point
	for _, pt := range p.Points {
		if pt.Positive {
			pos = append(pos, pt)
		} else {
			neg = append(neg, pt)
		}
	}
	x0, y0, x1, y1 := 0, 0, g.Width-1, g.Height-1
	if b := p.Box; b != nil {
		x0, y0, x1, y1 = int(b.X0), int(b.Y0), int(b.X1), int(b.Y1)
		if len(pos) == 0 {
			pos = []promptable.Point{{X: (b.X0 + b.X1) / 2, Y: (b.Y0 + b.Y1) / 2, Positive: true}}
		}
	}
	in := make([]uint8, len(g.Grey))
	g.flood(in, pos, tol, x0, y0, x1, y1)
	if len(neg) > 0 {
		out := make([]uint8, len(g.Grey))
		g.flood(out, neg, tol, x0, y0, x1, y1)
		for i := range in {
			in[i] &^= out[i]
		}
	}
	return in
}

// flood marks in mask the 4-connected pixels inside the rectangle whose grey
// level is within tol of each seed's.
func (g *GreyImage) flood(mask []uint8, seeds []promptable.Point, tol float64, x0, y0, x1, y1 int) {
	var stack []int
	for _, s := range seeds {
		sx, sy := int(s.X), int(s.Y)
		if sx < x0 || sx > x1 || sy < y0 || sy > y1 {
			continue
		}
		ref := float64(g.Grey[sy*g.Width+sx])
		seen := make([]bool, len(g.Grey))
		stack = append(stack[:0], sy*g.Width+sx)
		seen[sy*g.Width+sx] = true
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if d := float64(g.Grey[i]) - ref; d > tol || d < -tol {
				continue
			}
			mask[i] = 1
			x, y := i%g.Width, i/g.Width
			for _, n := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if n[0] < x0 || n[0] > x1 || n[1] < y0 || n[1] > y1 {
					continue
				}
				j := n[1]*g.Width + n[0]
				if !seen[j] {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
	}
}

// iou returns the intersection over union of two binary masks (1 when both
// are empty).
func iou(a, b []uint8) float64 {
	inter, union := 0, 0
	for i := range a {
		inter += int(a[i] & b[i])
		union += int(a[i] | b[i])
	}
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}
