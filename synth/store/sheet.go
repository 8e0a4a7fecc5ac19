package store

import (
	"image"
	"image/color"
	"image/png"
	"io"

	"golang.org/x/image/draw"

	"github.com/synthfm/synthfm/internal/overlay"
)

// Sheet is a contact sheet: thumbnails of samples in a grid with the
// target's outline drawn over each, for people to look at the data.
type Sheet struct {
	cols, rows, tile int
	img              *image.RGBA
	n                int
}

// sheetGap is the number of pixels between tiles.
const sheetGap = 2

// Colours of the sheet's background and of target outlines.
func sheetBackground() color.RGBA { return color.RGBA{40, 40, 40, 255} }
func outlineColour() color.RGBA   { return color.RGBA{255, 64, 48, 255} }

// NewSheet makes an empty cols×rows sheet of tile×tile thumbnails.
func NewSheet(cols, rows, tile int) *Sheet {
	w := cols*tile + (cols+1)*sheetGap
	h := rows*tile + (rows+1)*sheetGap
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(sheetBackground()), image.Point{}, draw.Src)
	return &Sheet{cols: cols, rows: rows, tile: tile, img: img}
}

// Capacity is the number of tiles of the sheet.
func (s *Sheet) Capacity() int { return s.cols * s.rows }

// Full reports whether every tile is used.
func (s *Sheet) Full() bool { return s.n >= s.Capacity() }

// Add places the next thumbnail: the image scaled to the tile, with the
// outline of mask (nonzero pixels) drawn in colour. It returns false when
// the sheet is already full.
func (s *Sheet) Add(img, mask *image.Gray) bool {
	if s.Full() {
		return false
	}
	col, row := s.n%s.cols, s.n/s.cols
	s.n++
	origin := image.Pt(sheetGap+col*(s.tile+sheetGap), sheetGap+row*(s.tile+sheetGap))
	r := image.Rectangle{Min: origin, Max: origin.Add(image.Pt(s.tile, s.tile))}
	draw.BiLinear.Scale(s.img, r, img, img.Bounds(), draw.Src, nil)
	small := image.NewGray(image.Rect(0, 0, s.tile, s.tile))
	draw.BiLinear.Scale(small, small.Bounds(), mask, mask.Bounds(), draw.Src, nil)
	o := outlineColour()
	overlay.Draw(s.img, overlay.Overlay{Origin: origin, Layers: []overlay.Layer{
		{Mask: small, Threshold: 127, Outline: color.NRGBA{o.R, o.G, o.B, o.A}},
	}})
	return true
}

// Image returns the sheet drawn so far.
func (s *Sheet) Image() *image.RGBA { return s.img }

// WritePNG writes the sheet as a PNG file, atomically.
func (s *Sheet) WritePNG(path string) error {
	return WriteFileAtomic(path, func(w io.Writer) error { return png.Encode(w, s.img) })
}
