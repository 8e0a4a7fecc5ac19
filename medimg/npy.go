package medimg

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// NPY and NPZ arrays. Shapes (H, W), (Z, H, W) and (H, W, 3|4) (colour) are
// understood, C or Fortran order. In an NPZ archive, "file.npz#key" picks an
// array; without a key, MedSAM's "imgs" is used, or the only array. A
// "spacing" array of three values (as MedSAM's 3-D npz files carry, x y z)
// sets the voxel spacing.
//
// The header and the samples are read here rather than by
// codeberg.org/sbinet/npyio, which trusts its input: it allocates the array
// a header claims before reading a byte of it (a 128-byte file claiming
// (100000,100000,100) float64 asks for 8 TB, a fatal out-of-memory no
// recover catches) and panics on some malformed headers. Here the shape is
// checked against the limits and the bytes present first, and the samples
// are decoded as they arrive. NPZ archives are opened with archive/zip.

// npyMaxHeader bounds an NPY header (numpy itself refuses more than 10,000
// bytes unless told otherwise).
const npyMaxHeader = 64 << 10

func npyFormat() Format {
	return Format{Name: "NPY", Extensions: []string{".npy"}, Magic: "\x93NUMPY",
		Read: func(path, _ string, lim Limits) (*Volume, error) {
			f, size, err := openRegular(path)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return decodeNPY(bufio.NewReader(f), size, size, lim)
		}}
}

func npzFormat() Format {
	return Format{Name: "NPZ", Extensions: []string{".npz"}, Magic: "PK\x03\x04",
		Read: func(path, key string, lim Limits) (*Volume, error) {
			f, size, err := openRegular(path)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			zr, err := zip.NewReader(f, size)
			if err != nil {
				return nil, fmt.Errorf("not a zip archive: %w", err)
			}
			entries := map[string]*zip.File{}
			var keys []string
			for _, e := range zr.File {
				k := strings.TrimSuffix(e.Name, ".npy")
				if _, dup := entries[k]; !dup {
					keys = append(keys, k)
				}
				entries[k] = e
			}
			if key == "" {
				switch {
				case entries["imgs"] != nil:
					key = "imgs"
				case len(keys) == 1:
					key = keys[0]
				default:
					return nil, fmt.Errorf("several arrays (%s): name one as file.npz#key", strings.Join(keys, ", "))
				}
			}
			key = strings.TrimSuffix(key, ".npy")
			e := entries[key]
			if e == nil {
				return nil, fmt.Errorf("no array %q (have %s)", key, strings.Join(keys, ", "))
			}
			v, err := decodeNPZEntry(e, size, lim)
			if err != nil {
				return nil, fmt.Errorf("array %q: %w", key, err)
			}
			if sp := entries["spacing"]; sp != nil && key != "spacing" {
				if s, ok := readNPZSpacing(sp); ok {
					v.Spacing, v.SpacingKnown = s, true
				}
			}
			return v, nil
		}}
}

// decodeNPZEntry decodes one array of an archive; its inflated bytes are
// bounded by lim.MaxBytes whatever the archive's directory says.
func decodeNPZEntry(e *zip.File, archiveSize int64, lim Limits) (*Volume, error) {
	rc, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// archive/zip reads no more than the member's compressed size, and no
	// more than the file holds.
	compressed := min(int64(e.CompressedSize64), archiveSize)
	present, most := int64(-1), maxInflate(compressed) // deflated: known once inflated
	if e.Method == zip.Store {
		present, most = compressed, compressed
	}
	return decodeNPY(bufio.NewReader(&boundedReader{r: rc, n: lim.MaxBytes, max: lim.MaxBytes, what: "inflated array"}), present, most, lim)
}

// readNPZSpacing reads an archive's "spacing" array: three float64 or
// float32 values. ok is false for anything else.
func readNPZSpacing(e *zip.File) (sp [3]float64, ok bool) {
	rc, err := e.Open()
	if err != nil {
		return sp, false
	}
	defer rc.Close()
	r := bufio.NewReader(&boundedReader{r: rc, n: 1 << 12, max: 1 << 12, what: "spacing"})
	h, err := readNPYHeader(r)
	if err != nil || len(h.shape) != 1 || h.shape[0] != 3 || h.dtype != "float64" && h.dtype != "float32" {
		return sp, false
	}
	raw := make([]byte, 3*sampleSize(h.dtype))
	if _, err := io.ReadFull(r, raw); err != nil {
		return sp, false
	}
	for a := range 3 {
		if h.dtype == "float64" {
			sp[a] = math.Float64frombits(h.order.Uint64(raw[8*a:]))
		} else {
			sp[a] = float64(math.Float32frombits(h.order.Uint32(raw[4*a:])))
		}
	}
	return sp, true
}

// npyHeader is what an NPY header says.
type npyHeader struct {
	dtype   string // "uint8", ...; "bool" for b1
	order   binary.ByteOrder
	fortran bool
	shape   []int
	size    int64 // header bytes, magic included
}

// readNPYHeader reads and checks the magic, version and header dictionary.
func readNPYHeader(r *bufio.Reader) (*npyHeader, error) {
	pre := make([]byte, 10)
	if n, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, fmt.Errorf("truncated header (%d bytes)", n)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, errors.New("missing NPY magic")
	}
	var hlen, size int64
	switch pre[6] {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, errors.New("truncated header")
		}
		hlen, size = int64(binary.LittleEndian.Uint16(pre[8:])), 10
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, errors.New("truncated header")
		}
		hlen, size = int64(binary.LittleEndian.Uint32(b[:])), 12
	default:
		return nil, fmt.Errorf("unsupported NPY version %d.%d", pre[6], pre[7])
	}
	if hlen > npyMaxHeader {
		return nil, fmt.Errorf("header of %d bytes is longer than %d", hlen, npyMaxHeader)
	}
	text := make([]byte, hlen)
	if n, err := io.ReadFull(r, text); err != nil {
		return nil, fmt.Errorf("truncated header (%d of %d bytes)", n, hlen)
	}
	h := &npyHeader{size: size + hlen}
	descr, err := npyField(string(text), "descr")
	if err != nil {
		return nil, err
	}
	if len(descr) < 3 || descr[0] != '\'' && descr[0] != '"' || descr[len(descr)-1] != descr[0] {
		return nil, fmt.Errorf("unsupported dtype %s (only plain numeric dtypes)", descr)
	}
	descr = descr[1 : len(descr)-1]
	h.order = binary.LittleEndian
	switch descr[0] {
	case '>':
		h.order = binary.BigEndian
		descr = descr[1:]
	case '<', '|', '=':
		descr = descr[1:]
	}
	var ok bool
	if h.dtype, ok = npyTypes[descr]; !ok {
		return nil, fmt.Errorf("unsupported dtype %q", descr)
	}
	fortran, err := npyField(string(text), "fortran_order")
	if err != nil {
		return nil, err
	}
	switch fortran {
	case "True":
		h.fortran = true
	case "False":
	default:
		return nil, fmt.Errorf("bad fortran_order %q", fortran)
	}
	shape, err := npyField(string(text), "shape")
	if err != nil {
		return nil, err
	}
	if len(shape) < 2 || shape[0] != '(' || shape[len(shape)-1] != ')' {
		return nil, fmt.Errorf("bad shape %q", shape)
	}
	for _, p := range strings.Split(shape[1:len(shape)-1], ",") {
		if p = strings.TrimSuffix(strings.TrimSpace(p), "L"); p == "" {
			continue
		}
		d, err := strconv.Atoi(p)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("bad shape %q", shape)
		}
		if len(h.shape) == 8 {
			return nil, fmt.Errorf("unsupported array shape %s", shape)
		}
		h.shape = append(h.shape, d)
	}
	return h, nil
}

var npyTypes = map[string]string{"b1": "bool", "u1": "uint8", "i1": "int8", "u2": "uint16", "i2": "int16",
	"u4": "uint32", "i4": "int32", "u8": "uint64", "i8": "int64", "f4": "float32", "f8": "float64"}

// npyField returns the literal after 'key': in an NPY header dictionary (a
// quoted string, a tuple or a word), as text.
func npyField(h, key string) (string, error) {
	i := strings.Index(h, "'"+key+"'")
	if i < 0 {
		if i = strings.Index(h, `"`+key+`"`); i < 0 {
			return "", fmt.Errorf("header has no %q", key)
		}
	}
	rest := strings.TrimLeft(h[i+len(key)+2:], " ")
	if !strings.HasPrefix(rest, ":") {
		return "", fmt.Errorf("malformed header near %q", key)
	}
	rest = strings.TrimLeft(rest[1:], " ")
	if rest == "" {
		return "", fmt.Errorf("header has no value for %q", key)
	}
	var end int
	switch rest[0] {
	case '\'', '"':
		end = strings.IndexByte(rest[1:], rest[0]) + 2
	case '(':
		end = strings.IndexByte(rest, ')') + 1
	default:
		end = strings.IndexAny(rest, ",}")
	}
	if end <= 0 {
		return "", fmt.Errorf("malformed header near %q", key)
	}
	return strings.TrimSpace(rest[:end]), nil
}

// decodeNPY reads an NPY array from r, which holds present bytes (-1:
// unknown, a deflated archive member) and at most most.
func decodeNPY(r *bufio.Reader, present, most int64, lim Limits) (*Volume, error) {
	h, err := readNPYHeader(r)
	if err != nil {
		return nil, err
	}
	shape := h.shape
	var nx, ny, nz, channels int
	switch {
	case len(shape) == 2:
		ny, nx, nz, channels = shape[0], shape[1], 1, 1
	case len(shape) == 3 && (shape[2] == 3 || shape[2] == 4) && shape[0] > 4:
		ny, nx, nz, channels = shape[0], shape[1], 1, shape[2]
	case len(shape) == 3:
		nz, ny, nx, channels = shape[0], shape[1], shape[2], 1
	default:
		return nil, fmt.Errorf("unsupported array shape %v (want 2-D, 3-D or H×W×3)", shape)
	}
	dims := make([]int64, len(shape))
	for i, s := range shape {
		if s <= 0 {
			return nil, fmt.Errorf("invalid array shape %v", shape)
		}
		dims[i] = int64(s)
	}
	samples, ok := product(dims...)
	stored := h.dtype
	if stored == "bool" {
		stored = "uint8"
	}
	need, _ := product(samples, int64(sampleSize(stored)))
	if err := lim.checkData(samples, need, ok); err != nil {
		return nil, err
	}
	if present >= 0 && present-h.size < need {
		return nil, fmt.Errorf("truncated data: %d bytes for %d %s samples (%d needed)", max(0, present-h.size), samples, h.dtype, need)
	}
	v, err := newShape(nx, ny, nz, channels, stored)
	if err != nil {
		return nil, err
	}
	flat, err := readSamples(r, int(samples), stored, h.order, max(-1, present-h.size), most-h.size)
	if err != nil {
		return nil, err
	}
	if h.dtype == "bool" {
		for i, x := range flat {
			if x != 0 {
				flat[i] = 1
			}
		}
	}
	if !h.fortran {
		v.Data = flat
	} else { // Fortran order: the first index runs fastest.
		v.Data = make([]float32, len(flat))
		strides := make([]int, len(shape))
		s := 1
		for d := range shape {
			strides[d] = s
			s *= shape[d]
		}
		idx := make([]int, len(shape))
		for c := range v.Data { // c walks C order: last index fastest
			off := 0
			for d := range idx {
				off += idx[d] * strides[d]
			}
			v.Data[c] = flat[off]
			for d := len(idx) - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < shape[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
	if v.Channels == 4 { // drop alpha
		rgb := make([]float32, 0, v.Voxels()*3)
		for i := 0; i < len(v.Data); i += 4 {
			rgb = append(rgb, v.Data[i:i+3]...)
		}
		v.Data, v.Channels = rgb, 3
	}
	return v, nil
}
