package transfer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"

	_ "image/gif" // decoders for the pictures a user sends
	_ "image/png"
)

// ErrNotPicture: a file sent as an image that no decoder here reads, or
// too big to decode for a thumbnail.
var ErrNotPicture = errors.New("transfer: not a picture this client can read")

// Thumbnail bounds: the largest picture decoded to make one, and the
// longest side of the thumbnail.
const (
	maxThumbSourcePixels = 24 << 20
	thumbSide            = 128
)

// Thumbnail makes the preview an image content carries beside its URL, as
// dimchat's apps send one: a small JPEG as a data URI
// ("data:image/jpeg;base64,…"), so that the receiver sees the picture
// before it downloads the file. The picture's size is read from its header
// first: one that would not fit in memory is refused unread.
func Thumbnail(picture []byte) (string, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(picture))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNotPicture, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxThumbSourcePixels {
		return "", fmt.Errorf("%w: %d×%d pixels", ErrNotPicture, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(picture))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNotPicture, err)
	}
	small := shrink(img, thumbSide)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, small, &jpeg.Options{Quality: 70}); err != nil {
		return "", fmt.Errorf("transfer: thumbnail: %w", err)
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// shrink scales img so that its longer side is at most side pixels,
// averaging the pixels each one covers (a box filter); transparent
// pixels are blended onto white, as JPEG has no alpha.
func shrink(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	scale := max(float64(w), float64(h)) / float64(side)
	if scale < 1 {
		scale = 1
	}
	tw, th := max(int(float64(w)/scale), 1), max(int(float64(h)/scale), 1)
	out := image.NewRGBA(image.Rect(0, 0, tw, th))
	for ty := range th {
		y0, y1 := b.Min.Y+ty*h/th, b.Min.Y+(ty+1)*h/th
		for tx := range tw {
			x0, x1 := b.Min.X+tx*w/tw, b.Min.X+(tx+1)*w/tw
			var r, g, bl, n uint64
			for y := y0; y < max(y1, y0+1); y++ {
				for x := x0; x < max(x1, x0+1); x++ {
					cr, cg, cb, ca := img.At(x, y).RGBA()
					// Onto white: c + (1 - a)·white, in 16-bit.
					r += uint64(cr + 0xffff - ca)
					g += uint64(cg + 0xffff - ca)
					bl += uint64(cb + 0xffff - ca)
					n++
				}
			}
			out.SetRGBA(tx, ty, color.RGBA{uint8(r / n >> 8), uint8(g / n >> 8), uint8(bl / n >> 8), 0xff})
		}
	}
	return out
}
