package labelmap

// Erode erodes each label l of the w×h map labels iterations[l] times
// with a 3×3 structuring element and returns the foreground: true where a
// pixel survives. Outside the canvas counts as the same label, so gaps
// open only between labels (method.md §2). Labels beyond len(iterations)
// are not eroded.
//
// k iterations of a 3×3 erosion equal one erosion by a (2k+1)×(2k+1)
// square, which is separable: a pixel survives when every pixel within k
// rows above and below it carries its label (the column test), and every
// pixel within k columns of it carries its label and passes its own
// column test (the row test). Run lengths make both tests O(1) per pixel.
func Erode(labels []uint8, w, h int, iterations []int) []bool {
	var kOf [256]int32 // iterations per label, 0 beyond the list
	for l, k := range iterations[:min(len(iterations), 256)] {
		kOf[l] = int32(k)
	}
	// Column test: distance to the nearest different label above and below.
	colOK := make([]bool, w*h)
	up := make([]int32, w) // same-label run ending at this row, per column
	const far = int32(1 << 30)
	for y := range h {
		for x := range w {
			i := y*w + x
			if y > 0 && labels[i-w] == labels[i] && up[x] < far {
				up[x]++
			} else if y == 0 {
				up[x] = far // the canvas edge counts as the same label
			} else if labels[i-w] != labels[i] {
				up[x] = 1
			}
			colOK[i] = up[x] > kOf[labels[i]]
		}
	}
	down := up
	for y := h - 1; y >= 0; y-- {
		for x := range w {
			i := y*w + x
			if y == h-1 {
				down[x] = far
			} else if labels[i+w] == labels[i] {
				if down[x] < far {
					down[x]++
				}
			} else {
				down[x] = 1
			}
			colOK[i] = colOK[i] && down[x] > kOf[labels[i]]
		}
	}
	// Row test over runs of same-label pixels that pass the column test.
	fg := make([]bool, w*h)
	for y := range h {
		row := labels[y*w : (y+1)*w]
		ok := colOK[y*w : (y+1)*w]
		for x0 := 0; x0 < w; {
			x1 := x0 + 1
			for x1 < w && row[x1] == row[x0] {
				x1++
			}
			// Same-label run [x0, x1): split it into stretches of ok pixels.
			kk := int(kOf[row[x0]])
			for s := x0; s < x1; {
				if !ok[s] {
					s++
					continue
				}
				e := s + 1
				for e < x1 && ok[e] {
					e++
				}
				// Pixels of [s, e) at least kk from a bad neighbour; a
				// stretch reaching the canvas edge is unbounded there.
				left, right := s+kk, e-1-kk
				if s == 0 {
					left = 0
				}
				if e == w {
					right = w - 1
				}
				for x := left; x <= right; x++ {
					fg[y*w+x] = true
				}
				s = e
			}
			x0 = x1
		}
	}
	return fg
}
