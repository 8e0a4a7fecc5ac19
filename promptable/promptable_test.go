package promptable

import "testing"

func TestPromptValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Prompt
		ok   bool
	}{
		{"empty", Prompt{}, false},
		{"inside", Prompt{Points: []Point{{X: 0, Y: 0}, {X: 9, Y: 4}}}, true},
		{"outside x", Prompt{Points: []Point{{X: 10, Y: 0}}}, false},
		{"negative y", Prompt{Points: []Point{{X: 1, Y: -1}}}, false},
		{"box ok", Prompt{Box: &Box{X0: 0, Y0: 0, X1: 9, Y1: 4}}, true},
		{"box swapped", Prompt{Box: &Box{X0: 5, Y0: 0, X1: 2, Y1: 4}}, false},
		{"box outside", Prompt{Box: &Box{X0: 0, Y0: 0, X1: 9, Y1: 5}}, false},
		{"too many points", Prompt{Points: make([]Point, 4)}, false},
		{"previous mask of the image's size", Prompt{Points: []Point{{X: 1, Y: 1}}, Previous: make([]uint8, 50)}, true},
		{"previous mask of another size", Prompt{Points: []Point{{X: 1, Y: 1}}, Previous: make([]uint8, 49)}, false},
	} {
		err := tc.p.Validate(10, 5, 3)
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestBestTakesTheHighestScoreFirstOnTies(t *testing.T) {
	masks := []Mask{{Score: 0.2}, {Score: 0.9}, {Score: 0.9}, {Score: -1}}
	if got := Best(masks); got != 1 {
		t.Errorf("Best = %d, want 1", got)
	}
	if got := Best([]Mask{{Score: 0}}); got != 0 {
		t.Errorf("Best of one = %d, want 0", got)
	}
}
