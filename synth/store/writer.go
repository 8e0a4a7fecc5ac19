package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"codeberg.org/sbinet/npyio/npz"

	"github.com/synthfm/synthfm/synth"
)

// Output formats.
const (
	FormatPNG = "png" // images/NNNNNNNN.png and masks/NNNNNNNN.png per sample
	FormatNPZ = "npz" // shards/NNNNNNNN.npz holding images, masks and indices
)

// Files of an output folder.
const (
	RunFile      = "run.json"       // the Run, so that a resumed run continues the same stream
	ManifestFile = "manifest.jsonl" // one Record per complete sample, in index order
)

// ErrRunExists reports an output folder that already holds a run.
var ErrRunExists = errors.New("already holds a run")

// Run describes what an output folder holds; a resumed run reuses it.
type Run struct {
	Seed   uint64       `json:"seed"`
	Format string       `json:"format"`
	Shard  int          `json:"shard,omitempty"` // samples per NPZ shard
	Config synth.Config `json:"config"`
	// Generator is the synth.GeneratorVersion that wrote the samples; Create
	// sets it, and Resume refuses a run of another version.
	Generator string `json:"generator"`
}

// Record is one manifest line: where a sample's data is and its metadata.
type Record struct {
	Index int            `json:"index"`
	Image string         `json:"image,omitempty"` // PNG paths, relative to the folder
	Mask  string         `json:"mask,omitempty"`
	Shard string         `json:"shard,omitempty"` // NPZ shard and row in it
	Row   *int           `json:"row,omitempty"`
	Meta  synth.Metadata `json:"meta"`
}

// Writer adds samples, in index order, to an output folder.
type Writer struct {
	dir      string
	run      Run
	manifest *os.File
	next     int
	shard    []*synth.Sample // NPZ samples not yet written
}

// DefaultShard is the number of samples per NPZ shard for a side: about
// 64 MiB of images per shard.
func DefaultShard(side int) int { return max(1, (64<<20)/(side*side)) }

// Create starts a new run in dir, making the folder if needed. It fails
// with ErrRunExists when dir already holds a run.
func Create(dir string, run Run) (*Writer, error) {
	if run.Format != FormatPNG && run.Format != FormatNPZ {
		return nil, fmt.Errorf("unknown format %q (choose png or npz)", run.Format)
	}
	if run.Format == FormatNPZ && run.Shard < 1 {
		run.Shard = DefaultShard(run.Config.Size)
	}
	run.Generator = synth.GeneratorVersion
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", describe(err))
	}
	for _, name := range []string{RunFile, ManifestFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return nil, fmt.Errorf("%s %w (%s)", dir, ErrRunExists, name)
		}
	}
	for _, sub := range subfolders(run.Format) {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("output folder: %w", describe(err))
		}
	}
	data, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(filepath.Join(dir, RunFile), func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	}); err != nil {
		return nil, err
	}
	m, err := os.OpenFile(filepath.Join(dir, ManifestFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, describe(err)
	}
	return &Writer{dir: dir, run: run, manifest: m}, nil
}

func subfolders(format string) []string {
	if format == FormatNPZ {
		return []string{"shards"}
	}
	return []string{"images", "masks"}
}

// ReadRun reads the run.json of dir.
func ReadRun(dir string) (Run, error) {
	var run Run
	data, err := os.ReadFile(filepath.Join(dir, RunFile))
	if errors.Is(err, fs.ErrNotExist) {
		return run, fmt.Errorf("%s holds no run to resume (no %s)", dir, RunFile)
	}
	if err != nil {
		return run, err
	}
	if err := json.Unmarshal(data, &run); err != nil {
		return run, fmt.Errorf("%s: %w", filepath.Join(dir, RunFile), err)
	}
	if err := run.Config.Validate(); err != nil {
		return run, fmt.Errorf("%s: %w", filepath.Join(dir, RunFile), err)
	}
	return run, nil
}

// Resume reopens the run in dir after the last complete sample: it
// deletes unfinished files, cuts a torn last manifest line and, for NPZ,
// the records of a shard listed only in part. It refuses a run written by
// another generator version (synth.GeneratorVersion), whose samples the
// current generator would not continue.
func Resume(dir string) (*Writer, error) {
	run, err := ReadRun(dir)
	if err != nil {
		return nil, err
	}
	if run.Generator != synth.GeneratorVersion {
		was := fmt.Sprintf("version %q", run.Generator)
		if run.Generator == "" {
			was = "an earlier version (none recorded)"
		}
		return nil, fmt.Errorf("%s was written by generator %s, this build is %q: its samples would differ, so the run cannot be continued; generate into a new folder",
			dir, was, synth.GeneratorVersion)
	}
	if _, err := RemoveTemporaries(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, ManifestFile)
	m, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, describe(err)
	}
	records, ends, err := readManifest(m)
	if err == nil && run.Format == FormatNPZ {
		records, ends = dropPartialShard(dir, records, ends)
	}
	keep := int64(0)
	if len(ends) > 0 {
		keep = ends[len(ends)-1]
	}
	if err == nil {
		err = m.Truncate(keep)
	}
	if err == nil {
		_, err = m.Seek(keep, io.SeekStart)
	}
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Reopen for appending so that every line lands at the end.
	m.Close()
	if m, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return nil, describe(err)
	}
	return &Writer{dir: dir, run: run, manifest: m, next: len(records)}, nil
}

// readManifest returns the complete records at the head of the manifest,
// in index order, and the byte offset after each.
func readManifest(r io.Reader) (records []Record, ends []int64, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var offset int64
	for {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 || line[len(line)-1] != '\n' {
			return records, ends, nil // end of file, or a torn last line
		}
		if err != nil {
			return nil, nil, err
		}
		var rec Record
		if json.Unmarshal(line, &rec) != nil || rec.Index != len(records) {
			return records, ends, nil // damaged from here on
		}
		offset += int64(len(line))
		records = append(records, rec)
		ends = append(ends, offset)
	}
}

// dropPartialShard removes the trailing records of a shard whose file
// holds more rows than the manifest lists (a run killed while appending
// its lines) or that is missing.
func dropPartialShard(dir string, records []Record, ends []int64) ([]Record, []int64) {
	if len(records) == 0 {
		return records, ends
	}
	last := records[len(records)-1].Shard
	first := len(records) - 1
	for first > 0 && records[first-1].Shard == last {
		first--
	}
	if shardRows(filepath.Join(dir, last)) == len(records)-first {
		return records, ends
	}
	return records[:first], ends[:first]
}

// shardRows reads the number of samples in an NPZ shard, or −1.
func shardRows(path string) int {
	r, err := npz.Open(path)
	if err != nil {
		return -1
	}
	defer r.Close()
	h := r.Header("indices.npy")
	if h == nil || len(h.Descr.Shape) != 1 {
		return -1
	}
	return h.Descr.Shape[0]
}

// Run returns the folder's run description.
func (w *Writer) Run() Run { return w.run }

// Next is the index of the next sample to add (the number already complete).
func (w *Writer) Next() int { return w.next }

// Encoded is a sample prepared for a writer of its format: for PNG the
// two files' bytes, made by Encode on any goroutine so that a worker
// pool, not the writer, pays for compression.
type Encoded struct {
	Sample      *synth.Sample
	image, mask []byte // PNG bytes of the image and the mask (PNG format only)
}

// Encode prepares s for a writer of format (FormatPNG compresses both
// images; FormatNPZ needs nothing until the shard is written).
func Encode(s *synth.Sample, format string) (*Encoded, error) {
	e := &Encoded{Sample: s}
	if format != FormatPNG {
		return e, nil
	}
	var err error
	if e.image, err = encodePNG(s.Image); err != nil {
		return nil, err
	}
	if e.mask, err = encodePNG(s.Mask); err != nil {
		return nil, err
	}
	return e, nil
}

// encodePNG compresses a grey image at the fastest level.
func encodePNG(img *image.Gray) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Add stores sample s, which must have index Next() and the run's size.
func (w *Writer) Add(s *synth.Sample) error {
	e, err := Encode(s, w.run.Format)
	if err != nil {
		return err
	}
	return w.AddEncoded(e)
}

// AddEncoded stores a sample prepared by Encode for this run's format.
func (w *Writer) AddEncoded(e *Encoded) error {
	s := e.Sample
	if s.Meta.Index != w.next {
		return fmt.Errorf("sample %d added when %d was expected", s.Meta.Index, w.next)
	}
	if side := w.run.Config.Size; s.Image.Bounds().Dx() != side || s.Image.Bounds().Dy() != side {
		return fmt.Errorf("sample %d is %v, the run is %d×%d", s.Meta.Index, s.Image.Bounds().Size(), side, side)
	}
	if w.run.Format == FormatNPZ {
		w.shard = append(w.shard, s)
		w.next++
		if len(w.shard) == w.run.Shard {
			return w.flushShard()
		}
		return nil
	}
	if e.image == nil || e.mask == nil {
		return fmt.Errorf("sample %d was not encoded as PNG", s.Meta.Index)
	}
	name := fmt.Sprintf("%08d.png", s.Meta.Index)
	rec := Record{Index: s.Meta.Index, Image: "images/" + name, Mask: "masks/" + name, Meta: s.Meta}
	for _, f := range []struct {
		path string
		data []byte
	}{{rec.Image, e.image}, {rec.Mask, e.mask}} {
		if err := WriteFileAtomic(filepath.Join(w.dir, f.path), func(out io.Writer) error {
			_, err := out.Write(f.data)
			return err
		}); err != nil {
			return err
		}
	}
	if err := w.appendRecords([]Record{rec}); err != nil {
		return err
	}
	w.next++
	return nil
}

// appendRecords writes the records' lines with one write call, so that
// an interruption leaves at most one torn line.
func (w *Writer) appendRecords(recs []Record) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	if _, err := w.manifest.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("appending to %s: %w", filepath.Join(w.dir, ManifestFile), describe(err))
	}
	return nil
}

// flushShard writes the pending NPZ samples as one shard and lists them.
func (w *Writer) flushShard() error {
	if len(w.shard) == 0 {
		return nil
	}
	samples := w.shard
	side := w.run.Config.Size
	first := samples[0].Meta.Index
	name := fmt.Sprintf("shards/%08d.npz", first)
	shape := []int{len(samples), side, side}
	pixels := func(get func(*synth.Sample) []uint8) func(io.Writer) error {
		return func(out io.Writer) error {
			for _, s := range samples {
				if _, err := out.Write(get(s)); err != nil {
					return err
				}
			}
			return nil
		}
	}
	arrays := []npyArray{
		{"images", "|u1", shape, pixels(func(s *synth.Sample) []uint8 { return s.Image.Pix })},
		{"masks", "|u1", shape, pixels(func(s *synth.Sample) []uint8 { return s.Mask.Pix })},
		{"indices", "<i8", []int{len(samples)}, func(out io.Writer) error {
			buf := make([]byte, 0, 8*len(samples))
			for _, s := range samples {
				buf = binary.LittleEndian.AppendUint64(buf, uint64(s.Meta.Index))
			}
			_, err := out.Write(buf)
			return err
		}},
	}
	if err := WriteFileAtomic(filepath.Join(w.dir, name), func(out io.Writer) error { return writeNPZ(out, arrays) }); err != nil {
		return err
	}
	recs := make([]Record, len(samples))
	for i, s := range samples {
		row := i
		recs[i] = Record{Index: s.Meta.Index, Shard: name, Row: &row, Meta: s.Meta}
	}
	w.shard = nil
	return w.appendRecords(recs)
}

// Close writes a partly filled NPZ shard and closes the manifest.
func (w *Writer) Close() error {
	err := w.flushShard()
	if cerr := w.manifest.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// Discard closes the writer without writing a partly filled NPZ shard;
// its samples are generated again by a resumed run.
func (w *Writer) Discard() error {
	w.next -= len(w.shard)
	w.shard = nil
	return w.manifest.Close()
}
