// Package server serves a promptable segmentation model over HTTP to a web page, scripts and 3D Slicer.
package server

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/synthfm/synthfm/medimg"
	"github.com/synthfm/synthfm/server/monailabel"
	"github.com/synthfm/synthfm/server/web"
)

// Server holds a model, the sessions of uploaded images and the embedding
// cache. Create it with New, serve Handler (or call ListenAndServe) and
// Close it at the end.
type Server struct {
	cfg      Config
	model    Segmenter
	log      *slog.Logger
	sessions *sessionStore
	cache    *embeddingCache
	// ctx bounds background work (embeddings, the session sweeper); cancel
	// ends it at Close.
	ctx      context.Context
	cancel   context.CancelFunc
	sweeping sync.WaitGroup
}

// New returns a server for the model. It creates cfg.DataDir when needed.
func New(cfg Config, model Segmenter) (*Server, error) {
	if model == nil {
		return nil, errors.New("server: no model")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	st, err := newSessionStore(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, model: model, log: cfg.Logger, sessions: st,
		cache: newEmbeddingCache(cfg.CacheBytes, cfg.ConcurrentEmbeds),
		ctx:   ctx, cancel: cancel,
	}
	s.sweeping.Add(1)
	go s.sweep()
	return s, nil
}

// sweep removes expired sessions (and their memory and files) even when no
// request comes to do it, until Close.
func (s *Server) sweep() {
	defer s.sweeping.Done()
	t := time.NewTicker(min(time.Minute, max(s.cfg.SessionTTL/4, 10*time.Millisecond)))
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.sessions.mu.Lock()
			s.sessions.purgeExpiredLocked(now)
			s.sessions.mu.Unlock()
		}
	}
}

// Close stops background work and removes every session's files.
func (s *Server) Close() error {
	s.cancel()
	s.sweeping.Wait()
	return s.sessions.close()
}

// Config returns the configuration in force (defaults filled in).
func (s *Server) Config() Config { return s.cfg }

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	web.Register(mux)
	mux.HandleFunc("GET /api/info", s.handleInfo)
	mux.HandleFunc("GET /api/example", s.handleExample)
	mux.HandleFunc("POST /api/sessions", s.handleCreateSession)
	mux.HandleFunc("GET /api/sessions/{id}", s.handleGetSession)
	mux.HandleFunc("DELETE /api/sessions/{id}", s.handleDeleteSession)
	mux.HandleFunc("GET /api/sessions/{id}/slices/{k}", s.handleSlice)
	mux.HandleFunc("POST /api/sessions/{id}/embed", s.handleEmbed)
	mux.HandleFunc("GET /api/sessions/{id}/embed", s.handleEmbedStatus)
	mux.HandleFunc("POST /api/sessions/{id}/predict", s.handlePredict)
	mux.HandleFunc("GET /api/sessions/{id}/labels/{name}", s.handleGetLabel)
	mux.HandleFunc("PUT /api/sessions/{id}/labels/{k}", s.handlePutLabel)
	mux.HandleFunc("DELETE /api/sessions/{id}/labels/{k}", s.handleDeleteLabel)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusNotFound, "no API route %s %s (see docs/api.md)", r.Method, r.URL.Path))
	})
	monailabel.Register(mux, &monaiBackend{s: s}, s.log)
	return s.guard(mux)
}

// guard adds the headers every answer carries and turns a handler's panic
// into a 500 answer instead of a dropped connection.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		if crossSite(r) {
			s.writeError(w, r, errorf(http.StatusForbidden, "cross-origin %s from %s refused: use the page this server serves, or a client that sends no Origin header", r.Method, r.Header.Get("Origin")))
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", p)
				writeJSON(rec, http.StatusInternalServerError, map[string]string{"error": fmt.Sprintf("internal error: %v", p)})
			}
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "took", time.Since(start).Round(time.Microsecond))
		}()
		next.ServeHTTP(rec, r)
	})
}

// crossSite reports a request that changes state (not GET, HEAD or
// OPTIONS) sent by a browser from a page of another origin: a web page
// elsewhere must not upload to, or run the model of, a server on the
// user's machine. Scripts and 3D Slicer send no Origin header and pass.
func crossSite(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || !strings.EqualFold(u.Host, r.Host)
}

// statusRecorder remembers the status a handler answered with, for the
// request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (write
// deadlines).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// HTTPServer returns an http.Server for the handler with the configured
// timeouts: reading a request (uploads included) is bounded by
// UploadTimeout, writing an answer by RequestTimeout, extended by the
// handlers that wait for an embedding.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: min(10*time.Second, s.cfg.UploadTimeout),
		ReadTimeout:       s.cfg.UploadTimeout,
		WriteTimeout:      s.cfg.RequestTimeout + s.cfg.UploadTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
}

// Serve answers requests on ln until ctx ends, then shuts down gracefully
// (requests under way get 10 seconds to finish).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.HTTPServer(ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := hs.Shutdown(shutdownCtx)
	<-errc
	return err
}

// embedKey names an image's embedding in the cache: a hash of the model and
// the pixels, so identical pictures share one embedding.
func (s *Server) embedKey(img Image) string {
	h := sha256.New()
	h.Write([]byte(s.model.Info().Name))
	var dims [16]byte
	binary.LittleEndian.PutUint64(dims[:8], uint64(img.Width))
	binary.LittleEndian.PutUint64(dims[8:], uint64(img.Height))
	h.Write(dims[:])
	h.Write(img.Pix)
	return hex.EncodeToString(h.Sum(nil))
}

// embedding returns the embedding of slice k of vol (a session's view or
// uploaded volume) under window w, computing it (once, however many ask)
// when it is not cached.
func (s *Server) embedding(ctx context.Context, sess *Session, vol *medimg.Volume, k int, w Window) (Embedding, Image, error) {
	img, err := sess.renderFrom(vol, k, w)
	if err != nil {
		return nil, Image{}, err
	}
	emb, err := s.cache.get(ctx, s.ctx, s.embedKey(img), func(runCtx context.Context) (Embedding, error) {
		runCtx, cancel := context.WithTimeout(runCtx, s.cfg.EmbedTimeout)
		defer cancel()
		start := time.Now()
		emb, err := s.model.Embed(runCtx, img)
		if err != nil {
			return nil, fmt.Errorf("computing the embedding: %w", err)
		}
		s.log.Info("embedding computed", "session", sess.ID, "slice", k, "window", w.Name, "size", fmt.Sprintf("%dx%d", img.Width, img.Height), "took", time.Since(start).Round(time.Millisecond))
		return emb, nil
	})
	return emb, img, err
}

// segment answers a prompt on slice k of vol (a session's view or
// uploaded volume).
func (s *Server) segment(ctx context.Context, sess *Session, vol *medimg.Volume, k int, w Window, p Prompt) ([]Mask, Timing, error) {
	var t Timing
	if err := p.Validate(vol.Size[0], vol.Size[1], s.cfg.MaxPoints); err != nil {
		return nil, t, &Error{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	start := time.Now()
	emb, img, err := s.embedding(ctx, sess, vol, k, w)
	if err != nil {
		return nil, t, err
	}
	t.EmbedMS = msSince(start)
	start = time.Now()
	masks, err := s.model.Segment(ctx, emb, img.Width, img.Height, p)
	if err != nil {
		return nil, t, fmt.Errorf("decoding the prompt: %w", err)
	}
	t.DecodeMS = msSince(start)
	return masks, t, nil
}

// Timing reports where a prediction's time went, in milliseconds.
type Timing struct {
	// EmbedMS is the time spent getting the embedding (near 0 when cached).
	EmbedMS float64 `json:"embed_ms"`
	// DecodeMS is the time the model took to decode the prompt.
	DecodeMS float64 `json:"decode_ms"`
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// extendDeadline lets a handler that waits for an embedding write its
// answer after the server's default write timeout.
func (s *Server) extendDeadline(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.EmbedTimeout + s.cfg.RequestTimeout))
}
