package medimg

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Format describes one file format, in the shape of image.RegisterFormat:
// a name, the file-name endings it owns, an optional magic prefix ('?'
// matches any byte) and a reader.
type Format struct {
	Name string
	// Extensions are lower-case endings such as ".nii.gz"; the longest match wins.
	Extensions []string
	// Magic is matched against the start of the file when no extension matches.
	Magic string
	// MagicOffset is where Magic starts (128 for DICOM's "DICM").
	MagicOffset int
	// Folders marks a format read from a folder (a DICOM series).
	Folders bool
	// Read reads the file (or folder) at path. key selects one array of a
	// container (the part after '#' in "file.npz#gts"); it is empty otherwise.
	// A reader checks every size its input claims against lim (defaults
	// filled in) and against the bytes present before it allocates.
	Read func(path, key string, lim Limits) (*Volume, error)
}

// Registry maps file names and contents to formats.
type Registry struct {
	formats []Format
	// Limits bound every read (zero fields: DefaultLimits).
	Limits Limits
}

// RegisterFormat adds a format; later registrations win ties.
func (r *Registry) RegisterFormat(f Format) { r.formats = append(r.formats, f) }

// Formats returns the registered format names.
func (r *Registry) Formats() []string {
	names := make([]string, len(r.formats))
	for i, f := range r.formats {
		names[i] = f.Name
	}
	return names
}

// DefaultRegistry returns a registry with every format this package reads,
// under DefaultLimits.
func DefaultRegistry() *Registry { return NewRegistry(DefaultLimits()) }

// NewRegistry returns a registry with every format this package reads,
// under lim.
func NewRegistry(lim Limits) *Registry {
	r := &Registry{Limits: lim}
	r.RegisterFormat(niftiFormat())
	r.RegisterFormat(nrrdFormat())
	r.RegisterFormat(giplFormat())
	r.RegisterFormat(dicomFormat())
	r.RegisterFormat(npyFormat())
	r.RegisterFormat(npzFormat())
	for _, f := range rasterFormats() {
		r.RegisterFormat(f)
	}
	return r
}

// Read reads a volume with the default registry (DefaultLimits). A path may
// end in "#key" to pick one array of an NPZ archive.
func Read(path string) (*Volume, error) { return DefaultRegistry().Read(path) }

// Read reads the image at path (a file, or a folder for a DICOM series).
// Errors name the file and the reason; corrupt input never panics.
func (r *Registry) Read(path string) (v *Volume, err error) {
	file, key := splitKey(path)
	f, err := r.lookup(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	defer func() {
		// A last guard for the third-party decoders: corrupt input must end
		// in an error naming the file, never in a crash.
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("%s: corrupt %s data (%v)", file, f.Name, p)
		}
	}()
	lim := r.Limits.orDefault()
	v, err = f.Read(file, key, lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", file, f.Name, err)
	}
	if int64(len(v.Data)) > lim.MaxVoxels { // a backstop: readers check before allocating
		return nil, tooLarge("%s: %s image of %d samples is over the limit of %d", file, f.Name, len(v.Data), lim.MaxVoxels)
	}
	if len(v.Data) != v.Voxels()*v.Channels {
		return nil, fmt.Errorf("%s: %s reader returned %d samples for size %v", file, f.Name, len(v.Data), v.Size)
	}
	return v, nil
}

func splitKey(path string) (file, key string) {
	if i := strings.LastIndexByte(path, '#'); i > 0 {
		if _, err := os.Stat(path); err != nil {
			return path[:i], path[i+1:]
		}
	}
	return path, ""
}

func (r *Registry) lookup(path string) (Format, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Format{}, errors.Unwrap(err)
	}
	if st.IsDir() {
		for i := len(r.formats) - 1; i >= 0; i-- {
			if r.formats[i].Folders {
				return r.formats[i], nil
			}
		}
		return Format{}, errors.New("is a folder and no folder format is registered")
	}
	if !st.Mode().IsRegular() { // a device or FIFO could be read without end, or block
		return Format{}, errors.New("not a regular file")
	}
	lower := strings.ToLower(filepath.Base(path))
	best, bestLen := -1, 0
	for i, f := range r.formats {
		for _, ext := range f.Extensions {
			if strings.HasSuffix(lower, ext) && len(ext) >= bestLen {
				best, bestLen = i, len(ext)
			}
		}
	}
	if best >= 0 {
		return r.formats[best], nil
	}
	head := make([]byte, 512)
	fh, err := os.Open(path)
	if err != nil {
		return Format{}, errors.Unwrap(err)
	}
	n, _ := io.ReadFull(fh, head)
	fh.Close()
	head = head[:n]
	for i := len(r.formats) - 1; i >= 0; i-- {
		if f := r.formats[i]; f.Magic != "" && matchMagic(head, f.MagicOffset, f.Magic) {
			return f, nil
		}
	}
	return Format{}, fmt.Errorf("unsupported format (known: %s)", strings.Join(r.Formats(), ", "))
}

func matchMagic(head []byte, off int, magic string) bool {
	if len(head) < off+len(magic) {
		return false
	}
	for i := 0; i < len(magic); i++ {
		if magic[i] != '?' && head[off+i] != magic[i] {
			return false
		}
	}
	return true
}
