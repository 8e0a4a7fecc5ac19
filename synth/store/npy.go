package store

import (
	"archive/zip"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// The NPY writer is written here because npyio's npy.Write inspects every
// element through reflection (about 0.3 µs each, a minute per 64 MiB
// shard). The format is small: magic, version 1.0, a little-endian
// header length, a Python dict literal padded so the data starts on a
// 64-byte boundary, then the raw C-order data. npyio reads these files
// back in the tests.

// npyArray is one array of an NPZ archive.
type npyArray struct {
	name  string
	descr string // NumPy dtype string: "|u1", "<i8"
	shape []int
	data  func(w io.Writer) error
}

// writeNPYHeader writes the NPY 1.0 preamble for descr and shape.
func writeNPYHeader(w io.Writer, descr string, shape []int) error {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	tuple += ")"
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)
	const preamble = 6 + 2 + 2 // magic, version, header length
	total := preamble + len(dict) + 1
	padded := dict + strings.Repeat(" ", (64-total%64)%64) + "\n"
	head := make([]byte, 0, preamble+len(padded))
	head = append(head, "\x93NUMPY\x01\x00"...)
	head = binary.LittleEndian.AppendUint16(head, uint16(len(padded)))
	head = append(head, padded...)
	_, err := w.Write(head)
	return err
}

// writeNPZ writes arrays as the entries name.npy of a zip archive,
// deflated at the fastest level.
func writeNPZ(w io.Writer, arrays []npyArray) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	for _, a := range arrays {
		entry, err := zw.CreateHeader(&zip.FileHeader{Name: a.name + ".npy", Method: zip.Deflate})
		if err != nil {
			return err
		}
		if err := writeNPYHeader(entry, a.descr, a.shape); err != nil {
			return err
		}
		if err := a.data(entry); err != nil {
			return err
		}
	}
	return zw.Close()
}
