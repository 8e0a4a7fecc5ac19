package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// maxFileBytes bounds files that are read whole into memory (safetensors,
// legacy .pth): more than any SAM-family checkpoint (ViT-H is 2.6 GB).
const maxFileBytes = 16 << 30

// Read loads a state_dict from a file, recognising the format by content,
// not by extension: a zip archive written by torch.save (torch >= 1.6), the
// legacy torch.save format, or a .safetensors file. Every tensor is returned
// as float32 in row-major order (strided views are copied out; float16 and
// bfloat16 are widened) and keeps its file element type in Tensor.DType.
//
// A checkpoint that wraps the state_dict in a dict ({"model": sd, ...} or
// {"state_dict": sd, ...}) is unwrapped, and the "module." prefix of
// multi-GPU saves (MedSAM) is removed. Errors name the file and the reason.
func Read(path string) (*StateDict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return ReadFrom(f, st.Size(), path)
}

// ReadFrom is Read for content that is not a file (for example weights
// embedded in the binary); name labels errors.
func ReadFrom(r io.ReaderAt, size int64, name string) (*StateDict, error) {
	sd, err := readFrom(r, size)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	return sd, nil
}

// readFrom dispatches on the first bytes of the content.
func readFrom(r io.ReaderAt, size int64) (*StateDict, error) {
	var head [512]byte
	n, err := r.ReadAt(head[:], 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	h := head[:n]
	switch {
	case n == 0:
		return nil, fmt.Errorf("empty file")
	case bytes.HasPrefix(h, []byte("PK\x03\x04")) || bytes.HasPrefix(h, []byte("PK\x05\x06")):
		return readPthZip(r, size)
	case (n >= 3 && h[0] == 0x80 && h[2] == 0x8a) || h[0] == 0x8a || h[0] == 'L':
		// a pickle starting with a long integer: the legacy magic number
		b, err := readWhole(r, size)
		if err != nil {
			return nil, err
		}
		return readPthLegacy(b)
	case n >= 262 && string(h[257:262]) == "ustar":
		return nil, fmt.Errorf("tar-format torch.save files (torch < 0.4) are not supported; re-save with a recent torch")
	case n >= 9 && h[8] == '{':
		if headerLen := binary.LittleEndian.Uint64(h); headerLen > uint64(size)-8 {
			return nil, fmt.Errorf("safetensors header of %d bytes exceeds the %d-byte file (truncated?)", headerLen, size)
		}
		b, err := readWhole(r, size)
		if err != nil {
			return nil, err
		}
		return readSafetensors(b)
	}
	return nil, fmt.Errorf("unrecognised format: neither a torch.save file (.pth) nor .safetensors")
}

// readWhole reads size bytes into an 8-byte aligned buffer.
func readWhole(r io.ReaderAt, size int64) ([]byte, error) {
	if size > maxFileBytes {
		return nil, fmt.Errorf("file of %d bytes is too large", size)
	}
	b := alignedBytes(int(size))
	if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}
