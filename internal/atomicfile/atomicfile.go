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
func Write(path string, d Durability, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*"+TempSuffix)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := bufio.NewWriterSize(tmp, 1<<20)
	if err = write(buf); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = buf.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d == Durable {
		if err = tmp.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", path, err)
		}
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename onto %s: %w", path, err)
	}
	if d == Durable {
		if f, derr := os.Open(dir); derr == nil {
			// A failed folder sync only weakens the rename's durability;
			// the file itself is complete, so it is not an error.
			_ = f.Sync()
			f.Close()
		}
	}
	return nil
}

// WriteBytes is Write with the bytes given.
func WriteBytes(path string, d Durability, data []byte) error {
	return Write(path, d, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
