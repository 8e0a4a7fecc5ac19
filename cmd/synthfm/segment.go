package main

import (
	"context"
	"errors"
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

	"github.com/synthfm/synthfm/medimg"
	"github.com/synthfm/synthfm/models"
	"github.com/synthfm/synthfm/promptable"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/imageproc"
)

const segmentHelp = `
Segments one image with a Segment Anything model (SAM, MedSAM, or weights
exported by synthfm) from clicks and/or a box, and writes the mask as a PNG
of the image's size (255 inside, 0 outside).

--image takes PNG, JPEG, TIFF, BMP or GIF; grey images are replicated to
RGB and 16-bit ones reduced to their high byte, so window medical images to
8 bits first.

--checkpoint takes a .pth file as released (torch.save) or a .safetensors
file with SAM's state_dict names. --model-config names the architecture:
vit_b, vit_l, vit_h, or a JSON file with the keys of the fixtures'
config_*.json. Without it, vit_b/l/h is recognised from the checkpoint.
Without --checkpoint the model built into the binary (synthfm-lite, see
models/builtin/README.md) is used: nothing to download.

--points lists clicks in image pixels, x,y,label separated by ";" (x is the
column, y the row; label 1 = foreground, 0 = background). --box x0,y0,x1,y1
adds a box (top-left and bottom-right corners). Give points, a box or both.

By default one mask is returned, chosen by SAM's rule (the best of the three
multimask outputs for a single click, the single-mask output otherwise).
--multimask returns SAM's three masks: --out receives the one with the
highest predicted IoU, and all three are listed. --medsam feeds the image
scaled to [0, 1] instead of SAM's mean/std normalisation (MedSAM's input).

--overlay writes the image with the mask tinted and outlined, the clicks
(green foreground, red background) and the box. The mask and the overlay
are written together: when one cannot be written, neither is.

--logits-out F.npy writes the low-resolution logits of the returned masks
(float32, N×L×L with L = img_size/4, before upsampling) and their predicted
IoUs to F_iou.npy (float32, N), for debugging and parity checks.

Example:
  synthfm segment --checkpoint sam_vit_b_01ec64.pth --image ct.png \
      --points "250,180,1;300,200,0" --out mask.png --overlay overlay.png
  synthfm segment --checkpoint medsam_vit_b.pth --medsam --image us.png \
      --box 40,60,200,220 --out mask.png`

func runSegment(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "segment", "[--checkpoint F [--model-config F]] --image IMG --points \"x,y,label;...\" [--box x0,y0,x1,y1] --out mask.png [--overlay over.png] [--logits-out F.npy]", segmentHelp)
	modelName := fs.String("model", models.Default, "model: "+models.RegistryHelp())
	ckpt := fs.String("checkpoint", "", "weights file, the same as --model FILE")
	modelConfig := fs.String("model-config", "", "architecture: vit_b, vit_l, vit_h or a JSON config file (default: the .json next to the checkpoint, else recognised from the tensors)")
	imagePath := fs.String("image", "", "image to segment: PNG, JPEG, TIFF, BMP or GIF (required)")
	pointsFlag := fs.String("points", "", `clicks "x,y,label;..." in image pixels, label 1 foreground, 0 background`)
	boxFlag := fs.String("box", "", "box x0,y0,x1,y1 in image pixels")
	out := fs.String("out", "", "mask PNG to write (required)")
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
	img, err := readRGBImage(*imagePath)
	if err != nil {
		return err
	}
	prompt := promptable.Prompt{}
	for _, c := range clicks {
		prompt.Points = append(prompt.Points, promptable.Point{X: c.X, Y: c.Y, Positive: c.Positive})
	}
	if box != nil {
		prompt.Box = &promptable.Box{X0: box[0], Y0: box[1], X1: box[2], Y1: box[3]}
	}
	if err := prompt.Validate(img.W, img.H, promptable.MaxClicks); err != nil {
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
	pimg := promptable.Image{Width: img.W, Height: img.H, Pix: img.Pix}
	emb, err := seg.Embed(ctx, pimg)
	if err != nil {
		return err
	}
	encoded := time.Now()
	var masks []promptable.Mask
	best := 0
	if *multimask {
		prompt.Multimask = true
		if masks, err = seg.Segment(ctx, emb, img.W, img.H, prompt); err != nil {
			return err
		}
		if len(masks) == 0 {
			return fmt.Errorf("%s returned no mask", seg.Info().Name)
		}
		best = promptable.Best(masks)
	} else {
		m, err := promptable.SegmentOne(ctx, seg, emb, img.W, img.H, prompt)
		if err != nil {
			return err
		}
		masks = []promptable.Mask{m}
	}
	decoded := time.Now()

	mask := image.NewGray(image.Rect(0, 0, img.W, img.H))
	for i, v := range masks[best].Pix {
		if v != 0 {
			mask.Pix[i] = 255
		}
	}
	outputs := []pngOutput{{*out, mask}}
	if *overlay != "" {
		outputs = append(outputs, pngOutput{*overlay, drawOverlay(img, mask, clicks, box)})
	}
	if err := writePNGs(outputs...); err != nil {
		return err
	}
	if *logitsOut != "" {
		if err := writeSAMLogits(ctx, loadedModel, emb, prompt, *logitsOut); err != nil {
			return err
		}
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

// readRGBImage decodes an image file into RGB (grey images replicated).
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

// pngOutput is a picture to write and its path.
type pngOutput struct {
	path string
	img  image.Image
}

// writePNG writes one PNG (see writePNGs).
func writePNG(path string, img image.Image) error { return writePNGs(pngOutput{path, img}) }

// writePNGs writes the pictures all or nothing as far as a CLI can: each is
// encoded to a temporary file beside its path, and only when all are
// complete are they renamed into place. A failure before that leaves no
// output and no temporary file, and names the file that could not be
// written; should a rename fail after others (rare: the folder changed
// meanwhile), the error says which files were written.
func writePNGs(outputs ...pngOutput) error {
	var tmps []string
	defer func() {
		for _, tmp := range tmps {
			os.Remove(tmp) // gone already once renamed
		}
	}()
	for _, o := range outputs {
		f, err := os.Create(o.path + ".tmp")
		if err != nil {
			return fmt.Errorf("writing %s: %w", o.path, err)
		}
		tmps = append(tmps, f.Name())
		err = png.Encode(f, o.img)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", o.path, err)
		}
	}
	var written []string
	for i, o := range outputs {
		if err := os.Rename(tmps[i], o.path); err != nil {
			if len(written) > 0 {
				return fmt.Errorf("wrote %s but not %s: %w", strings.Join(written, " and "), o.path, err)
			}
			return fmt.Errorf("writing %s: %w", o.path, err)
		}
		written = append(written, o.path)
	}
	return nil
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

// overlayColors are the colours of the overlay picture.
type overlayColors struct {
	tint, outline, positive, negative, box color.NRGBA
}

func defaultOverlayColors() overlayColors {
	return overlayColors{
		tint:     color.NRGBA{30, 144, 255, 255}, // mask interior, blended at 40 %
		outline:  color.NRGBA{255, 215, 0, 255},  // mask boundary
		positive: color.NRGBA{0, 200, 0, 255},
		negative: color.NRGBA{230, 0, 0, 255},
		box:      color.NRGBA{255, 0, 255, 255},
	}
}

// drawOverlay paints the mask over the image: the interior tinted at 40 %,
// its boundary (mask pixels with a 4-neighbour outside) in full colour, the
// box as a rectangle and the clicks as discs (green positive, red negative)
// with a white rim.
func drawOverlay(img *imageproc.Image, mask *image.Gray, clicks []click, box *[4]float64) *image.NRGBA {
	out := img.ToNRGBA()
	col := defaultOverlayColors()
	w, h := img.W, img.H
	inside := func(x, y int) bool {
		return x >= 0 && y >= 0 && x < w && y < h && mask.Pix[y*mask.Stride+x] != 0
	}
	for y := range h {
		for x := range w {
			if !inside(x, y) {
				continue
			}
			o := out.Pix[y*out.Stride+4*x:]
			if !inside(x-1, y) || !inside(x+1, y) || !inside(x, y-1) || !inside(x, y+1) {
				o[0], o[1], o[2] = col.outline.R, col.outline.G, col.outline.B
				continue
			}
			o[0] = blend(o[0], col.tint.R, 0.4)
			o[1] = blend(o[1], col.tint.G, 0.4)
			o[2] = blend(o[2], col.tint.B, 0.4)
		}
	}
	if box != nil {
		x0, y0, x1, y1 := int(box[0]), int(box[1]), int(math.Ceil(box[2]))-1, int(math.Ceil(box[3]))-1
		for x := x0; x <= x1; x++ {
			out.SetNRGBA(x, y0, col.box)
			out.SetNRGBA(x, y1, col.box)
		}
		for y := y0; y <= y1; y++ {
			out.SetNRGBA(x0, y, col.box)
			out.SetNRGBA(x1, y, col.box)
		}
	}
	radius := max(2, min(w, h)/80)
	for _, c := range clicks {
		fill := col.negative
		if c.Positive {
			fill = col.positive
		}
		cx, cy := int(c.X), int(c.Y)
		for dy := -radius - 1; dy <= radius+1; dy++ {
			for dx := -radius - 1; dx <= radius+1; dx++ {
				d2 := dx*dx + dy*dy
				switch {
				case d2 <= radius*radius:
					out.SetNRGBA(cx+dx, cy+dy, fill)
				case d2 <= (radius+1)*(radius+1):
					out.SetNRGBA(cx+dx, cy+dy, color.NRGBA{255, 255, 255, 255})
				}
			}
		}
	}
	return out
}

func blend(a, b uint8, alpha float64) uint8 {
	return uint8(math.Round(float64(a)*(1-alpha) + float64(b)*alpha))
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
