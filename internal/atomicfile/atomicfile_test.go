package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
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
