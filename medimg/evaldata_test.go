package medimg

import (
	"math"
	"sort"
	"testing"

	"github.com/synthfm/synthfm/internal/shareddata"
)

// Facts from each folder's PROVENANCE.md.
func TestEvaldataVolumes(t *testing.T) {
	cases := []struct {
		path        []string
		size        [3]int
		spacing     [3]float64
		orientation string
		labels      []float32 // the complete set of values, for label maps
		count       map[float32]int
	}{
		{path: []string{"totalseg-testfiles-ct-mr", "example_ct_sm.nii.gz"}, size: [3]int{122, 101, 30}, spacing: [3]float64{3, 3, 3}, orientation: "RAS"},
		{path: []string{"totalseg-testfiles-ct-mr", "example_seg.nii.gz"}, size: [3]int{122, 101, 30}, spacing: [3]float64{3, 3, 3}, orientation: "RAS",
			count: map[float32]int{5: 38634, 1: 9452, 2: 3947, 3: 3676, 4: 1333, 7: 644, 52: 997}},
		{path: []string{"totalseg-testfiles-ct-mr", "example_mr_sm.nii.gz"}, size: [3]int{117, 91, 20}, spacing: [3]float64{3, 3, 3}, orientation: "LPS"},
		{path: []string{"totalseg-testfiles-ct-mr", "example_seg_mr.nii.gz"}, size: [3]int{117, 91, 20}, orientation: "LPS",
			count: map[float32]int{5: 18480, 1: 1941, 2: 1721, 3: 1442, 4: 1121, 7: 1176}},
		{path: []string{"brats2021-flair-edema-mr", "labelsTr", "BraTS2021_01646.nii.gz"}, size: [3]int{160, 160, 104}, spacing: [3]float64{1.5, 1.5, 1.5},
			orientation: "RAS", labels: []float32{0, 1}, count: map[float32]int{1: 17618}},
		{path: []string{"itksnap-mricrop-brain-mr", "MRIcrop-seg.gipl.gz"}, size: [3]int{78, 110, 64}, spacing: [3]float64{1, 1, 1},
			labels: []float32{0, 1, 2, 3, 4, 5, 6, 7, 8}, count: map[float32]int{1: 18138, 2: 2633, 3: 4775, 4: 2250, 5: 2548, 6: 1047, 7: 7661, 8: 16841}},
		{path: []string{"dcmqi-ct-liver-spine", "liver_spine_seg.nrrd"}, size: [3]int{512, 512, 3}, spacing: [3]float64{0.810547, 0.810547, 1},
			orientation: "LPS", labels: []float32{0, 1, 2}, count: map[float32]int{1: 107098, 2: 12439}},
		{path: []string{"dcmqi-ct-liver-spine", "heart_seg.nrrd"}, size: [3]int{512, 512, 3}, labels: []float32{0, 3}, count: map[float32]int{3: 41449}},
		{path: []string{"dcmqi-ct-liver-spine", "ct-3slice"}, size: [3]int{512, 512, 3}, spacing: [3]float64{0.810547, 0.810547, 1}, orientation: "LPS"},
		{path: []string{"stardist-dsb2018-nuclei", "mask2d.tif"}, size: [3]int{512, 512, 1}},
		{path: []string{"neurips-cellseg-microscopy", "labels", "cell_00225_label.tiff"}, size: [3]int{1024, 1024, 1}},
		{path: []string{"neurips-cellseg-microscopy", "images", "cell_00528.tif"}, size: [3]int{200, 200, 1}},
		{path: []string{"acdc-cardiac-mri", "masks", "10005.png"}, size: [3]int{512, 512, 1}},
	}
	for _, c := range cases {
		p := shareddata.Path(t, append([]string{"evaldata"}, c.path...)...)
		v, err := Read(p)
		if err != nil {
			t.Fatal(err)
		}
		if v.Size != c.size {
			t.Errorf("%s: size %v, want %v", p, v.Size, c.size)
		}
		for a := 0; a < 3; a++ {
			if c.spacing[a] != 0 && math.Abs(v.Spacing[a]-c.spacing[a]) > 1e-4 {
				t.Errorf("%s: spacing %v, want %v", p, v.Spacing, c.spacing)
				break
			}
		}
		if c.orientation != "" && v.Orientation() != c.orientation {
			t.Errorf("%s: orientation %s, want %s", p, v.Orientation(), c.orientation)
		}
		hist := map[float32]int{}
		for _, x := range v.Data {
			hist[x]++
		}
		if c.labels != nil {
			var got []float32
			for x := range hist {
				got = append(got, x)
			}
			sort.Slice(got, func(a, b int) bool { return got[a] < got[b] })
			if len(got) != len(c.labels) {
				t.Errorf("%s: label values %v, want %v", p, got, c.labels)
			}
		}
		for l, n := range c.count {
			if hist[l] != n {
				t.Errorf("%s: %d voxels of label %v, want %d", p, hist[l], l, n)
			}
		}
	}
}

func TestEvaldataDICOMMatchesPROVENANCE(t *testing.T) {
	v, err := Read(shareddata.Path(t, "evaldata", "dcmqi-ct-liver-spine", "ct-3slice"))
	if err != nil {
		t.Fatal(err)
	}
	// Slices sorted by position: k=0 is 03.dcm at z=-128.69, as the NRRD labels.
	if math.Abs(v.Origin[2]+128.69) > 1e-3 {
		t.Fatalf("origin %v, want z=-128.69", v.Origin)
	}
	seg, err := Read(shareddata.Path(t, "evaldata", "dcmqi-ct-liver-spine", "liver_spine_seg.nrrd"))
	if err != nil {
		t.Fatal(err)
	}
	if !v.SameGrid(seg, 1e-3) {
		t.Fatalf("DICOM grid %v %v %v differs from NRRD %v %v %v", v.Origin, v.Spacing, v.Direction, seg.Origin, seg.Spacing, seg.Direction)
	}
	// PROVENANCE: mean HU inside the liver is about 38; the spine is bone
	// (PROVENANCE says about 190; we measure about 327 with every voxel of
	// label 2, cortical bone included, so only "well above soft tissue" is
	// checked).
	var sum [3]float64
	var n [3]int
	for i, l := range seg.Data {
		sum[int(l)] += float64(v.Data[i])
		n[int(l)]++
	}
	if liver, spine := sum[1]/float64(n[1]), sum[2]/float64(n[2]); math.Abs(liver-38) > 5 || spine < 150 {
		t.Fatalf("mean HU liver %.1f spine %.1f, want about 38 and above 150", liver, spine)
	}
}
