package labelmap

// Run is the stretch [X0, X1) of row Y, all foreground pixels of one
// label, belonging to connected component Comp.
type Run struct {
	Y, X0, X1 int
	Label     uint8
	Comp      int
}

// Components finds the 8-connected components of foreground pixels that
// share a label. It returns the maximal runs of each row and the area of
// each component (indexed by Run.Comp). Runs are joined with union-find:
// two runs of the same label touch when they are on adjacent rows and
// their column ranges overlap or meet diagonally.
func Components(labels []uint8, fg []bool, w, h int) (runs []Run, areas []int) {
	var parent []int
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	prevStart := 0
	for y := range h {
		start := len(runs)
		for x := 0; x < w; {
			i := y*w + x
			if !fg[i] {
				x++
				continue
			}
			e := x + 1
			for e < w && fg[y*w+e] && labels[y*w+e] == labels[i] {
				e++
			}
			id := len(parent)
			parent = append(parent, id)
			runs = append(runs, Run{Y: y, X0: x, X1: e, Label: labels[i], Comp: id})
			x = e
		}
		// Join with the previous row's runs; both lists are sorted by X0.
		p := prevStart
		for r := start; r < len(runs); r++ {
			cur := runs[r]
			for p < start && runs[p].X1 < cur.X0 { // ends left of cur−1
				p++
			}
			for q := p; q < start && runs[q].X0 <= cur.X1; q++ {
				if runs[q].Label == cur.Label {
					a, b := find(runs[q].Comp), find(cur.Comp)
					if a != b {
						parent[a] = b
					}
				}
			}
		}
		prevStart = start
	}
	// Renumber roots densely and total the areas.
	index := make([]int, len(parent))
	for i := range index {
		index[i] = -1
	}
	for r := range runs {
		root := find(runs[r].Comp)
		if index[root] < 0 {
			index[root] = len(areas)
			areas = append(areas, 0)
		}
		runs[r].Comp = index[root]
		areas[index[root]] += runs[r].X1 - runs[r].X0
	}
	return runs, areas
}
