// Package dataset turns evaluation data (a manifest, or a plain folder of
// image/mask pairs) into preprocessed 2-D slices with one binary mask per
// object, as MedSAM prepares its evaluation data.
package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Manifest describes one dataset; docs/evaluation.md documents every field.
// Paths are relative to the data root given at load time and may hold
// shell globs in Image and the placeholder {stem} (the image file name
// without its extensions) in Image-derived fields.
type Manifest struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Modality is CT, MR, US, microscopy or other; it picks the default
	// intensity mapping (CT: window; others: percentile clipping).
	Modality string `yaml:"modality"`
	// Intensity overrides the mapping: auto, window, percentile, minmax, none.
	Intensity string `yaml:"intensity"`
	// Window is a CT window: a preset name (soft-tissue, lung, brain, bone,
	// liver) or "level,width" in HU. Default soft-tissue (40, 400).
	Window string `yaml:"window"`
	// Percentiles are the lower and upper clipping percentiles of non-zero
	// samples (default 0.5, 99.5).
	Percentiles []float64 `yaml:"percentiles"`
	// SliceAxis is axial (default), coronal or sagittal for volumes.
	SliceAxis string `yaml:"slice_axis"`
	// MinPixels drops 8-connected pieces of an object smaller than this on
	// a slice and skips objects left empty (default 100, MedSAM's value).
	MinPixels *int `yaml:"min_pixels"`
	// FlipVertical turns every slice upside down (a PROVENANCE fix).
	FlipVertical bool `yaml:"flip_vertical"`
	// PixelSizeCSV gives 2-D images a pixel size in mm from a CSV file.
	PixelSizeCSV *PixelSizeCSV `yaml:"pixel_size_csv"`
	Cases        []CaseSpec    `yaml:"cases"`
}

// PixelSizeCSV names a CSV whose first column is the image file name and
// whose Column (a header name) holds the pixel size in mm.
type PixelSizeCSV struct {
	File   string `yaml:"file"`
	Column string `yaml:"column"`
}

// CaseSpec is one image with its label files; Image may be a glob that
// expands to many cases.
type CaseSpec struct {
	// ID names the case (default "{stem}").
	ID    string      `yaml:"id"`
	Image string      `yaml:"image"`
	Label []LabelSpec `yaml:"labels"`
	// FlipVertical turns this case's slices upside down.
	FlipVertical bool `yaml:"flip_vertical"`
	// Modality overrides the manifest's modality for this case.
	Modality string `yaml:"modality"`
	// Note records why a case carries a fix (free text).
	Note string `yaml:"note"`
}

// LabelSpec reads one label file into structures. Exactly one rule applies:
// Values (label value → structure), Colors ("R,G,B" → structure, for colour
// coded masks), Threshold with Structure (value > Threshold is the
// structure: binary masks saved lossily), Instances (every non-zero value
// is a separate object of that structure), or none of them: every non-zero
// value v is a structure named "label<v>".
type LabelSpec struct {
	File      string            `yaml:"file"`
	Values    map[int]string    `yaml:"values"`
	Colors    map[string]string `yaml:"colors"`
	Threshold *float64          `yaml:"threshold"`
	Structure string            `yaml:"structure"`
	Instances string            `yaml:"instances"`
	Note      string            `yaml:"note"`
}

// ParseManifest decodes and validates a YAML manifest; unknown fields are
// errors so that a typo cannot silently change an evaluation.
func ParseManifest(data []byte) (*Manifest, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, m.validate()
}

// ReadManifest reads a manifest file.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func (m *Manifest) validate() error {
	if m.Name == "" {
		return errors.New("manifest: missing name")
	}
	if err := checkModality(m.Modality); err != nil {
		return fmt.Errorf("manifest %s: %w", m.Name, err)
	}
	switch m.Intensity {
	case "", "auto", "window", "percentile", "minmax", "none":
	default:
		return fmt.Errorf("manifest %s: unknown intensity %q (auto, window, percentile, minmax, none)", m.Name, m.Intensity)
	}
	if _, _, err := ParseWindow(m.Window); err != nil {
		return fmt.Errorf("manifest %s: %w", m.Name, err)
	}
	if p := m.Percentiles; p != nil && (len(p) != 2 || p[0] < 0 || p[1] > 100 || p[0] >= p[1]) {
		return fmt.Errorf("manifest %s: percentiles must be two increasing values in [0,100], got %v", m.Name, p)
	}
	if len(m.Cases) == 0 {
		return fmt.Errorf("manifest %s: no cases", m.Name)
	}
	for i, c := range m.Cases {
		if c.Image == "" {
			return fmt.Errorf("manifest %s: case %d has no image", m.Name, i+1)
		}
		if err := checkModality(c.Modality); err != nil {
			return fmt.Errorf("manifest %s: case %q: %w", m.Name, c.Image, err)
		}
		if len(c.Label) == 0 {
			return fmt.Errorf("manifest %s: case %q has no labels", m.Name, c.Image)
		}
		for _, l := range c.Label {
			if err := l.validate(); err != nil {
				return fmt.Errorf("manifest %s: case %q: %w", m.Name, c.Image, err)
			}
		}
	}
	return nil
}

func checkModality(s string) error {
	switch strings.ToLower(s) {
	case "ct", "mr", "us", "microscopy", "other", "":
		return nil
	}
	return fmt.Errorf("unknown modality %q (CT, MR, US, microscopy, other)", s)
}

func (l LabelSpec) validate() error {
	if l.File == "" {
		return errors.New("label without file")
	}
	rules := 0
	for _, set := range []bool{len(l.Values) > 0, len(l.Colors) > 0, l.Threshold != nil, l.Instances != ""} {
		if set {
			rules++
		}
	}
	if rules > 1 {
		return fmt.Errorf("label %s: give only one of values, colors, threshold, instances", l.File)
	}
	if l.Threshold != nil && l.Structure == "" {
		return fmt.Errorf("label %s: threshold needs a structure name", l.File)
	}
	for c := range l.Colors {
		if _, err := parseColor(c); err != nil {
			return fmt.Errorf("label %s: %w", l.File, err)
		}
	}
	return nil
}

func parseColor(s string) ([3]float32, error) {
	parts := strings.Split(s, ",")
	var c [3]float32
	if len(parts) != 3 {
		return c, fmt.Errorf("colour %q is not R,G,B", s)
	}
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 0 || v > 255 {
			return c, fmt.Errorf("colour %q is not R,G,B in 0..255", s)
		}
		c[i] = float32(v)
	}
	return c, nil
}

// MinPixelsOrDefault returns MinPixels, 100 when unset.
func (m *Manifest) MinPixelsOrDefault() int {
	if m.MinPixels == nil {
		return 100
	}
	return *m.MinPixels
}
