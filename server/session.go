package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/synthfm/synthfm/dataset"
	"github.com/synthfm/synthfm/medimg"
)

// Window is how an image's values become the grey levels the model sees
// (package dataset's windowing, shared with synthfm segment).
type Window = dataset.Window

// Session is one uploaded image and the work done on it. Its ID is a
// random 128-bit capability: the server lists no sessions, so a client sees
// only the sessions whose IDs it was given.
type Session struct {
	ID      string
	Name    string
	Created time.Time
	// Volume is the image as uploaded. MONAI Label's voxel indices and
	// every label file refer to its grid.
	Volume *medimg.Volume
	// View is Volume reoriented to LPS (medimg.ToLPS), which the web page
	// and the JSON API slice: axial slices with the patient's right on the
	// left and anterior at the top, as the evaluation sees them. It is
	// Volume itself when nothing changes (pictures without a patient frame
	// among them).
	View *medimg.Volume
	// viewToVolume sends View's voxel indices to Volume's.
	viewToVolume medimg.IndexMap
	// Window is the default window for this image.
	Window Window
	// Lo and Hi are the image's smallest and largest sample.
	Lo, Hi float32
	// dir is the session's folder relative to the data root.
	dir string
	// client is the uploader's key (clientKey): sessions per client are
	// bounded.
	client string
	// file is the uploaded file (or folder, for a DICOM series) relative to
	// the data root.
	file  string
	bytes int64

	mu       sync.Mutex
	lastUsed time.Time
	// mappings caches the intensity mapping of each window used.
	mappings map[string]dataset.Mapping
	// labels holds the kept mask of each slice, 0 or 1 per pixel.
	labels map[int][]uint8
}

// Slices returns the number of slices of the view (1 for a 2-D image).
func (s *Session) Slices() int { return s.View.Size[2] }

// mapping returns the intensity mapping of window w, computed once per
// window (it scans, or for "auto" sorts, the whole volume).
func (s *Session) mapping(w Window) dataset.Mapping {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.mappings[w.Name]
	if !ok {
		m = w.Mapping(s.Volume)
		s.mappings[w.Name] = m
	}
	return m
}

// render returns slice k of the view under window w.
func (s *Session) render(k int, w Window) (Image, error) { return s.renderFrom(s.View, k, w) }

// renderFrom returns slice k of v (the view or the uploaded volume) under
// window w.
func (s *Session) renderFrom(v *medimg.Volume, k int, w Window) (Image, error) {
	if n := v.Size[2]; k < 0 || k >= n {
		return Image{}, errorf(http.StatusBadRequest, "slice %d is outside the image's %d slices (0 to %d)", k, n, n-1)
	}
	return dataset.RenderSlice(v, k, s.mapping(w)), nil
}

// setLabel keeps mask (0/1 per pixel of a slice of the view) as slice k's
// label; a nil mask removes it.
func (s *Session) setLabel(k int, mask []uint8) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mask == nil {
		delete(s.labels, k)
		return
	}
	s.labels[k] = mask
}

// label returns slice k's kept mask, or nil.
func (s *Session) label(k int) []uint8 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.labels[k]
}

// emptyLabelVolume returns a zero uint8 volume on the image's grid.
func (s *Session) emptyLabelVolume() *medimg.Volume { return dataset.LabelVolume(s.Volume) }

// labelVolume returns the kept masks (slices of the view) as a uint8
// volume on the uploaded image's grid.
func (s *Session) labelVolume() *medimg.Volume {
	out := s.emptyLabelVolume()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, m := range s.labels {
		dataset.SetViewSlice(out, s.viewToVolume, k, s.View.Size[0], m)
	}
	return out
}

// sessionIDPattern is the form of a session ID; anything else is rejected
// before it is used anywhere.
var sessionIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// sessionStore holds the sessions and their folders under the data root.
type sessionStore struct {
	cfg     Config
	root    *os.Root
	rootDir string

	mu    sync.Mutex
	byID  map[string]*Session
	bytes int64
	// pending counts the uploads under way, in all and per client.
	pending   int
	pendingBy map[string]int
}

func newSessionStore(cfg Config) (*sessionStore, error) {
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "sessions"), 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	st := &sessionStore{cfg: cfg, root: root, rootDir: dir, byID: map[string]*Session{}, pendingBy: map[string]int{}}
	if err := st.removeLeftovers(); err != nil {
		_ = root.Close()
		return nil, err
	}
	return st, nil
}

// removeLeftovers removes the session folders an earlier run left in the
// data folder (a server killed before Close): no session outlives its
// server, so they are unreachable files. Only folders named like a session
// ID are touched. Two servers must not share a data folder.
func (st *sessionStore) removeLeftovers() error {
	f, err := st.root.Open("sessions")
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	removed := 0
	for _, name := range names {
		if !sessionIDPattern.MatchString(name) {
			continue
		}
		if err := st.root.RemoveAll(path.Join("sessions", name)); err != nil {
			return fmt.Errorf("removing a session folder left by an earlier run: %w", err)
		}
		removed++
	}
	if removed > 0 {
		st.cfg.Logger.Info("removed session folders left by an earlier run", "folders", removed, "data", st.rootDir)
	}
	return nil
}

// clientKey names the client of a request by its remote address: the IP
// address, or for IPv6 its /64 prefix (what one host or home network is
// usually given, so a client cannot take a fresh key per address).
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// create receives an upload into a new session folder and reads the image.
// Room is made first: expired sessions go, then, at the client's limit
// (MaxSessionsPerClient), the client's least recently used session, then,
// at the server's (MaxSessions), the least recently used session of the
// client holding the most; likewise for MaxSessionBytes once the image is
// read. It refuses only when what is in the way is uploads under way, or
// the image alone is over MaxSessionBytes.
func (st *sessionStore) create(r *http.Request) (*Session, *upload, error) {
	client := clientKey(r.RemoteAddr)
	st.mu.Lock()
	st.purgeExpiredLocked(time.Now())
	if err := st.makeRoomLocked(client); err != nil {
		st.mu.Unlock()
		return nil, nil, err
	}
	st.pending++
	st.pendingBy[client]++
	st.mu.Unlock()
	// The place is held until the session takes it (in the same critical
	// section, so that no other upload sees it counted twice) or the
	// upload fails.
	reserved := true
	defer func() {
		if reserved {
			st.mu.Lock()
			st.releaseLocked(client)
			st.mu.Unlock()
		}
	}()

	id := newSessionID()
	dir := path.Join("sessions", id)
	if err := st.root.Mkdir(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("session folder: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = st.root.RemoveAll(dir)
		}
	}()
	up, err := receiveUpload(r, st.root, dir, st.cfg.MaxFiles, st.cfg.MaxFileBytes)
	if err != nil {
		return nil, nil, err
	}
	file := dir
	name := fmt.Sprintf("%d files", len(up.files))
	if len(up.files) == 1 {
		file, name = path.Join(dir, up.files[0]), up.files[0]
		if err := checkRasterSize(st.root, file, st.cfg.MaxSlicePixels); err != nil {
			return nil, nil, err
		}
	}
	vol, err := st.reader().Read(filepath.Join(st.rootDir, filepath.FromSlash(file)))
	if err != nil {
		return nil, nil, readError(err, st.relative(err.Error()))
	}
	if err := st.checkVolume(vol); err != nil {
		return nil, nil, err
	}
	view, toVolume, err := dataset.LPSView(vol)
	if err != nil {
		return nil, nil, errorf(http.StatusUnprocessableEntity, "cannot orient the image: %v", err)
	}
	if err := st.checkVolume(view); err != nil {
		return nil, nil, err
	}
	bytes := int64(4 * len(vol.Data))
	if view != vol {
		bytes += int64(4 * len(view.Data))
	}
	now := time.Now()
	lo, hi := vol.Range()
	s := &Session{ID: id, Name: name, Created: now, Volume: vol, View: view, viewToVolume: toVolume,
		Window: dataset.DefaultWindowFor(vol, lo), Lo: lo, Hi: hi, dir: dir, file: file, client: client,
		bytes: bytes, lastUsed: now, labels: map[int][]uint8{}, mappings: map[string]dataset.Mapping{}}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.releaseLocked(client)
	reserved = false
	if s.bytes > st.cfg.MaxSessionBytes {
		return nil, nil, errorf(http.StatusRequestEntityTooLarge, "the image needs %d MiB, more than the %d MiB the server holds for all images together",
			s.bytes>>20, st.cfg.MaxSessionBytes>>20)
	}
	for st.bytes+s.bytes > st.cfg.MaxSessionBytes {
		victim := st.heaviestClientLRULocked()
		if victim == nil {
			return nil, nil, errorf(http.StatusServiceUnavailable, "the server's sessions hold %d MiB of images and this one needs %d MiB more than the limit of %d MiB allows: try again later",
				st.bytes>>20, s.bytes>>20, st.cfg.MaxSessionBytes>>20)
		}
		st.evictLocked(victim, "memory limit", client)
	}
	st.byID[id] = s
	st.bytes += s.bytes
	ok = true
	return s, up, nil
}

// makeRoomLocked evicts sessions until client may start an upload: one
// under its own limit and one under the server's. It fails when uploads
// under way alone fill a limit.
func (st *sessionStore) makeRoomLocked(client string) error {
	for st.heldByLocked(client)+st.pendingBy[client] >= st.cfg.MaxSessionsPerClient {
		victim := st.lruLocked(func(s *Session) bool { return s.client == client })
		if victim == nil {
			return errorf(http.StatusTooManyRequests, "this client is uploading %d images at once, its limit of sessions (--max-sessions-per-client): wait for one to finish",
				st.pendingBy[client])
		}
		st.evictLocked(victim, "client limit", client)
	}
	for len(st.byID)+st.pending >= st.cfg.MaxSessions {
		victim := st.heaviestClientLRULocked()
		if victim == nil {
			return errorf(http.StatusServiceUnavailable, "the server's %d session places are all taken by uploads under way: try again shortly", st.cfg.MaxSessions)
		}
		st.evictLocked(victim, "server limit", client)
	}
	return nil
}

// releaseLocked gives back the place an upload of client held.
func (st *sessionStore) releaseLocked(client string) {
	st.pending--
	if st.pendingBy[client]--; st.pendingBy[client] <= 0 {
		delete(st.pendingBy, client)
	}
}

// heldByLocked counts the sessions a client holds.
func (st *sessionStore) heldByLocked(client string) int {
	n := 0
	for _, s := range st.byID {
		if s.client == client {
			n++
		}
	}
	return n
}

// lruLocked returns the least recently used session that keep accepts, or
// nil.
func (st *sessionStore) lruLocked(keep func(*Session) bool) *Session {
	var best *Session
	var bestUsed time.Time
	for _, s := range st.byID {
		if !keep(s) {
			continue
		}
		s.mu.Lock()
		used := s.lastUsed
		s.mu.Unlock()
		if best == nil || used.Before(bestUsed) || (used.Equal(bestUsed) && s.ID < best.ID) {
			best, bestUsed = s, used
		}
	}
	return best
}

// heaviestClientLRULocked returns the least recently used session of the
// client that holds the most sessions (ties: the client whose least
// recently used session is the oldest), or nil when none is held: a client
// that takes many places gives them back first, and one with few keeps
// them.
func (st *sessionStore) heaviestClientLRULocked() *Session {
	held := map[string]int{}
	most := 0
	for _, s := range st.byID {
		held[s.client]++
		most = max(most, held[s.client])
	}
	return st.lruLocked(func(s *Session) bool { return held[s.client] == most })
}

// evictLocked drops a session to make room for an upload of client.
func (st *sessionStore) evictLocked(s *Session, reason, forClient string) {
	s.mu.Lock()
	idle := time.Since(s.lastUsed)
	s.mu.Unlock()
	st.cfg.Logger.Info("session evicted", "session", s.ID, "reason", reason, "owner", s.client, "for", forClient, "idle", idle.Round(time.Second))
	st.dropLocked(s)
}

// relative removes the data folder's path from a message.
func (st *sessionStore) relative(msg string) string {
	return strings.ReplaceAll(msg, st.rootDir+string(filepath.Separator), "")
}

func (st *sessionStore) checkVolume(v *medimg.Volume) error {
	if int64(v.Voxels())*int64(v.Channels) > st.cfg.MaxVoxels {
		return errorf(http.StatusRequestEntityTooLarge, "image of %dx%dx%d voxels with %d channels is over the limit of %d samples", v.Size[0], v.Size[1], v.Size[2], v.Channels, st.cfg.MaxVoxels)
	}
	if int64(v.Size[0])*int64(v.Size[1]) > st.cfg.MaxSlicePixels {
		return errorf(http.StatusRequestEntityTooLarge, "slices of %dx%d pixels are over the limit of %d pixels", v.Size[0], v.Size[1], st.cfg.MaxSlicePixels)
	}
	return nil
}

// get returns a live session and marks it used.
func (st *sessionStore) get(id string) (*Session, error) {
	if !sessionIDPattern.MatchString(id) {
		return nil, errorf(http.StatusNotFound, "no session %q: session IDs are 32 lower-case hex digits", id)
	}
	now := time.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.purgeExpiredLocked(now)
	s, ok := st.byID[id]
	if !ok {
		return nil, errorf(http.StatusNotFound, "no session %s (it expired after %s unused, made way for newer uploads when its client or the server held its limit of sessions, was deleted, or never existed)", id, st.cfg.SessionTTL)
	}
	s.mu.Lock()
	s.lastUsed = now
	s.mu.Unlock()
	return s, nil
}

// remove deletes a session and its folder.
func (st *sessionStore) remove(id string) bool {
	if !sessionIDPattern.MatchString(id) {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.byID[id]
	if ok {
		st.dropLocked(s)
	}
	return ok
}

func (st *sessionStore) dropLocked(s *Session) {
	delete(st.byID, s.ID)
	st.bytes -= s.bytes
	if err := st.root.RemoveAll(s.dir); err != nil {
		st.cfg.Logger.Warn("removing session folder", "session", s.ID, "err", err)
	}
}

func (st *sessionStore) purgeExpiredLocked(now time.Time) {
	for _, s := range st.byID {
		s.mu.Lock()
		idle := now.Sub(s.lastUsed)
		s.mu.Unlock()
		if idle > st.cfg.SessionTTL {
			st.cfg.Logger.Info("session expired", "session", s.ID, "idle", idle.Round(time.Second))
			st.dropLocked(s)
		}
	}
}

// stats returns the number of sessions and the bytes their images hold.
func (st *sessionStore) stats() (int, int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.byID), st.bytes
}

// close removes every session and its folder.
func (st *sessionStore) close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.byID {
		st.dropLocked(s)
	}
	return st.root.Close()
}
