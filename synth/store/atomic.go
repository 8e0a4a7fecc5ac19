package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/synthfm/synthfm/internal/atomicfile"
)

// WriteFileAtomic creates or replaces path with the bytes write produces,
// atomically but without fsync (atomicfile.CrashSafe): an interrupted or
// killed process leaves the old file or the new one, and a resumed run
// deletes the temporary leftovers (RemoveTemporaries). A power cut may
// still lose the files written last; fsyncing every sample would cost more
// than generating it. Disk-full errors say so in words.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	if err := atomicfile.Write(path, atomicfile.CrashSafe, write); err != nil {
		return describe(err)
	}
	return nil
}

// describe turns low-level errors into short one-line messages.
func describe(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("disk full (%w)", err)
	case errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("disk quota exceeded (%w)", err)
	}
	return err
}

// RemoveTemporaries deletes the unfinished files an interrupted run left
// in dir and its direct subfolders; it returns how many it removed.
func RemoveTemporaries(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir && strings.Count(strings.TrimPrefix(path, dir), string(filepath.Separator)) > 1 {
			return filepath.SkipDir
		}
		if !d.IsDir() && atomicfile.IsTemp(d.Name()) {
			if err := os.Remove(path); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
