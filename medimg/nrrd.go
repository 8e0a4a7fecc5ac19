package medimg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// NRRD (.nrrd, .nhdr with a detached data file; raw, gzip or ascii
// encoding), read by hand (see the package doc).

func nrrdFormat() Format {
	return Format{Name: "NRRD", Extensions: []string{".nrrd", ".nhdr"}, Magic: "NRRD000",
		Read: func(path, _ string) (*Volume, error) {
			raw, err := os.ReadFile(path)
			if err != nil {
				return nil, errors.Unwrap(err)
			}
			return decodeNRRD(raw, filepath.Dir(path))
		}}
}

var nrrdTypes = map[string]string{
	"signed char": "int8", "int8": "int8", "int8_t": "int8",
	"uchar": "uint8", "unsigned char": "uint8", "uint8": "uint8", "uint8_t": "uint8",
	"short": "int16", "short int": "int16", "signed short": "int16", "signed short int": "int16", "int16": "int16", "int16_t": "int16",
	"ushort": "uint16", "unsigned short": "uint16", "unsigned short int": "uint16", "uint16": "uint16", "uint16_t": "uint16",
	"int": "int32", "signed int": "int32", "int32": "int32", "int32_t": "int32",
	"uint": "uint32", "unsigned int": "uint32", "uint32": "uint32", "uint32_t": "uint32",
	"longlong": "int64", "long long": "int64", "long long int": "int64", "signed long long": "int64", "signed long long int": "int64", "int64": "int64", "int64_t": "int64",
	"ulonglong": "uint64", "unsigned long long": "uint64", "unsigned long long int": "uint64", "uint64": "uint64", "uint64_t": "uint64",
	"float": "float32", "double": "float64",
}

func decodeNRRD(raw []byte, dir string) (*Volume, error) {
	if !bytes.HasPrefix(raw, []byte("NRRD000")) {
		return nil, errors.New("missing NRRD magic")
	}
	fields := map[string]string{}
	rest := raw
	first := true
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			if first || fields["data file"] == "" && fields["datafile"] == "" {
				return nil, errors.New("header has no end (truncated file?)")
			}
			rest = nil
			break
		}
		line := strings.TrimRight(string(rest[:i]), "\r")
		rest = rest[i+1:]
		if first {
			first = false
			continue
		}
		if line == "" {
			break
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		k, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("malformed header line %q", line)
		}
		if strings.HasPrefix(val, "=") { // key/value pair "key:=value"
			continue
		}
		fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(val)
	}
	dtype, ok := nrrdTypes[strings.ToLower(fields["type"])]
	if !ok {
		return nil, fmt.Errorf("unsupported or missing type %q", fields["type"])
	}
	ndim, err := strconv.Atoi(fields["dimension"])
	if err != nil || ndim < 1 || ndim > 4 {
		return nil, fmt.Errorf("unsupported dimension %q", fields["dimension"])
	}
	sizes := strings.Fields(fields["sizes"])
	if len(sizes) != ndim {
		return nil, fmt.Errorf("sizes %q do not match dimension %d", fields["sizes"], ndim)
	}
	dims := make([]int, ndim)
	for i, s := range sizes {
		if dims[i], err = strconv.Atoi(s); err != nil || dims[i] < 1 {
			return nil, fmt.Errorf("bad size %q", s)
		}
	}
	// A leading axis without a space direction ("none") holds channels.
	dirs := parseNRRDDirections(fields["space directions"])
	channels := 1
	if len(dirs) == ndim && dirs[0] == nil {
		channels, dims, dirs = dims[0], dims[1:], dirs[1:]
	} else if ndim == 4 {
		return nil, errors.New("4-D data without a leading channel axis is not supported")
	}
	size := [3]int{1, 1, 1}
	copy(size[:], dims)
	v, err := NewVolume(size[0], size[1], size[2], channels, dtype)
	if err != nil {
		return nil, err
	}
	data := rest
	if df := firstNonEmpty(fields["data file"], fields["datafile"]); df != "" {
		if strings.ContainsAny(df, "%") || strings.HasPrefix(df, "LIST") {
			return nil, fmt.Errorf("multi-file data %q is not supported", df)
		}
		if !filepath.IsAbs(df) {
			df = filepath.Join(dir, df)
		}
		if data, err = os.ReadFile(df); err != nil {
			return nil, fmt.Errorf("data file: %w", err)
		}
	}
	if skip, _ := strconv.Atoi(fields["byte skip"]); skip > 0 && skip <= len(data) {
		data = data[skip:]
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if strings.ToLower(fields["endian"]) == "big" {
		bo = binary.BigEndian
	}
	n := v.Voxels() * channels
	switch enc := strings.ToLower(fields["encoding"]); enc {
	case "raw":
		v.Data, err = decodeSamples(data, n, dtype, bo)
	case "gzip", "gz":
		if data, err = gunzip(data); err == nil {
			v.Data, err = decodeSamples(data, n, dtype, bo)
		}
	case "ascii", "text", "txt":
		v.Data, err = parseASCIISamples(data, n)
	default:
		err = fmt.Errorf("unsupported encoding %q", enc)
	}
	if err != nil {
		return nil, err
	}
	if len(dirs) > 0 {
		var m [3][4]float64
		for c := 0; c < 3; c++ {
			if c < len(dirs) && dirs[c] != nil {
				for r := 0; r < 3; r++ {
					m[r][c] = dirs[c][r]
				}
			} else {
				m[c][c] = 1
			}
		}
		if o := parseNRRDVector(fields["space origin"]); len(o) == 3 {
			m[0][3], m[1][3], m[2][3] = o[0], o[1], o[2]
		}
		switch space := strings.ToLower(fields["space"]); space {
		case "right-anterior-superior", "ras":
			for r := 0; r < 2; r++ {
				for c := 0; c < 4; c++ {
					m[r][c] = -m[r][c]
				}
			}
		case "left-anterior-superior", "las":
			for c := 0; c < 4; c++ {
				m[1][c] = -m[1][c]
			}
		}
		if err := v.setAffine(m); err != nil {
			return nil, err
		}
	} else if sp := strings.Fields(fields["spacings"]); len(sp) == ndim {
		for a := 0; a < min(3, ndim); a++ {
			if s, err := strconv.ParseFloat(sp[a], 64); err == nil && s > 0 {
				v.Spacing[a] = s
				v.SpacingKnown = true
			}
		}
	}
	return v, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// parseNRRDDirections parses "(a,b,c) none (d,e,f)"; nil entries are "none".
func parseNRRDDirections(s string) [][]float64 {
	var out [][]float64
	for _, tok := range strings.Fields(s) {
		if tok == "none" {
			out = append(out, nil)
			continue
		}
		out = append(out, parseNRRDVector(tok))
	}
	return out
}

func parseNRRDVector(s string) []float64 {
	s = strings.Trim(strings.TrimSpace(s), "()")
	if s == "" {
		return nil
	}
	var out []float64
	for _, p := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil
		}
		out = append(out, x)
	}
	return out
}

func parseASCIISamples(data []byte, n int) ([]float32, error) {
	toks := strings.Fields(string(data))
	if len(toks) < n {
		return nil, fmt.Errorf("truncated data: %d ascii samples, %d needed", len(toks), n)
	}
	out := make([]float32, n)
	for i := range out {
		x, err := strconv.ParseFloat(toks[i], 32)
		if err != nil {
			return nil, fmt.Errorf("bad ascii sample %q", toks[i])
		}
		out[i] = float32(x)
	}
	return out, nil
}
