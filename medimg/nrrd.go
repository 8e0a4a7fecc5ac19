package medimg

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// NRRD (.nrrd, .nhdr with a detached data file; raw, gzip or ascii
// encoding), read by hand (see the package doc).

func nrrdFormat() Format {
	return Format{Name: "NRRD", Extensions: []string{".nrrd", ".nhdr"}, Magic: "NRRD000",
		Read: func(path, _ string, lim Limits) (*Volume, error) {
			f, size, err := openRegular(path)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return decodeNRRD(f, size, filepath.Dir(path), lim)
		}}
}

// nrrdMaxHeader bounds the text header of an NRRD file.
const nrrdMaxHeader = 1 << 20

var nrrdTypes = map[string]string{
	"signed char": "int8", "int8": "int8", "int8_t": "int8",
	"uchar": "uint8", "unsigned char": "uint8", "uint8": "uint8", "uint8_t": "uint8",
	"short": "int16", "short int": "int16", "signed short": "int16", "signed short int": "int16", "int16": "int16", "int16_t": "int16",
	"ushort": "uint16", "unsigned short": "uint16", "unsigned short int": "uint16", "uint16": "uint16", "uint16_t": "uint16",
	"int": "int32", "signed int": "int32", "int32": "int32", "int32_t": "int32",
	"uint": "uint32", "unsigned int": "uint32", "uint32": "uint32", "uint32_t": "uint32",
	"longlong": "int64", "long long": "int64", "long long int": "int64", "signed long long": "int64", "signed long long int": "int64", "int64": "int64", "int64_t": "int64",
	"ulonglong": "uint64", "unsigned long long": "uint64", "unsigned long long int": "uint64", "uint64": "uint64", "uint64_t": "uint64",
	"float": "float32", "double": "float64",
}

// decodeNRRD reads an NRRD file of fileSize bytes from f; dir is its folder,
// the only place a detached data file is read from.
func decodeNRRD(f io.ReaderAt, fileSize int64, dir string, lim Limits) (*Volume, error) {
	br := bufio.NewReader(io.NewSectionReader(f, 0, min(fileSize, nrrdMaxHeader)))
	if magic, _ := br.Peek(7); string(magic) != "NRRD000" {
		return nil, errors.New("missing NRRD magic")
	}
	fields := map[string]string{}
	var headerLen int64
	first := true
	for {
		line, err := br.ReadString('\n')
		headerLen += int64(len(line))
		if err != nil {
			if headerLen >= nrrdMaxHeader {
				return nil, fmt.Errorf("header longer than %d bytes", nrrdMaxHeader)
			}
			if first || fields["data file"] == "" && fields["datafile"] == "" {
				return nil, errors.New("header has no end (truncated file?)")
			}
			break
		}
		line = strings.TrimRight(line[:len(line)-1], "\r")
		if first {
			first = false
			continue
		}
		if line == "" {
			break
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		k, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("malformed header line %q", line)
		}
		if strings.HasPrefix(val, "=") { // key/value pair "key:=value"
			continue
		}
		fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(val)
	}
	dtype, ok := nrrdTypes[strings.ToLower(fields["type"])]
	if !ok {
		return nil, fmt.Errorf("unsupported or missing type %q", fields["type"])
	}
	ndim, err := strconv.Atoi(fields["dimension"])
	if err != nil || ndim < 1 || ndim > 4 {
		return nil, fmt.Errorf("unsupported dimension %q", fields["dimension"])
	}
	sizes := strings.Fields(fields["sizes"])
	if len(sizes) != ndim {
		return nil, fmt.Errorf("sizes %q do not match dimension %d", fields["sizes"], ndim)
	}
	dims := make([]int, ndim)
	for i, s := range sizes {
		if dims[i], err = strconv.Atoi(s); err != nil || dims[i] < 1 {
			return nil, fmt.Errorf("bad size %q", s)
		}
	}
	// A leading axis without a space direction ("none") holds channels.
	dirs := parseNRRDDirections(fields["space directions"])
	channels := 1
	if len(dirs) == ndim && dirs[0] == nil {
		channels, dims, dirs = dims[0], dims[1:], dirs[1:]
	} else if ndim == 4 {
		return nil, errors.New("4-D data without a leading channel axis is not supported")
	}
	size := [3]int{1, 1, 1}
	copy(size[:], dims)
	v, err := newShape(size[0], size[1], size[2], channels, dtype)
	if err != nil {
		return nil, err
	}
	n := v.Voxels() * channels
	samples, ok := product(int64(size[0]), int64(size[1]), int64(size[2]), int64(channels))
	need, _ := product(samples, int64(sampleSize(dtype)))
	if err := lim.checkData(samples, need, ok); err != nil {
		return nil, err
	}
	// The data: the rest of this file, or a detached file in the same folder.
	var data *io.SectionReader
	if df := firstNonEmpty(fields["data file"], fields["datafile"]); df != "" {
		if lim.NoDetachedData {
			return nil, fmt.Errorf("the header names a data file %q: %w; send an .nrrd with the data attached", df, ErrDetachedData)
		}
		if strings.ContainsAny(df, "%") || strings.HasPrefix(df, "LIST") {
			return nil, fmt.Errorf("multi-file data %q is not supported", df)
		}
		df, err := openDetached(dir, df)
		if err != nil {
			return nil, err
		}
		defer df.Close()
		st, err := df.Stat()
		if err != nil {
			return nil, err
		}
		data = io.NewSectionReader(df, 0, st.Size())
	} else {
		data = io.NewSectionReader(f, headerLen, fileSize-headerLen)
	}
	skip, _ := strconv.ParseInt(fields["byte skip"], 10, 64)
	var bo binary.ByteOrder = binary.LittleEndian
	if strings.ToLower(fields["endian"]) == "big" {
		bo = binary.BigEndian
	}
	switch enc := strings.ToLower(fields["encoding"]); enc {
	case "raw":
		avail := data.Size()
		switch {
		case skip == -1 && avail >= need: // the data are the last bytes
			skip = avail - need
		case skip < 0 || skip > avail:
			skip = 0
		}
		if avail-skip < need {
			return nil, fmt.Errorf("truncated data: %d bytes for %d %s samples (%d needed)", avail-skip, n, dtype, need)
		}
		v.Data, err = readSamples(io.NewSectionReader(data, skip, need), n, dtype, bo, need, need)
	case "gzip", "gz":
		if skip < 0 || skip > data.Size() {
			skip = 0
		}
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bufio.NewReader(io.NewSectionReader(data, skip, data.Size()-skip))); err != nil {
			err = fmt.Errorf("gzip: %w", err)
			break
		}
		// Inflated no further than the samples need.
		v.Data, err = readSamples(zr, n, dtype, bo, -1, maxInflate(data.Size()-skip))
	case "ascii", "text", "txt":
		v.Data, err = parseASCIISamples(bufio.NewReader(io.LimitReader(data, lim.MaxBytes)), n, data.Size())
	default:
		err = fmt.Errorf("unsupported encoding %q", enc)
	}
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if d != nil && len(d) != 3 { // found by FuzzNRRD: "space directions: 000" indexed past a 1-vector
			return nil, fmt.Errorf("space direction %v does not have three components", d)
		}
	}
	if len(dirs) > 0 {
		var m [3][4]float64
		for c := 0; c < 3; c++ {
			if c < len(dirs) && dirs[c] != nil {
				for r := 0; r < 3; r++ {
					m[r][c] = dirs[c][r]
				}
			} else {
				m[c][c] = 1
			}
		}
		if o := parseNRRDVector(fields["space origin"]); len(o) == 3 {
			m[0][3], m[1][3], m[2][3] = o[0], o[1], o[2]
		}
		switch space := strings.ToLower(fields["space"]); space {
		case "right-anterior-superior", "ras":
			for r := 0; r < 2; r++ {
				for c := 0; c < 4; c++ {
					m[r][c] = -m[r][c]
				}
			}
		case "left-anterior-superior", "las":
			for c := 0; c < 4; c++ {
				m[1][c] = -m[1][c]
			}
		}
		if err := v.setAffine(m); err != nil {
			return nil, err
		}
	} else if sp := strings.Fields(fields["spacings"]); len(sp) == ndim {
		for a := 0; a < min(3, ndim); a++ {
			if s, err := strconv.ParseFloat(sp[a], 64); err == nil && s > 0 {
				v.Spacing[a] = s
				v.SpacingKnown = true
			}
		}
	}
	return v, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// parseNRRDDirections parses "(a,b,c) none (d,e,f)"; nil entries are "none".
func parseNRRDDirections(s string) [][]float64 {
	var out [][]float64
	for _, tok := range strings.Fields(s) {
		if tok == "none" {
			out = append(out, nil)
			continue
		}
		out = append(out, parseNRRDVector(tok))
	}
	return out
}

func parseNRRDVector(s string) []float64 {
	s = strings.Trim(strings.TrimSpace(s), "()")
	if s == "" {
		return nil
	}
	var out []float64
	for _, p := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil
		}
		out = append(out, x)
	}
	return out
}

// openDetached opens a detached data file named by a header in dir. It
// must be a regular file beneath dir: an absolute path, "..", or a symbolic
// link leading out of the folder is refused (os.Root enforces the last),
// and so are devices, FIFOs and folders, which could be read without end.
func openDetached(dir, name string) (*os.File, error) {
	if filepath.IsAbs(name) || strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) {
		return nil, fmt.Errorf("data file %q: absolute paths are refused; the data file must be in the header's folder", name)
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return nil, fmt.Errorf("data file %q: \"..\" is refused; the data file must be in the header's folder", name)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("data file: %w", err)
	}
	defer root.Close()
	st, err := root.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("data file %q: %w", name, unwrapPath(err))
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("data file %q is not a regular file", name)
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("data file %q: %w", name, unwrapPath(err))
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("data file %q is not a regular file", name)
	}
	return f, nil
}

// unwrapPath drops the *PathError's path (the caller names the file).
func unwrapPath(err error) error {
	if e := errors.Unwrap(err); e != nil {
		return e
	}
	return err
}

// parseASCIISamples reads n whitespace-separated numbers from r, which
// holds present bytes (at least two a sample but the last). The output
// grows with the numbers read.
func parseASCIISamples(r *bufio.Reader, n int, present int64) ([]float32, error) {
	if present < 2*int64(n)-1 {
		return nil, fmt.Errorf("truncated data: %d bytes cannot hold %d ascii samples", present, n)
	}
	out := make([]float32, 0, min(n, 1<<16))
	tok := make([]byte, 0, 64)
	for len(out) < n {
		tok = tok[:0]
		for {
			c, err := r.ReadByte()
			if err != nil {
				break
			}
			if c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == ',' {
				if len(tok) > 0 {
					break
				}
				continue
			}
			if len(tok) == 64 {
				return nil, fmt.Errorf("bad ascii sample %q...", tok)
			}
			tok = append(tok, c)
		}
		if len(tok) == 0 {
			return nil, fmt.Errorf("truncated data: %d ascii samples, %d needed", len(out), n)
		}
		x, err := strconv.ParseFloat(string(tok), 32)
		if err != nil {
			return nil, fmt.Errorf("bad ascii sample %q", tok)
		}
		if len(out) == cap(out) {
			out = append(make([]float32, 0, min(n, 2*cap(out))), out...)
		}
		out = append(out, float32(x))
	}
	return out, nil
}
