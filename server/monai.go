package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path"

	"github.com/synthfm/synthfm/server/monailabel"
)

// monaiBackend serves the MONAI Label routes from the server's sessions and
// model.
type monaiBackend struct{ s *Server }

var _ monailabel.Backend = (*monaiBackend)(nil)

func (b *monaiBackend) ModelName() string     { return "synthfm" }
func (b *monaiBackend) Description() string   { return b.s.model.Info().Description }
func (b *monaiBackend) Status(err error) int  { return StatusOf(err) }
func (b *monaiBackend) MaxUploadBytes() int64 { return b.s.cfg.MaxUploadBytes }

func (b *monaiBackend) CreateSession(r *http.Request) (string, map[string]string, error) {
	sess, up, err := b.s.sessions.create(r)
	if err != nil {
		return "", nil, err
	}
	b.s.log.Info("session created (MONAI Label)", "session", sess.ID, "name", sess.Name, "size", sess.Volume.Size)
	return sess.ID, up.fields, nil
}

func (b *monaiBackend) info(sess *Session) monailabel.SessionInfo {
	v := sess.Volume
	sess.mu.Lock()
	last := sess.lastUsed
	sess.mu.Unlock()
	return monailabel.SessionInfo{
		Name: sess.ID, Path: sess.dir, Image: sess.Name,
		Meta: map[string]any{
			"size": v.Size, "channels": v.Channels, "dtype": v.DType, "spacing": v.Spacing,
			"origin": v.Origin, "direction": v.Direction, "window": sess.Window.Name,
		},
		CreateTS: sess.Created.Unix(), LastAccessTS: last.Unix(), Expiry: int64(b.s.cfg.SessionTTL.Seconds()),
	}
}

func (b *monaiBackend) Session(id string) (monailabel.SessionInfo, error) {
	sess, err := b.s.sessions.get(id)
	if err != nil {
		return monailabel.SessionInfo{}, err
	}
	return b.info(sess), nil
}

func (b *monaiBackend) SessionImage(id string) (io.ReadCloser, string, error) {
	sess, err := b.s.sessions.get(id)
	if err != nil {
		return nil, "", err
	}
	if sess.file == sess.dir {
		return nil, "", errorf(http.StatusNotFound, "session %s holds a series of files, not one image file", id)
	}
	f, err := b.s.sessions.root.Open(sess.file)
	if err != nil {
		return nil, "", err
	}
	return f, path.Base(sess.file), nil
}

func (b *monaiBackend) DeleteSession(id string) (monailabel.SessionInfo, error) {
	sess, err := b.s.sessions.get(id)
	if err != nil {
		return monailabel.SessionInfo{}, err
	}
	info := b.info(sess)
	b.s.sessions.remove(id)
	return info, nil
}

// Infer segments slice req.Slice from the clicks and answers a label volume
// on the image's grid: 1 inside the mask on that slice, 0 elsewhere.
func (b *monaiBackend) Infer(ctx context.Context, req monailabel.InferRequest) (monailabel.InferResult, error) {
	s := b.s
	sess, err := s.sessions.get(req.SessionID)
	if err != nil {
		return monailabel.InferResult{}, err
	}
	v := sess.Volume
	if req.Slice < 0 || req.Slice >= v.Size[2] {
		return monailabel.InferResult{}, errorf(http.StatusBadRequest, "slice %d is outside the image's %d slices", req.Slice, v.Size[2])
	}
	format, err := labelFormatFor(req.ResultExtension)
	if err != nil {
		return monailabel.InferResult{}, &Error{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	win, err := windowFor(sess, req.Window)
	if err != nil {
		return monailabel.InferResult{}, err
	}
	var p Prompt
	for _, pt := range req.Foreground {
		p.Points = append(p.Points, Point{X: float64(pt[0]), Y: float64(pt[1]), Positive: true})
	}
	for _, pt := range req.Background {
		p.Points = append(p.Points, Point{X: float64(pt[0]), Y: float64(pt[1])})
	}
	if r := req.ROI; r != nil {
		clamp := func(x, n int) float64 { return float64(max(0, min(n-1, x))) }
		p.Box = &Box{X0: clamp(min(r[0], r[1]), v.Size[0]), Y0: clamp(min(r[2], r[3]), v.Size[1]),
			X1: clamp(max(r[0], r[1]), v.Size[0]), Y1: clamp(max(r[2], r[3]), v.Size[1])}
	}
	p.Multimask = len(p.Points) == 1 && p.Box == nil
	masks, timing, err := s.segment(ctx, sess, v, req.Slice, win, p)
	if err != nil {
		return monailabel.InferResult{}, err
	}
	best := masks[Best(masks)]
	label := sess.emptyLabelVolume()
	n := v.Size[0] * v.Size[1]
	for i, x := range best.Pix {
		label.Data[req.Slice*n+i] = float32(x)
	}
	var buf bytes.Buffer
	if err := format.write(&buf, label); err != nil {
		return monailabel.InferResult{}, fmt.Errorf("writing the label: %w", err)
	}
	name := req.Label
	if name == "" {
		name = "object"
	}
	return monailabel.InferResult{
		File: buf.Bytes(), FileName: "label" + format.ext,
		Params: map[string]any{
			"label_names": map[string]int{name: 1}, "slice": req.Slice, "score": best.Score, "area": best.Area(),
			"window": win.Name, "embed_ms": timing.EmbedMS, "decode_ms": timing.DecodeMS,
		},
	}, nil
}
