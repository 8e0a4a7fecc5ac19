package medimg

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
)

// Limits is the budget of one read. Every reader checks what a header
// claims against it, and against the bytes actually in the file, before it
// allocates anything of that size; decompression stops at MaxBytes. A read
// allocates at most about MaxBytes + 4·MaxVoxels bytes (Memory), whatever
// the file says.
//
// Zero fields take the values of DefaultLimits.
type Limits struct {
	// MaxVoxels bounds the samples (voxels × channels) of the decoded image.
	MaxVoxels int64
	// MaxBytes bounds the bytes a reader takes from one file or stream: the
	// stored data, the inflated bytes of gzip/deflate data, a detached data
	// file, a DICOM file held for parsing.
	MaxBytes int64
	// NoDetachedData refuses headers that name another file for their data
	// (NRRD "data file"): a server that receives one file never reads a
	// second one on its behalf.
	NoDetachedData bool
}

// DefaultLimits are the command-line tools' limits, the same as the
// server's defaults: 256 Mi samples (1 GiB as float32, a 512×512×1024 CT)
// and 1 GiB of stored or inflated data, so that one read costs at most
// about 2 GiB. The server passes its own, from its flags.
func DefaultLimits() Limits { return Limits{MaxVoxels: 256 << 20, MaxBytes: 1 << 30} }

// ErrTooLarge marks a file refused because it claims more than the limits
// allow (errors.Is(err, ErrTooLarge)).
var ErrTooLarge = errors.New("over the limit")

// ErrDetachedData marks a header refused because it names a data file
// while Limits.NoDetachedData is set.
var ErrDetachedData = errors.New("detached data files are not accepted")

// limitError is an error that Is ErrTooLarge and says why on its own.
type limitError struct{ msg string }

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == ErrTooLarge }

func tooLarge(format string, a ...any) error { return &limitError{fmt.Sprintf(format, a...)} }

func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.MaxVoxels <= 0 {
		l.MaxVoxels = d.MaxVoxels
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	return l
}

// Memory is the most a read under these limits allocates, give or take
// small constant buffers: the bytes read and the decoded float32 samples.
func (l Limits) Memory() int64 {
	l = l.orDefault()
	return l.MaxBytes + 4*l.MaxVoxels
}

// product multiplies positive sizes; ok is false on overflow past 2^62.
func product(xs ...int64) (p int64, ok bool) {
	p = 1
	for _, x := range xs {
		if x < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(uint64(p), uint64(x))
		if hi != 0 || lo > 1<<62 {
			return 0, false
		}
		p = int64(lo)
	}
	return p, true
}

// checkData checks a claimed image of samples samples stored in dataBytes
// bytes against the limits.
func (l Limits) checkData(samples, dataBytes int64, ok bool) error {
	if !ok || samples > l.MaxVoxels {
		if !ok {
			return tooLarge("header claims an impossibly large image (its sizes multiply past 2^62)")
		}
		return tooLarge("image of %d samples is over the limit of %d samples", samples, l.MaxVoxels)
	}
	if dataBytes > l.MaxBytes {
		return tooLarge("image data of %d bytes is over the limit of %d bytes", dataBytes, l.MaxBytes)
	}
	return nil
}

// boundedReader fails with ErrTooLarge once more than n bytes are read:
// it bounds inflated streams by the budget.
type boundedReader struct {
	r    io.Reader
	n    int64 // bytes left
	max  int64
	what string
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		var one [1]byte
		k, err := b.r.Read(one[:])
		if k > 0 {
			return 0, tooLarge("%s is over the limit of %d bytes", b.what, b.max)
		}
		return 0, err
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	k, err := b.r.Read(p)
	b.n -= int64(k)
	return k, err
}

// openRegular opens a regular file (never a device, FIFO or folder) and
// returns its size.
func openRegular(path string) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, errors.Unwrap(err)
	}
	if !st.Mode().IsRegular() {
		return nil, 0, errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, errors.Unwrap(err)
	}
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, errors.New("not a regular file")
	}
	return f, st.Size(), nil
}

// source is an opened file, gunzipped when it starts with the gzip magic.
// present is the number of bytes it holds, or -1 when they are compressed
// (unknown until inflated); most is the most it can hold (for compressed
// data, what deflate's best ratio makes of the file's size).
type source struct {
	io.Reader
	present, most int64
	closer        io.Closer
}

// maxInflate is the most bytes compressed deflate data of n bytes can
// inflate to (deflate's best ratio is 1032:1), plus a little for headers.
func maxInflate(n int64) int64 { return 1032*n + 64 }

func (s *source) Close() error { return s.closer.Close() }

// openSource opens path for streaming reads bounded by lim.MaxBytes.
func openSource(path string, lim Limits) (*source, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return &source{Reader: &boundedReader{r: zr, n: lim.MaxBytes, max: lim.MaxBytes, what: "inflated gzip data"}, present: -1, most: maxInflate(size), closer: f}, nil
	}
	return &source{Reader: br, present: size, most: size, closer: f}, nil
}

// readBounded reads all of r, at most max bytes (ErrTooLarge beyond). The
// buffer grows with what arrives, never to a size a header claimed.
func readBounded(r io.Reader, max int64, what string) ([]byte, error) {
	buf := make([]byte, 0, min(max+1, 64<<10))
	for {
		if int64(len(buf)) > max {
			return nil, tooLarge("%s is larger than the limit of %d bytes", what, max)
		}
		if len(buf) == cap(buf) {
			buf = growBytes(buf, int(min(int64(2*cap(buf)), max+1)))
		}
		k, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func growBytes(b []byte, c int) []byte {
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

// skipBytes discards n bytes of r.
func skipBytes(r io.Reader, n int64) error {
	if n <= 0 {
		return nil
	}
	k, err := io.CopyN(io.Discard, r, n)
	if err != nil {
		return fmt.Errorf("truncated file: %d of %d bytes before the data", k, n)
	}
	return nil
}

// readSamples decodes n samples of dtype (byte order bo) from r into
// float32. present is the number of bytes r holds, or -1 when unknown (a
// compressed stream); most is the most it can hold (maxInflate of the
// compressed size), or ≤ 0 when unknown. A stream that is or can only be
// shorter than the data fails before anything is allocated; one of unknown
// size makes the output grow with the data that actually arrives (at most
// doubling), so that a header's claim alone never allocates. The caller has
// checked n against the limits.
func readSamples(r io.Reader, n int, dtype string, bo binary.ByteOrder, present, most int64) ([]float32, error) {
	size := sampleSize(dtype)
	if size == 0 {
		return nil, fmt.Errorf("unsupported sample type %q", dtype)
	}
	need := int64(n) * int64(size)
	if present >= 0 && present < need {
		return nil, fmt.Errorf("truncated data: %d bytes for %d %s samples (%d needed)", present, n, dtype, need)
	}
	if present < 0 && most > 0 && most < need {
		return nil, fmt.Errorf("truncated data: the compressed data can hold at most %d bytes, %d %s samples need %d", most, n, dtype, need)
	}
	var out []float32
	if present >= 0 || most >= need {
		out = make([]float32, 0, n)
	} else {
		out = make([]float32, 0, min(n, 1<<16))
	}
	chunk := make([]byte, min(need, 1<<16))
	for len(out) < n {
		want := min(len(chunk), (n-len(out))*size)
		k, err := io.ReadFull(r, chunk[:want])
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if k < want {
			got := int64(len(out))*int64(size) + int64(k)
			return nil, fmt.Errorf("truncated data: %d bytes for %d %s samples (%d needed)", got, n, dtype, need)
		}
		m := k / size
		if len(out)+m > cap(out) {
			nb := make([]float32, len(out), min(n, max(2*cap(out), len(out)+m)))
			copy(nb, out)
			out = nb
		}
		start := len(out)
		out = out[:start+m]
		convertSamples(out[start:], chunk[:k], dtype, bo)
	}
	return out, nil
}

// convertSamples converts len(dst) samples of raw into dst.
func convertSamples(dst []float32, raw []byte, dtype string, bo binary.ByteOrder) {
	size := sampleSize(dtype)
	for i := range dst {
		b := raw[i*size:]
		switch dtype {
		case "uint8":
			dst[i] = float32(b[0])
		case "int8":
			dst[i] = float32(int8(b[0]))
		case "uint16":
			dst[i] = float32(bo.Uint16(b))
		case "int16":
			dst[i] = float32(int16(bo.Uint16(b)))
		case "uint32":
			dst[i] = float32(bo.Uint32(b))
		case "int32":
			dst[i] = float32(int32(bo.Uint32(b)))
		case "float32":
			dst[i] = math.Float32frombits(bo.Uint32(b))
		case "uint64":
			dst[i] = float32(bo.Uint64(b))
		case "int64":
			dst[i] = float32(int64(bo.Uint64(b)))
		case "float64":
			dst[i] = float32(math.Float64frombits(bo.Uint64(b)))
		}
	}
}
