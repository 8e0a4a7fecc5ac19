package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
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
		m = mappingFor(s.Volume, w)
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
	return renderSlice(v, k, s.mapping(w)), nil
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
func (s *Session) emptyLabelVolume() *medimg.Volume {
	v := s.Volume
	return &medimg.Volume{Size: v.Size, Channels: 1, Data: make([]float32, v.Voxels()),
		Spacing: v.Spacing, Origin: v.Origin, Direction: v.Direction, SpacingKnown: v.SpacingKnown, DType: "uint8"}
}

// labelVolume returns the kept masks (slices of the view) as a uint8
// volume on the uploaded image's grid.
func (s *Session) labelVolume() *medimg.Volume {
	out := s.emptyLabelVolume()
	w := s.View.Size[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, m := range s.labels {
		for p, x := range m {
			if x != 0 {
				o := s.viewToVolume.Apply([3]int{p % w, p / w, k})
				out.Data[out.Index(o[0], o[1], o[2], 0)] = 1
			}
		}
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

	mu      sync.Mutex
	byID    map[string]*Session
	bytes   int64
	pending int
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
	return &sessionStore{cfg: cfg, root: root, rootDir: dir, byID: map[string]*Session{}}, nil
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// create receives an upload into a new session folder and reads the image.
// It refuses when the server holds MaxSessions sessions or MaxSessionBytes
// of images after removing expired ones.
func (st *sessionStore) create(r *http.Request) (*Session, *upload, error) {
	st.mu.Lock()
	st.purgeExpiredLocked(time.Now())
	if len(st.byID)+st.pending >= st.cfg.MaxSessions {
		st.mu.Unlock()
		return nil, nil, errorf(http.StatusServiceUnavailable, "the server holds its limit of %d sessions: delete one or try again later", st.cfg.MaxSessions)
	}
	st.pending++
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		st.pending--
		st.mu.Unlock()
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
	vol, err := medimg.Read(filepath.Join(st.rootDir, filepath.FromSlash(file)))
	if err != nil {
		return nil, nil, errorf(http.StatusUnprocessableEntity, "cannot read the image: %s", st.relative(err.Error()))
	}
	if err := st.checkVolume(vol); err != nil {
		return nil, nil, err
	}
	view, toVolume, err := lpsView(vol)
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
		Window: defaultWindow(vol, lo), Lo: lo, Hi: hi, dir: dir, file: file,
		bytes: bytes, lastUsed: now, labels: map[int][]uint8{}, mappings: map[string]dataset.Mapping{}}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.bytes+s.bytes > st.cfg.MaxSessionBytes {
		return nil, nil, errorf(http.StatusServiceUnavailable, "the server's sessions hold %d MiB of images and this one needs %d MiB more than the limit of %d MiB allows: try again later",
			st.bytes>>20, s.bytes>>20, st.cfg.MaxSessionBytes>>20)
	}
	st.byID[id] = s
	st.bytes += s.bytes
	ok = true
	return s, up, nil
}

// lpsView returns the volume reoriented to LPS and the map from its voxel
// indices to the volume's.
func lpsView(vol *medimg.Volume) (*medimg.Volume, medimg.IndexMap, error) {
	identity := medimg.IndexMap{M: [3][3]int{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
	view, err := medimg.ToLPS(vol)
	if err != nil || view == vol {
		return vol, identity, err
	}
	m, err := medimg.NewIndexMap(view, vol)
	if err != nil {
		return nil, medimg.IndexMap{}, err
	}
	return view, m, nil
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
		return nil, errorf(http.StatusNotFound, "no session %s (it expired after %s unused, was deleted, or never existed)", id, st.cfg.SessionTTL)
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
