package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesWholeOrNothing(t *testing.T) {
	for _, d := range []Durability{Durable, CrashSafe} {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.bin")
		if err := WriteBytes(path, d, []byte("old")); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := Write(path, d, func(w io.Writer) error {
			w.Write(bytes.Repeat([]byte{1}, 3<<20)) // more than the buffer: some reaches the file
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("durability %d: error %v does not wrap the cause", d, err)
		}
		if got, _ := os.ReadFile(path); string(got) != "old" {
			t.Errorf("durability %d: failed write changed the file to %d bytes", d, len(got))
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("durability %d: %d files in the folder, want only x.bin", d, len(entries))
		}
		if err := WriteBytes(path, d, []byte("new")); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		st, _ := os.Stat(path)
		if string(got) != "new" || st.Mode().Perm() != 0o644 {
			t.Errorf("durability %d: got %q with mode %v", d, got, st.Mode().Perm())
		}
	}
}

func TestTemporaryNamesAreRecognised(t *testing.T) {
	dir := t.TempDir()
	var tmp string
	Write(filepath.Join(dir, "a.png"), CrashSafe, func(w io.Writer) error {
		entries, _ := os.ReadDir(dir)
		if len(entries) == 1 {
			tmp = entries[0].Name()
		}
		return errors.New("stop")
	})
	if tmp == "" || !IsTemp(tmp) || IsTemp("a.png") {
		t.Errorf("temporary file %q not recognised by IsTemp", tmp)
	}
}

func TestWriteIntoMissingFolderFails(t *testing.T) {
	if err := WriteBytes(filepath.Join(t.TempDir(), "no", "x"), Durable, nil); err == nil {
		t.Error("wrote into a missing folder")
	}
}

// WriteAll renames nothing until every file is complete: a second file that
// cannot be written leaves the first as it was and no temporary file; a
// rename that fails after another says which file was written.
func TestWriteAllIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.png")
	data := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	err := WriteAll(CrashSafe, File{a, data("a")}, File{filepath.Join(dir, "gone", "b.png"), data("b")})
	if err == nil || !strings.Contains(err.Error(), "b.png") {
		t.Fatalf("second file in a missing folder: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("%d files left after a failed WriteAll", len(entries))
	}
	folder := filepath.Join(dir, "b.png")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	err = WriteAll(Durable, File{a, data("a")}, File{folder, data("b")})
	if err == nil || !strings.Contains(err.Error(), "wrote "+a+" but not "+folder) {
		t.Fatalf("second path a folder: %v", err)
	}
	if got, _ := os.ReadFile(a); string(got) != "a" {
		t.Errorf("first file holds %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d entries, want a.png and the folder (no temporary file)", len(entries))
	}
}
