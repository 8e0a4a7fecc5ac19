package manifests

import (
	"context"
	"testing"

	"github.com/synthfm/synthfm/internal/shareddata"
)

// Every evaldata folder has a manifest, and the objects each yields match
// the facts of its PROVENANCE.md (after MedSAM's 100-pixel rule).
func TestManifestsAgainstEvaldata(t *testing.T) {
	root := shareddata.Path(t, "evaldata")
	want := map[string]struct {
		cases      int
		structures map[string]int // objects per structure (nil: skip)
		objects    int
	}{
		// 36 pairs, 10020 empty; 10506 and 10668 have no LV; the RV of 10668 is 86 px.
		"acdc-cardiac-mri": {36, map[string]int{"left_ventricle": 33, "myocardium": 35, "right_ventricle": 34}, 102},
		// 30 masks, 28 over 100 px, hip_left and hip_right in two files each.
		"sammed2d-ct-slices":      {4, nil, 26},
		"dcmqi-ct-liver-spine":    {1, map[string]int{"liver": 3, "vertebra": 3, "stomach": 3}, 9},
		"camus-echo-us":           {21, map[string]int{"lv_myocardium_la_merged": 21}, 21},
		"hc18-fetal-head-us":      {31, map[string]int{"fetal_head": 31}, 31},
		"stardist-dsb2018-nuclei": {1, nil, -1},
	}
	if len(Names()) != 10 {
		t.Fatalf("built-in manifests %v, want one per evaldata folder (10)", Names())
	}
	for _, name := range Names() {
		d, err := Open(name, root)
		if err != nil {
			t.Fatal(err)
		}
		w, check := want[name]
		if !check {
			continue
		}
		if len(d.Cases()) != w.cases {
			t.Errorf("%s: %d cases, want %d", name, len(d.Cases()), w.cases)
		}
		count := map[string]int{}
		objects := 0
		for _, c := range d.Cases() {
			slices, err := d.Load(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range slices {
				for _, o := range s.Objects {
					count[o.Structure]++
					objects++
					if o.Mask.Bounds() != s.Image.Bounds() {
						t.Fatalf("%s: mask bounds %v, image %v", o.ID, o.Mask.Bounds(), s.Image.Bounds())
					}
				}
			}
		}
		for s, n := range w.structures {
			if count[s] != n {
				t.Errorf("%s: %d objects of %s, want %d (all: %v)", name, count[s], s, n, count)
			}
		}
		if w.objects >= 0 && objects != w.objects {
			t.Errorf("%s: %d objects, want %d", name, objects, w.objects)
		}
		if name == "stardist-dsb2018-nuclei" && (objects < 100 || objects > 125) {
			t.Errorf("stardist: %d nuclei over 100 px, want at most the 125 instances and most of them", objects)
		}
	}
}

// The AMOS slices are stored upside down (table at the top); after the
// manifest's fix the patient table, bright structure outside the body, is
// in the bottom rows, so they are brighter than the top rows (dark air).
func TestAMOSFlip(t *testing.T) {
	root := shareddata.Path(t, "evaldata")
	d, err := Open("sammed2d-ct-slices", root)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Cases() {
		if !c.FlipVertical {
			continue
		}
		slices, err := d.Load(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		img := slices[0].Image
		h := img.Bounds().Dy()
		band := func(y0, y1 int) float64 {
			s := 0
			for y := y0; y < y1; y++ {
				for x := 0; x < img.Bounds().Dx(); x++ {
					s += int(img.GrayAt(x, y).Y)
				}
			}
			return float64(s) / float64((y1-y0)*img.Bounds().Dx())
		}
		// The table lies in the lowest ~15% of the field of view after the fix.
		if top, bottom := band(0, h*15/100), band(h*85/100, h); bottom <= top {
			t.Errorf("%s: bottom band %.1f not brighter than top band %.1f: table not at the bottom", c.ID, bottom, top)
		}
	}
}
