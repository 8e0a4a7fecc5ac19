package monailabel

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseInferParamsAsThePluginSendsThem(t *testing.T) {
	// What onClickDeepgrow sends for a 2-D model: all clicks of the
	// segment, the slice of the last click, and the result format.
	req, err := parseInferParams(`{"label": "liver", "foreground": [[120, 88, 40], [130, 90, 41], [125.4, 86.6, 40]],
		"background": [[10, 10, 40], [11, 11, 39]], "slice": 40, "result_extension": ".nrrd", "result_dtype": "uint8",
		"client_id": "user-xyz", "reset_state": true}`)
	if err != nil {
		t.Fatal(err)
	}
	if req.Slice != 40 || req.Label != "liver" || req.ResultExtension != ".nrrd" {
		t.Fatalf("%+v", req)
	}
	// Points of other slices are dropped; coordinates are rounded.
	if want := [][3]int{{120, 88, 40}, {125, 87, 40}}; len(req.Foreground) != 2 || req.Foreground[0] != want[0] || req.Foreground[1] != want[1] {
		t.Errorf("foreground %v, want %v", req.Foreground, want)
	}
	if len(req.Background) != 1 || req.Background[0] != [3]int{10, 10, 40} {
		t.Errorf("background %v", req.Background)
	}
	// Without "slice", the last foreground point's slice; a ROI becomes a box.
	req, err = parseInferParams(`{"foreground": [[1, 2, 7]], "roi": [0, 20, 5, 25, 6, 8]}`)
	if err != nil || req.Slice != 7 || len(req.ROI) != 6 || req.ROI[3] != 25 {
		t.Errorf("%+v %v", req, err)
	}
	// A ROI alone segments its middle slice.
	req, err = parseInferParams(`{"roi": [0, 20, 5, 25, 6, 8]}`)
	if err != nil || req.Slice != 7 {
		t.Errorf("ROI alone: %+v %v", req, err)
	}
}

func TestParseInferParamsRejectsWithAReason(t *testing.T) {
	for params, want := range map[string]string{
		`[1, 2]`:                   "not a JSON object",
		`{"foreground": [[1, 2]]}`: "want 3 voxel indices",
		`{"slice": 3}`:             "no foreground point",
		`{"foreground": [[1, 2, 3]], "slice": 4}`:            "no foreground point on slice 4",
		`{"foreground": [[1,2,3]], "roi": [1, 2]}`:           "roi has 2 numbers",
		`{"foreground": [[1,2,3]], "result_dtype": "int16"}`: "result_dtype",
		`{}`: "no slice",
	} {
		if _, err := parseInferParams(params); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", params, err, want)
		}
	}
}

// FuzzParseInferParams checks that no params string makes the parser panic
// and that what it accepts is consistent: every kept point is on the slice.
func FuzzParseInferParams(f *testing.F) {
	for _, s := range []string{`{"foreground": [[1, 2, 3]], "slice": 3}`, `{"roi": [0, 1, 0, 1, 0, 1]}`, `{"foreground": [[1e300, -1e300, 2]]}`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		req, err := parseInferParams(s)
		if err != nil {
			return
		}
		for _, p := range append(req.Foreground, req.Background...) {
			if p[2] != req.Slice {
				t.Fatalf("kept point %v is not on slice %d", p, req.Slice)
			}
		}
		if _, err := json.Marshal(req); err != nil {
			t.Fatal(err)
		}
	})
}
