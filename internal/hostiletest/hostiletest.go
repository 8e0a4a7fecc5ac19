// Package hostiletest builds hostile inputs for tests (issue 12): files
// that are small on disk and claim gigabytes, and measures what a piece of
// code allocates.
package hostiletest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"runtime"
	"strings"
)

// AllocDuring returns the bytes allocated (runtime.MemStats.TotalAlloc,
// whole process) while f runs: an upper bound of the peak f adds.
func AllocDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// PNGBomb is a PNG whose header claims w×h 8-bit grey pixels, followed by
// a little zlib data of zero rows: a few hundred bytes on disk, w·h bytes
// and more once decoded.
func PNGBomb(w, h int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		out.WriteString(typ)
		out.Write(data)
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		binary.Write(&out, binary.BigEndian, c.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8] = 8 // 8-bit grey
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 64*(w+1)))
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// NPYHeader is an NPY 1.0 header for dtype descr and shape (a Python
// tuple's text).
func NPYHeader(descr, shape string) []byte {
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	dict += strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
	return append(append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), byte(len(dict)>>8)), dict...)
}

// DICOMElement encodes one explicit-VR little-endian element.
func DICOMElement(group, elem uint16, vr string, value []byte) []byte {
	if len(value)%2 == 1 {
		value = append(value, ' ')
	}
	b := binary.LittleEndian.AppendUint16(nil, group)
	b = binary.LittleEndian.AppendUint16(b, elem)
	b = append(b, vr...)
	switch vr {
	case "OB", "OW", "SQ", "UN", "UT":
		b = append(b, 0, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(value)))
	default:
		b = binary.LittleEndian.AppendUint16(b, uint16(len(value)))
	}
	return append(b, value...)
}

func le16(x uint16) []byte { return binary.LittleEndian.AppendUint16(nil, x) }

// DICOM is a small explicit-VR little-endian DICOM file: a rows×cols
// unsigned 16-bit image, with extra elements (in tag order) before the
// pixel data.
func DICOM(rows, cols int, pix []uint16, extra ...[]byte) []byte {
	ts := []byte("1.2.840.10008.1.2.1\x00")
	meta := DICOMElement(0x0002, 0x0010, "UI", ts)
	b := append(make([]byte, 128), "DICM"...)
	b = append(b, DICOMElement(0x0002, 0x0000, "UL", binary.LittleEndian.AppendUint32(nil, uint32(len(meta))))...)
	b = append(b, meta...)
	for _, e := range extra {
		if binary.LittleEndian.Uint16(e) < 0x0028 {
			b = append(b, e...)
		}
	}
	b = append(b, DICOMElement(0x0028, 0x0002, "US", le16(1))...)
	for _, e := range extra {
		if binary.LittleEndian.Uint16(e) == 0x0028 {
			b = append(b, e...)
		}
	}
	b = append(b, DICOMElement(0x0028, 0x0010, "US", le16(uint16(rows)))...)
	b = append(b, DICOMElement(0x0028, 0x0011, "US", le16(uint16(cols)))...)
	b = append(b, DICOMElement(0x0028, 0x0100, "US", le16(16))...)
	b = append(b, DICOMElement(0x0028, 0x0101, "US", le16(16))...)
	b = append(b, DICOMElement(0x0028, 0x0103, "US", le16(0))...)
	raw := make([]byte, 0, 2*len(pix))
	for _, p := range pix {
		raw = binary.LittleEndian.AppendUint16(raw, p)
	}
	return append(b, DICOMElement(0x7fe0, 0x0010, "OW", raw)...)
}

// NIfTIHeader is a 352-byte NIfTI-1 file header (vox_offset 352, no data)
// claiming an nx×ny×nz volume of the NIfTI datatype code (2 uint8, 16
// float32).
func NIfTIHeader(nx, ny, nz int, datatype int16) []byte {
	h := make([]byte, 352)
	le := binary.LittleEndian
	le.PutUint32(h, 348)
	for d, v := range []int{3, nx, ny, nz, 1, 1, 1, 1} {
		le.PutUint16(h[40+2*d:], uint16(v))
	}
	le.PutUint16(h[70:], uint16(datatype))
	for d := range 8 {
		le.PutUint32(h[76+4*d:], math.Float32bits(1))
	}
	le.PutUint32(h[108:], math.Float32bits(352))
	copy(h[344:], "n+1\x00")
	return h
}

// GIPLHeader is a 256-byte GIPL header claiming an nx×ny×nz volume of
// 16-bit samples, with no data.
func GIPLHeader(nx, ny, nz int) []byte {
	h := make([]byte, 256)
	be := binary.BigEndian
	for a, n := range []int{nx, ny, nz, 1} {
		be.PutUint16(h[2*a:], uint16(n))
	}
	be.PutUint16(h[8:], 15)
	be.PutUint32(h[252:], 0xefffe9b0)
	return h
}
