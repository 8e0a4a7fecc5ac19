package synth

import (
	"math"

	"github.com/synthfm/synthfm/synth/noise"
	"github.com/synthfm/synthfm/synth/shape"
)

// placedObject is an accepted object of a shape scene.
type placedObject struct {
	spans []shape.Span
	meta  ObjectMeta
}

// shapeScene paints the shape-aware module's scene into ws.img and the
// target's visible part into mask (method.md §1).
func (g *Generator) shapeScene(d draw, ws *workspace, mask []uint8, meta *Metadata) error {
	cfg, sc := g.cfg, g.cfg.Shape
	side := cfg.Size
	img, owner := ws.img, ws.owner
	clear(img)
	for i := range owner {
		owner[i] = -1
	}
	sm := &ShapeMeta{}
	meta.Shape = sm

	// Background: black, or black with a circular or elliptic phantom.
	var phantom []shape.Span
	if d.bernoulli(sc.PPhantom) {
		s := float64(side)
		e := shape.Ellipse{C: shape.Point{
			X: s/2 + s*sc.PhantomOffset*(2*d.Float64()-1),
			Y: s/2 + s*sc.PhantomOffset*(2*d.Float64()-1)}}
		kind := "circle"
		e.RX = d.uniform(sc.PhantomRadius) * s
		e.RY = e.RX
		if d.bernoulli(sc.PEllipse) {
			kind = "ellipse"
			e.RY = d.uniform(sc.PhantomRadius) * s
			e.Angle = math.Pi * d.Float64()
		}
		sm.Background = d.uniform(sc.PhantomIntensity)
		sm.Phantom = &PhantomMeta{Kind: kind, CX: e.C.X, CY: e.C.Y, RX: e.RX, RY: e.RY, Angle: e.Angle}
		phantom = e.Fill(side, side)
		paintSpans(img, side, phantom, float32(sm.Background))
	}

	// Objects, each redrawn until it is large enough and leaves every
	// earlier object at least min_area visible.
	minPx := g.minAreaPixels()
	k := d.intUniform(sc.Objects)
	// The target: with the size rule (method.md §2b) the object whose
	// visible part is closest to a* in log area, chosen once all are
	// placed; without it, the object of a random slot.
	targetSlot, wantPx := -1, 0.0
	if g.sizeRule() {
		wantPx = g.drawTargetArea(d, meta)
	} else {
		targetSlot = d.IntN(k)
	}
	target := -1
	var objects []placedObject
	for slot := range k {
		obj, ok := g.placeObject(d, owner, phantom, objects, minPx)
		if !ok {
			sm.Dropped++
			continue
		}
		if slot == targetSlot {
			target = len(objects)
		}
		for _, s := range obj.spans {
			row := owner[s.Y*side:]
			for x := s.X0; x < s.X1; x++ {
				if o := row[x]; o >= 0 {
					objects[o].meta.Visible--
				}
				row[x] = int8(len(objects))
			}
		}
		objects = append(objects, obj)
	}
	if len(objects) == 0 {
		return ErrNoTarget
	}
	if g.sizeRule() {
		visible := make([]int, len(objects))
		for i, o := range objects {
			if o.meta.Visible >= minPx { // always, by the placement rules
				visible[i] = o.meta.Visible
			}
		}
		if target = closestLogArea(visible, wantPx); target < 0 {
			return ErrNoTarget
		}
	} else if target < 0 { // the target was dropped: another object takes its place
		target = d.IntN(len(objects))
	}
	sm.Target = target

	// Intensities by the contrast heuristic, then paint with texture.
	for i := range objects {
		m := &objects[i].meta
		m.Alpha = d.uniform(sc.Contrast)
		m.Sign = d.sign()
		intensity := sm.Background + float64(m.Sign)*m.Alpha
		if intensity < 0 || intensity > 1 {
			m.Sign = -m.Sign
			intensity = sm.Background + float64(m.Sign)*m.Alpha
		}
		m.Intensity = math.Min(math.Max(intensity, 0), 1)
		m.Texture = d.uniform(sc.TextureAmplitude)
		p := g.perlinParams(d)
		m.TextureCells, m.TextureOctaves = p.Cells, p.Octaves
		if err := g.paintObject(d, ws, objects[i], int8(i), p); err != nil {
			return err
		}
	}
	clip01(img)
	for i, o := range owner {
		if int(o) == target {
			mask[i] = 255
		}
	}
	meta.Contrast = math.Abs(objects[target].meta.Intensity - sm.Background)
	for _, o := range objects {
		sm.Objects = append(sm.Objects, o.meta)
	}
	applied, err := g.applyNoise(d, img, ws)
	meta.Noise = applied
	return err
}

// placeObject draws objects until one passes the area rules of
// method.md §1, or gives up after max_tries.
func (g *Generator) placeObject(d draw, owner []int8, phantom []shape.Span, objects []placedObject, minPx int) (placedObject, bool) {
	cfg, sc := g.cfg, g.cfg.Shape
	side := float64(cfg.Size)
	covered := make([]int, len(objects))
	for try := 1; try <= cfg.MaxTries; try++ {
		var c shape.Point
		if phantom != nil && d.bernoulli(sc.PInsidePhantom) {
			c = randomPixelCentre(d, phantom)
		} else {
			c = shape.Point{X: side * d.Float64(), Y: side * d.Float64()}
		}
		m := ObjectMeta{CX: c.X, CY: c.Y, Radius: g.drawRadius(d) * side,
			ControlPoints: d.intUniform(sc.ControlPoints), Tries: try}
		points, _ := shape.RandomPoints(d.Rand, m.ControlPoints, c, m.Radius,
			sc.RadiusJitter.Min, sc.RadiusJitter.Max, sc.MinPointGap*m.Radius/float64(m.ControlPoints), cfg.MaxTries)
		m.Rad, m.Edgy = d.uniform(sc.Rad), d.uniform(sc.Edgy)
		if sc.Rotate {
			m.Rotation = 2 * math.Pi * d.Float64()
			shape.Rotate(points, c, m.Rotation)
		}
		spans := shape.FillPolygon(shape.Blob{Points: points, Rad: m.Rad, Edgy: m.Edgy}.Polygon(), cfg.Size, cfg.Size)
		m.Area = shape.Area(spans)
		if m.Area < minPx {
			continue
		}
		clear(covered)
		for _, s := range spans {
			for _, o := range owner[s.Y*cfg.Size+s.X0 : s.Y*cfg.Size+s.X1] {
				if o >= 0 {
					covered[o]++
				}
			}
		}
		ok := true
		for i, o := range objects {
			if o.meta.Visible-covered[i] < minPx {
				ok = false
				break
			}
		}
		if ok {
			m.Visible = m.Area
			return placedObject{spans: spans, meta: m}, true
		}
	}
	return placedObject{}, false
}

// drawRadius draws R as a fraction of the side: log-uniformly in
// shape.radius (method.md §2b), or uniformly when radius_log_uniform is off.
func (g *Generator) drawRadius(d draw) float64 {
	if sc := g.cfg.Shape; sc.RadiusLogUniform {
		return d.logUniform(sc.Radius)
	}
	return d.uniform(g.cfg.Shape.Radius)
}

// randomPixelCentre picks a pixel uniformly among spans and returns its centre.
func randomPixelCentre(d draw, spans []shape.Span) shape.Point {
	k := d.IntN(shape.Area(spans))
	for _, s := range spans {
		if n := s.X1 - s.X0; k >= n {
			k -= n
			continue
		}
		return shape.Point{X: float64(s.X0+k) + 0.5, Y: float64(s.Y) + 0.5}
	}
	panic("unreachable: k is below the total area")
}

// paintSpans sets every pixel of spans to v.
func paintSpans(img []float32, side int, spans []shape.Span, v float32) {
	for _, s := range spans {
		row := img[s.Y*side:]
		for x := s.X0; x < s.X1; x++ {
			row[x] = v
		}
	}
}

// paintObject writes I_k·(1 + a·T) on the pixels object id still owns,
// with T a standardized Perlin field over the object's bounding box.
func (g *Generator) paintObject(d draw, ws *workspace, o placedObject, id int8, p noise.PerlinParams) error {
	side := g.cfg.Size
	x0, y0, x1, y1 := shape.Bounds(o.spans)
	bw, bh := x1-x0, y1-y0
	field := ws.scratch[:bw*bh]
	if err := noise.Perlin(field, bw, bh, p, d.Rand); err != nil {
		return err
	}
	intensity, a := float32(o.meta.Intensity), float32(o.meta.Texture)
	for _, s := range o.spans {
		img := ws.img[s.Y*side+s.X0 : s.Y*side+s.X1]
		owner := ws.owner[s.Y*side+s.X0 : s.Y*side+s.X1]
		t := field[(s.Y-y0)*bw+s.X0-x0:][:len(img)]
		for i := range img {
			if owner[i] == id {
				img[i] = intensity * (1 + a*t[i])
			}
		}
	}
	return nil
}
