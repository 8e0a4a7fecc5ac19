package dataset

import (
	"fmt"
	"strings"

	"github.com/synthfm/synthfm/medimg"
	"github.com/synthfm/synthfm/promptable"
)

// Window says how an image's values become the 8-bit grey levels a model
// sees, with the evaluation's rules (method.md §6): a CT window, percentile
// clipping ("auto"), or none (8-bit values as they are). It is the one
// windowing of `synthfm serve` (its API and web page) and `synthfm segment`.
type Window struct {
	// Name is how the window is spelled: a preset name, "auto", "none", or
	// "L,W" for a custom CT window.
	Name string
	// Mode is "ct", "auto" or "none".
	Mode string
	// Level and Width define a "ct" window, in the image's units (HU).
	Level, Width float64
}

// WindowNames lists the windows ParseNamedWindow accepts by name.
func WindowNames() []string { return append([]string{"none", "auto"}, WindowPresets()...) }

// ParseNamedWindow reads a window: "none", "auto", a CT preset name
// ("soft-tissue", "lung", ...) or "level,width" ("40,400").
func ParseNamedWindow(s string) (Window, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "none", "auto":
		return Window{Name: s, Mode: s}, nil
	case "":
		return Window{}, fmt.Errorf("empty window: use none, auto, level,width or a preset (%s)", strings.Join(WindowPresets(), ", "))
	}
	level, width, err := ParseWindow(s)
	if err != nil {
		return Window{}, fmt.Errorf("unknown window %q: use none, auto, level,width (e.g. 40,400) or a preset (%s)", s, strings.Join(WindowPresets(), ", "))
	}
	name := s
	if strings.Contains(s, ",") {
		name = fmt.Sprintf("%g,%g", level, width)
	}
	return Window{Name: name, Mode: "ct", Level: level, Width: width}, nil
}

// DefaultWindowFor picks the window of an image whose smallest sample is
// lo: none for 8-bit images, the default CT window for images whose values
// reach air (-500 or less, in Hounsfield units), percentile clipping
// otherwise.
func DefaultWindowFor(v *medimg.Volume, lo float32) Window {
	if v.Is8Bit() {
		return Window{Name: "none", Mode: "none"}
	}
	if lo <= -500 {
		w, _ := ParseNamedWindow(DefaultWindow)
		return w
	}
	return Window{Name: "auto", Mode: "auto"}
}

// Mapping returns the intensity mapping of the window for volume v, with
// MedSAM's rules: a CT window clips and then stretches the clipped
// volume's range; "auto" clips to the 0.5–99.5 percentiles of the non-zero
// samples and keeps zeros at 0.
func (w Window) Mapping(v *medimg.Volume) Mapping {
	switch w.Mode {
	case "ct":
		return WindowMapping(v.Data, w.Level, w.Width)
	case "auto":
		return PercentileMapping(v.Data, 0.5, 99.5)
	}
	return IdentityMapping()
}

// RenderSlice returns axial slice k of v as the RGB image a model sees.
// Images with three or more 8-bit channels keep their colours; otherwise
// channel 0 goes through the mapping and is repeated in red, green and
// blue.
func RenderSlice(v *medimg.Volume, k int, m Mapping) promptable.Image {
	nx, ny := v.Size[0], v.Size[1]
	img := promptable.Image{Width: nx, Height: ny, Pix: make([]uint8, 3*nx*ny)}
	base := k * nx * ny * v.Channels
	if v.Channels >= 3 && v.Is8Bit() {
		id := IdentityMapping()
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

// LPSView returns the volume reoriented to LPS (medimg.ToLPS), whose axial
// slices the web page, the JSON API and `synthfm segment --slice` show, and
// the map from its voxel indices to vol's (label volumes are written on
// vol's grid). It is vol itself, with the identity map, when nothing
// changes.
func LPSView(vol *medimg.Volume) (*medimg.Volume, medimg.IndexMap, error) {
	identity := medimg.IndexMap{M: [3][3]int{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
	view, err := medimg.ToLPS(vol)
	if err != nil || view == vol {
		return vol, identity, err
	}
	m, err := medimg.NewIndexMap(view, vol)
	if err != nil {
		return nil, medimg.IndexMap{}, err
	}
	return view, m, nil
}

// LabelVolume returns a zero uint8 label volume on v's grid.
func LabelVolume(v *medimg.Volume) *medimg.Volume {
	return &medimg.Volume{Size: v.Size, Channels: 1, Data: make([]float32, v.Voxels()),
		Spacing: v.Spacing, Origin: v.Origin, Direction: v.Direction, SpacingKnown: v.SpacingKnown, DType: "uint8"}
}

// SetViewSlice sets to 1 the voxels of labels (on the image's grid) under
// the non-zero pixels of mask, axial slice k of the image's LPS view (its
// rows width pixels long), mapped by toVolume (LPSView's map).
func SetViewSlice(labels *medimg.Volume, toVolume medimg.IndexMap, k, width int, mask []uint8) {
	for p, x := range mask {
		if x != 0 {
			o := toVolume.Apply([3]int{p % width, p / width, k})
			labels.Data[labels.Index(o[0], o[1], o[2], 0)] = 1
		}
	}
}
