package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"codeberg.org/sbinet/npyio/npz"

	"github.com/synthfm/synthfm/internal/atomicfile"
	"github.com/synthfm/synthfm/synth"
)

const side = 48

func testRun(format string, shard int) Run {
	c := synth.DefaultConfig()
	c.Size = side
	return Run{Seed: 3, Format: format, Shard: shard, Config: c}
}

func samples(t *testing.T, run Run, from, to int) []*synth.Sample {
	t.Helper()
	g, err := synth.NewGenerator(run.Config)
	if err != nil {
		t.Fatal(err)
	}
	var out []*synth.Sample
	for i := from; i < to; i++ {
		s, err := g.Sample(run.Seed, i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func add(t *testing.T, w *Writer, ss []*synth.Sample) {
	t.Helper()
	for _, s := range ss {
		if err := w.Add(s); err != nil {
			t.Fatal(err)
		}
	}
}

func manifest(t *testing.T, dir string) []Record {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("manifest line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func readPNG(t *testing.T, path string) *image.Gray {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s decodes as %T, want grey", path, img)
	}
	return g
}

func noTemporaries(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if atomicfile.IsTemp(p) {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

func TestPNGRunWritesPairsAndManifest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	run := testRun(FormatPNG, 0)
	w, err := Create(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	ss := samples(t, run, 0, 4)
	add(t, w, ss)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs := manifest(t, dir)
	if len(recs) != 4 {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		if r.Index != i || r.Meta.Index != i || r.Meta.Module != ss[i].Meta.Module {
			t.Errorf("record %d: %+v", i, r)
		}
		if img := readPNG(t, filepath.Join(dir, r.Image)); !bytes.Equal(img.Pix, ss[i].Image.Pix) {
			t.Errorf("record %d: image file differs from the sample", i)
		}
		if m := readPNG(t, filepath.Join(dir, r.Mask)); !bytes.Equal(m.Pix, ss[i].Mask.Pix) {
			t.Errorf("record %d: mask file differs from the sample", i)
		}
	}
	back, err := ReadRun(dir)
	if err != nil || back.Seed != 3 || back.Config.Size != side {
		t.Errorf("run.json read back as %+v, %v", back, err)
	}
	noTemporaries(t, dir)
	// A second Create on the same folder refuses.
	if _, err := Create(dir, run); !errors.Is(err, ErrRunExists) {
		t.Errorf("Create over a run: %v", err)
	}
	// Samples must come in order and at the run's size.
	w2, _ := Create(filepath.Join(t.TempDir(), "o2"), run)
	defer w2.Close()
	if err := w2.Add(ss[1]); err == nil {
		t.Error("out-of-order sample accepted")
	}
}

func TestResumeCutsTornLineAndTemporaries(t *testing.T) {
	dir := t.TempDir()
	run := testRun(FormatPNG, 0)
	w, err := Create(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	ss := samples(t, run, 0, 6)
	add(t, w, ss[:3])
	w.Close()
	// A killed run: half a manifest line and an unfinished image.
	f, _ := os.OpenFile(filepath.Join(dir, ManifestFile), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"index":3,"image":"images/000`)
	f.Close()
	os.WriteFile(filepath.Join(dir, "images", ".00000003.png.123"+atomicfile.TempSuffix), []byte("half"), 0o644)

	w, err = Resume(dir)
	if err != nil {
		t.Fatal(err)
	}
	if w.Next() != 3 || w.Run().Seed != run.Seed {
		t.Fatalf("resumed at %d with %+v", w.Next(), w.Run())
	}
	noTemporaries(t, dir)
	add(t, w, ss[3:])
	w.Close()
	recs := manifest(t, dir)
	if len(recs) != 6 {
		t.Fatalf("%d records after resume, want 6", len(recs))
	}
	for i, r := range recs {
		if r.Index != i {
			t.Fatalf("record %d has index %d", i, r.Index)
		}
	}
	if _, err := Resume(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no run to resume") {
		t.Errorf("resume of an empty folder: %v", err)
	}
}

func readShard(t *testing.T, path string) (images, masks []uint8, indices []int64, shape []int) {
	t.Helper()
	r, err := npz.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	shape = r.Header("images.npy").Descr.Shape
	if err := r.Read("images.npy", &images); err != nil {
		t.Fatal(err)
	}
	if err := r.Read("masks.npy", &masks); err != nil {
		t.Fatal(err)
	}
	if err := r.Read("indices.npy", &indices); err != nil {
		t.Fatal(err)
	}
	return images, masks, indices, shape
}

func TestNPZShardsReadBackWithNpyio(t *testing.T) {
	dir := t.TempDir()
	run := testRun(FormatNPZ, 4)
	w, err := Create(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	ss := samples(t, run, 0, 10)
	add(t, w, ss)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs := manifest(t, dir)
	if len(recs) != 10 {
		t.Fatalf("%d records", len(recs))
	}
	for _, first := range []int{0, 4, 8} {
		name := filepath.Join(dir, "shards", "0000000"+string(rune('0'+first))+".npz")
		images, masks, indices, shape := readShard(t, name)
		rows := min(4, 10-first)
		if len(shape) != 3 || shape[0] != rows || shape[1] != side || shape[2] != side {
			t.Fatalf("%s: shape %v", name, shape)
		}
		for r := range rows {
			s := ss[first+r]
			if indices[r] != int64(first+r) ||
				!bytes.Equal(images[r*side*side:(r+1)*side*side], s.Image.Pix) ||
				!bytes.Equal(masks[r*side*side:(r+1)*side*side], s.Mask.Pix) {
				t.Fatalf("%s row %d differs from sample %d", name, r, first+r)
			}
			rec := recs[first+r]
			if rec.Shard != "shards/"+filepath.Base(name) || rec.Row == nil || *rec.Row != r {
				t.Fatalf("record %d: shard %q row %v", first+r, rec.Shard, rec.Row)
			}
		}
	}
	if n := shardRows(filepath.Join(dir, "shards", "00000004.npz")); n != 4 {
		t.Errorf("shardRows = %d", n)
	}
}

func TestNPZResumeDropsAPartlyListedShard(t *testing.T) {
	dir := t.TempDir()
	run := testRun(FormatNPZ, 3)
	w, _ := Create(dir, run)
	ss := samples(t, run, 0, 8)
	add(t, w, ss[:6]) // two full shards
	w.Discard()
	// Keep only the first 4 lines: shard 3 is listed in part.
	path := filepath.Join(dir, ManifestFile)
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	os.WriteFile(path, []byte(strings.Join(lines[:4], "")), 0o644)

	w, err := Resume(dir)
	if err != nil {
		t.Fatal(err)
	}
	if w.Next() != 3 {
		t.Fatalf("resumed at %d, want 3 (the start of the partly listed shard)", w.Next())
	}
	add(t, w, ss[3:8])
	w.Close()
	if recs := manifest(t, dir); len(recs) != 8 || recs[7].Shard != "shards/00000006.npz" {
		t.Fatalf("%d records, last %+v", len(recs), recs[len(recs)-1])
	}
	_, _, indices, _ := readShard(t, filepath.Join(dir, "shards", "00000006.npz"))
	if len(indices) != 2 || indices[1] != 7 {
		t.Errorf("last shard indices %v", indices)
	}
}

func TestNPYHeaderIsAligned(t *testing.T) {
	for _, shape := range [][]int{{5}, {3, 1024, 1024}, {12345678, 9}} {
		var buf bytes.Buffer
		if err := writeNPYHeader(&buf, "|u1", shape); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if len(b)%64 != 0 || b[len(b)-1] != '\n' || !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
			t.Errorf("shape %v: header of %d bytes %q", shape, len(b), b)
		}
		if n := int(b[8]) | int(b[9])<<8; n != len(b)-10 {
			t.Errorf("shape %v: header length field %d, want %d", shape, n, len(b)-10)
		}
	}
}

func TestAtomicWriteLeavesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.png")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte{1}, 3<<20)) // more than the buffer, so some reaches the file
		return syscall.ENOSPC
	})
	if err == nil || !strings.Contains(err.Error(), "disk full") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %v, want a one-line disk-full message", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d files behind", len(entries))
	}
	// An existing file is untouched by a failed rewrite.
	os.WriteFile(path, []byte("old"), 0o644)
	WriteFileAtomic(path, func(w io.Writer) error { return errors.New("boom") })
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Errorf("file now holds %q", data)
	}
}

func TestCreateRefusesAnUnusableFolder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Create(filepath.Join(file, "out"), testRun(FormatPNG, 0)); err == nil {
		t.Error("a folder under a regular file was accepted")
	}
	if _, err := Create(t.TempDir(), testRun("tiff", 0)); err == nil || !strings.Contains(err.Error(), `unknown format "tiff"`) {
		t.Errorf("unknown format: %v", err)
	}
}

func TestSheetDrawsTilesAndOutlines(t *testing.T) {
	sh := NewSheet(2, 2, 20)
	img := image.NewGray(image.Rect(0, 0, 40, 40))
	mask := image.NewGray(image.Rect(0, 0, 40, 40))
	for y := 10; y < 30; y++ {
		for x := 10; x < 30; x++ {
			img.Pix[y*40+x] = 200
			mask.Pix[y*40+x] = 255
		}
	}
	for range 3 {
		if !sh.Add(img, mask) {
			t.Fatal("sheet full too early")
		}
	}
	if sh.Full() {
		t.Fatal("3 of 4 tiles marked full")
	}
	sh.Add(img, mask)
	if !sh.Full() || sh.Add(img, mask) {
		t.Fatal("a fifth tile was accepted")
	}
	out := sh.Image()
	if b := out.Bounds(); b.Dx() != 2*20+3*sheetGap || b.Dy() != 2*20+3*sheetGap {
		t.Fatalf("sheet %v", b)
	}
	// Tile (0,0) starts at (gap, gap); the mask square covers tile pixels
	// 5..14, whose border is drawn in the outline colour.
	at := func(x, y int) [3]uint8 {
		c := out.RGBAAt(sheetGap+x, sheetGap+y)
		return [3]uint8{c.R, c.G, c.B}
	}
	o := outlineColour()
	if got := at(5, 9); got != [3]uint8{o.R, o.G, o.B} {
		t.Errorf("outline pixel %v", got)
	}
	if got := at(9, 9); got[0] != got[1] || got[0] < 190 {
		t.Errorf("inside pixel %v, want the grey image", got)
	}
	if got := at(1, 1); got != [3]uint8{0, 0, 0} {
		t.Errorf("outside pixel %v, want black", got)
	}
	bg := sheetBackground()
	if c := out.RGBAAt(0, 0); c != bg {
		t.Errorf("gap pixel %v", c)
	}
	path := filepath.Join(t.TempDir(), "sheet.png")
	if err := sh.WritePNG(path); err != nil {
		t.Fatal(err)
	}
}

func TestAddEncodedNeedsTheRunsFormat(t *testing.T) {
	run := testRun(FormatPNG, 0)
	w, err := Create(t.TempDir(), run)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := samples(t, run, 0, 1)[0]
	e, err := Encode(s, FormatNPZ) // not compressed
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddEncoded(e); err == nil || !strings.Contains(err.Error(), "not encoded as PNG") {
		t.Errorf("NPZ-prepared sample in a PNG run: %v", err)
	}
	if e, err = Encode(s, FormatPNG); err != nil {
		t.Fatal(err)
	}
	if err := w.AddEncoded(e); err != nil || w.Next() != 1 {
		t.Errorf("PNG-prepared sample: %v, next %d", err, w.Next())
	}
}
