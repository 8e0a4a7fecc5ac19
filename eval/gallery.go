package eval

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sort"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/synthfm/synthfm/dataset"
	"github.com/synthfm/synthfm/internal/overlay"
	"github.com/synthfm/synthfm/prompts"
)

// GalleryCase is one picture of the gallery.
type GalleryCase struct {
	Result Result
	Image  *image.Gray
	GT     *image.Gray
	Pred   *image.Gray
}

const galleryTile = 256

// PickGallery returns the n lowest- and n highest-Dice rows (worst first,
// then best first), ignoring NaN Dice; ties keep file order. With fewer than
// 2n rows each list gets half of them.
func PickGallery(rows []Result, n int) (worst, best []Result) {
	var valid []Result
	for _, r := range rows {
		if finite(r.Dice) {
			valid = append(valid, r)
		}
	}
	sort.SliceStable(valid, func(a, b int) bool { return valid[a].Dice < valid[b].Dice })
	n = min(n, len(valid)/2)
	worst = valid[:n]
	for i := len(valid) - 1; i >= len(valid)-n; i-- {
		best = append(best, valid[i])
	}
	return worst, best
}

// loadGallery re-creates the chosen cases: it reloads their slices and
// re-runs the model with the recorded clicks.
func loadGallery(ctx context.Context, o Options, rows []Result) ([]GalleryCase, error) {
	byName := map[string]*dataset.Dataset{}
	for _, d := range o.Datasets {
		byName[d.Name()] = d
	}
	cache := map[string][]dataset.Slice{}
	var out []GalleryCase
	for _, r := range rows {
		d := byName[r.Dataset]
		if d == nil {
			continue
		}
		key := r.Dataset + "/" + r.Case
		slices, ok := cache[key]
		if !ok {
			for _, c := range d.Cases() {
				if c.ID == r.Case {
					var err error
					if slices, err = d.Load(ctx, c); err != nil {
						return nil, err
					}
				}
			}
			cache[key] = slices
		}
		for _, s := range slices {
			for _, obj := range s.Objects {
				if obj.ID != r.ObjectID {
					continue
				}
				p, err := o.Model.Prepare(ctx, s.Image)
				if err != nil {
					return nil, err
				}
				pred, err := p.Segment(ctx, r.Clicks)
				if err != nil {
					return nil, err
				}
				out = append(out, GalleryCase{Result: r, Image: s.Image, GT: obj.Mask, Pred: pred})
			}
		}
	}
	return out, nil
}

// RenderGallery draws two rows of tiles (worst cases, then best cases), each
// drawn by RenderSheet, with a caption naming the case and its Dice.
func RenderGallery(worst, best []GalleryCase) *image.RGBA {
	var rows [][]Tile
	for row, cases := range [][]GalleryCase{worst, best} {
		label := "worst"
		if row == 1 {
			label = "best"
		}
		var tiles []Tile
		for _, gc := range cases {
			r := gc.Result
			tiles = append(tiles, Tile{Image: gc.Image, GT: gc.GT, Pred: gc.Pred, Clicks: r.Clicks,
				Caption: [2]string{fmt.Sprintf("%s %s Dice %.3f", label, r.Config, r.Dice), shorten(r.ObjectID, galleryTile/7)}})
		}
		rows = append(rows, tiles)
	}
	return RenderSheet(rows)
}

// Tile is one picture of a sheet: an image, its ground truth and a
// prediction, the clicks that produced it and two caption lines.
type Tile struct {
	Image, GT, Pred *image.Gray
	Clicks          []prompts.Click
	Caption         [2]string
}

// RenderSheet draws rows of tiles: each image in grey, the prediction in
// translucent red, the ground-truth outline in green, positive clicks as
// green dots and negative clicks as red dots, each ringed in white, and the
// captions beneath.
func RenderSheet(rows [][]Tile) *image.RGBA {
	cols := 1
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	const caption = 30
	out := image.NewRGBA(image.Rect(0, 0, cols*galleryTile, max(1, len(rows))*(galleryTile+caption)))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.RGBA{20, 20, 20, 255}), image.Point{}, draw.Src)
	for row, tiles := range rows {
		for col, t := range tiles {
			origin := image.Pt(col*galleryTile, row*(galleryTile+caption))
			tile := renderTile(t)
			draw.Draw(out, tile.Bounds().Add(origin), tile, image.Point{}, draw.Src)
			drawText(out, origin.X+4, origin.Y+galleryTile+12, t.Caption[0])
			drawText(out, origin.X+4, origin.Y+galleryTile+25, t.Caption[1])
		}
	}
	return out
}

func renderTile(gc Tile) *image.RGBA {
	b := gc.Image.Bounds()
	rgba := image.NewRGBA(b)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			v := gc.Image.Pix[y*gc.Image.Stride+x]
			rgba.Pix[y*rgba.Stride+4*x], rgba.Pix[y*rgba.Stride+4*x+1], rgba.Pix[y*rgba.Stride+4*x+2], rgba.Pix[y*rgba.Stride+4*x+3] = v, v, v, 255
		}
	}
	// Prediction tinted red, ground-truth boundary in green.
	overlay.Draw(rgba, overlay.Overlay{Origin: b.Min, Layers: []overlay.Layer{
		{Mask: gc.Pred, Tint: color.NRGBA{255, 0, 0, 255}, Alpha: 0.45},
		{Mask: gc.GT, Outline: color.NRGBA{0, 255, 0, 255}},
	}})
	scale := float64(galleryTile) / float64(max(b.Dx(), b.Dy()))
	w, h := int(math.Round(float64(b.Dx())*scale)), int(math.Round(float64(b.Dy())*scale))
	tile := image.NewRGBA(image.Rect(0, 0, galleryTile, galleryTile))
	dst := image.Rect((galleryTile-w)/2, (galleryTile-h)/2, (galleryTile-w)/2+w, (galleryTile-h)/2+h)
	xdraw.NearestNeighbor.Scale(tile, dst, rgba, b, xdraw.Src, nil)
	// Clicks are drawn at the tile's scale, so that they show at any image size.
	clicks := make([]overlay.Click, len(gc.Clicks))
	for i, c := range gc.Clicks {
		clicks[i] = overlay.Click{
			X: float64(dst.Min.X) + (float64(c.X-b.Min.X)+0.5)*scale,
			Y: float64(dst.Min.Y) + (float64(c.Y-b.Min.Y)+0.5)*scale, Positive: c.Positive}
	}
	overlay.Draw(tile, overlay.Overlay{Clicks: clicks, ClickRadius: 3.5, RimWidth: 1.5,
		PositiveColor: color.NRGBA{0, 230, 0, 255}, NegativeColor: color.NRGBA{255, 40, 40, 255}})
	return tile
}

func drawText(img *image.RGBA, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{235, 235, 235, 255}), Face: basicfont.Face7x13,
		Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n+3:]
}
