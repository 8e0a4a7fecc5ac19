package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// pickleEnd walks the opcodes of the pickle at the start of b without
// building anything and returns the offset just past its STOP opcode.
//
// gopickle allocates a buffer of whatever length an opcode declares before
// reading it, so a corrupt length field could exhaust memory. This walk
// checks every declared length against the bytes actually present first;
// pickletools (Python's opcode table) is the reference for the argument
// formats. No library offers this check, hence the hand-written table.
func pickleEnd(b []byte) (int, error) {
	pos := 0
	need := func(n uint64) error {
		if n > uint64(len(b)-pos) {
			return fmt.Errorf("pickle truncated: opcode at byte %d needs %d bytes, %d remain", pos, n, len(b)-pos)
		}
		return nil
	}
	for pos < len(b) {
		op := b[pos]
		pos++
		var err error
		switch op {
		case '.': // STOP
			return pos, nil
		case '(', '0', '1', '2', 'N', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u', 'Q',
			0x88, 0x89, 0x85, 0x86, 0x87, 0x81, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
			// no argument
		case 'K', 'h', 'q', 0x80, 0x82: // 1-byte argument
			err = need(1)
			pos++
		case 'M', 0x83: // 2-byte argument
			err = need(2)
			pos += 2
		case 'J', 'j', 'r', 0x84: // 4-byte argument
			err = need(4)
			pos += 4
		case 'G': // BINFLOAT
			err = need(8)
			pos += 8
		case 'I', 'L', 'S', 'V', 'P', 'g', 'p', 'F': // newline-terminated argument
			pos, err = skipLine(b, pos)
		case 'c', 'i': // GLOBAL, INST: two lines
			if pos, err = skipLine(b, pos); err == nil {
				pos, err = skipLine(b, pos)
			}
		case 'U', 'C', 0x8c, 0x8a: // 1-byte length, then data
			if err = need(1); err == nil {
				n := uint64(b[pos])
				pos++
				err = need(n)
				pos += int(n)
			}
		case 'T', 'X', 'B', 0x8b: // 4-byte length, then data
			if err = need(4); err == nil {
				n := uint64(binary.LittleEndian.Uint32(b[pos:]))
				pos += 4
				err = need(n)
				pos += int(n)
			}
		case 0x8d, 0x8e, 0x96: // 8-byte length, then data
			if err = need(8); err == nil {
				n := binary.LittleEndian.Uint64(b[pos:])
				pos += 8
				if err = need(n); err == nil {
					pos += int(n)
				}
			}
		case 0x95: // FRAME: 8-byte length; the frame's opcodes follow inline
			if err = need(8); err == nil {
				n := binary.LittleEndian.Uint64(b[pos:])
				pos += 8
				err = need(n)
			}
		default:
			return 0, fmt.Errorf("unknown pickle opcode 0x%02x at byte %d", op, pos-1)
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("pickle truncated: no STOP opcode in %d bytes", len(b))
}

// skipLine returns the offset just past the next newline at or after pos.
func skipLine(b []byte, pos int) (int, error) {
	i := bytes.IndexByte(b[pos:], '\n')
	if i < 0 {
		return 0, fmt.Errorf("pickle truncated: unterminated line at byte %d", pos)
	}
	return pos + i + 1, nil
}
