package server

import (
	"fmt"
	"log/slog"
	"time"
)

// Config holds the server's limits and places. Zero fields take the values
// of DefaultConfig.
type Config struct {
	// DataDir is the folder that holds uploaded files, one sub-folder per
	// session. No request reaches the file system outside it.
	DataDir string
	// MaxUploadBytes bounds one upload request's body (compressed, as sent).
	MaxUploadBytes int64
	// MaxFileBytes bounds one uploaded file once gunzipped.
	MaxFileBytes int64
	// MaxFiles bounds the number of files in one upload (a DICOM series).
	MaxFiles int
	// MaxVoxels bounds the voxels (times channels) of one image.
	MaxVoxels int64
	// MaxSlicePixels bounds the pixels of one slice (what the model sees).
	MaxSlicePixels int64
	// MaxSessions bounds the sessions held at once.
	MaxSessions int
	// MaxSessionsPerClient bounds the sessions (held, or being uploaded)
	// of one client, known by its remote address (IPv6 addresses by their
	// /64 prefix). A client's upload past it replaces that client's least
	// recently used session; one past MaxSessions replaces the least
	// recently used session of the client holding the most. Behind a
	// reverse proxy every client has the proxy's address: raise it to
	// MaxSessions there.
	MaxSessionsPerClient int
	// MaxSessionBytes bounds the memory of all sessions' images together.
	MaxSessionBytes int64
	// SessionTTL removes a session this long after its last use.
	SessionTTL time.Duration
	// CacheBytes is the embedding cache's budget.
	CacheBytes int64
	// ConcurrentEmbeds is how many embeddings are computed at once.
	ConcurrentEmbeds int
	// EmbedTimeout bounds one embedding computation.
	EmbedTimeout time.Duration
	// RequestTimeout bounds a request that does not wait for an embedding.
	RequestTimeout time.Duration
	// UploadTimeout bounds reading one request, uploads included.
	UploadTimeout time.Duration
	// MaxPoints bounds the clicks of one prompt. SAM compiles its decoder
	// once per prompt shape (number of clicks, with or without a box) and
	// GoMLX keeps at most 32 compiled graphs per executable, after which
	// new shapes fail: 15 clicks give 15 + 15 + 1 (box alone) = 31 shapes.
	MaxPoints int
	// Logger receives the server's logs (slog.Default when nil).
	Logger *slog.Logger
}

// DefaultConfig returns the limits used when a field is left zero.
func DefaultConfig() Config {
	return Config{
		MaxUploadBytes:       512 << 20,
		MaxFileBytes:         1 << 30,
		MaxFiles:             2048,
		MaxVoxels:            256 << 20,
		MaxSlicePixels:       64 << 20,
		MaxSessions:          64,
		MaxSessionsPerClient: 16,
		MaxSessionBytes:      4 << 30,
		SessionTTL:           time.Hour,
		CacheBytes:           1 << 30,
		ConcurrentEmbeds:     1,
		EmbedTimeout:         10 * time.Minute,
		RequestTimeout:       time.Minute,
		UploadTimeout:        10 * time.Minute,
		MaxPoints:            15,
	}
}

// withDefaults fills zero fields from DefaultConfig and checks the result.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	if c.DataDir == "" {
		return c, fmt.Errorf("server config: DataDir is empty: give the folder that holds uploads")
	}
	setInt64 := func(v *int64, def int64) {
		if *v == 0 {
			*v = def
		}
	}
	setInt64(&c.MaxUploadBytes, d.MaxUploadBytes)
	setInt64(&c.MaxFileBytes, d.MaxFileBytes)
	setInt64(&c.MaxVoxels, d.MaxVoxels)
	setInt64(&c.MaxSlicePixels, d.MaxSlicePixels)
	setInt64(&c.MaxSessionBytes, d.MaxSessionBytes)
	setInt64(&c.CacheBytes, d.CacheBytes)
	if c.MaxFiles == 0 {
		c.MaxFiles = d.MaxFiles
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = d.MaxSessions
	}
	if c.MaxSessionsPerClient == 0 {
		c.MaxSessionsPerClient = d.MaxSessionsPerClient
	}
	if c.ConcurrentEmbeds == 0 {
		c.ConcurrentEmbeds = d.ConcurrentEmbeds
	}
	if c.MaxPoints == 0 {
		c.MaxPoints = d.MaxPoints
	}
	for _, p := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&c.SessionTTL, d.SessionTTL}, {&c.EmbedTimeout, d.EmbedTimeout}, {&c.RequestTimeout, d.RequestTimeout}, {&c.UploadTimeout, d.UploadTimeout}} {
		if *p.v == 0 {
			*p.v = p.def
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	for name, v := range map[string]int64{
		"MaxUploadBytes": c.MaxUploadBytes, "MaxFileBytes": c.MaxFileBytes, "MaxVoxels": c.MaxVoxels,
		"MaxSlicePixels": c.MaxSlicePixels, "MaxSessionBytes": c.MaxSessionBytes, "CacheBytes": c.CacheBytes,
		"MaxFiles": int64(c.MaxFiles), "MaxSessions": int64(c.MaxSessions), "MaxSessionsPerClient": int64(c.MaxSessionsPerClient),
		"ConcurrentEmbeds": int64(c.ConcurrentEmbeds),
		"MaxPoints":        int64(c.MaxPoints), "SessionTTL": int64(c.SessionTTL), "EmbedTimeout": int64(c.EmbedTimeout),
		"RequestTimeout": int64(c.RequestTimeout), "UploadTimeout": int64(c.UploadTimeout),
	} {
		if v < 0 {
			return c, fmt.Errorf("server config: %s is negative (%d)", name, v)
		}
	}
	return c, nil
}
