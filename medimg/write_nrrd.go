package medimg

import (
	"fmt"
	"io"
	"strings"
)

// WriteNRRD writes v as an attached, gzip-encoded NRRD of uint8 samples
// (see LabelBytes) in LPS space.
func WriteNRRD(w io.Writer, v *Volume) error {
	var h strings.Builder
	h.WriteString("NRRD0004\n# written by synthfm\ntype: uint8\ndimension: 3\nspace: left-posterior-superior\n")
	fmt.Fprintf(&h, "sizes: %d %d %d\n", v.Size[0], v.Size[1], v.Size[2])
	h.WriteString("space directions:")
	for c := 0; c < 3; c++ {
		fmt.Fprintf(&h, " (%s,%s,%s)", nrrdNumber(v.Direction[0][c]*v.Spacing[c]), nrrdNumber(v.Direction[1][c]*v.Spacing[c]), nrrdNumber(v.Direction[2][c]*v.Spacing[c]))
	}
	h.WriteString("\nkinds: domain domain domain\nendian: little\nencoding: gzip\n")
	fmt.Fprintf(&h, "space origin: (%s,%s,%s)\n\n", nrrdNumber(v.Origin[0]), nrrdNumber(v.Origin[1]), nrrdNumber(v.Origin[2]))
	if _, err := io.WriteString(w, h.String()); err != nil {
		return err
	}
	return writeMaybeGzip(w, true, LabelBytes(v))
}

// nrrdNumber prints x with every digit a float64 needs.
func nrrdNumber(x float64) string { return fmt.Sprintf("%.17g", x) }
