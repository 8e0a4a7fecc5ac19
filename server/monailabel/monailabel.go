// Package monailabel answers the MONAI Label REST subset 3D Slicer's plugin uses for 2-D clicks.
package monailabel

// The package only translates the protocol (server info, image sessions,
// deepgrow-style inference with clicks); a Backend (the server package)
// holds the images and the model. The request and response shapes follow
// MONAI Label's endpoints (monailabel/endpoints/{info,session,infer}.py) and
// the plugin's client (plugins/slicer/MONAILabel/MONAILabelLib/client.py).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"time"
)

// ModelType is the MONAI Label model type the plugin treats as
// click-driven ("deepgrow"); with Dimension 2 it sends one slice's clicks.
const ModelType = "deepgrow"

// SessionInfo is MONAI Label's description of a session.
type SessionInfo struct {
	Name         string         `json:"name"`
	Path         string         `json:"path"`
	Image        string         `json:"image"`
	Meta         map[string]any `json:"meta"`
	CreateTS     int64          `json:"create_ts"`
	LastAccessTS int64          `json:"last_access_ts"`
	Expiry       int64          `json:"expiry"`
}

// InferRequest is one deepgrow inference on a slice. Points are voxel
// indices (i, j, k) of the image, as the plugin sends them.
type InferRequest struct {
	SessionID  string
	Slice      int
	Foreground [][3]int
	Background [][3]int
	// ROI is [i0, i1, j0, j1, k0, k1] when the user placed a box, else nil.
	ROI []int
	// ResultExtension is the label file's format (".nii.gz", ".nrrd").
	ResultExtension string
	// Window optionally overrides the image's default intensity window.
	Window string
	Label  string
}

// InferResult is a label volume on the input image's grid, encoded.
type InferResult struct {
	File     []byte
	FileName string
	// Params are returned to the client as JSON.
	Params map[string]any
}

// Backend holds the images and the model.
type Backend interface {
	// ModelName is the name the model is listed and inferred under.
	ModelName() string
	// Description is a line about the model for /info/.
	Description() string
	// CreateSession reads the image files of a multipart request into a new
	// session and returns its ID and the request's plain form fields. The
	// body is already bounded by MaxUploadBytes.
	CreateSession(r *http.Request) (id string, fields map[string]string, err error)
	// Session describes a session.
	Session(id string) (SessionInfo, error)
	// SessionImage opens the image file of a session (a single uploaded
	// file), with its name.
	SessionImage(id string) (io.ReadCloser, string, error)
	// DeleteSession removes a session.
	DeleteSession(id string) (SessionInfo, error)
	// Infer segments one slice.
	Infer(ctx context.Context, req InferRequest) (InferResult, error)
	// Status returns the HTTP status for an error the backend returned.
	Status(err error) int
	// MaxUploadBytes bounds an upload's body.
	MaxUploadBytes() int64
}

// Register adds the MONAI Label routes to mux.
func Register(mux *http.ServeMux, b Backend, log *slog.Logger) {
	h := &handler{b: b, log: log}
	mux.HandleFunc("GET /info/", h.info)
	mux.HandleFunc("GET /info", h.info)
	mux.HandleFunc("PUT /session/", h.createSession)
	mux.HandleFunc("PUT /session", h.createSession)
	mux.HandleFunc("GET /session/{id}", h.getSession)
	mux.HandleFunc("DELETE /session/{id}", h.deleteSession)
	mux.HandleFunc("POST /infer/{model}", h.infer)
}

type handler struct {
	b   Backend
	log *slog.Logger
}

// detail answers an error the way MONAI Label (FastAPI) does:
// {"detail": message}.
func (h *handler) detail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.log.Info("monailabel request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", msg)
	writeJSON(w, status, map[string]string{"detail": msg})
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := h.b.Status(err)
	h.detail(w, r, status, err.Error())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// info answers GET /info/: one deepgrow model of dimension 2 and nothing
// for training or active learning. The plugin refuses a server whose info
// has a non-empty top-level "config", so there is none.
func (h *handler) info(w http.ResponseWriter, r *http.Request) {
	name := h.b.ModelName()
	writeJSON(w, http.StatusOK, map[string]any{
		"name":        "SynthFM",
		"description": "SynthFM promptable segmentation (synthfm serve)",
		"version":     "1",
		"labels":      []string{"object"},
		"models": map[string]any{
			name: map[string]any{
				"type":        ModelType,
				"dimension":   2,
				"labels":      []string{"object"},
				"description": h.b.Description(),
				"config":      map[string]any{},
			},
		},
		"trainers":    map[string]any{},
		"strategies":  map[string]any{},
		"scoring":     map[string]any{},
		"train_stats": map[string]any{},
		"datastore":   map[string]any{"total": 0, "completed": 0},
	})
}

// createSession answers PUT /session/: multipart "files" (one file, or the
// files of a DICOM series) become a session.
func (h *handler) createSession(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, h.b.MaxUploadBytes())
	id, _, err := h.b.CreateSession(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	info, err := h.b.Session(id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"session_id": id, "session_info": info})
}

// getSession answers GET /session/{id} with the session's info, or with its
// image file when ?image=true.
func (h *handler) getSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if r.URL.Query().Get("image") == "true" {
		f, name, err := h.b.SessionImage(id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
		_, _ = io.Copy(w, f)
		return
	}
	info, err := h.b.Session(id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (h *handler) deleteSession(w http.ResponseWriter, r *http.Request) {
	info, err := h.b.DeleteSession(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// inferParams is the JSON of the "params" form field the plugin sends.
type inferParams struct {
	Label           string      `json:"label"`
	Foreground      [][]float64 `json:"foreground"`
	Background      [][]float64 `json:"background"`
	Slice           *float64    `json:"slice"`
	ROI             []float64   `json:"roi"`
	ResultExtension string      `json:"result_extension"`
	ResultDType     string      `json:"result_dtype"`
	Window          string      `json:"window"`
}

// infer answers POST /infer/{model}?image=ID&session_id=S[&output=image|json|all].
// The image comes from the session, or from a "file" part of the request
// (then a temporary session is made and removed).
func (h *handler) infer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	model := r.PathValue("model")
	if model != h.b.ModelName() {
		h.detail(w, r, http.StatusNotFound, fmt.Sprintf("model %q is not on this server; it serves %q", model, h.b.ModelName()))
		return
	}
	q := r.URL.Query()
	output := q.Get("output")
	switch output {
	case "", "all", "image", "json":
	default:
		h.detail(w, r, http.StatusBadRequest, fmt.Sprintf("output %q is not supported: use image, json or all", output))
		return
	}
	sessionID := q.Get("session_id")
	var fields map[string]string
	if sessionID != "" {
		var err error
		fields, err = readFields(w, r)
		if err != nil {
			h.detail(w, r, http.StatusBadRequest, err.Error())
			return
		}
	} else {
		// The image comes with the request, as a "file" part.
		r.Body = http.MaxBytesReader(w, r.Body, h.b.MaxUploadBytes())
		id, f, err := h.b.CreateSession(r)
		if err != nil {
			status := h.b.Status(err)
			if status == http.StatusBadRequest && q.Get("image") != "" {
				h.detail(w, r, http.StatusNotFound, fmt.Sprintf("image %q is not on this server (it keeps no datastore): create a session with PUT /session/ and pass session_id, or send the image as a \"file\" part", q.Get("image")))
				return
			}
			h.fail(w, r, err)
			return
		}
		defer func() { _, _ = h.b.DeleteSession(id) }()
		sessionID, fields = id, f
	}
	req, err := parseInferParams(fields["params"])
	if err != nil {
		h.detail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	req.SessionID = sessionID
	res, err := h.b.Infer(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if res.Params == nil {
		res.Params = map[string]any{}
	}
	res.Params["latencies"] = map[string]any{"total": time.Since(start).Seconds()}
	switch output {
	case "json":
		writeJSON(w, http.StatusOK, res.Params)
	case "image":
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", res.FileName))
		_, _ = w.Write(res.File)
	default:
		writeMultipart(w, res)
	}
}

// readFields reads the plain fields of a multipart (or urlencoded) body of
// at most 1 MiB; file parts are skipped.
func readFields(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	fields := map[string]string{}
	mr, err := r.MultipartReader()
	if err == http.ErrNotMultipart {
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("bad form body: %v", err)
		}
		for k := range r.PostForm {
			fields[k] = r.PostForm.Get(k)
		}
		return fields, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bad multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return fields, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bad multipart body: %v", err)
		}
		if part.FileName() != "" {
			continue
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("bad multipart body: %v", err)
		}
		fields[part.FormName()] = string(b)
	}
}

// parseInferParams reads the plugin's params JSON. Points are rounded to
// voxel indices; points on other slices than "slice" are dropped, as MONAI
// Label's 2-D deepgrow does. Without "slice", the last foreground point's
// slice is used.
func parseInferParams(s string) (InferRequest, error) {
	var p inferParams
	if s == "" {
		s = "{}"
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return InferRequest{}, fmt.Errorf("params is not a JSON object: %v", err)
	}
	req := InferRequest{Label: p.Label, ResultExtension: p.ResultExtension, Window: p.Window}
	if p.ResultDType != "" && p.ResultDType != "uint8" {
		return req, fmt.Errorf("result_dtype %q is not supported: labels are uint8", p.ResultDType)
	}
	toIJK := func(name string, pts [][]float64) ([][3]int, error) {
		out := make([][3]int, 0, len(pts))
		for i, pt := range pts {
			if len(pt) != 3 {
				return nil, fmt.Errorf("%s point %d has %d coordinates, want 3 voxel indices [i, j, k]", name, i, len(pt))
			}
			out = append(out, [3]int{roundInt(pt[0]), roundInt(pt[1]), roundInt(pt[2])})
		}
		return out, nil
	}
	fg, err := toIJK("foreground", p.Foreground)
	if err != nil {
		return req, err
	}
	bg, err := toIJK("background", p.Background)
	if err != nil {
		return req, err
	}
	switch {
	case p.Slice != nil:
		req.Slice = roundInt(*p.Slice)
	case len(fg) > 0:
		req.Slice = fg[len(fg)-1][2]
	case len(p.ROI) == 6:
		req.Slice = roundInt((p.ROI[4] + p.ROI[5]) / 2)
	default:
		return req, fmt.Errorf("no slice: give \"slice\" or at least one foreground point")
	}
	for _, pt := range fg {
		if pt[2] == req.Slice {
			req.Foreground = append(req.Foreground, pt)
		}
	}
	for _, pt := range bg {
		if pt[2] == req.Slice {
			req.Background = append(req.Background, pt)
		}
	}
	if len(p.ROI) != 0 {
		if len(p.ROI) != 6 {
			return req, fmt.Errorf("roi has %d numbers, want 6: [i0, i1, j0, j1, k0, k1]", len(p.ROI))
		}
		for _, x := range p.ROI {
			req.ROI = append(req.ROI, roundInt(x))
		}
	}
	if len(req.Foreground) == 0 && req.ROI == nil {
		return req, fmt.Errorf("no foreground point on slice %d and no roi: click on the object first", req.Slice)
	}
	return req, nil
}

func roundInt(x float64) int {
	if x < 0 {
		return -int(-x + 0.5)
	}
	return int(x + 0.5)
}

// writeMultipart answers with MONAI Label's default infer response: a
// multipart/form-data body with the "params" JSON and the label file as the
// "image" part.
func writeMultipart(w http.ResponseWriter, res InferResult) {
	mw := multipart.NewWriter(w)
	w.Header().Set("Content-Type", mw.FormDataContentType())
	w.WriteHeader(http.StatusOK)
	params, _ := json.Marshal(res.Params)
	ph := textproto.MIMEHeader{}
	ph.Set("Content-Disposition", `form-data; name="params"`)
	ph.Set("Content-Type", "application/json")
	if pw, err := mw.CreatePart(ph); err == nil {
		_, _ = pw.Write(params)
	}
	fh := textproto.MIMEHeader{}
	fh.Set("Content-Disposition", fmt.Sprintf(`form-data; name="image"; filename=%q`, res.FileName))
	fh.Set("Content-Type", "application/octet-stream")
	if fw, err := mw.CreatePart(fh); err == nil {
		_, _ = fw.Write(res.File)
	}
	_ = mw.Close()
}
