// Package atomicfile writes a file so that whoever reads path, during the
// write or after a crash, sees either the old file or the whole new one,
// never a part: the bytes go to a temporary file in the same folder, which
// is renamed over path once complete. It is the project's one way to write
// a file that must not be left half-written (checkpoints, configurations,
// weights, generated samples, reports).
//
// Durability is stated per call:
//
//   - Durable fsyncs the temporary file before the rename and the folder
//     after it, so once Write returns the new file survives a power cut or
//     an operating-system crash (on file systems that honour fsync).
//   - CrashSafe skips both fsyncs. An interrupted or killed process still
//     leaves the old file or the new one, but a power cut may lose the
//     files written last or leave them empty. It is for bulk outputs whose
//     fsyncs would cost more than the work (a generated sample, a chart)
//     and that a resumed run can write again.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Durability says what a completed Write survives.
type Durability int

const (
	// Durable survives power loss once Write returns (file and folder
	// fsynced).
	Durable Durability = iota
	// CrashSafe survives the writing process being killed, not power loss.
	CrashSafe
)

// TempSuffix ends the name of every temporary file Write creates
// (".NAME.RANDOM.partial" beside NAME); a resumed run may delete the
// leftovers of an interrupted one (see IsTemp).
const TempSuffix = ".partial"

// IsTemp reports whether a file name is one of Write's temporary files.
func IsTemp(name string) bool { return strings.HasSuffix(name, TempSuffix) }

// Write creates or replaces path with the bytes write produces (through a
// 1 MiB buffer), with durability d. The new file has mode 0644. On any
// error the temporary file is removed and path is left as it was. Errors
// name path and the step that failed, and wrap the cause.
func Write(path string, d Durability, write func(w io.Writer) error) error {
	return WriteAll(d, File{path, write})
}

// File is one file of WriteAll: where it goes and what writes its bytes.
type File struct {
	Path  string
	Write func(w io.Writer) error
}

// WriteAll writes several files together, each as Write does, so that
// either all of them are replaced or none: every file is first written
// completely to its temporary file, and only then are they renamed into
// place, in order. A failure before the renames leaves every path as it was
// and no temporary file. Should a rename fail after others succeeded (rare:
// a folder changed meanwhile), the error says which files were written.
func WriteAll(d Durability, files ...File) error {
	tmps := make([]string, 0, len(files))
	renamed := 0
	defer func() {
		for _, tmp := range tmps[renamed:] {
			os.Remove(tmp)
		}
	}()
	for _, f := range files {
		tmp, err := stage(f.Path, d, f.Write)
		if err != nil {
			return err
		}
		tmps = append(tmps, tmp)
	}
	var written []string
	for i, f := range files {
		if err := os.Rename(tmps[i], f.Path); err != nil {
			if len(written) > 0 {
				return fmt.Errorf("wrote %s but not %s: %w", strings.Join(written, " and "), f.Path, err)
			}
			return fmt.Errorf("rename onto %s: %w", f.Path, err)
		}
		renamed++
		written = append(written, f.Path)
	}
	if d == Durable {
		synced := map[string]bool{}
		for _, f := range files {
			if dir := filepath.Dir(f.Path); !synced[dir] {
				synced[dir] = true
				syncDir(dir)
			}
		}
	}
	return nil
}

// stage writes a complete temporary file beside path and returns its name;
// on error it removes it.
func stage(path string, d Durability, write func(w io.Writer) error) (_ string, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*"+TempSuffix)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := bufio.NewWriterSize(tmp, 1<<20)
	if err = write(buf); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err = buf.Flush(); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if d == Durable {
		if err = tmp.Sync(); err != nil {
			return "", fmt.Errorf("sync %s: %w", path, err)
		}
	}
	if err = tmp.Close(); err != nil {
		return "", fmt.Errorf("close %s: %w", path, err)
	}
	return tmp.Name(), nil
}

// syncDir fsyncs a folder after a rename into it. A failed folder sync only
// weakens the rename's durability; the file itself is complete, so it is
// not an error.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// WriteBytes is Write with the bytes given.
func WriteBytes(path string, d Durability, data []byte) error {
	return Write(path, d, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
