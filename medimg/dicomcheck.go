package medimg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
	"github.com/suyashkumar/dicom/pkg/uid"
)

// github.com/suyashkumar/dicom (v1.0.7) trusts the value lengths a file
// declares: it allocates make([]byte, vl) for a string, byte or pixel
// element before reading it, so a 569-byte file declaring a 1.2 GB element
// costs 1.2 GB, and an element of undefined length that is not a sequence
// costs 4 GiB. checkDICOMLengths walks the file's elements the way that
// library reads them (same byte order, VR and length rules, same sequence
// and item nesting) and refuses the file when any declared length is longer
// than the bytes left in its enclosing element, so that no allocation the
// library makes from a length can exceed the file's own size (integer and
// float lists: 4× their length). Pixel data are decoded here
// (readDICOMFile), not by the library, which builds 32 bytes per pixel and
// trusts Rows×Columns×NumberOfFrames.

// dicomMaxDepth bounds the nesting of sequences (the library recurses once
// per level).
const dicomMaxDepth = 32

type dicomWalker struct {
	b        []byte
	bo       binary.ByteOrder
	implicit bool
}

// checkDICOMLengths checks the whole file b.
func checkDICOMLengths(b []byte) error {
	if len(b) < 132 {
		return fmt.Errorf("file of %d bytes is too short for DICOM", len(b))
	}
	w := &dicomWalker{b: b, bo: binary.LittleEndian, implicit: true}
	p := 0
	if string(b[128:132]) == "DICM" {
		// File meta information: explicit VR little endian, bounded by its
		// group length, which must come first.
		w.implicit = false
		p = 132
		t, vr, vl, q, err := w.header(p, len(b))
		if err != nil {
			return err
		}
		if t != tag.FileMetaInformationGroupLength || vr != "UL" || vl != 4 || q+4 > len(b) {
			return errors.New("DICOM meta header does not start with its group length")
		}
		metaEnd := int64(q+4) + int64(binary.LittleEndian.Uint32(b[q:]))
		if metaEnd > int64(len(b)) {
			return fmt.Errorf("DICOM meta header claims %d bytes, the file has %d", metaEnd, len(b))
		}
		p = q + 4
		ts := ""
		for p < int(metaEnd) {
			start := p
			t, vr, vl, q, err := w.header(p, int(metaEnd))
			if err != nil {
				return err
			}
			if t == tag.TransferSyntaxUID {
				if vl == tag.VLUndefinedLength || int64(vl) > int64(int(metaEnd)-q) || tag.GetVRKind(t, vr) != tag.VRStringList && tag.GetVRKind(t, vr) != tag.VRString {
					return errors.New("bad transfer syntax element")
				}
				ts = string(b[q : q+int(vl)])
			}
			if p, err = w.value(t, vr, vl, q, int(metaEnd), 0); err != nil {
				return err
			}
			if p <= start {
				return errors.New("DICOM meta header does not advance")
			}
		}
		w.implicit = true
		if ts != "" {
			if strings.TrimSpace(ts) != "" {
				ts = strings.Trim(ts, " \x00")
			}
			ts, _, _ = strings.Cut(ts, `\`)
			bo, implicit, _ := uid.ParseTransferSyntaxUID(ts)
			if bo == nil {
				return fmt.Errorf("unknown transfer syntax %q", ts)
			}
			w.bo, w.implicit = bo, implicit
		}
	}
	for p < len(b) {
		var err error
		if p, err = w.element(p, len(b), 0); err != nil {
			return err
		}
	}
	return nil
}

// header reads a tag, VR and value length at p (not beyond end) as the
// library's readElement does, and returns where the value starts.
func (w *dicomWalker) header(p, end int) (t tag.Tag, vr string, vl uint32, q int, err error) {
	need := func(n int) error {
		if p+n > end {
			return fmt.Errorf("truncated DICOM element at byte %d", p)
		}
		return nil
	}
	if err = need(4); err != nil {
		return
	}
	t = tag.Tag{Group: w.bo.Uint16(w.b[p:]), Element: w.bo.Uint16(w.b[p+2:])}
	p += 4
	if w.implicit || t == tag.Item {
		vr = tag.UnknownVR
		if info, e := tag.Find(t); e == nil {
			vr = info.VR
		}
		if err = need(4); err != nil {
			return
		}
		return t, vr, w.bo.Uint32(w.b[p:]), p + 4, nil
	}
	if err = need(2); err != nil {
		return
	}
	vr = string(w.b[p : p+2])
	p += 2
	switch vr {
	case "NA", "OB", "OD", "OF", "OL", "OW", "SQ", "UN", "UC", "UR", "UT":
		if err = need(6); err != nil {
			return
		}
		vl = w.bo.Uint32(w.b[p+2:])
		if vl == tag.VLUndefinedLength && (vr == "UC" || vr == "UR" || vr == "UT") {
			return t, vr, vl, 0, fmt.Errorf("%s element of undefined length", vr)
		}
		return t, vr, vl, p + 6, nil
	}
	if err = need(2); err != nil {
		return
	}
	vl = uint32(w.bo.Uint16(w.b[p:]))
	if vl == 0xffff {
		vl = tag.VLUndefinedLength
	}
	return t, vr, vl, p + 2, nil
}

// element checks one element at p within [p, end) and returns where the
// next one starts.
func (w *dicomWalker) element(p, end, depth int) (int, error) {
	t, vr, vl, q, err := w.header(p, end)
	if err != nil {
		return 0, err
	}
	return w.value(t, vr, vl, q, end, depth)
}

// value checks the value of an element that starts at q.
func (w *dicomWalker) value(t tag.Tag, vr string, vl uint32, q, end, depth int) (int, error) {
	if depth > dicomMaxDepth {
		return 0, fmt.Errorf("sequences nested deeper than %d levels", dicomMaxDepth)
	}
	defined := vl != tag.VLUndefinedLength
	if defined && int64(vl) > int64(end-q) {
		return 0, fmt.Errorf("DICOM element %s declares %d bytes, %d are left", t, vl, end-q)
	}
	switch tag.GetVRKind(t, vr) {
	case tag.VRSequence, tag.VRItem:
		stop := tag.SequenceDelimitationItem
		if t == tag.Item {
			stop = tag.ItemDelimitationItem
		}
		if defined {
			inner := q + int(vl)
			for p := q; p < inner; {
				var err error
				if p, err = w.element(p, inner, depth+1); err != nil {
					return 0, err
				}
			}
			return inner, nil
		}
		for p := q; ; {
			st, _, _, _, err := w.header(p, end)
			if err != nil {
				return 0, err
			}
			if p, err = w.element(p, end, depth+1); err != nil {
				return 0, err
			}
			if st == stop {
				return p, nil
			}
		}
	case tag.VRPixelData:
		if defined {
			return q + int(vl), nil
		}
		// Encapsulated fragments: items of defined length up to the
		// sequence delimiter, as the library's readRawItem reads them.
		p := q
		for p < end {
			save := w.implicit
			w.implicit = true
			it, _, ivl, iq, err := w.header(p, end)
			w.implicit = save
			if err != nil {
				return end, nil // the library stops at a fragment it cannot read
			}
			p = iq
			if it == tag.SequenceDelimitationItem {
				return p, nil
			}
			if it != tag.Item || ivl == tag.VLUndefinedLength {
				continue
			}
			if int64(ivl) > int64(end-p) {
				return 0, fmt.Errorf("DICOM pixel data fragment declares %d bytes, %d are left", ivl, end-p)
			}
			p += int(ivl)
		}
		return p, nil
	}
	if !defined {
		return 0, fmt.Errorf("DICOM element %s (%s) of undefined length", t, vr)
	}
	return q + int(vl), nil
}
