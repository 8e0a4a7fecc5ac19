package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// maskSuffixes are the name endings that mark a mask beside its image.
func maskSuffixes() []string {
	return []string{"_mask", "_label", "_seg", "_gt", "_annotation", "-mask", "-label", "-seg"}
}

// FromFolder builds the zero-configuration manifest of a folder of image /
// mask pairs, with modality "other" and every non-zero mask value v a
// structure "label<v>". Two layouts are recognised:
//   - images/ and masks/ (or labels/, gts/) subfolders whose files share a stem;
//   - one folder where the mask of NAME.ext is NAME_mask.ext (or _label,
//     _seg, _gt, _annotation, -mask, -label, -seg; any image extension).
//
// The returned manifest's paths are relative to dir, so resolve it with New(m, dir).
func FromFolder(dir string) (*Manifest, error) {
	m := &Manifest{Name: filepath.Base(filepath.Clean(dir)), Modality: "other", Description: "zero-configuration folder " + dir}
	imgDir, maskDir := ".", ""
	for _, sub := range []string{"masks", "labels", "gts", "Masks", "Labels"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err == nil && st.IsDir() {
			maskDir = sub
		}
	}
	if maskDir != "" {
		imgDir = "images"
		if st, err := os.Stat(filepath.Join(dir, imgDir)); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("%s: has %s/ but no images/ folder", dir, maskDir)
		}
	}
	images, err := listImages(filepath.Join(dir, imgDir))
	if err != nil {
		return nil, err
	}
	var masks map[string]string
	if maskDir != "" {
		list, err := listImages(filepath.Join(dir, maskDir))
		if err != nil {
			return nil, err
		}
		masks = map[string]string{}
		for _, f := range list {
			masks[strings.ToLower(trimMaskSuffix(Stem(f)))] = filepath.Join(maskDir, f)
		}
	} else {
		masks = map[string]string{}
		var plain []string
		for _, f := range images {
			if s := Stem(f); trimMaskSuffix(s) != s {
				masks[strings.ToLower(trimMaskSuffix(s))] = f
			} else {
				plain = append(plain, f)
			}
		}
		images = plain
	}
	for _, f := range images {
		mask, ok := masks[strings.ToLower(Stem(f))]
		if !ok {
			continue
		}
		m.Cases = append(m.Cases, CaseSpec{ID: Stem(f), Image: filepath.Join(imgDir, f), Label: []LabelSpec{{File: mask}}})
	}
	if len(m.Cases) == 0 {
		return nil, fmt.Errorf("%s: no image/mask pairs (want images/ + masks/ with equal names, or NAME.png + NAME_mask.png)", dir)
	}
	return m, m.validate()
}

func trimMaskSuffix(stem string) string {
	lower := strings.ToLower(stem)
	for _, s := range maskSuffixes() {
		if strings.HasSuffix(lower, s) {
			return stem[:len(stem)-len(s)]
		}
	}
	return stem
}

// listImages returns the names of the image files in dir, sorted.
func listImages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if Stem(e.Name()) != e.Name() { // a known image extension
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}
