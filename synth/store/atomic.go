package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// tempSuffix marks files being written; a resumed run deletes leftovers.
const tempSuffix = ".partial"

// WriteFileAtomic creates path with the bytes write produces: they go to
// path+".partial" first, which is closed and then renamed to path. On any
// error the temporary file is removed and path is left untouched. (The
// guarantee covers an interrupted or killed process; files are not
// fsynced, so a power cut may still lose the last ones written.)
func WriteFileAtomic(path string, write func(w io.Writer) error) (err error) {
	tmp := path + tempSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return describe(err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, describe(err))
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, describe(err))
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, describe(err))
	}
	if err = os.Rename(tmp, path); err != nil {
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
		if !d.IsDir() && strings.HasSuffix(d.Name(), tempSuffix) {
			if err := os.Remove(path); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
