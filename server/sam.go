package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/internal/mlbackend"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/checkpoint"
	"github.com/synthfm/synthfm/sam/imageproc"
)

// SAM serves a Segment Anything model as SamPredictor does: the image is
// resized and normalised (package imageproc), encoded once, and each prompt
// is decoded against the embedding; the masks are the low-resolution
// logits upsampled to the image and thresholded.
//
// It is written on the sam package's graph functions because sam has no
// Predictor type yet; when it has one, this adapter should wrap it.
type SAM struct {
	cfg  sam.Config
	name string
	prep imageproc.Preprocessor

	encodeMu sync.Mutex // one encoder run at a time
	encode   *model.Exec
	decodeMu sync.Mutex // one decoder run at a time
	decode   *model.Exec
	pe       *tensors.Tensor // the dense positional encoding, fixed by the weights
}

// samEmbedding is an image's encoding and how the image maps onto the
// model's input.
type samEmbedding struct {
	emb  *tensors.Tensor // [1, C, E, E]
	geom imageproc.Geometry
	size int64
}

func (e *samEmbedding) SizeBytes() int64 { return e.size }

// LoadSAM reads SAM weights (.pth or .safetensors with SAM's state_dict
// names) and the architecture config names: a preset ("vit_b", "vit_l",
// "vit_h"), a config JSON file, or "" to take the preset from the
// checkpoint's file name (sam_vit_b_01ec64.pth is vit_b).
func LoadSAM(ctx context.Context, checkpointPath, config string) (*SAM, error) {
	cfg, err := samConfig(checkpointPath, config)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sd, err := checkpoint.Read(checkpointPath)
	if err != nil {
		return nil, err
	}
	backend, err := mlbackend.New()
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	if err := sam.LoadStateDict(store.RootScope(), cfg, sd); err != nil {
		return nil, fmt.Errorf("%s does not hold a SAM %s: %w", checkpointPath, cfg.Name, err)
	}
	return newSAM(backend, store, cfg)
}

// newSAM builds the encoder and decoder of a model whose weights are in
// store.
func newSAM(backend compute.Backend, store *model.Store, cfg sam.Config) (*SAM, error) {
	s := &SAM{cfg: cfg, name: "sam-" + cfg.Name, prep: imageproc.NewPreprocessor(cfg.ImgSize)}
	s.prep.PixelMean = [3]float32{float32(cfg.PixelMean[0]), float32(cfg.PixelMean[1]), float32(cfg.PixelMean[2])}
	s.prep.PixelStd = [3]float32{float32(cfg.PixelStd[0]), float32(cfg.PixelStd[1]), float32(cfg.PixelStd[2])}
	var err error
	if s.encode, err = model.NewExec(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return sam.ImageEncoder(scope, cfg, x)
	}); err != nil {
		return nil, fmt.Errorf("building the image encoder: %w", err)
	}
	// Inputs: embedding, dense PE, then points and labels and/or a box.
	if s.decode, err = model.NewExec(backend, store, func(scope *model.Scope, in []*graph.Node) (*graph.Node, *graph.Node) {
		var points, labels, box *graph.Node
		switch len(in) {
		case 3:
			box = in[2]
		case 4:
			points, labels = in[2], in[3]
		default:
			points, labels, box = in[2], in[3], in[4]
		}
		sparse, dense := sam.PromptEncoder(scope, cfg, points, labels, box, nil)
		return sam.MaskDecoder(scope, cfg, in[0], in[1], sparse, dense)
	}); err != nil {
		return nil, fmt.Errorf("building the mask decoder: %w", err)
	}
	pe, err := model.ExecOnce(backend, store, func(scope *model.Scope, g *graph.Graph) *graph.Node {
		return sam.DensePositionalEncoding(scope, cfg, g)
	})
	if err != nil {
		return nil, fmt.Errorf("computing the positional encoding: %w", err)
	}
	s.pe = pe
	return s, nil
}

// samConfig resolves the architecture of a checkpoint.
func samConfig(checkpointPath, config string) (sam.Config, error) {
	if config == "" {
		base := strings.ToLower(filepath.Base(checkpointPath))
		for _, preset := range []string{"vit_b", "vit_l", "vit_h"} {
			if strings.Contains(base, preset) {
				config = preset
			}
		}
		if config == "" {
			return sam.Config{}, fmt.Errorf("cannot tell the SAM architecture of %s from its name: give a preset (vit_b, vit_l, vit_h) or a config JSON file", checkpointPath)
		}
	}
	if strings.HasPrefix(config, "vit_") && !strings.ContainsAny(config, `/\.`) {
		return sam.PresetConfig(config)
	}
	cfg, err := sam.LoadConfig(config)
	if err != nil {
		return sam.Config{}, err
	}
	if cfg.Name == "" {
		cfg.Name = strings.TrimSuffix(filepath.Base(config), filepath.Ext(config))
	}
	return cfg, nil
}

// Info describes the model.
func (s *SAM) Info() ModelInfo {
	return ModelInfo{
		Name:        s.name,
		Description: fmt.Sprintf("Segment Anything (%s: ViT depth %d, width %d), input %d px", s.cfg.Name, s.cfg.Depth, s.cfg.EmbedDim, s.cfg.ImgSize),
		InputSize:   s.cfg.ImgSize,
		Multimask:   s.cfg.NumMultimaskOutputs,
	}
}

// Embed encodes an image (the slow step).
func (s *SAM) Embed(ctx context.Context, img Image) (Embedding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	im, err := imageproc.NewImageFromPix(img.Height, img.Width, img.Pix)
	if err != nil {
		return nil, err
	}
	input, geom, err := s.prep.Prepare(im)
	if err != nil {
		return nil, err
	}
	x := tensors.FromFlatDataAndDimensions(input, 1, 3, s.cfg.ImgSize, s.cfg.ImgSize)
	s.encodeMu.Lock()
	out, err := s.encode.Exec(x)
	s.encodeMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("image encoder: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e := s.cfg.EmbeddingSize()
	return &samEmbedding{emb: out[0], geom: geom, size: int64(4 * s.cfg.OutChans * e * e)}, nil
}

// Segment decodes a prompt: the multimask outputs (mask tokens 1..3) or the
// single-mask output (token 0), as SamPredictor.predict returns them.
func (s *SAM) Segment(ctx context.Context, emb Embedding, width, height int, p Prompt) ([]Mask, error) {
	e, ok := emb.(*samEmbedding)
	if !ok {
		return nil, fmt.Errorf("SAM: embedding of type %T is not from this model", emb)
	}
	if e.geom.OriginalW != width || e.geom.OriginalH != height {
		return nil, fmt.Errorf("SAM: embedding is of a %dx%d image, prompt is for %dx%d", e.geom.OriginalW, e.geom.OriginalH, width, height)
	}
	if len(p.Points) == 0 && p.Box == nil {
		return nil, fmt.Errorf("SAM: empty prompt")
	}
	args := []any{e.emb, s.pe}
	if n := len(p.Points); n > 0 {
		pts := make([]float32, 0, 2*n)
		labels := make([]float32, 0, n)
		for _, pt := range p.Points {
			x, y := e.geom.Point(pt.X, pt.Y)
			pts = append(pts, x, y)
			label := float32(sam.LabelNegative)
			if pt.Positive {
				label = sam.LabelPositive
			}
			labels = append(labels, label)
		}
		args = append(args, tensors.FromFlatDataAndDimensions(pts, 1, n, 2), tensors.FromFlatDataAndDimensions(labels, 1, n))
	}
	if b := p.Box; b != nil {
		box := e.geom.Box(b.X0, b.Y0, b.X1, b.Y1)
		args = append(args, tensors.FromFlatDataAndDimensions(box[:], 1, 4))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.decodeMu.Lock()
	out, err := s.decode.Exec(args...)
	s.decodeMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("mask decoder: %w", err)
	}
	lowRes, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return nil, err
	}
	iou, err := tensors.CopyFlatData[float32](out[1])
	if err != nil {
		return nil, err
	}
	m, l := len(iou), s.cfg.LowResSize()
	from, to := 0, 1
	if p.Multimask {
		from, to = 1, m
	}
	full, err := imageproc.PostprocessMasks(imageproc.Masks{N: to - from, H: l, W: l, Data: lowRes[from*l*l : to*l*l]}, e.geom)
	if err != nil {
		return nil, err
	}
	masks := make([]Mask, 0, to-from)
	for i := 0; i < to-from; i++ {
		pix := make([]uint8, width*height)
		for j, v := range full.Mask(i) {
			if float64(v) > s.cfg.MaskThreshold {
				pix[j] = 1
			}
		}
		masks = append(masks, Mask{Width: width, Height: height, Pix: pix, Score: iou[from+i]})
	}
	return masks, nil
}
