package clicknet

import (
	"context"
	"fmt"
	"sync"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads like maths
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/sam/checkpoint"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// Predictor segments images with a loaded clicknet model. It is safe for
// concurrent use (one prediction at a time runs the network).
type Predictor struct {
	cfg  Config
	mu   sync.Mutex
	exec *model.Exec
}

// NewPredictor loads the weights of sd (exactly Params(cfg)) into a new
// model run by backend.
func NewPredictor(backend compute.Backend, cfg Config, sd *checkpoint.StateDict) (*Predictor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	store := model.NewStore()
	if err := LoadStateDict(store.RootScope(), cfg, sd); err != nil {
		return nil, fmt.Errorf("clicknet weights: %w", err)
	}
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *Node) *Node {
		return Logits(scope, cfg, x)
	})
	if err != nil {
		return nil, err
	}
	return &Predictor{cfg: cfg, exec: exec}, nil
}

// Config is the model's architecture.
func (p *Predictor) Config() Config { return p.cfg }

// Prepared is an image made ready for prompts: resized into the model's
// input frame.
type Prepared struct {
	Frame    Frame
	Geometry imageproc.Geometry
}

// SizeBytes is the memory a Prepared holds.
func (e *Prepared) SizeBytes() int64 { return int64(4 * len(e.Frame.Image)) }

// Prepare resizes an 8-bit grey h×w image (row-major) so that its longest
// side is the model's input size, padding the rest.
func (p *Predictor) Prepare(h, w int, gray []uint8) (*Prepared, error) {
	s := p.cfg.InputSize
	geom, err := imageproc.NewGeometry(h, w, s)
	if err != nil {
		return nil, err
	}
	rgb, err := imageproc.GrayToRGB(h, w, gray)
	if err != nil {
		return nil, err
	}
	resized, err := imageproc.ResizeLongestSide(rgb, s)
	if err != nil {
		return nil, err
	}
	frame := Frame{Size: s, ResizedH: resized.H, ResizedW: resized.W, Image: make([]float32, s*s)}
	for y := range resized.H {
		for x := range resized.W {
			frame.Image[y*s+x] = float32(resized.Pix[3*(y*resized.W+x)]) / 255
		}
	}
	return &Prepared{Frame: frame, Geometry: geom}, nil
}

// Prompt is a prompt in original-image pixels: clicks at pixel indices
// (X column, Y row), an optional box (corners included) and an optional
// previous mask (original size, non-zero inside) to refine.
type Prompt struct {
	Points   []ImagePoint
	Box      *[4]float64
	Previous []uint8
}

// ImagePoint is a click on an original-image pixel.
type ImagePoint struct {
	X, Y     float64
	Positive bool
}

// Predict returns the mask logits at the original image's size.
func (p *Predictor) Predict(ctx context.Context, e *Prepared, pr Prompt) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g := e.Geometry
	sx := float64(g.ResizedW) / float64(g.OriginalW)
	sy := float64(g.ResizedH) / float64(g.OriginalH)
	points := make([]Point, len(pr.Points))
	for i, q := range pr.Points {
		points[i] = Point{X: (q.X + 0.5) * sx, Y: (q.Y + 0.5) * sy, Positive: q.Positive}
	}
	var box *Box
	if b := pr.Box; b != nil {
		box = &Box{X0: b[0] * sx, Y0: b[1] * sy, X1: (b[2] + 1) * sx, Y1: (b[3] + 1) * sy}
	}
	var prev []float32
	if pr.Previous != nil {
		if len(pr.Previous) != g.OriginalH*g.OriginalW {
			return nil, fmt.Errorf("clicknet: previous mask of %d pixels for a %d×%d image", len(pr.Previous), g.OriginalW, g.OriginalH)
		}
		prev = downsampleNearest(pr.Previous, g)
	}
	x, err := e.Frame.Encode(nil, points, box, prev, p.cfg.ClickRadius)
	if err != nil {
		return nil, err
	}
	s := p.cfg.InputSize
	p.mu.Lock()
	out, err := p.exec.Exec1(tensors.FromFlatDataAndDimensions(x, 1, s, s, Channels))
	p.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("clicknet: %w", err)
	}
	logits := tensors.MustCopyFlatData[float32](out)
	out.FinalizeAll()
	up, err := imageproc.PostprocessMasks(imageproc.Masks{N: 1, H: s, W: s, Data: logits}, g)
	if err != nil {
		return nil, err
	}
	return up.Data, nil
}

// downsampleNearest maps an original-size mask onto the input frame: each
// input pixel of the resized part takes the mask pixel under its centre.
func downsampleNearest(mask []uint8, g imageproc.Geometry) []float32 {
	s := g.InputSize
	out := make([]float32, s*s)
	for y := range g.ResizedH {
		oy := min(int((float64(y)+0.5)*float64(g.OriginalH)/float64(g.ResizedH)), g.OriginalH-1)
		for x := range g.ResizedW {
			ox := min(int((float64(x)+0.5)*float64(g.OriginalW)/float64(g.ResizedW)), g.OriginalW-1)
			if mask[oy*g.OriginalW+ox] != 0 {
				out[y*s+x] = 1
			}
		}
	}
	return out
}
