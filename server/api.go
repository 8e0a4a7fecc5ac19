package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/synthfm/synthfm/dataset"
)

// The JSON API of docs/api.md.

// InfoJSON answers GET /api/info.
type InfoJSON struct {
	Name    string     `json:"name"`
	Version string     `json:"version"`
	Model   ModelInfo  `json:"model"`
	Windows []string   `json:"windows"`
	Limits  LimitsJSON `json:"limits"`
	Cache   CacheStats `json:"cache"`
}

// LimitsJSON lists the limits a client may run into.
type LimitsJSON struct {
	MaxUploadBytes  int64   `json:"max_upload_bytes"`
	MaxFileBytes    int64   `json:"max_file_bytes"`
	MaxFiles        int     `json:"max_files"`
	MaxVoxels       int64   `json:"max_voxels"`
	MaxSlicePixels  int64   `json:"max_slice_pixels"`
	MaxPoints       int     `json:"max_points"`
	SessionTTLSecs  float64 `json:"session_ttl_s"`
	EmbedTimeoutSec float64 `json:"embed_timeout_s"`
}

func (s *Server) info() InfoJSON {
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	return InfoJSON{
		Name: "synthfm", Version: version, Model: s.model.Info(),
		Windows: dataset.WindowNames(),
		Limits: LimitsJSON{
			MaxUploadBytes: s.cfg.MaxUploadBytes, MaxFileBytes: s.cfg.MaxFileBytes, MaxFiles: s.cfg.MaxFiles,
			MaxVoxels: s.cfg.MaxVoxels, MaxSlicePixels: s.cfg.MaxSlicePixels, MaxPoints: s.cfg.MaxPoints,
			SessionTTLSecs: s.cfg.SessionTTL.Seconds(), EmbedTimeoutSec: s.cfg.EmbedTimeout.Seconds(),
		},
		Cache: s.cache.snapshot(),
	}
}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.info())
}

// SessionJSON describes a session: the grid of the slices the API shows
// (the image reoriented to LPS), the uploaded grid, and the default window.
type SessionJSON struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Width        int           `json:"width"`
	Height       int           `json:"height"`
	Slices       int           `json:"slices"`
	Channels     int           `json:"channels"`
	DType        string        `json:"dtype"`
	Spacing      [3]float64    `json:"spacing"`
	Origin       [3]float64    `json:"origin"`
	Direction    [3][3]float64 `json:"direction"`
	SpacingKnown bool          `json:"spacing_known"`
	Orientation  string        `json:"orientation"`
	// UploadedSize and UploadedOrientation describe the grid as uploaded,
	// which the label files and MONAI Label use.
	UploadedSize        [3]int     `json:"uploaded_size"`
	UploadedOrientation string     `json:"uploaded_orientation"`
	Range               [2]float32 `json:"range"`
	Window              string     `json:"window"`
	Labelled            []int      `json:"labelled_slices"`
	Created             time.Time  `json:"created"`
}

func (s *Server) sessionJSON(sess *Session) SessionJSON {
	v := sess.View
	labelled := []int{}
	sess.mu.Lock()
	for k := range sess.labels {
		labelled = append(labelled, k)
	}
	sess.mu.Unlock()
	slices.Sort(labelled)
	return SessionJSON{
		ID: sess.ID, Name: sess.Name, Width: v.Size[0], Height: v.Size[1], Slices: v.Size[2], Channels: v.Channels,
		DType: v.DType, Spacing: v.Spacing, Origin: v.Origin, Direction: v.Direction, SpacingKnown: v.SpacingKnown,
		Orientation: v.Orientation(), UploadedSize: sess.Volume.Size, UploadedOrientation: sess.Volume.Orientation(),
		Range: [2]float32{sess.Lo, sess.Hi}, Window: sess.Window.Name, Labelled: labelled, Created: sess.Created,
	}
}

func (s *Server) handleCreateSession(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes)
	sess, _, err := s.sessions.create(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("session created", "session", sess.ID, "name", sess.Name, "size", sess.Volume.Size, "window", sess.Window.Name)
	writeJSON(w, http.StatusCreated, s.sessionJSON(sess))
}

func (s *Server) handleGetSession(w http.ResponseWriter, r *http.Request) {
	sess, err := s.sessions.get(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.sessionJSON(sess))
}

func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !s.sessions.remove(id) {
		s.writeError(w, r, errorf(http.StatusNotFound, "no session %q", id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"deleted": id})
}

// sessionAndSlice resolves the {id} of the path and a slice number.
func (s *Server) sessionAndSlice(r *http.Request, slice string) (*Session, int, error) {
	sess, err := s.sessions.get(r.PathValue("id"))
	if err != nil {
		return nil, 0, err
	}
	k, err := strconv.Atoi(strings.TrimSuffix(slice, ".png"))
	if err != nil || k < 0 || k >= sess.Slices() {
		return nil, 0, errorf(http.StatusBadRequest, "slice %q is not a number from 0 to %d", slice, sess.Slices()-1)
	}
	return sess, k, nil
}

// windowFor returns the window named in a request, or the session's.
func windowFor(sess *Session, name string) (Window, error) {
	if name == "" {
		return sess.Window, nil
	}
	w, err := dataset.ParseNamedWindow(name)
	if err != nil {
		return Window{}, &Error{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	return w, nil
}

// renderRequested renders the slice a request names (slice given,
// window from the "window" query parameter or the session's).
func (s *Server) renderRequested(r *http.Request, slice string) (Image, error) {
	sess, k, err := s.sessionAndSlice(r, slice)
	if err != nil {
		return Image{}, err
	}
	win, err := windowFor(sess, r.URL.Query().Get("window"))
	if err != nil {
		return Image{}, err
	}
	return sess.render(k, win)
}

// handleSlice answers the PNG of a slice as the model sees it.
func (s *Server) handleSlice(w http.ResponseWriter, r *http.Request) {
	img, err := s.renderRequested(r, r.PathValue("k"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := encodeImagePNG(&buf, img); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = w.Write(buf.Bytes())
}

// EmbedRequest asks for the embedding of one slice.
type EmbedRequest struct {
	Slice  int    `json:"slice"`
	Window string `json:"window"`
}

// handleEmbed computes (or finds) a slice's embedding and answers when it
// is ready. Poll GET .../embed meanwhile for progress.
func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request) {
	var req EmbedRequest
	sess, win, err := s.decodeSliceRequest(w, r, &req, func() (int, string) { return req.Slice, req.Window })
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.extendDeadline(w)
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.EmbedTimeout+s.cfg.RequestTimeout)
	defer cancel()
	start := time.Now()
	if _, _, err := s.embedding(ctx, sess, sess.View, req.Slice, win); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": "ready", "slice": req.Slice, "window": win.Name, "elapsed_ms": msSince(start)})
}

func (s *Server) handleEmbedStatus(w http.ResponseWriter, r *http.Request) {
	img, err := s.renderRequested(r, r.URL.Query().Get("slice"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.cache.status(s.embedKey(img)))
}

// decodeSliceRequest reads a JSON body into req and resolves the session,
// the slice and the window it names.
func (s *Server) decodeSliceRequest(w http.ResponseWriter, r *http.Request, req any, sliceWindow func() (int, string)) (*Session, Window, error) {
	sess, err := s.sessions.get(r.PathValue("id"))
	if err != nil {
		return nil, Window{}, err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil && err != io.EOF {
		return nil, Window{}, errorf(http.StatusBadRequest, "bad JSON body: %v", err)
	}
	k, name := sliceWindow()
	if k < 0 || k >= sess.Slices() {
		return nil, Window{}, errorf(http.StatusBadRequest, "slice %d is outside the image's %d slices (0 to %d)", k, sess.Slices(), sess.Slices()-1)
	}
	win, err := windowFor(sess, name)
	return sess, win, err
}

// PointJSON is a click: pixel column x, row y, label 1 (object) or 0
// (background), as in SAM.
type PointJSON struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	// Label is required: a missing label must not silently mean background.
	Label *int `json:"label"`
}

// PredictRequest is a prompt on one slice.
type PredictRequest struct {
	Slice  int         `json:"slice"`
	Window string      `json:"window"`
	Points []PointJSON `json:"points"`
	// Box is [x0, y0, x1, y1] in pixels.
	Box []float64 `json:"box"`
	// Multimask asks for the model's candidate masks; when absent it is
	// on for a single click without a box (the ambiguous case).
	Multimask *bool `json:"multimask"`
	// Previous is the mask being refined, as a data: URL of a PNG of the
	// slice's size (what predict answers in masks[].png); models that take
	// a previous mask (clicknet) refine it, others ignore it.
	Previous string `json:"previous"`
}

// prompt converts the request to a Prompt.
func (req PredictRequest) prompt() (Prompt, error) {
	var p Prompt
	for i, pt := range req.Points {
		switch {
		case pt.Label == nil:
			return p, fmt.Errorf("point %d has no label: give 1 for the object, 0 for background", i)
		case *pt.Label != 0 && *pt.Label != 1:
			return p, fmt.Errorf("point %d has label %d: use 1 for the object, 0 for background", i, *pt.Label)
		}
		p.Points = append(p.Points, Point{X: pt.X, Y: pt.Y, Positive: *pt.Label == 1})
	}
	switch len(req.Box) {
	case 0:
	case 4:
		p.Box = &Box{X0: req.Box[0], Y0: req.Box[1], X1: req.Box[2], Y1: req.Box[3]}
	default:
		return p, fmt.Errorf("box has %d numbers, want 4: [x0, y0, x1, y1]", len(req.Box))
	}
	if req.Multimask != nil {
		p.Multimask = *req.Multimask
	} else {
		p.Multimask = len(p.Points) == 1 && p.Box == nil
	}
	return p, nil
}

// MaskJSON is one candidate mask.
type MaskJSON struct {
	Score float32 `json:"score"`
	Area  int     `json:"area"`
	// PNG is a data: URL of an 8-bit grey PNG, 255 inside the mask.
	PNG string `json:"png"`
}

// PredictResponse answers a prompt.
type PredictResponse struct {
	Slice  int        `json:"slice"`
	Window string     `json:"window"`
	Width  int        `json:"width"`
	Height int        `json:"height"`
	Masks  []MaskJSON `json:"masks"`
	// Best is the index of the mask with the highest score.
	Best int `json:"best"`
	Timing
}

func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) {
	var req PredictRequest
	sess, win, err := s.decodeSliceRequest(w, r, &req, func() (int, string) { return req.Slice, req.Window })
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := req.prompt()
	if err != nil {
		s.writeError(w, r, &Error{Status: http.StatusBadRequest, Msg: err.Error()})
		return
	}
	if req.Previous != "" {
		if p.Previous, err = decodeMaskDataURL(req.Previous, sess.View.Size[0], sess.View.Size[1]); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.extendDeadline(w)
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.EmbedTimeout+s.cfg.RequestTimeout)
	defer cancel()
	masks, timing, err := s.segment(ctx, sess, sess.View, req.Slice, win, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := PredictResponse{Slice: req.Slice, Window: win.Name, Width: sess.View.Size[0], Height: sess.View.Size[1], Best: Best(masks), Timing: timing}
	for _, m := range masks {
		url, err := maskDataURL(m)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		resp.Masks = append(resp.Masks, MaskJSON{Score: m.Score, Area: m.Area(), PNG: url})
	}
	writeJSON(w, http.StatusOK, resp)
}

// handlePutLabel keeps a mask (a PNG of the slice's size) as the slice's
// label.
func (s *Server) handlePutLabel(w http.ResponseWriter, r *http.Request) {
	sess, k, err := s.sessionAndSlice(r, r.PathValue("k"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nx, ny := sess.View.Size[0], sess.View.Size[1]
	mask, err := decodeMaskPNG(http.MaxBytesReader(w, r.Body, int64(nx*ny)+(1<<20)), nx, ny)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sess.setLabel(k, mask)
	area := 0
	for _, v := range mask {
		area += int(v)
	}
	writeJSON(w, http.StatusOK, map[string]int{"slice": k, "area": area})
}

func (s *Server) handleDeleteLabel(w http.ResponseWriter, r *http.Request) {
	sess, k, err := s.sessionAndSlice(r, r.PathValue("k"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sess.setLabel(k, nil)
	writeJSON(w, http.StatusOK, map[string]int{"slice": k, "area": 0})
}

// handleGetLabel answers a slice's label as a PNG ({k} or {k}.png) or the
// whole label volume on the image's grid (volume.nii.gz, volume.nii,
// volume.nrrd).
func (s *Server) handleGetLabel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if ext, ok := strings.CutPrefix(name, "volume"); ok {
		sess, err := s.sessions.get(r.PathValue("id"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		f, err := labelFormatFor(ext)
		if err != nil {
			s.writeError(w, r, &Error{Status: http.StatusNotFound, Msg: err.Error()})
			return
		}
		var buf bytes.Buffer
		if err := f.write(&buf, sess.labelVolume()); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", f.contentType)
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "label"+f.ext))
		_, _ = w.Write(buf.Bytes())
		return
	}
	sess, k, err := s.sessionAndSlice(r, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nx, ny := sess.View.Size[0], sess.View.Size[1]
	mask := sess.label(k)
	if mask == nil {
		mask = make([]uint8, nx*ny)
	}
	var buf bytes.Buffer
	if err := encodeMaskPNG(&buf, nx, ny, mask); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"label-slice%d.png\"", k))
	_, _ = w.Write(buf.Bytes())
}
