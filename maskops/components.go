package maskops

// Components labels the connected components of g (8-connected when conn8,
// else 4-connected). labels[i] is 0 outside g and 1..len(sizes) inside;
// sizes[l-1] is the pixel count of component l. Labels follow raster order
// of each component's first pixel.
func Components(g Grid, conn8 bool) (labels []int32, sizes []int) {
	labels = make([]int32, len(g.Pix))
	stack := make([]int, 0, 64)
	for start, in := range g.Pix {
		if !in || labels[start] != 0 {
			continue
		}
		l := int32(len(sizes) + 1)
		labels[start] = l
		stack = append(stack[:0], start)
		size := 0
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			x, y := i%g.W, i/g.W
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if (dx == 0 && dy == 0) || (!conn8 && dx != 0 && dy != 0) {
						continue
					}
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= g.W || ny >= g.H {
						continue
					}
					j := nx + ny*g.W
					if g.Pix[j] && labels[j] == 0 {
						labels[j] = l
						stack = append(stack, j)
					}
				}
			}
		}
		sizes = append(sizes, size)
	}
	return labels, sizes
}

// RemoveSmall returns g without its 8-connected components of fewer than
// minPixels pixels.
func RemoveSmall(g Grid, minPixels int) Grid {
	labels, sizes := Components(g, true)
	out := NewGrid(g.W, g.H)
	for i, l := range labels {
		out.Pix[i] = l > 0 && sizes[l-1] >= minPixels
	}
	return out
}
