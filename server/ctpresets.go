package server

import "sort"

// defaultCTPreset is the CT window of method.md §6 (level 40, width 400).
const defaultCTPreset = "abdomen"

// ctPresets returns the CT windows the API offers by name, as (level,
// width) in Hounsfield units.
func ctPresets() map[string][2]float64 {
	return map[string][2]float64{
		"abdomen":     {40, 400},
		"lung":        {-600, 1500},
		"bone":        {400, 1800},
		"brain":       {40, 80},
		"liver":       {60, 160},
		"mediastinum": {50, 350},
	}
}

func ctPreset(name string) (level, width float64, ok bool) {
	p, ok := ctPresets()[name]
	return p[0], p[1], ok
}

func ctPresetNames() []string {
	var names []string
	for n := range ctPresets() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
