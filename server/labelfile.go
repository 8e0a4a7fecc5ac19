package server

import (
	"fmt"
	"io"
	"strings"

	"github.com/synthfm/synthfm/medimg"
)

// The label files the server answers with: uint8 volumes on the input
// image's grid, as gzipped NIfTI-1 or NRRD, written by medimg's writers.

// labelFormat is a file format a label volume can be written in.
type labelFormat struct {
	ext         string
	contentType string
	write       func(w io.Writer, v *medimg.Volume) error
}

// labelFormatFor returns the format for a file-name ending (".nii.gz",
// ".nii", ".nrrd", or the names "nifti" and "nrrd").
func labelFormatFor(ext string) (labelFormat, error) {
	switch strings.ToLower(strings.TrimSpace(ext)) {
	case "", ".nii.gz", "nii.gz", "nifti":
		return labelFormat{".nii.gz", "application/gzip", func(w io.Writer, v *medimg.Volume) error { return medimg.WriteNIfTI(w, v, true) }}, nil
	case ".nii", "nii":
		return labelFormat{".nii", "application/octet-stream", func(w io.Writer, v *medimg.Volume) error { return medimg.WriteNIfTI(w, v, false) }}, nil
	case ".nrrd", "nrrd", ".seg.nrrd":
		return labelFormat{".nrrd", "application/octet-stream", medimg.WriteNRRD}, nil
	}
	return labelFormat{}, fmt.Errorf("unsupported label format %q: use .nii.gz, .nii or .nrrd", ext)
}
