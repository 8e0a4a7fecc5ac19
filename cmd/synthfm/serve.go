package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/synthfm/synthfm/models"
	"github.com/synthfm/synthfm/server"
)

const serveExplanation = `
Serve a promptable segmentation model over HTTP:

  - a web page at / : open an image (PNG, JPEG, TIFF, DICOM, NIfTI, NRRD;
    a slice slider for volumes, window presets for CT), left-click the object,
    right-click background, drag a box, pick among the candidate masks and
    download the mask as PNG or NIfTI;
  - a JSON API under /api/ for scripts (docs/api.md);
  - the MONAI Label REST subset that 3D Slicer's MONAI Label plugin uses for
    interactive 2-D segmentation (/info/, /session/, /infer/synthfm): point the
    plugin's server address at this one.

The model encodes each slice once (the slow step; the page shows progress) and
answers each click from the cached embedding. Uploads live in --data, one
folder per session, removed when the session expires or the server stops.

The model is SAM with the weights of --checkpoint (a .pth or .safetensors file
with SAM's state_dict names: SAM, MedSAM with --medsam, or weights trained by
synthfm) and the architecture of --model-config (a preset: vit_b, vit_l,
vit_h, or a config JSON file; by default recognised from the weights), loaded
as synthfm segment loads it. Without --checkpoint the built-in model is served.
--model baseline serves the evaluation's region-growing baseline and
--model flood-fill a classical flood fill instead (no weights needed).

Example:
  synthfm serve --addr 127.0.0.1:8000 --checkpoint sam_vit_b_01ec64.pth
  # then open http://127.0.0.1:8000/ in a browser
`

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "serve", "[--addr HOST:PORT] [--checkpoint FILE [--model-config PRESET|FILE]] [flags]", serveExplanation)
	d := server.DefaultConfig()
	addr := fs.String("addr", "127.0.0.1:8000", "address to listen on, HOST:PORT (port 0 picks a free one; a bare :PORT, 0.0.0.0 or [::] listens on every interface, with a warning)")
	model := fs.String("model", "default", "model to serve: "+models.RegistryHelp())
	ckpt := fs.String("checkpoint", "", "weights file, the same as --model FILE (kept for --model sam --checkpoint F)")
	modelConfig := fs.String("model-config", "", "SAM architecture: vit_b, vit_l, vit_h or a config JSON file (default: recognised from the checkpoint)")
	medsam := fs.Bool("medsam", false, "feed images scaled to [0,1] (MedSAM checkpoints) instead of SAM's mean/std normalisation")
	dataDir := fs.String("data", "", "folder for uploaded images (default: a new temporary folder, removed at exit)")
	cacheMB := fs.Int64("cache-mb", d.CacheBytes>>20, "memory for cached image embeddings, MiB")
	uploadMB := fs.Int64("max-upload-mb", d.MaxUploadBytes>>20, "largest upload request, MiB")
	sessions := fs.Int("max-sessions", d.MaxSessions, "most images held at once (past it, the least recently used image of the client holding the most makes way)")
	perClient := fs.Int("max-sessions-per-client", d.MaxSessionsPerClient, "most images held at once for one client address (past it, the client's least recently used image makes way; behind a reverse proxy set it to --max-sessions)")
	sessionMB := fs.Int64("max-session-mb", d.MaxSessionBytes>>20, "memory for all held images together, MiB")
	maxVoxels := fs.Int64("max-voxels", d.MaxVoxels, "most samples (voxels × channels) of one uploaded image; readers refuse a file claiming more before allocating")
	fileMB := fs.Int64("max-file-mb", d.MaxFileBytes>>20, "largest uploaded file once gunzipped, MiB; also bounds what a reader inflates from one file")
	ttl := fs.Duration("session-ttl", d.SessionTTL, "remove an image this long after its last use")
	embedTimeout := fs.Duration("embed-timeout", d.EmbedTimeout, "longest time one image embedding may take")
	embeds := fs.Int("concurrent-embeds", d.ConcurrentEmbeds, "embeddings computed at once")
	verbose := fs.Bool("v", false, "log every request outcome at debug level too")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	for name, v := range map[string]int64{"cache-mb": *cacheMB, "max-upload-mb": *uploadMB, "max-sessions": int64(*sessions), "max-sessions-per-client": int64(*perClient),
		"max-session-mb": *sessionMB, "max-voxels": *maxVoxels, "max-file-mb": *fileMB, "concurrent-embeds": int64(*embeds), "session-ttl": int64(*ttl), "embed-timeout": int64(*embedTimeout)} {
		if v <= 0 {
			return usageError{fmt.Sprintf("--%s must be positive", name)}
		}
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return usageError{fmt.Sprintf("--addr %q: want HOST:PORT, as in 127.0.0.1:8000", *addr)}
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))

	seg, err := loadModel(ctx, *model, *ckpt, *modelConfig, *medsam)
	if err != nil {
		return err
	}
	if *dataDir == "" {
		tmp, err := os.MkdirTemp("", "synthfm-serve-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dataDir = tmp
	}
	srv, err := server.New(server.Config{
		DataDir: *dataDir, CacheBytes: *cacheMB << 20, MaxUploadBytes: *uploadMB << 20, MaxSessions: *sessions, MaxSessionsPerClient: *perClient,
		MaxSessionBytes: *sessionMB << 20, MaxVoxels: *maxVoxels, MaxFileBytes: *fileMB << 20, SessionTTL: *ttl, EmbedTimeout: *embedTimeout, ConcurrentEmbeds: *embeds,
		Logger: log,
	}, seg)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	warnIfExposed(log, ln.Addr())
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(env.stdout, "serving %s on %s/ (MONAI Label: %s/info/, model name synthfm); uploads in %s\n", seg.Info().Name, url, url, *dataDir)
	start := time.Now()
	err = srv.Serve(ctx, ln)
	log.Info("stopped", "after", time.Since(start).Round(time.Second))
	return err
}

// warnIfExposed logs a warning when the server listens on every network
// interface (a bare port such as ":8000", or 0.0.0.0 / ::): anyone who can
// reach one of the listed addresses can upload images and run the model.
func warnIfExposed(log *slog.Logger, addr net.Addr) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return
	}
	var where []string
	ifaces, err := net.Interfaces()
	if err != nil {
		where = append(where, "unknown ("+err.Error()+")")
	}
	for _, ifc := range ifaces {
		addrs, err := ifc.Addrs()
		if err != nil || ifc.Flags&net.FlagUp == 0 {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (tcp.IP.To4() == nil || ipn.IP.To4() != nil) {
				where = append(where, ifc.Name+" "+net.JoinHostPort(ipn.IP.String(), strconv.Itoa(tcp.Port)))
			}
		}
	}
	log.Warn("listening on every network interface: anyone who can reach one of these addresses can upload images and run the model; give a host, as in --addr 127.0.0.1:8000, to listen on one",
		"addr", addr.String(), "reachable_at", strings.Join(where, ", "))
}

// loadModel returns the segmenter a serve command asked for, through the
// models registry ("sam" with --checkpoint is the older spelling of
// --model FILE; "sam" alone is the built-in model, as it always was).
func loadModel(ctx context.Context, kind, ckpt, config string, medsam bool) (server.Segmenter, error) {
	name := kind
	switch {
	case kind == "sam" || kind == models.Default || kind == "":
		name = models.Default
		if ckpt != "" {
			name = ckpt
		}
	case registryName(kind) && (ckpt != "" || config != "" || medsam):
		return nil, usageError{"--checkpoint, --model-config and --medsam are for weights files"}
	case ckpt != "":
		return nil, usageError{fmt.Sprintf("--checkpoint goes with --model default or sam, not %q", kind)}
	}
	if name == models.Default && config != "" {
		return nil, usageError{"--model-config needs a weights file (--model FILE)"}
	}
	m, err := models.Load(ctx, models.Spec{Model: name, Config: config, MedSAM: medsam})
	if err != nil {
		return nil, err
	}
	return m.Segmenter, nil
}

// registryName reports whether name is one of the registry's named models.
func registryName(name string) bool {
	for _, e := range models.Registry() {
		if e.Name == name && e.Name != "FILE" {
			return true
		}
	}
	return false
}
