package server

import (
	"fmt"
	"strings"

	"github.com/synthfm/synthfm/dataset"
	"github.com/synthfm/synthfm/medimg"
)

// Window says how an image's values become the 8-bit grey levels the model
// sees, with the evaluation's rules (method.md §6, package dataset): a CT
// window, percentile clipping ("auto"), or none (8-bit values as they are).
type Window struct {
	// Name is what the API calls it: a preset name, "auto", "none", or
	// "L,W" for a custom CT window.
	Name string
	// Mode is "ct", "auto" or "none".
	Mode string
	// Level and Width define a "ct" window, in the image's units (HU).
	Level, Width float64
}

// windowNames lists the windows the API accepts by name.
func windowNames() []string { return append([]string{"none", "auto"}, dataset.WindowPresets()...) }

// parseWindow reads a window as the API spells it: "none", "auto", a CT
// preset name ("soft-tissue", "lung", ...) or "level,width" ("40,400").
func parseWindow(s string) (Window, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "none", "auto":
		return Window{Name: s, Mode: s}, nil
	case "":
		return Window{}, fmt.Errorf("empty window: use none, auto, level,width or a preset (%s)", strings.Join(dataset.WindowPresets(), ", "))
	}
	level, width, err := dataset.ParseWindow(s)
	if err != nil {
		return Window{}, fmt.Errorf("unknown window %q: use none, auto, level,width (e.g. 40,400) or a preset (%s)", s, strings.Join(dataset.WindowPresets(), ", "))
	}
	name := s
	if strings.Contains(s, ",") {
		name = fmt.Sprintf("%g,%g", level, width)
	}
	return Window{Name: name, Mode: "ct", Level: level, Width: width}, nil
}

// defaultWindow picks the window for a new image whose smallest sample is
// lo: none for 8-bit images, the default CT window for images whose values
// reach air (-500 or less, in Hounsfield units), percentile clipping
// otherwise.
func defaultWindow(v *medimg.Volume, lo float32) Window {
	if v.Is8Bit() {
		return Window{Name: "none", Mode: "none"}
	}
	if lo <= -500 {
		w, _ := parseWindow(dataset.DefaultWindow)
		return w
	}
	return Window{Name: "auto", Mode: "auto"}
}

// mappingFor returns the intensity mapping of window w for volume v, with
// the dataset package's rules (MedSAM's): a CT window clips and then
// stretches the clipped volume's range; "auto" clips to the 0.5–99.5
// percentiles of the non-zero samples and keeps zeros at 0.
func mappingFor(v *medimg.Volume, w Window) dataset.Mapping {
	switch w.Mode {
	case "ct":
		return dataset.WindowMapping(v.Data, w.Level, w.Width)
	case "auto":
		return dataset.PercentileMapping(v.Data, 0.5, 99.5)
	}
	return dataset.IdentityMapping()
}

// renderSlice returns slice k of v as the RGB image the model sees. Images
// with three or more 8-bit channels keep their colours; otherwise channel 0
// goes through the mapping and is repeated in red, green and blue.
func renderSlice(v *medimg.Volume, k int, m dataset.Mapping) Image {
	nx, ny := v.Size[0], v.Size[1]
	img := Image{Width: nx, Height: ny, Pix: make([]uint8, 3*nx*ny)}
	base := k * nx * ny * v.Channels
	if v.Channels >= 3 && v.Is8Bit() {
		id := dataset.IdentityMapping()
		for p := 0; p < nx*ny; p++ {
			s := v.Data[base+p*v.Channels:]
			for c := 0; c < 3; c++ {
				img.Pix[3*p+c] = id.Apply(s[c])
			}
		}
		return img
	}
	for p := 0; p < nx*ny; p++ {
		g := m.Apply(v.Data[base+p*v.Channels])
		img.Pix[3*p], img.Pix[3*p+1], img.Pix[3*p+2] = g, g, g
	}
	return img
}
