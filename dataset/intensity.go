package dataset

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/synthfm/synthfm/medimg"
)

// DefaultWindow is the CT window preset used when none is named: level 40,
// width 400 (method.md §6).
const DefaultWindow = "soft-tissue"

// ctWindows are the CT window presets, (level, width) in HU: soft tissue,
// lung and brain from the MedSAM paper, bone and liver common radiology
// values. This is the one list: the evaluation manifests, the server's
// API and the web page take their names from here.
var ctWindows = map[string][2]float64{
	"soft-tissue": {40, 400},
	"lung":        {-160, 1500},
	"brain":       {40, 80},
	"bone":        {400, 1800},
	"liver":       {60, 160},
}

// WindowPresets returns the names of the CT window presets, sorted.
func WindowPresets() []string {
	names := make([]string, 0, len(ctWindows))
	for name := range ctWindows {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// ParseWindow reads a preset name or "level,width"; empty means
// DefaultWindow.
func ParseWindow(s string) (level, width float64, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultWindow
	}
	if p, ok := ctWindows[s]; ok {
		return p[0], p[1], nil
	}
	l, w, ok := strings.Cut(s, ",")
	if ok {
		level, err1 := strconv.ParseFloat(strings.TrimSpace(l), 64)
		width, err2 := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err1 == nil && err2 == nil && width > 0 {
			return level, width, nil
		}
	}
	return 0, 0, fmt.Errorf("window %q is neither a preset (%s) nor level,width", s, strings.Join(WindowPresets(), ", "))
}

// Mapping turns raw samples into 8-bit grey: clip to [Lo, Hi], scale
// (x−Lo)/(Hi−Lo)·255 and truncate, as numpy's astype(uint8) does.
// KeepZero maps samples that were exactly 0 to 0 (MedSAM's MR rule).
type Mapping struct {
	Lo, Hi   float64
	KeepZero bool
}

// Apply maps one sample.
func (m Mapping) Apply(x float32) uint8 {
	if m.KeepZero && x == 0 {
		return 0
	}
	v := (math.Min(math.Max(float64(x), m.Lo), m.Hi) - m.Lo) / math.Max(m.Hi-m.Lo, 1e-8) * 255
	return uint8(math.Min(math.Max(v, 0), 255))
}

// WindowMapping is MedSAM's CT rule: clip to level ± width/2, then min–max
// over the clipped volume.
func WindowMapping(v []float32, level, width float64) Mapping {
	lo, hi := level-width/2, level+width/2
	vmin, vmax := minMax(v)
	return Mapping{Lo: math.Max(lo, vmin), Hi: math.Min(hi, vmax)}
}

// PercentileMapping is MedSAM's rule for MR and other modalities: clip to
// the lo/hi percentiles of the non-zero samples, min–max over the clipped
// volume, zeros kept at 0.
func PercentileMapping(v []float32, lo, hi float64) Mapping {
	var nz []float32
	for _, x := range v {
		if x != 0 {
			nz = append(nz, x)
		}
	}
	if len(nz) == 0 {
		return Mapping{Lo: 0, Hi: 1, KeepZero: true}
	}
	slices.Sort(nz)
	plo, phi := Percentile(nz, lo), Percentile(nz, hi)
	vmin, vmax := minMax(v)
	return Mapping{Lo: math.Max(plo, vmin), Hi: math.Min(phi, vmax), KeepZero: true}
}

// MinMaxMapping scales the full range to 0..255.
func MinMaxMapping(v []float32) Mapping {
	lo, hi := minMax(v)
	return Mapping{Lo: lo, Hi: hi}
}

// IdentityMapping keeps 8-bit samples as they are.
func IdentityMapping() Mapping { return Mapping{Lo: 0, Hi: 255} }

// Percentile returns the p-th percentile of sorted values with linear
// interpolation between ranks (numpy's default).
func Percentile(sorted []float32, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := p / 100 * float64(len(sorted)-1)
	i := int(math.Floor(rank))
	if i >= len(sorted)-1 {
		return float64(sorted[len(sorted)-1])
	}
	f := rank - float64(i)
	return float64(sorted[i]) + f*(float64(sorted[i+1])-float64(sorted[i]))
}

func minMax(v []float32) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo = math.Min(lo, float64(x))
		hi = math.Max(hi, float64(x))
	}
	return lo, hi
}

// mappingFor picks the intensity mapping of a (grey) volume of a modality
// per the manifest: auto keeps 8-bit data, windows CT and clips the rest by
// percentiles.
func (m *Manifest) mappingFor(v *medimg.Volume, modality string) (Mapping, error) {
	mode := m.Intensity
	if mode == "" || mode == "auto" {
		switch {
		case v.Is8Bit():
			mode = "none"
		case strings.EqualFold(modality, "CT"):
			mode = "window"
		default:
			mode = "percentile"
		}
	}
	switch mode {
	case "none":
		return IdentityMapping(), nil
	case "minmax":
		return MinMaxMapping(v.Data), nil
	case "window":
		l, w, err := ParseWindow(m.Window)
		return WindowMapping(v.Data, l, w), err
	case "percentile":
		p := m.Percentiles
		if p == nil {
			p = []float64{0.5, 99.5}
		}
		return PercentileMapping(v.Data, p[0], p[1]), nil
	}
	return Mapping{}, fmt.Errorf("unknown intensity mapping %q", mode)
}
