package medimg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
	"github.com/suyashkumar/dicom/pkg/uid"
)

// DICOM single files and series folders, decoded by
// github.com/suyashkumar/dicom. Slices of a folder are sorted along the
// slice normal by ImagePositionPatient; stored values are sign-extended per
// PixelRepresentation and mapped through RescaleSlope/RescaleIntercept (so
// CT comes out in Hounsfield units).

func dicomFormat() Format {
	return Format{Name: "DICOM", Extensions: []string{".dcm", ".dicom"}, Magic: "DICM", MagicOffset: 128, Folders: true,
		Read: func(path, _ string, lim Limits) (*Volume, error) { return readDICOM(path, lim) }}
}

// dicomSlice is one decoded frame with its geometry.
type dicomSlice struct {
	file        string
	rows, cols  int
	channels    int
	pixels      []float32
	position    [3]float64
	orientation [6]float64
	spacing     [2]float64 // between rows, between columns
	thickness   float64
	hasGeometry bool
	dtype       string
}

func readDICOM(path string, lim Limits) (*Volume, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	var slices []dicomSlice
	var samples int64 // of all slices so far, against lim.MaxVoxels
	if !st.IsDir() {
		if slices, err = readDICOMFile(path, lim, &samples); err != nil {
			return nil, err
		}
	} else {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			file := filepath.Join(path, e.Name())
			s, err := readDICOMFile(file, lim, &samples)
			if err != nil {
				if isDICOMFile(file) || errors.Is(err, ErrTooLarge) {
					return nil, fmt.Errorf("%s: %w", e.Name(), err)
				}
				continue // not a DICOM file (a README, a DICOMDIR index, ...)
			}
			slices = append(slices, s...)
		}
		if len(slices) == 0 {
			return nil, errors.New("no DICOM images in the folder")
		}
	}
	return stackDICOM(slices)
}

func isDICOMFile(path string) bool {
	f, _, err := openRegular(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 132)
	n, _ := f.Read(head)
	return matchMagic(head[:n], 128, "DICM")
}

// readDICOMFile reads the frames of one file. The file (at most
// lim.MaxBytes) is checked by checkDICOMLengths before the library parses
// it; the library hands the pixel data over undecoded, and the frames are
// decoded here after Rows×Columns×frames has been checked against the
// limits (*total counts the samples of a series so far) and against the
// pixel data's length.
func readDICOMFile(path string, lim Limits, total *int64) (_ []dicomSlice, err error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	if size > lim.MaxBytes {
		f.Close()
		return nil, tooLarge("DICOM file of %d bytes is over the limit of %d bytes", size, lim.MaxBytes)
	}
	raw, err := readBounded(f, lim.MaxBytes, "DICOM file")
	f.Close()
	if err != nil {
		return nil, err
	}
	if err := checkDICOMLengths(raw); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	defer func() {
		// The library panics on some malformed values (MustGetInts on a
		// Rows element stored as text, a nil byte order): an error here.
		if p := recover(); p != nil {
			err = fmt.Errorf("parse: malformed DICOM (%v)", p)
		}
	}()
	ds, err := dicom.Parse(bytes.NewReader(raw), int64(len(raw)), nil, dicom.SkipProcessingPixelDataValue())
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	ints := func(t tag.Tag) []int {
		e, err := ds.FindElementByTag(t)
		if err != nil {
			return nil
		}
		v, _ := e.Value.GetValue().([]int)
		return v
	}
	floats := func(t tag.Tag) []float64 {
		e, err := ds.FindElementByTag(t)
		if err != nil {
			return nil
		}
		var out []float64
		switch v := e.Value.GetValue().(type) {
		case []string:
			for _, s := range v {
				for _, p := range strings.Split(s, `\`) {
					if x, err := strconv.ParseFloat(strings.TrimSpace(p), 64); err == nil {
						out = append(out, x)
					}
				}
			}
		case []float64:
			out = v
		case []int:
			for _, x := range v {
				out = append(out, float64(x))
			}
		}
		return out
	}
	pixEl, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		return nil, errors.New("no pixel data")
	}
	info, ok := pixEl.Value.GetValue().(dicom.PixelDataInfo)
	if !ok {
		return nil, errors.New("no pixel data frames")
	}
	if info.IsEncapsulated || len(info.Frames) > 0 {
		return nil, errors.New("compressed (encapsulated) pixel data is not supported")
	}
	if info.ParseErr != nil {
		return nil, fmt.Errorf("pixel data: %w", info.ParseErr)
	}
	pixels := info.UnprocessedValueData
	rowsV, colsV := ints(tag.Rows), ints(tag.Columns)
	if len(rowsV) == 0 || len(colsV) == 0 {
		return nil, errors.New("missing Rows/Columns")
	}
	base := dicomSlice{file: path, rows: rowsV[0], cols: colsV[0], channels: 1, spacing: [2]float64{1, 1}}
	if spp := ints(tag.SamplesPerPixel); len(spp) > 0 && spp[0] > 0 {
		base.channels = spp[0]
	}
	signed := false
	if pr := ints(tag.PixelRepresentation); len(pr) > 0 && pr[0] == 1 {
		signed = true
	}
	bits := 16
	if b := ints(tag.BitsStored); len(b) > 0 && b[0] > 0 && b[0] <= 32 {
		bits = b[0]
	}
	slope, inter := 1.0, 0.0
	if s := floats(tag.RescaleSlope); len(s) > 0 && s[0] != 0 {
		slope = s[0]
	}
	if s := floats(tag.RescaleIntercept); len(s) > 0 {
		inter = s[0]
	}
	base.dtype = "uint16"
	switch {
	case slope != 1 || inter != 0 || signed:
		base.dtype = "int16"
		if slope != math.Trunc(slope) || inter != math.Trunc(inter) {
			base.dtype = "float32"
		}
	case bits <= 8:
		base.dtype = "uint8"
	}
	pos, iop, ps := floats(tag.ImagePositionPatient), floats(tag.ImageOrientationPatient), floats(tag.PixelSpacing)
	if len(pos) == 3 && len(iop) == 6 {
		copy(base.position[:], pos)
		copy(base.orientation[:], iop)
		base.hasGeometry = true
	} else {
		base.orientation = [6]float64{1, 0, 0, 0, 1, 0}
	}
	if len(ps) == 2 && ps[0] > 0 && ps[1] > 0 {
		base.spacing = [2]float64{ps[0], ps[1]}
	}
	if t := floats(tag.SpacingBetweenSlices); len(t) > 0 && t[0] > 0 {
		base.thickness = t[0]
	} else if t := floats(tag.SliceThickness); len(t) > 0 && t[0] > 0 {
		base.thickness = t[0]
	}
	frames := 1
	if fs := floats(tag.NumberOfFrames); len(fs) > 0 {
		frames = int(min(max(fs[0], -1), 1<<31))
	}
	bitsAlloc := 16
	if b := ints(tag.BitsAllocated); len(b) > 0 {
		bitsAlloc = b[0]
	}
	if base.rows <= 0 || base.cols <= 0 || frames <= 0 || base.channels > 4 {
		return nil, fmt.Errorf("invalid image of %dx%d pixels, %d frames, %d samples a pixel", base.cols, base.rows, frames, base.channels)
	}
	if bitsAlloc != 1 && bitsAlloc != 8 && bitsAlloc != 16 && bitsAlloc != 32 {
		return nil, fmt.Errorf("unsupported BitsAllocated %d", bitsAlloc)
	}
	n, ok := product(int64(base.rows), int64(base.cols), int64(base.channels), int64(frames))
	needBits, _ := product(n, int64(bitsAlloc))
	*total += n
	if err := lim.checkData(*total, (needBits+7)/8, ok); err != nil {
		return nil, err
	}
	plane := base.rows * base.cols * base.channels
	if int64(len(pixels))*8 < needBits {
		return nil, fmt.Errorf("pixel data of %d bytes, %dx%d pixels × %d frames × %d samples of %d bits need %d", len(pixels), base.cols, base.rows, frames, base.channels, bitsAlloc, (needBits+7)/8)
	}
	bo := dicomByteOrder(ds)
	var out []dicomSlice
	for fi := 0; fi < frames; fi++ {
		s := base
		s.pixels = make([]float32, plane)
		for i := range s.pixels {
			idx := fi*plane + i
			var x int64
			switch bitsAlloc {
			case 1: // as the library reads them: most significant bit first
				x = int64(pixels[idx/8]>>(7-idx%8)) & 1
			case 8:
				x = int64(pixels[idx])
			case 16:
				x = int64(bo.Uint16(pixels[2*idx:]))
			case 32:
				x = int64(bo.Uint32(pixels[4*idx:]))
			}
			if signed && bits < 64 && x&(1<<(bits-1)) != 0 {
				x -= 1 << bits
			}
			s.pixels[i] = float32(float64(x)*slope + inter)
		}
		if fi > 0 && base.hasGeometry { // multi-frame: frames follow the normal
			n := cross(s.orientation)
			for a := 0; a < 3; a++ {
				s.position[a] += float64(fi) * nonZero(base.thickness) * n[a]
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// dicomByteOrder is the byte order of the file's transfer syntax (little
// endian unless it says explicit VR big endian).
func dicomByteOrder(ds dicom.Dataset) binary.ByteOrder {
	if e, err := ds.FindElementByTag(tag.TransferSyntaxUID); err == nil {
		if v, ok := e.Value.GetValue().([]string); ok && len(v) > 0 {
			if bo, _, err := uid.ParseTransferSyntaxUID(v[0]); err == nil && bo != nil {
				return bo
			}
		}
	}
	return binary.LittleEndian
}

func cross(iop [6]float64) [3]float64 {
	return [3]float64{
		iop[1]*iop[5] - iop[2]*iop[4],
		iop[2]*iop[3] - iop[0]*iop[5],
		iop[0]*iop[4] - iop[1]*iop[3],
	}
}

func stackDICOM(slices []dicomSlice) (*Volume, error) {
	first := slices[0]
	normal := cross(first.orientation)
	depth := func(s dicomSlice) float64 {
		return s.position[0]*normal[0] + s.position[1]*normal[1] + s.position[2]*normal[2]
	}
	sort.SliceStable(slices, func(a, b int) bool { return depth(slices[a]) < depth(slices[b]) })
	for _, s := range slices[1:] {
		if s.rows != first.rows || s.cols != first.cols || s.channels != first.channels {
			return nil, fmt.Errorf("%s: %dx%d image does not match %s (%dx%d)", filepath.Base(s.file), s.cols, s.rows, filepath.Base(first.file), first.cols, first.rows)
		}
		for i := range s.orientation {
			if math.Abs(s.orientation[i]-first.orientation[i]) > 1e-3 {
				return nil, fmt.Errorf("%s: orientation differs from the rest of the series", filepath.Base(s.file))
			}
		}
	}
	first = slices[0]
	v, err := NewVolume(first.cols, first.rows, len(slices), first.channels, first.dtype)
	if err != nil {
		return nil, err
	}
	plane := first.cols * first.rows * first.channels
	for k, s := range slices {
		copy(v.Data[k*plane:(k+1)*plane], s.pixels)
	}
	dz := nonZero(first.thickness)
	if n := len(slices); n > 1 {
		dz = (depth(slices[n-1]) - depth(first)) / float64(n-1)
		if dz <= 0 {
			return nil, errors.New("slices share one position (duplicate files?)")
		}
	}
	var m [3][4]float64
	for r := 0; r < 3; r++ {
		m[r][0] = first.orientation[r] * first.spacing[1]
		m[r][1] = first.orientation[3+r] * first.spacing[0]
		m[r][2] = normal[r] * dz
		m[r][3] = first.position[r]
	}
	if err := v.setAffine(m); err != nil {
		return nil, err
	}
	v.SpacingKnown = first.hasGeometry || first.spacing != [2]float64{1, 1}
	return v, nil
}
