package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // image formats accepted by --image
	_ "image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"codeberg.org/sbinet/npyio"
	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"

	"github.com/synthfm/synthfm/dataset"
	"github.com/synthfm/synthfm/internal/atomicfile"
	"github.com/synthfm/synthfm/internal/overlay"
	"github.com/synthfm/synthfm/medimg"
	"github.com/synthfm/synthfm/models"
	"github.com/synthfm/synthfm/promptable"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/imageproc"
)

const segmentHelp = `
Segments one image from clicks and/or a box with any model of the
registry (--model: the built-in SynthFM clicknet by default, the classical
baseline, clicknet weights from synthfm train, or a SAM/MedSAM checkpoint),
and writes the mask (a PNG of the image's size, 255 inside, 0 outside, or a
NIfTI label volume).

--image takes a picture (PNG, JPEG, TIFF, BMP or GIF: grey pictures are
replicated to RGB and 16-bit ones reduced to their high byte) or any image
synthfm serve and eval read: NIfTI (.nii, .nii.gz), NRRD, GIPL, NumPy
(.npy, .npz#key) or DICOM (a file, or a folder holding one series). A
volume is sliced as the web page shows it (axial planes of the image turned
to LPS: the patient's right on the left, anterior at the top): --slice N
picks the plane, by default the middle one, and the clicks and the box are
pixels of that plane. --window sets how its values become grey levels: a CT
preset (soft-tissue, lung, brain, bone, liver), LEVEL,WIDTH in HU, auto
(MedSAM's clipping to the 0.5–99.5 percentiles, for MR and other
modalities) or none; by default none for 8-bit images, soft-tissue for CT
(values reaching -500) and auto otherwise. With --window a picture is read
as such an image too (a 16-bit PNG windowed instead of cut to 8 bits).

--out ending in .nii or .nii.gz receives the mask as a NIfTI label volume
on the input's grid (size, spacing, origin and direction), 1 in the
segmented slice and 0 elsewhere; any other --out receives a PNG of the
plane.

--model default (the default) is the model built into the binary
(clicknet, trained on synthetic images only; models/builtin/README.md):
nothing to download. --model FILE (or --checkpoint FILE) takes weights: a
.safetensors file with a .json beside it saying "family": "clicknet" (as
synthfm train writes them), or a SAM checkpoint: a .pth file as released
(torch.save) or a .safetensors file with SAM's state_dict names, whose
architecture --model-config names (vit_b, vit_l, vit_h, or a JSON file with
the keys of the fixtures' config_*.json; without it, the .json beside the
weights or vit_b/l/h recognised from the tensors).

--points lists clicks in image pixels, x,y,label separated by ";" (x is the
column, y the row; label 1 = foreground, 0 = background). --box x0,y0,x1,y1
adds a box (top-left and bottom-right corners). Give points, a box or both.

By default one mask is returned, chosen by the project's one rule
(promptable.SegmentOne: for a single click the best-scoring of the model's
candidate masks, otherwise its single mask; clicknet has one mask either
way). --multimask lists a model's candidate masks (SAM's three): --out
receives the best-scoring one. --medsam feeds a SAM checkpoint the image
scaled to [0, 1] instead of SAM's mean/std normalisation (MedSAM's input).

--overlay writes the image with the mask tinted and outlined, the clicks
(green foreground, red background) and the box. The mask and the overlay
are written together: when one cannot be written, neither is.

--logits-out F.npy (SAM models) writes the low-resolution logits of the returned masks
(float32, N×L×L with L = img_size/4, before upsampling) and their predicted
IoUs to F_iou.npy (float32, N), for debugging and parity checks.

Example:
  synthfm segment --image us.png --points "120,88,1" --out mask.png --overlay overlay.png
  synthfm segment --image ct.nii.gz --slice 40 --window soft-tissue \
      --points "250,180,1;300,200,0" --out mask.nii.gz
  synthfm segment --model sam_vit_b_01ec64.pth --image ct.png \
      --points "250,180,1;300,200,0" --out mask.png --overlay overlay.png
  synthfm segment --checkpoint medsam_vit_b.pth --medsam --image us.png \
      --box 40,60,200,220 --out mask.png`

func runSegment(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "segment", "[--model default|baseline|FILE [--model-config F]] --image IMG [--slice N] [--window W] --points \"x,y,label;...\" [--box x0,y0,x1,y1] --out mask.png|mask.nii.gz [--overlay over.png] [--logits-out F.npy]", segmentHelp)
	modelName := fs.String("model", models.Default, "model: "+models.RegistryHelp())
	ckpt := fs.String("checkpoint", "", "weights file, the same as --model FILE")
	modelConfig := fs.String("model-config", "", "architecture: vit_b, vit_l, vit_h or a JSON config file (default: the .json next to the checkpoint, else recognised from the tensors)")
	imagePath := fs.String("image", "", "image to segment: a picture (PNG, JPEG, TIFF, BMP, GIF) or a volume (NIfTI, NRRD, GIPL, NumPy, DICOM file or series folder) (required)")
	sliceFlag := fs.Int("slice", 0, "axial slice of a volume to segment (default: the middle one)")
	windowFlag := fs.String("window", "", "grey levels of a volume: "+strings.Join(dataset.WindowNames(), ", ")+" or LEVEL,WIDTH (default: none for 8-bit, soft-tissue for CT, auto otherwise)")
	pointsFlag := fs.String("points", "", `clicks "x,y,label;..." in image pixels, label 1 foreground, 0 background`)
	boxFlag := fs.String("box", "", "box x0,y0,x1,y1 in image pixels")
	out := fs.String("out", "", "mask to write: PNG, or NIfTI on the input's grid when it ends in .nii or .nii.gz (required)")
	overlay := fs.String("overlay", "", "also write the image with the mask, clicks and box drawn on it (PNG)")
	logitsOut := fs.String("logits-out", "", "also write the low-res logits (F.npy) and predicted IoUs (F_iou.npy)")
	multimask := fs.Bool("multimask", false, "return SAM's three masks (--out gets the highest predicted IoU)")
	medsam := fs.Bool("medsam", false, "feed the image scaled to [0,1] (MedSAM) instead of SAM's mean/std normalisation")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	switch {
	case *imagePath == "":
		return usageError{"--image is required"}
	case *out == "":
		return usageError{"--out is required"}
	case *pointsFlag == "" && *boxFlag == "":
		return usageError{"give --points, --box or both"}
	}
	if *logitsOut != "" && !strings.HasSuffix(*logitsOut, ".npy") {
		return usageError{"--logits-out must end in .npy"}
	}
	for _, o := range []struct{ flag, path string }{{"out", *out}, {"overlay", *overlay}, {"logits-out", *logitsOut}} {
		if err := checkOutputFile(o.path); err != nil {
			return usageError{fmt.Sprintf("--%s: %v", o.flag, err)}
		}
	}
	clicks, err := parseClicks(*pointsFlag)
	if err != nil {
		return usageError{err.Error()}
	}
	var box *[4]float64
	if *boxFlag != "" {
		b, err := parseBox(*boxFlag)
		if err != nil {
			return usageError{err.Error()}
		}
		box = &b
	}
	if len(clicks) == 0 && box == nil {
		return usageError{"--points holds no click and there is no --box"}
	}
	slice := -1 // the middle one
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "slice" {
			slice = *sliceFlag
		}
	})
	if *sliceFlag < 0 {
		return usageError{fmt.Sprintf("--slice %d: give a slice index from 0", *sliceFlag)}
	}
	var window *dataset.Window
	if *windowFlag != "" {
		w, err := dataset.ParseNamedWindow(*windowFlag)
		if err != nil {
			return usageError{"--window: " + err.Error()}
		}
		window = &w
	}
	in, err := readSegmentInput(*imagePath, slice, window)
	if err != nil {
		return err
	}
	img := in.img
	prompt := promptable.Prompt{}
	for _, c := range clicks {
		prompt.Points = append(prompt.Points, promptable.Point{X: c.X, Y: c.Y, Positive: c.Positive})
	}
	if box != nil {
		prompt.Box = &promptable.Box{X0: box[0], Y0: box[1], X1: box[2], Y1: box[3]}
	}
	if err := prompt.Validate(img.Width, img.Height, promptable.MaxClicks); err != nil {
		return usageError{err.Error()}
	}

	start := time.Now()
	name := *modelName
	if *ckpt != "" {
		if name != models.Default {
			return usageError{"give the weights with --model FILE or --checkpoint FILE, not both"}
		}
		name = *ckpt
	}
	loadedModel, err := models.Load(ctx, models.Spec{Model: name, Config: *modelConfig, MedSAM: *medsam})
	if err != nil {
		return err
	}
	if *logitsOut != "" && loadedModel.SAM == nil {
		return usageError{"--logits-out is for SAM models (their low-resolution logits)"}
	}
	seg := loadedModel.Segmenter
	loaded := time.Now()
	emb, err := seg.Embed(ctx, img)
	if err != nil {
		return err
	}
	encoded := time.Now()
	var masks []promptable.Mask
	best := 0
	if *multimask {
		prompt.Multimask = true
		if masks, err = seg.Segment(ctx, emb, img.Width, img.Height, prompt); err != nil {
			return err
		}
		if len(masks) == 0 {
			return fmt.Errorf("%s returned no mask", seg.Info().Name)
		}
		best = promptable.Best(masks)
	} else {
		m, err := promptable.SegmentOne(ctx, seg, emb, img.Width, img.Height, prompt)
		if err != nil {
			return err
		}
		masks = []promptable.Mask{m}
	}
	decoded := time.Now()

	mask := image.NewGray(image.Rect(0, 0, img.Width, img.Height))
	for i, v := range masks[best].Pix {
		if v != 0 {
			mask.Pix[i] = 255
		}
	}
	outputs := []atomicfile.File{in.maskFile(*out, mask)}
	if *overlay != "" {
		outputs = append(outputs, pngFile(*overlay, drawOverlay(img, mask, clicks, box)))
	}
	if err := atomicfile.WriteAll(atomicfile.CrashSafe, outputs...); err != nil {
		return err
	}
	if *logitsOut != "" {
		if err := writeSAMLogits(ctx, loadedModel, emb, prompt, *logitsOut); err != nil {
			return err
		}
	}
	if in.vol != nil && in.vol.Size[2] > 1 {
		fmt.Fprintf(env.stdout, "slice %d of %d, window %s\n", in.slice, in.view.Size[2], in.window.Name)
	}
	printSegmentSummary(env.stdout, seg.Info().Name, masks, best, *out)
	fmt.Fprintf(env.stdout, "time: load %.2fs, encode %.2fs, decode %.0fms\n",
		loaded.Sub(start).Seconds(), encoded.Sub(loaded).Seconds(), float64(decoded.Sub(encoded).Microseconds())/1000)
	return nil
}

// writeSAMLogits writes a SAM model's low-resolution logits and predicted
// IoUs for the prompt (the outputs --multimask asks for, or SAM's choice).
func writeSAMLogits(ctx context.Context, m *models.Loaded, emb promptable.Embedding, p promptable.Prompt, path string) error {
	e, ok := models.SAMEmbedding(emb)
	if !ok {
		return errors.New("--logits-out: not a SAM embedding")
	}
	sp := models.SAMPrompt(p)
	if !p.Multimask {
		sp.Output = sam.OutputAuto
	}
	res, err := m.SAM.Predict(ctx, e, sp)
	if err != nil {
		return err
	}
	return writeLogitsNPY(path, res.LowRes, res.IoU)
}

// segmentImageLimits bound the picture segment reads: 64 Mpx in colour
// (the model sees it at 1024×1024).
var segmentImageLimits = medimg.Limits{MaxVoxels: 3 * 64 << 20, MaxBytes: 1 << 30}

// segmentInput is the plane segment segments and the image it comes from.
type segmentInput struct {
	img promptable.Image
	// vol is the image as read (nil for a picture read as such), view its
	// LPS view, toVolume the map from the view's voxels to vol's, slice the
	// view's plane img shows and window its grey levels.
	vol, view *medimg.Volume
	toVolume  medimg.IndexMap
	slice     int
	window    dataset.Window
}

// readSegmentInput reads --image: a picture as segment always has (when no
// window is given and image.DecodeConfig knows the file), anything else
// with medimg's registry under the command-line limits, rendered as the
// server renders it (slice of the LPS view, window). slice -1 is the
// middle one; window nil is the image's default.
func readSegmentInput(path string, slice int, window *dataset.Window) (*segmentInput, error) {
	if window == nil && isPicture(path) {
		if slice > 0 {
			return nil, usageError{fmt.Sprintf("--slice %d: %s is a picture, its one slice is 0", slice, path)}
		}
		img, err := readRGBImage(path)
		if err != nil {
			return nil, err
		}
		return &segmentInput{img: promptable.Image{Width: img.W, Height: img.H, Pix: img.Pix}}, nil
	}
	vol, err := medimg.NewRegistry(medimg.DefaultLimits()).Read(path)
	if err != nil {
		return nil, err
	}
	view, toVolume, err := dataset.LPSView(vol)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot orient the image: %w", path, err)
	}
	n := view.Size[2]
	if slice == -1 {
		slice = n / 2
	}
	if slice >= n {
		return nil, usageError{fmt.Sprintf("--slice %d is outside the image's %d slices (0 to %d)", slice, n, n-1)}
	}
	in := &segmentInput{vol: vol, view: view, toVolume: toVolume, slice: slice}
	if window != nil {
		in.window = *window
	} else {
		lo, _ := vol.Range()
		in.window = dataset.DefaultWindowFor(vol, lo)
	}
	in.img = dataset.RenderSlice(view, slice, in.window.Mapping(vol))
	return in, nil
}

// isPicture reports whether path is a regular file that a picture decoder
// (PNG, JPEG, TIFF, BMP, GIF) recognises.
func isPicture(path string) bool {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	_, _, err = image.DecodeConfig(f)
	return err == nil
}

// isNIfTIPath reports whether an output path asks for NIfTI.
func isNIfTIPath(path string) bool {
	p := strings.ToLower(path)
	return strings.HasSuffix(p, ".nii") || strings.HasSuffix(p, ".nii.gz")
}

// maskFile is the output of the mask at path: a NIfTI label volume on the
// input's grid (the segmented slice set) when path ends in .nii or
// .nii.gz, a PNG of the plane otherwise.
func (in *segmentInput) maskFile(path string, mask *image.Gray) atomicfile.File {
	if !isNIfTIPath(path) {
		return pngFile(path, mask)
	}
	var labels *medimg.Volume
	if in.vol != nil {
		labels = dataset.LabelVolume(in.vol)
		dataset.SetViewSlice(labels, in.toVolume, in.slice, in.view.Size[0], mask.Pix)
	} else { // a picture: its own grid, one slice
		labels = &medimg.Volume{Size: [3]int{in.img.Width, in.img.Height, 1}, Channels: 1, Data: make([]float32, len(mask.Pix)),
			Spacing: [3]float64{1, 1, 1}, Direction: medimg.Identity(), DType: "uint8"}
		for i, v := range mask.Pix {
			labels.Data[i] = float32(v / 255)
		}
	}
	gz := strings.HasSuffix(strings.ToLower(path), ".gz")
	return atomicfile.File{Path: path, Write: func(w io.Writer) error { return medimg.WriteNIfTI(w, labels, gz) }}
}

// readRGBImage decodes a picture into RGB (grey pictures replicated).
func readRGBImage(path string) (*imageproc.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The header's size is checked before the pixels are decoded: a 440 KB
	// PNG may claim 20000×20000 pixels.
	img, format, err := medimg.DecodeImage(f, segmentImageLimits)
	if errors.Is(err, medimg.ErrTooLarge) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable PNG, JPEG, TIFF, BMP or GIF image: %w", path, err)
	}
	if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 {
		return nil, fmt.Errorf("%s: empty %s image", path, format)
	}
	return imageproc.FromImage(img), nil
}

// checkOutputFile reports an output path that cannot become a file (an
// existing folder, a missing parent folder) before any work is done. An
// empty path is no output.
func checkOutputFile(path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a folder: give a file name, such as %s", path, filepath.Join(path, "mask.png"))
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: no folder %s to write it in", path, filepath.Dir(path))
	}
	return nil
}

// pngFile is a picture to write as PNG at path.
func pngFile(path string, img image.Image) atomicfile.File {
	return atomicfile.File{Path: path, Write: func(w io.Writer) error { return png.Encode(w, img) }}
}

// writePNG writes one PNG.
func writePNG(path string, img image.Image) error {
	return atomicfile.WriteAll(atomicfile.CrashSafe, pngFile(path, img))
}

// printSegmentSummary lists the returned masks with their score and area.
func printSegmentSummary(w io.Writer, model string, masks []promptable.Mask, best int, out string) {
	for i, m := range masks {
		mark := " "
		if i == best {
			mark = "*"
		}
		area, total := m.Area(), m.Width*m.Height
		fmt.Fprintf(w, "%s mask %d: score %.3f, %d px (%.1f %% of %d×%d)\n",
			mark, i, m.Score, area, 100*float64(area)/float64(total), m.Width, m.Height)
	}
	fmt.Fprintf(w, "wrote %s (mask %d, model %s)\n", out, best, model)
}

// click is one point prompt in original-image pixels.
type click struct {
	X, Y     float64
	Positive bool
}

// parseClicks parses "x,y,label;x,y,label;..." (label 1 = positive, 0 =
// negative). Empty input gives no clicks.
func parseClicks(s string) ([]click, error) {
	var clicks []click
	for i, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fields := strings.Split(part, ",")
		if len(fields) != 3 {
			return nil, fmt.Errorf("point %d %q: want x,y,label (label 1 = positive, 0 = negative)", i+1, part)
		}
		var v [2]float64
		for j, name := range []string{"x", "y"} {
			f, err := strconv.ParseFloat(strings.TrimSpace(fields[j]), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("point %d %q: %s %q is not a number", i+1, part, name, strings.TrimSpace(fields[j]))
			}
			v[j] = f
		}
		var positive bool
		switch strings.TrimSpace(fields[2]) {
		case "1":
			positive = true
		case "0":
		default:
			return nil, fmt.Errorf("point %d %q: label %q must be 1 (positive) or 0 (negative)", i+1, part, strings.TrimSpace(fields[2]))
		}
		clicks = append(clicks, click{X: v[0], Y: v[1], Positive: positive})
	}
	return clicks, nil
}

// parseBox parses "x0,y0,x1,y1" with x0 < x1 and y0 < y1.
func parseBox(s string) ([4]float64, error) {
	var b [4]float64
	fields := strings.Split(s, ",")
	if len(fields) != 4 {
		return b, fmt.Errorf("box %q: want x0,y0,x1,y1", s)
	}
	for i, f := range fields {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return b, fmt.Errorf("box %q: %q is not a number", s, strings.TrimSpace(f))
		}
		b[i] = v
	}
	if b[2] <= b[0] || b[3] <= b[1] {
		return b, fmt.Errorf("box %q: want x0 < x1 and y0 < y1 (top-left corner first)", s)
	}
	return b, nil
}

// drawOverlay paints the mask over the image (internal/overlay): the
// interior tinted at 40 %, its boundary (mask pixels with a 4-neighbour
// outside) in full colour, the box as a rectangle and the clicks as discs
// (green positive, red negative) with a white rim.
func drawOverlay(img promptable.Image, mask *image.Gray, clicks []click, box *[4]float64) *image.NRGBA {
	out := (&imageproc.Image{H: img.Height, W: img.Width, Pix: img.Pix}).ToNRGBA()
	o := overlay.Overlay{
		Layers: []overlay.Layer{{Mask: mask, Tint: color.NRGBA{30, 144, 255, 255}, Alpha: 0.4, Outline: color.NRGBA{255, 215, 0, 255}}},
		Box:    box, BoxColor: color.NRGBA{255, 0, 255, 255},
		// A click is drawn around the centre of the pixel it falls in.
		ClickRadius: float64(max(2, min(img.Width, img.Height)/80)), RimWidth: 1,
		PositiveColor: color.NRGBA{0, 200, 0, 255}, NegativeColor: color.NRGBA{230, 0, 0, 255},
	}
	for _, c := range clicks {
		o.Clicks = append(o.Clicks, overlay.Click{X: math.Floor(c.X) + 0.5, Y: math.Floor(c.Y) + 0.5, Positive: c.Positive})
	}
	overlay.Draw(out, o)
	return out
}

// iouPath is the sibling file that receives the IoU predictions next to
// the --logits-out file: F.npy → F_iou.npy.
func iouPath(logitsPath string) string {
	return strings.TrimSuffix(logitsPath, ".npy") + "_iou.npy"
}

// writeLogitsNPY writes the low-res logits as a float32 (N, H, W) array to
// path and the IoU predictions as a float32 (N,) array to iouPath(path).
func writeLogitsNPY(path string, lowRes imageproc.Masks, iou []float32) error {
	if len(iou) != lowRes.N {
		return fmt.Errorf("%d IoU predictions for %d masks", len(iou), lowRes.N)
	}
	nested := make([][][]float32, lowRes.N)
	for i := range nested {
		m := lowRes.Mask(i)
		nested[i] = make([][]float32, lowRes.H)
		for y := range nested[i] {
			nested[i][y] = m[y*lowRes.W : (y+1)*lowRes.W]
		}
	}
	if err := writeNPYFile(path, nested); err != nil {
		return err
	}
	return writeNPYFile(iouPath(path), iou)
}

func writeNPYFile(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := npyio.Write(f, v); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
