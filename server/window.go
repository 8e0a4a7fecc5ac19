package server

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/synthfm/synthfm/medimg"
)

// Window says how an image's values become the 8-bit grey levels the model
// sees (method.md §6): a CT window (level and width), percentile clipping,
// or none (values used as they are, for 8-bit images).
type Window struct {
	// Name is what the API calls it: a preset name, "auto", "none", or
	// "L,W" for a custom CT window.
	Name string
	// Mode is "ct", "auto" or "none".
	Mode string
	// Level and Width define a "ct" window, in the image's units (HU).
	Level, Width float64
}

// parseWindow reads a window as the API spells it: "none", "auto", a CT
// preset name ("abdomen", "lung", ...) or "level,width" ("40,400").
func parseWindow(s string) (Window, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "none", "auto":
		return Window{Name: s, Mode: s}, nil
	}
	if level, width, ok := ctPreset(s); ok {
		return Window{Name: s, Mode: "ct", Level: level, Width: width}, nil
	}
	if l, w, ok := strings.Cut(s, ","); ok {
		level, err1 := strconv.ParseFloat(strings.TrimSpace(l), 64)
		width, err2 := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err1 == nil && err2 == nil && width > 0 && !math.IsInf(level, 0) && !math.IsNaN(level) && !math.IsInf(width, 0) {
			return Window{Name: fmt.Sprintf("%g,%g", level, width), Mode: "ct", Level: level, Width: width}, nil
		}
		return Window{}, fmt.Errorf("window %q: want \"level,width\" with a positive width, as in \"40,400\"", s)
	}
	return Window{}, fmt.Errorf("unknown window %q: use none, auto, level,width (e.g. 40,400) or a preset (%s)", s, strings.Join(ctPresetNames(), ", "))
}

// defaultWindow picks the window for a new image: none for 8-bit images,
// the default CT window for images whose values reach air (-500 or less,
// in Hounsfield units), percentile clipping otherwise.
func defaultWindow(v *medimg.Volume) Window {
	if v.Is8Bit() {
		return Window{Name: "none", Mode: "none"}
	}
	if lo, _ := v.Range(); lo <= -500 {
		w, _ := parseWindow(defaultCTPreset)
		return w
	}
	return Window{Name: "auto", Mode: "auto"}
}

// percentileRange returns the 0.5th and 99.5th percentiles of the non-zero
// samples of channel 0 (all samples when none is non-zero): the "auto"
// window's clipping range (method.md §6, after MedSAM).
func percentileRange(v *medimg.Volume) (lo, hi float64) {
	vals := make([]float32, 0, v.Voxels())
	for i := 0; i < len(v.Data); i += v.Channels {
		if x := v.Data[i]; x != 0 && !math.IsNaN(float64(x)) {
			vals = append(vals, x)
		}
	}
	if len(vals) == 0 {
		return 0, 0
	}
	slices.Sort(vals)
	at := func(q float64) float64 {
		// Linear interpolation between closest ranks, as numpy.percentile.
		pos := q / 100 * float64(len(vals)-1)
		i := int(math.Floor(pos))
		if i+1 >= len(vals) {
			return float64(vals[len(vals)-1])
		}
		f := pos - float64(i)
		return float64(vals[i])*(1-f) + float64(vals[i+1])*f
	}
	return at(0.5), at(99.5)
}

// grey8 maps a value to a grey level: clip to [lo, hi], scale to [0, 255],
// round half up. NaN becomes 0.
func grey8(x float32, lo, hi float64) uint8 {
	if math.IsNaN(float64(x)) || hi <= lo {
		if !math.IsNaN(float64(x)) && float64(x) > lo {
			return 255
		}
		return 0
	}
	t := (float64(x) - lo) / (hi - lo)
	t = math.Max(0, math.Min(1, t))
	return uint8(math.Floor(t*255 + 0.5))
}

// renderSlice returns slice k of v as the RGB image the model sees. Images
// with three or more 8-bit channels keep their colours; otherwise channel 0
// is windowed to grey and repeated in red, green and blue. lo and hi are the
// "auto" window's range.
func renderSlice(v *medimg.Volume, k int, w Window, autoLo, autoHi float64) Image {
	nx, ny := v.Size[0], v.Size[1]
	img := Image{Width: nx, Height: ny, Pix: make([]uint8, 3*nx*ny)}
	base := k * nx * ny * v.Channels
	if v.Channels >= 3 && v.Is8Bit() {
		for p := 0; p < nx*ny; p++ {
			s := v.Data[base+p*v.Channels:]
			for c := 0; c < 3; c++ {
				img.Pix[3*p+c] = grey8(s[c], 0, 255)
			}
		}
		return img
	}
	var lo, hi float64
	switch w.Mode {
	case "ct":
		lo, hi = w.Level-w.Width/2, w.Level+w.Width/2
	case "auto":
		lo, hi = autoLo, autoHi
	default:
		lo, hi = 0, 255
	}
	for p := 0; p < nx*ny; p++ {
		g := grey8(v.Data[base+p*v.Channels], lo, hi)
		img.Pix[3*p], img.Pix[3*p+1], img.Pix[3*p+2] = g, g, g
	}
	return img
}
