package server

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // DecodeConfig guards against oversized GIFs
	_ "image/jpeg" // and JPEGs,
	_ "image/png"  // PNGs
	"io"
	"net/http"
	"os"
	"path"
	"strings"

	_ "golang.org/x/image/bmp"  // BMPs
	_ "golang.org/x/image/tiff" // and TIFFs before medimg decodes them.

	"github.com/synthfm/synthfm/medimg"
)

// maxFieldBytes bounds one non-file form field of an upload.
const maxFieldBytes = 64 << 10

// upload is what one request brought: files saved in a session's folder
// (names relative to it) and the plain form fields.
type upload struct {
	files  []string
	fields map[string]string
}

// receiveUpload saves the files of a request into dir (relative to root):
// every file part of a multipart/form-data body, whatever its field name,
// or else the raw body as one file named by the "name" query parameter.
// Gzipped files are stored gunzipped (bounded by maxFile bytes) so that no
// reader later inflates an unbounded stream.
func receiveUpload(r *http.Request, root *os.Root, dir string, maxFiles int, maxFile int64) (*upload, error) {
	up := &upload{fields: map[string]string{}}
	used := map[string]bool{}
	save := func(name string, body io.Reader) error {
		if len(up.files) >= maxFiles {
			return errorf(http.StatusRequestEntityTooLarge, "more than %d files in one upload", maxFiles)
		}
		stored, err := saveFile(root, dir, uniqueName(sanitizeName(name), used), body, maxFile)
		if err != nil {
			return err
		}
		up.files = append(up.files, stored)
		return nil
	}
	mr, err := r.MultipartReader()
	if errors.Is(err, http.ErrNotMultipart) {
		if err := save(r.URL.Query().Get("name"), r.Body); err != nil {
			return nil, err
		}
		return up, nil
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, uploadReadError(err)
		}
		if part.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			if err != nil {
				return nil, uploadReadError(err)
			}
			if len(b) > maxFieldBytes {
				return nil, errorf(http.StatusRequestEntityTooLarge, "form field %q is longer than %d bytes", part.FormName(), maxFieldBytes)
			}
			up.fields[part.FormName()] = string(b)
			continue
		}
		if err := save(part.FileName(), part); err != nil {
			return nil, err
		}
	}
	if len(up.files) == 0 {
		return nil, errorf(http.StatusBadRequest, "the upload holds no file: send the image as a multipart file field")
	}
	return up, nil
}

func uploadReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return errorf(http.StatusBadRequest, "reading the upload: %v", err)
}

// sanitizeName keeps the base of an uploaded file's name and only the
// characters [A-Za-z0-9._-], so that it can never name a place outside the
// session's folder (os.Root enforces that as well).
func sanitizeName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	var b strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 128 {
		s = s[len(s)-128:] // keep the ending: it names the format
	}
	s = strings.TrimLeft(s, ".")
	if s == "" {
		s = "upload"
	}
	return s
}

func uniqueName(name string, used map[string]bool) string {
	u := name
	for i := 1; used[strings.ToLower(u)]; i++ {
		u = fmt.Sprintf("%d_%s", i, name)
	}
	used[strings.ToLower(u)] = true
	return u
}

// saveFile writes body to dir/name under root, gunzipping gzip data (and
// dropping a ".gz" ending), and refuses more than maxFile bytes. It returns
// the stored name, relative to dir.
func saveFile(root *os.Root, dir, name string, body io.Reader, maxFile int64) (string, error) {
	br := bufio.NewReader(body)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return "", errorf(http.StatusBadRequest, "%s: bad gzip data: %v", name, err)
		}
		src = zr
		if trimmed := name[:len(name)-len(".gz")]; strings.HasSuffix(strings.ToLower(name), ".gz") && trimmed != "" {
			name = trimmed
		}
	}
	f, err := root.OpenFile(path.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("storing upload %s: %w", name, err)
	}
	n, err := io.Copy(f, io.LimitReader(src, maxFile+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", err
		}
		return "", errorf(http.StatusBadRequest, "%s: reading the upload: %v", name, err)
	}
	if n > maxFile {
		return "", errorf(http.StatusRequestEntityTooLarge, "%s is larger than the limit of %d bytes (uncompressed)", name, maxFile)
	}
	if n == 0 {
		return "", errorf(http.StatusBadRequest, "%s is empty", name)
	}
	return name, nil
}

// checkRasterSize reads the header of a raster picture (PNG, JPEG, GIF,
// BMP, TIFF) and refuses one with more than maxPixels pixels before anything
// decodes it. Files of other formats pass.
func checkRasterSize(root *os.Root, file string, maxPixels int64) error {
	f, err := root.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return nil // not a raster format the standard decoders know
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return errorf(http.StatusRequestEntityTooLarge, "%s: %s picture of %dx%d pixels is over the limit of %d pixels", path.Base(file), format, cfg.Width, cfg.Height, maxPixels)
	}
	return nil
}

// reader is the registry uploads are read with: within the server's
// limits (MaxVoxels samples, MaxFileBytes bytes stored or inflated), and
// never reading a second file that a header names (an upload is one file,
// or a DICOM folder).
func (st *sessionStore) reader() *medimg.Registry {
	return medimg.NewRegistry(medimg.Limits{MaxVoxels: st.cfg.MaxVoxels, MaxBytes: st.cfg.MaxFileBytes, NoDetachedData: true})
}

// readError is the answer to an image the readers refused: 413 when it
// claims more than the limits, 422 otherwise; msg is the reader's error
// with the data folder's path removed.
func readError(err error, msg string) error {
	switch {
	case errors.Is(err, medimg.ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "the image is over the server's limits: %s", msg)
	case errors.Is(err, medimg.ErrDetachedData):
		return errorf(http.StatusUnprocessableEntity, "cannot read the image: %s (this server reads one uploaded file and no file its header names)", msg)
	}
	return errorf(http.StatusUnprocessableEntity, "cannot read the image: %s", msg)
}
