package dataset

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/synthfm/synthfm/maskops"
	"github.com/synthfm/synthfm/medimg"
)

// Dataset is a manifest resolved against a data root.
type Dataset struct {
	Manifest *Manifest
	Root     string
	// Logger receives warnings about the data (slog.Default when nil).
	Logger   *slog.Logger
	cases    []Case
	pixelMM  map[string]float64
	registry *medimg.Registry
}

// Case is one image file with its label files, paths resolved.
type Case struct {
	ID           string
	Image        string
	Labels       []LabelSpec // File fields resolved
	FlipVertical bool
	Modality     string
}

// Slice is one preprocessed 2-D image with the objects to segment on it.
type Slice struct {
	Dataset  string
	Case     string
	Modality string
	// Axis and Index locate the slice in its volume; Index is -1 for 2-D images.
	Axis  medimg.Axis
	Index int
	// Image is the 8-bit grey slice at native resolution after the
	// dataset's intensity mapping (window or percentile clipping).
	Image *image.Gray
	// SX, SY are the pixel sizes in mm along columns and rows, when known.
	SX, SY       float64
	SpacingKnown bool
	Objects      []Object
}

// Object is one structure (or one instance of it) on a slice.
type Object struct {
	// ID is unique in an evaluation: dataset/case[/axis###]/structure[#instance].
	ID        string
	Structure string
	Instance  int
	// Mask is the ground truth on the slice's grid (255 inside).
	Mask *image.Gray
}

// Open reads a manifest and resolves it against root.
func Open(manifestPath, root string) (*Dataset, error) {
	m, err := ReadManifest(manifestPath)
	if err != nil {
		return nil, err
	}
	return New(m, root)
}

// New resolves a parsed manifest against root, expanding image globs.
func New(m *Manifest, root string) (*Dataset, error) {
	d := &Dataset{Manifest: m, Root: root, registry: medimg.DefaultRegistry()}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("dataset %s: data root %s is not a folder", m.Name, root)
	}
	seen := map[string]bool{}
	for _, spec := range m.Cases {
		images, err := filepath.Glob(filepath.Join(root, spec.Image))
		if err != nil {
			return nil, fmt.Errorf("dataset %s: bad pattern %q: %w", m.Name, spec.Image, err)
		}
		if len(images) == 0 {
			return nil, fmt.Errorf("dataset %s: %s matches no file under %s", m.Name, spec.Image, root)
		}
		sort.Strings(images)
		for _, img := range images {
			stem := Stem(img)
			expand := func(s string) string { return strings.ReplaceAll(s, "{stem}", stem) }
			c := Case{ID: expand(spec.ID), Image: img, FlipVertical: spec.FlipVertical || m.FlipVertical, Modality: cmp.Or(spec.Modality, m.Modality, "other")}
			if spec.ID == "" {
				c.ID = stem
			}
			if seen[c.ID] {
				return nil, fmt.Errorf("dataset %s: case id %q used twice", m.Name, c.ID)
			}
			seen[c.ID] = true
			for _, l := range spec.Label {
				l.File = filepath.Join(root, expand(l.File))
				if _, err := os.Stat(l.File); err != nil {
					return nil, fmt.Errorf("dataset %s: case %s: label %s: %w", m.Name, c.ID, l.File, errors.Unwrap(err))
				}
				c.Labels = append(c.Labels, l)
			}
			d.cases = append(d.cases, c)
		}
	}
	if p := m.PixelSizeCSV; p != nil {
		var err error
		if d.pixelMM, err = readPixelSizes(filepath.Join(root, p.File), p.Column); err != nil {
			return nil, fmt.Errorf("dataset %s: %w", m.Name, err)
		}
	}
	return d, nil
}

// Name returns the dataset name.
func (d *Dataset) Name() string { return d.Manifest.Name }

// Cases returns the resolved cases in a stable order.
func (d *Dataset) Cases() []Case { return d.cases }

// Stem returns a file name without folder and extensions ("a/b.nii.gz" → "b").
func Stem(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".gz", ".nii", ".nrrd", ".gipl", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm", ".npy", ".npz", ".nhdr"} {
		if strings.HasSuffix(strings.ToLower(base), ext) {
			base = base[:len(base)-len(ext)]
		}
	}
	return base
}

func readPixelSizes(path, column string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := -1
	for i, h := range header {
		if strings.TrimSpace(h) == column {
			col = i
		}
	}
	if col < 1 {
		return nil, fmt.Errorf("%s: no column %q after the file-name column", path, column)
	}
	out := map[string]float64{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(rec[col]), 64); err == nil && v > 0 {
			out[strings.TrimSpace(rec[0])] = v
		}
	}
}

// Load reads one case and returns its slices that hold at least one object.
func (d *Dataset) Load(ctx context.Context, c Case) ([]Slice, error) {
	m := d.Manifest
	img, err := d.registry.Read(c.Image)
	if err != nil {
		return nil, err
	}
	grey, err := toGrey(img)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Image, err)
	}
	mapping, err := m.mappingFor(grey, c.Modality)
	if err != nil {
		return nil, err
	}
	if grey, err = medimg.ToLPS(grey); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Image, err)
	}
	labels := make([]*medimg.Volume, len(c.Labels))
	for i, l := range c.Labels {
		lv, err := d.registry.Read(l.File)
		if err != nil {
			return nil, err
		}
		if lv.Size != img.Size {
			return nil, fmt.Errorf("%s: label size %v differs from image %s size %v", l.File, lv.Size, filepath.Base(c.Image), img.Size)
		}
		if img.SpacingKnown && lv.SpacingKnown && !img.SameGrid(lv, 0.5) {
			cmp.Or(d.Logger, slog.Default()).Warn("label grid differs from the image grid; using voxel correspondence", "label", l.File, "image", c.Image)
		}
		lv.Direction, lv.Origin, lv.Spacing = img.Direction, img.Origin, img.Spacing // same voxel grid as the image
		if labels[i], err = medimg.ToLPS(lv); err != nil {
			return nil, fmt.Errorf("%s: %w", l.File, err)
		}
	}
	axis := medimg.Axis(m.SliceAxis)
	if axis == "" {
		axis = medimg.Axial
	}
	n, err := grey.SliceCount(axis)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", m.Name, err)
	}
	if img.Size[2] == 1 { // a 2-D image: one axial plane
		axis, n = medimg.Axial, 1
	}
	var out []Slice
	for k := 0; k < n; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := d.slice(c, grey, labels, mapping, axis, k, n == 1)
		if err != nil {
			return nil, err
		}
		if len(s.Objects) > 0 {
			out = append(out, s)
		}
	}
	return out, nil
}

func (d *Dataset) slice(c Case, grey *medimg.Volume, labels []*medimg.Volume, mapping Mapping, axis medimg.Axis, k int, single bool) (Slice, error) {
	m := d.Manifest
	p, err := grey.Slice(axis, k)
	if err != nil {
		return Slice{}, err
	}
	s := Slice{Dataset: m.Name, Case: c.ID, Modality: c.Modality, Axis: axis, Index: k,
		Image: image.NewGray(image.Rect(0, 0, p.W, p.H)), SX: p.SX, SY: p.SY, SpacingKnown: grey.SpacingKnown}
	if single {
		s.Index = -1
	}
	for i, x := range p.Data {
		s.Image.Pix[i] = mapping.Apply(x)
	}
	if mm, ok := d.pixelMM[filepath.Base(c.Image)]; ok {
		s.SX, s.SY, s.SpacingKnown = mm, mm, true
	}
	grids := map[objectKey]maskops.Grid{}
	for i, l := range c.Labels {
		lp, err := labels[i].Slice(axis, k)
		if err != nil {
			return Slice{}, err
		}
		if err := addObjects(l, lp, grids); err != nil {
			return Slice{}, fmt.Errorf("%s: %w", l.File, err)
		}
	}
	prefix := m.Name + "/" + c.ID
	if !single {
		prefix += fmt.Sprintf("/%s%03d", axis, k)
	}
	for _, key := range sortedKeys(grids) {
		g := maskops.RemoveSmall(grids[key], m.MinPixelsOrDefault())
		if g.Count() == 0 {
			continue
		}
		id := prefix + "/" + key.structure
		if key.instance > 0 {
			id += fmt.Sprintf("#%d", key.instance)
		}
		mask := g.Gray()
		if c.FlipVertical {
			flipVertical(mask)
		}
		s.Objects = append(s.Objects, Object{ID: id, Structure: key.structure, Instance: key.instance, Mask: mask})
	}
	if c.FlipVertical {
		flipVertical(s.Image)
	}
	return s, nil
}

func flipVertical(m *image.Gray) {
	h := m.Bounds().Dy()
	row := make([]byte, m.Stride)
	for y := 0; y < h/2; y++ {
		a, b := m.Pix[y*m.Stride:(y+1)*m.Stride], m.Pix[(h-1-y)*m.Stride:(h-y)*m.Stride]
		copy(row, a)
		copy(a, b)
		copy(b, row)
	}
}

// toGrey returns a one-channel volume: grey data as is, colour with equal
// channels by its first channel, other colour by ITU-R BT.601 luma.
func toGrey(v *medimg.Volume) (*medimg.Volume, error) {
	if v.Channels == 1 {
		return v, nil
	}
	if v.Channels != 3 {
		return nil, fmt.Errorf("%d-channel images are not supported", v.Channels)
	}
	out := *v
	out.Channels = 1
	out.Data = make([]float32, v.Voxels())
	for i := range out.Data {
		r, g, b := v.Data[3*i], v.Data[3*i+1], v.Data[3*i+2]
		if r == g && g == b {
			out.Data[i] = r
		} else {
			out.Data[i] = 0.299*r + 0.587*g + 0.114*b
		}
	}
	return &out, nil
}
