package dataset

import (
	"fmt"
	"math"
	"sort"

	"github.com/synthfm/synthfm/maskops"
	"github.com/synthfm/synthfm/medimg"
)

// objectKey identifies one object on a slice; instance is 0 for whole structures.
type objectKey struct {
	structure string
	instance  int
}

// addObjects applies one label rule to a label plane, adding pixels to the
// objects in grids (created on first use). Objects from several label files
// with one structure name are merged.
func addObjects(l LabelSpec, p medimg.Plane, grids map[objectKey]maskops.Grid) error {
	add := func(key objectKey, i int) {
		g, ok := grids[key]
		if !ok {
			g = maskops.NewGrid(p.W, p.H)
			grids[key] = g
		}
		g.Pix[i] = true
	}
	n := p.W * p.H
	if len(l.Colors) > 0 {
		if p.Channels != 3 {
			return fmt.Errorf("colours given for a %d-channel label image", p.Channels)
		}
		colors := make(map[[3]float32]string, len(l.Colors))
		for c, name := range l.Colors {
			rgb, err := parseColor(c)
			if err != nil {
				return err
			}
			colors[rgb] = name
		}
		for i := 0; i < n; i++ {
			if name, ok := colors[[3]float32(p.Data[3*i:3*i+3])]; ok {
				add(objectKey{structure: name}, i)
			}
		}
		return nil
	}
	value := func(i int) float32 { return p.Data[i*p.Channels] }
	if p.Channels == 3 {
		for i := 0; i < n; i++ {
			if p.Data[3*i] != p.Data[3*i+1] || p.Data[3*i] != p.Data[3*i+2] {
				return fmt.Errorf("colour label image without a colors rule (pixel %d, %d)", i%p.W, i/p.W)
			}
		}
	}
	if l.Values != nil {
		for i := 0; i < n; i++ {
			v := value(i)
			if v == 0 || v != float32(math.Trunc(float64(v))) {
				continue
			}
			if name, ok := l.Values[int(v)]; ok {
				add(objectKey{structure: name}, i)
			}
		}
		return nil
	}
	for i := 0; i < n; i++ {
		v := value(i)
		switch {
		case l.Threshold != nil:
			if float64(v) > *l.Threshold {
				add(objectKey{structure: l.Structure}, i)
			}
		case v == 0:
		case l.Instances != "":
			add(objectKey{structure: l.Instances, instance: int(v)}, i)
		default:
			add(objectKey{structure: fmt.Sprintf("label%d", int(v))}, i)
		}
	}
	return nil
}

// sortedKeys returns the objects by structure name, then instance.
func sortedKeys(grids map[objectKey]maskops.Grid) []objectKey {
	keys := make([]objectKey, 0, len(grids))
	for k := range grids {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].structure != keys[b].structure {
			return keys[a].structure < keys[b].structure
		}
		return keys[a].instance < keys[b].instance
	})
	return keys
}
