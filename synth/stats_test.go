package synth

import (
	"math"
	"slices"
	"testing"

	"github.com/synthfm/synthfm/synth/shape"
)

// Statistics over many samples: every range of method.md §1–2 is obeyed
// and every probability shows up at about its rate.

func TestShapeModuleStatistics(t *testing.T) {
	const size, n = 128, 240
	g := generator(t, "shape-only", size)
	minPx := g.minAreaPixels()
	perK := map[int]int{}
	phantoms, ellipses, centres, inside := 0, 0, 0, 0
	for i := range n {
		s := sample(t, g, 11, i)
		m := s.Meta.Shape
		k := len(m.Objects) + m.Dropped
		if k < 1 || k > 5 || len(m.Objects) < 1 {
			t.Fatalf("#%d: %d objects placed, %d dropped", i, len(m.Objects), m.Dropped)
		}
		perK[k]++
		for j, o := range m.Objects {
			switch {
			case o.Radius < 0.03*size || o.Radius > 0.55*size:
				t.Errorf("#%d object %d: R = %g px outside [0.03, 0.55]×%d", i, j, o.Radius, size)
			case o.ControlPoints < 3 || o.ControlPoints > 12:
				t.Errorf("#%d object %d: %d control points", i, j, o.ControlPoints)
			case o.Visible < minPx || o.Visible > o.Area:
				t.Errorf("#%d object %d: visible %d of %d, min %d", i, j, o.Visible, o.Area, minPx)
			case o.Alpha < 0.02 || o.Alpha > 0.6 || o.Intensity < 0 || o.Intensity > 1:
				t.Errorf("#%d object %d: α %g, I %g", i, j, o.Alpha, o.Intensity)
			case o.Texture < 0 || o.Texture > 0.3:
				t.Errorf("#%d object %d: texture amplitude %g", i, j, o.Texture)
			}
			// I_k = clip(I_b + s·α): the sign was flipped only if needed.
			if want := m.Background + float64(o.Sign)*o.Alpha; math.Abs(math.Min(math.Max(want, 0), 1)-o.Intensity) > 1e-12 {
				t.Errorf("#%d object %d: intensity %g ≠ clip(%g + %d·%g)", i, j, o.Intensity, m.Background, o.Sign, o.Alpha)
			}
		}
		target := m.Objects[m.Target]
		if s.Meta.TargetArea != target.Visible {
			t.Errorf("#%d: mask %d px, target visible %d px", i, s.Meta.TargetArea, target.Visible)
		}
		if math.Abs(s.Meta.Contrast-math.Abs(target.Intensity-m.Background)) > 1e-12 {
			t.Errorf("#%d: contrast %g", i, s.Meta.Contrast)
		}
		if p := m.Phantom; p != nil {
			phantoms++
			if p.Kind == "ellipse" {
				ellipses++
			}
			if math.Abs(p.CX-size/2) > 0.05*size || math.Abs(p.CY-size/2) > 0.05*size ||
				p.RX < 0.30*size || p.RX > 0.48*size || p.RY < 0.30*size || p.RY > 0.48*size {
				t.Errorf("#%d: phantom %+v", i, p)
			}
			e := shape.Ellipse{C: shape.Point{X: p.CX, Y: p.CY}, RX: p.RX, RY: p.RY, Angle: p.Angle}
			for _, o := range m.Objects {
				centres++
				if e.Contains(shape.Point{X: o.CX, Y: o.CY}) {
					inside++
				}
			}
		} else if m.Background != 0 {
			t.Errorf("#%d: black canvas with I_b = %g", i, m.Background)
		}
	}
	// Binomial(240, ½): sd 7.7, so ±30 is about 4 sd.
	if phantoms < n/2-30 || phantoms > n/2+30 {
		t.Errorf("%d phantoms in %d samples, want about half", phantoms, n)
	}
	if ellipses < phantoms/2-25 || ellipses > phantoms/2+25 {
		t.Errorf("%d ellipses among %d phantoms", ellipses, phantoms)
	}
	// 80 % of centres are drawn inside, the rest land inside by chance.
	if f := float64(inside) / float64(centres); f < 0.78 {
		t.Errorf("%.2f of object centres inside the phantom, want ≥ 0.8", f)
	}
	for k := 1; k <= 5; k++ {
		if perK[k] < n/5-25 || perK[k] > n/5+25 {
			t.Errorf("K = %d drawn %d times in %d, want about %d", k, perK[k], n, n/5)
		}
	}
}

func TestShapeModulePaintsTheTargetFlat(t *testing.T) {
	// Without texture and noise the target's visible pixels carry I_t
	// exactly and the canvas outside objects carries I_b.
	g := generator(t, "shape-only", 96, func(c *Config) {
		c.Noise.P = 0
		c.Shape.TextureAmplitude = Range{0, 0}
	})
	for i := range 30 {
		s := sample(t, g, 12, i)
		m := s.Meta.Shape
		want := uint8(m.Objects[m.Target].Intensity*255 + 0.5)
		for p, v := range s.Mask.Pix {
			if v == 255 && s.Image.Pix[p] != want {
				t.Fatalf("#%d: target pixel %d is %d, want %d", i, p, s.Image.Pix[p], want)
			}
		}
		if m.Phantom == nil && s.Image.Pix[0] != 0 {
			// The corner is background unless an object covers it.
			covered := false
			for _, o := range m.Objects {
				covered = covered || o.CX-1.4*o.Radius < 1 && o.CY-1.4*o.Radius < 1
			}
			if !covered {
				t.Errorf("#%d: black canvas corner is %d", i, s.Image.Pix[0])
			}
		}
		if len(s.Meta.Noise) != 0 {
			t.Fatalf("#%d: noise applied with p = 0: %v", i, s.Meta.Noise)
		}
	}
}

func TestBoundaryModuleStatistics(t *testing.T) {
	const size, n = 128, 60
	g := generator(t, "boundary-only", size)
	kmax := int(math.Round(4 * size / 256.0))
	labels, present, eroded := 0, 0, 0
	withNoise, large := 0, 0
	for i := range n {
		s := sample(t, g, 13, i)
		b := s.Meta.Boundary
		if b.Labels < 3 || b.Labels > 15 || b.LabelsPresent > b.Labels || b.LabelsPresent < 2 {
			t.Errorf("#%d: %d labels drawn, %d present", i, b.Labels, b.LabelsPresent)
		}
		labels += b.Labels
		present += b.LabelsPresent
		eroded += len(b.Eroded)
		if b.LargeScale {
			large++
		}
		if want := 2 + btoi(b.LargeScale); len(b.NoiseSigmas) != want {
			t.Errorf("#%d: %d noise sigmas, want %d (large scale %v)", i, len(b.NoiseSigmas), want, b.LargeScale)
		}
		for _, e := range b.Eroded {
			if e.Iterations < 1 || e.Iterations > kmax || e.Label < 0 || e.Label >= b.Labels {
				t.Errorf("#%d: erosion %+v (k_max %d)", i, e, kmax)
			}
		}
		if s.Meta.TargetArea < g.minAreaPixels() || b.Candidates < 1 || b.Regions < b.Candidates {
			t.Errorf("#%d: target %d px, %d candidates of %d regions", i, s.Meta.TargetArea, b.Candidates, b.Regions)
		}
		if d := math.Abs(b.Delta); d < 0.01 || d > 0.15 || s.Meta.Contrast != d {
			t.Errorf("#%d: δ = %g", i, b.Delta)
		}
		if b.Noise {
			withNoise++
		} else if len(s.Meta.Noise) != 0 {
			t.Errorf("#%d: noise models listed though the library was off", i)
		}
	}
	if f := float64(present) / float64(labels); f < 0.8 {
		t.Errorf("only %.2f of drawn labels appear in the maps", f)
	}
	if f := float64(eroded) / float64(labels); f < 0.4 || f > 0.6 {
		t.Errorf("%.2f of labels eroded, want about 0.5", f)
	}
	if withNoise < n/2-20 || withNoise > n/2+20 {
		t.Errorf("noise library on in %d of %d samples, want about half", withNoise, n)
	}
	// The last label map drawn per sample; Binomial(60, ½): sd 3.9.
	if large < n/2-16 || large > n/2+16 {
		t.Errorf("large noise scale in %d of %d samples, want about half", large, n)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestBoundaryModuleCanvasAndGaps(t *testing.T) {
	// Without noise and outliers, regions take values in [a, b] and the
	// gaps opened by erosion take mean(C) + δ.
	g := generator(t, "boundary-only", 128, func(c *Config) {
		c.Boundary.PNoise = 0
		c.Boundary.Outliers = Range{0, 0}
	})
	for i := range 20 {
		s := sample(t, g, 14, i)
		b := s.Meta.Boundary
		lo := math.Max(b.CanvasMean-b.CanvasWidth/2, 0)
		hi := math.Min(b.CanvasMean+b.CanvasWidth/2, 1)
		gap := uint8(math.Min(math.Max(b.CanvasAverage+b.Delta, 0), 1)*255 + 0.5)
		gaps := 0
		for p, v := range s.Image.Pix {
			inCanvas := float64(v) >= math.Floor(lo*255) && float64(v) <= math.Ceil(hi*255)
			if v == gap && !inCanvas {
				gaps++
			} else if !inCanvas {
				t.Fatalf("#%d: pixel %d = %d is neither in [%g, %g]·255 nor the gap value %d", i, p, v, lo, hi, gap)
			}
			if s.Mask.Pix[p] == 255 && !inCanvas {
				t.Fatalf("#%d: target pixel %d is a gap pixel", i, p)
			}
		}
		gapInCanvas := float64(gap) >= math.Floor(lo*255) && float64(gap) <= math.Ceil(hi*255)
		if len(b.Eroded) > 0 && !gapInCanvas && gaps == 0 {
			t.Errorf("#%d: %d labels eroded but no gap pixels", i, len(b.Eroded))
		}
		if math.Abs(b.CanvasAverage-(lo+hi)/2) > 0.01 {
			t.Errorf("#%d: mean(C) = %g, want ≈ (a+b)/2 = %g", i, b.CanvasAverage, (lo+hi)/2)
		}
	}
}

func TestReplaceOutliersRate(t *testing.T) {
	v := make([]float32, 200000)
	for i := range v {
		v[i] = 2 // outside [0,1], so replaced values are recognisable
	}
	replaceOutliers(draw{sampleRNG(1, 1)}, v, 0.03)
	n := 0
	for _, x := range v {
		if x != 2 {
			n++
			if x < 0 || x >= 1 {
				t.Fatalf("replacement %g outside [0,1)", x)
			}
		}
	}
	// Binomial(200000, 0.03): mean 6000, sd 76.
	if n < 5700 || n > 6300 {
		t.Errorf("%d replaced, want about 6000", n)
	}
}

func TestNoiseLibraryRatesOrderAndRanges(t *testing.T) {
	const size, n = 64, 300
	g := generator(t, "shape-only", size)
	order := []string{NoiseBlur, NoisePerlin, NoiseSpeckle, NoisePoisson, NoiseGaussian, NoiseRician}
	count := map[string]int{}
	for i := range n {
		s := sample(t, g, 15, i)
		last := -1
		for _, m := range s.Meta.Noise {
			k := slices.Index(order, m.Model)
			if k <= last {
				t.Fatalf("#%d: models out of order: %v", i, s.Meta.Noise)
			}
			last = k
			count[m.Model]++
			p := m.Params
			var bad bool
			switch m.Model {
			case NoiseBlur:
				bad = p["sigma"] < 0 || p["sigma"] > 3*size/1024.0
			case NoisePerlin:
				bad = p["amplitude"] > 0.2 || p["cells"] < 2 || p["cells"] > 32 || p["octaves"] < 1 || p["octaves"] > 5
			case NoiseSpeckle:
				bad = p["beta"] > 1 || p["smooth_sigma"] > 1.5*size/256.0
			case NoisePoisson:
				bad = p["peak"] < 10 || p["peak"] > 1000
			case NoiseGaussian:
				bad = p["sigma"] > 0.15
			case NoiseRician:
				bad = p["sigma"] > 0.1
			}
			if bad {
				t.Errorf("#%d: %s parameters %v out of range", i, m.Model, p)
			}
		}
	}
	for _, m := range order {
		// Binomial(300, ½): sd 8.7.
		if count[m] < n/2-35 || count[m] > n/2+35 {
			t.Errorf("%s applied %d times in %d, want about half", m, count[m], n)
		}
	}
}
