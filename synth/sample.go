package synth

import "image"

// Sample is one generated training example.
type Sample struct {
	Image *image.Gray // size×size, 8-bit grey
	Mask  *image.Gray // size×size, 255 on the target, 0 elsewhere
	Meta  Metadata
}

// ImageFloat32 returns the image as intensities in [0,1] (pixel/255),
// reusing dst when it is large enough.
func (s *Sample) ImageFloat32(dst []float32) []float32 {
	n := len(s.Image.Pix)
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	for i, p := range s.Image.Pix {
		dst[i] = float32(p) / 255
	}
	return dst
}

// Metadata records how a sample was made.
type Metadata struct {
	Module     string `json:"module"` // ModuleShape or ModuleBoundary
	Seed       uint64 `json:"seed"`
	Index      int    `json:"index"`
	Size       int    `json:"size"`
	TargetArea int    `json:"target_area"` // mask pixels
	// DesiredArea is a*, the target area fraction the size rule aimed
	// at (method.md §2b); 0 when the rule is off.
	DesiredArea float64 `json:"desired_area,omitempty"`
	// Contrast is the target's intensity difference to what surrounds
	// it before noise: |I_target − I_b| (shape), |δ| (boundary).
	Contrast float64       `json:"contrast"`
	Shape    *ShapeMeta    `json:"shape,omitempty"`
	Boundary *BoundaryMeta `json:"boundary,omitempty"`
	Noise    []NoiseMeta   `json:"noise"` // models applied, in order
}

// TargetFraction is the target's area as a fraction of the canvas.
func (m Metadata) TargetFraction() float64 {
	if m.Size <= 0 {
		return 0
	}
	return float64(m.TargetArea) / float64(m.Size*m.Size)
}

// Module names.
const (
	ModuleShape    = "shape"
	ModuleBoundary = "boundary"
)

// ShapeMeta describes a shape-module scene.
type ShapeMeta struct {
	Background float64      `json:"background"` // I_b: phantom intensity, 0 without one
	Phantom    *PhantomMeta `json:"phantom,omitempty"`
	Objects    []ObjectMeta `json:"objects"` // placed objects, in paint order
	Target     int          `json:"target"`  // index into Objects
	Dropped    int          `json:"dropped"` // objects given up after max_tries redraws
}

// PhantomMeta is the background phantom, in pixels.
type PhantomMeta struct {
	Kind  string  `json:"kind"` // "circle" or "ellipse"
	CX    float64 `json:"cx"`
	CY    float64 `json:"cy"`
	RX    float64 `json:"rx"`
	RY    float64 `json:"ry"`
	Angle float64 `json:"angle"`
}

// ObjectMeta is one Bézier object, lengths in pixels.
type ObjectMeta struct {
	CX             float64 `json:"cx"`
	CY             float64 `json:"cy"`
	Radius         float64 `json:"radius"` // R
	ControlPoints  int     `json:"control_points"`
	Rad            float64 `json:"rad"`
	Edgy           float64 `json:"edgy"`
	Rotation       float64 `json:"rotation"`
	Tries          int     `json:"tries"`   // draws until accepted
	Area           int     `json:"area"`    // pixels when painted
	Visible        int     `json:"visible"` // pixels left after later objects
	Alpha          float64 `json:"alpha"`
	Sign           int     `json:"sign"`
	Intensity      float64 `json:"intensity"` // I_k
	Texture        float64 `json:"texture"`   // a in (1 + a·T)
	TextureCells   int     `json:"texture_cells"`
	TextureOctaves int     `json:"texture_octaves"`
}

// BoundaryMeta describes a boundary-module scene.
type BoundaryMeta struct {
	Labels        int           `json:"labels"`         // J drawn
	LabelsPresent int           `json:"labels_present"` // labels that won at least one pixel
	LargeScale    bool          `json:"large_scale"`    // the large noise scale joined the others
	NoiseSigmas   []float64     `json:"noise_sigmas"`
	WarpSigmas    []float64     `json:"warp_sigmas"` // px
	Eroded        []ErodedLabel `json:"eroded"`
	Regions       int           `json:"regions"`    // connected regions after erosion
	Candidates    int           `json:"candidates"` // regions of at least min_area
	TargetLabel   int           `json:"target_label"`
	Tries         int           `json:"tries"` // label maps drawn
	CanvasMean    float64       `json:"canvas_mean"`
	CanvasWidth   float64       `json:"canvas_width"`
	Outliers      float64       `json:"outliers"`
	CanvasAverage float64       `json:"canvas_average"` // mean(C)
	Delta         float64       `json:"delta"`          // gap intensity − mean(C)
	Noise         bool          `json:"noise"`          // noise library applied
}

// ErodedLabel is a label eroded Iterations times.
type ErodedLabel struct {
	Label      int `json:"label"`
	Iterations int `json:"iterations"`
}

// NoiseMeta is one applied noise model and its parameters.
type NoiseMeta struct {
	Model  string             `json:"model"`
	Params map[string]float64 `json:"params"`
}
