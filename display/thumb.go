package display

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"
	"strings"
)

// Thumbnails: an image content (0x12) may carry a small preview of the
// picture in its "thumbnail" field, a portable network file with the
// bytes embedded. DecodeThumbnail reads it, with limits, since it comes
// from a peer; RenderThumbnail draws it in a box of terminal cells.

// Limits on a thumbnail: its bytes, and the size it says it has, checked
// before the pixels are decoded (a few bytes of PNG can declare a picture
// that would take gigabytes).
const (
	MaxThumbnailBytes  = 1 << 20
	MaxThumbnailSide   = 4096
	MaxThumbnailPixels = 4 << 20
)

// Errors from DecodeThumbnail; ThumbnailNote says them to a person.
var (
	ErrNoThumbnail          = errors.New("no thumbnail")
	ErrThumbnailNotEmbedded = errors.New("thumbnail is not embedded in the message")
	ErrThumbnailEncrypted   = errors.New("thumbnail is encrypted")
	ErrThumbnailEncoding    = errors.New("thumbnail data is not Base64")
	ErrThumbnailTooLarge    = errors.New("thumbnail too large")
	ErrNotImage             = errors.New("thumbnail is not an image")
)

// ThumbnailNote is the line the conversation shows instead of a thumbnail
// that DecodeThumbnail refused with err.
func ThumbnailNote(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNoThumbnail):
		return "no thumbnail"
	case errors.Is(err, ErrThumbnailNotEmbedded):
		return "the thumbnail is not in the message, only its address"
	case errors.Is(err, ErrThumbnailEncrypted):
		return "the thumbnail is encrypted"
	case errors.Is(err, ErrThumbnailTooLarge):
		return "the thumbnail is too large to show"
	default:
		return "the thumbnail is not an image"
	}
}

// DecodeThumbnail decodes the image embedded in a thumbnail field. It reads
// the forms a PNF takes on the wire: a data URI
// ("data:image/jpeg;base64,…"), the legacy "base64,…" prefix, plain Base64,
// a JSON object with "data" (or a "URL" that is itself a data URI), and a
// string holding that object. A thumbnail known only by its address is
// ErrThumbnailNotEmbedded: dimtui does not fetch it.
//
// PNG, JPEG and GIF (its first frame) are decoded. The bytes are limited
// to MaxThumbnailBytes, and the declared size to MaxThumbnailSide on a side
// and MaxThumbnailPixels in all before any pixel is decoded. Errors wrap
// the sentinels above.
func DecodeThumbnail(raw json.RawMessage) (image.Image, error) {
	data, err := thumbnailBytes(raw, 0)
	if err != nil {
		return nil, err
	}
	return decodeImage(data)
}

// maxEncodedThumbnail is the longest Base64 text read: MaxThumbnailBytes
// encoded, and some room for line breaks and a data URI's header.
const maxEncodedThumbnail = MaxThumbnailBytes/3*4 + MaxThumbnailBytes/32 + 256

// thumbnailBytes extracts the embedded bytes of a PNF; depth counts the
// objects read inside strings (one is allowed).
func thumbnailBytes(raw json.RawMessage, depth int) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 2*maxEncodedThumbnail {
		return nil, fmt.Errorf("%w: %s of JSON", ErrThumbnailTooLarge, Size(len(raw)))
	}
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, ErrNoThumbnail
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotImage, err)
		}
		if strings.HasPrefix(s, "{") && depth == 0 {
			return thumbnailBytes(json.RawMessage(s), depth+1)
		}
		return pnfString(s)
	case raw[0] == '{':
		var f struct {
			Data json.RawMessage `json:"data"`
			URL  string          `json:"URL"`
			Key  *struct {
				Algorithm string `json:"algorithm"`
			} `json:"key"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotImage, err)
		}
		if f.Key != nil && !strings.EqualFold(f.Key.Algorithm, "PLAIN") {
			return nil, ErrThumbnailEncrypted
		}
		var data string
		if len(f.Data) > 0 && string(f.Data) != "null" {
			if err := json.Unmarshal(f.Data, &data); err != nil {
				return nil, fmt.Errorf("%w: \"data\" is not a string", ErrNotImage)
			}
		}
		switch {
		case data != "":
			return pnfString(data)
		case strings.HasPrefix(f.URL, "data:"):
			return pnfString(f.URL)
		case f.URL != "":
			return nil, ErrThumbnailNotEmbedded
		}
		return nil, ErrNoThumbnail
	default:
		return nil, fmt.Errorf("%w: neither a string nor an object", ErrNotImage)
	}
}

// pnfString decodes a PNF in its string form: a data URI, "base64,…",
// plain Base64, or an address (not embedded).
func pnfString(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrNoThumbnail
	}
	if len(s) > maxEncodedThumbnail {
		return nil, fmt.Errorf("%w: %s of Base64", ErrThumbnailTooLarge, Size(len(s)))
	}
	switch {
	case strings.HasPrefix(s, "data:"):
		head, body, ok := strings.Cut(s[len("data:"):], ",")
		if !ok {
			return nil, fmt.Errorf("%w: data URI without a comma", ErrThumbnailEncoding)
		}
		params := strings.Split(head, ";")
		if mime := strings.ToLower(strings.TrimSpace(params[0])); mime != "" && !strings.HasPrefix(mime, "image/") {
			return nil, fmt.Errorf("%w: a data URI of %s", ErrNotImage, strconv.Quote(Truncate(Sanitize(mime, false), 40)))
		}
		if !strings.EqualFold(strings.TrimSpace(params[len(params)-1]), "base64") {
			return nil, fmt.Errorf("%w: data URI not in Base64", ErrThumbnailEncoding)
		}
		return decodeBase64(body)
	case strings.HasPrefix(s, "base64,"):
		return decodeBase64(s[len("base64,"):])
	case isAddress(s):
		return nil, ErrThumbnailNotEmbedded
	default:
		return decodeBase64(s)
	}
}

// isAddress reports a URL as the PNF parser sees one: "://" after a
// scheme of one to seven characters.
func isAddress(s string) bool {
	i := strings.Index(s, "://")
	return i >= 1 && i <= 7
}

// decodeBase64 reads standard or URL-safe Base64, padded or not, with
// line breaks allowed.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, " \r\n\t") {
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\r' || r == '\n' || r == '\t' {
				return -1
			}
			return r
		}, s)
	}
	if base64.StdEncoding.DecodedLen(len(s)) > MaxThumbnailBytes+3 {
		return nil, fmt.Errorf("%w: over %s", ErrThumbnailTooLarge, Size(MaxThumbnailBytes))
	}
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			if len(b) > MaxThumbnailBytes {
				return nil, fmt.Errorf("%w: %s, over %s", ErrThumbnailTooLarge, Size(len(b)), Size(MaxThumbnailBytes))
			}
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("%w: %w", ErrThumbnailEncoding, firstErr)
}

// imageFormat is a format DecodeThumbnail reads: how it starts, and its
// decoders.
type imageFormat struct {
	name   string
	magic  []string
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

// imageFormats are chosen by their first bytes here rather than through
// image.Decode's registry, which holds whatever formats the program's
// packages registered.
var imageFormats = []imageFormat{
	{"PNG", []string{"\x89PNG\r\n\x1a\n"}, png.DecodeConfig, png.Decode},
	{"JPEG", []string{"\xff\xd8"}, jpeg.DecodeConfig, jpeg.Decode},
	{"GIF", []string{"GIF87a", "GIF89a"}, gif.DecodeConfig, gif.Decode},
}

// decodeImage checks the declared size of a PNG, JPEG or GIF, then decodes
// it.
func decodeImage(data []byte) (image.Image, error) {
	var f *imageFormat
	for i := range imageFormats {
		for _, m := range imageFormats[i].magic {
			if bytes.HasPrefix(data, []byte(m)) {
				f = &imageFormats[i]
			}
		}
	}
	if f == nil {
		return nil, fmt.Errorf("%w: not PNG, JPEG or GIF", ErrNotImage)
	}
	cfg, err := f.config(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s header: %w", ErrNotImage, f.name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %s of %d×%d pixels", ErrNotImage, f.name, cfg.Width, cfg.Height)
	}
	if cfg.Width > MaxThumbnailSide || cfg.Height > MaxThumbnailSide || cfg.Width*cfg.Height > MaxThumbnailPixels {
		return nil, fmt.Errorf("%w: %s of %d×%d pixels", ErrThumbnailTooLarge, f.name, cfg.Width, cfg.Height)
	}
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotImage, f.name, err)
	}
	if b := img.Bounds(); b.Dx() > MaxThumbnailSide || b.Dy() > MaxThumbnailSide {
		return nil, fmt.Errorf("%w: %s of %d×%d pixels", ErrThumbnailTooLarge, f.name, b.Dx(), b.Dy())
	}
	return img, nil
}

// thumbBackground is what transparent pixels are drawn over: a mid grey,
// which reads on dark and light terminals alike.
const thumbBackground = 0x80

// shades are the monochrome cells from dark to bright, as on a terminal
// with light text on a dark background.
var shades = []string{" ", "░", "▒", "▓", "█"}

// RenderThumbnail draws img in at most maxCols × maxRows terminal cells,
// keeping its aspect ratio and never enlarging it. A cell is about twice as
// tall as it is wide, so each cell shows two square pixels, one above the
// other: with color, as the upper half block "▀" in the top pixel's colour
// over the bottom one's (24-bit SGR sequences, reset at the end of each
// line); without, as a shade from " ░▒▓█" for their mean brightness.
// Every source pixel that falls in a pixel of the thumbnail counts in its
// colour (a box filter); transparent pixels are blended onto mid grey.
// Lines are all as wide, at most maxCols cells. A nil image, an empty one
// or a box without room returns nil.
func RenderThumbnail(img image.Image, maxCols, maxRows int, color bool) []string {
	if img == nil || maxCols <= 0 || maxRows <= 0 {
		return nil
	}
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw <= 0 || sh <= 0 {
		return nil
	}
	// The thumbnail in square pixels, two to a cell vertically.
	scale := min(float64(maxCols)/float64(sw), float64(2*maxRows)/float64(sh), 1)
	w := min(max(int(float64(sw)*scale+0.5), 1), maxCols)
	h := min(max(int(float64(sh)*scale+0.5), 1), 2*maxRows)
	px := boxFilter(img, w, h)
	rows := (h + 1) / 2
	lines := make([]string, 0, rows)
	var sb strings.Builder
	for r := range rows {
		sb.Reset()
		top := px[2*r*w : (2*r+1)*w]
		var bottom []rgb
		if 2*r+1 < h {
			bottom = px[(2*r+1)*w : (2*r+2)*w]
		}
		if color {
			writeColourRow(&sb, top, bottom)
		} else {
			writeShadeRow(&sb, top, bottom)
		}
		lines = append(lines, sb.String())
	}
	return lines
}

// rgb is an opaque 8-bit colour.
type rgb struct{ r, g, b uint8 }

// luma is a colour's brightness, 0–255 (Rec. 601 weights).
func (c rgb) luma() int { return (299*int(c.r) + 587*int(c.g) + 114*int(c.b)) / 1000 }

// writeColourRow writes a row of half blocks, a new SGR sequence only
// where the colours change. A missing bottom row (an odd height) leaves
// the lower halves to the terminal's background.
func writeColourRow(sb *strings.Builder, top, bottom []rgb) {
	var last [2]rgb
	for x, t := range top {
		if bottom == nil {
			if x == 0 || t != last[0] {
				fmt.Fprintf(sb, "\x1b[38;2;%d;%d;%dm", t.r, t.g, t.b)
				if x == 0 {
					sb.WriteString("\x1b[49m")
				}
			}
			last[0] = t
			sb.WriteString("▀")
			continue
		}
		u := bottom[x]
		switch {
		case x == 0 || t != last[0] && u != last[1]:
			fmt.Fprintf(sb, "\x1b[38;2;%d;%d;%d;48;2;%d;%d;%dm", t.r, t.g, t.b, u.r, u.g, u.b)
		case t != last[0]:
			fmt.Fprintf(sb, "\x1b[38;2;%d;%d;%dm", t.r, t.g, t.b)
		case u != last[1]:
			fmt.Fprintf(sb, "\x1b[48;2;%d;%d;%dm", u.r, u.g, u.b)
		}
		last = [2]rgb{t, u}
		sb.WriteString("▀")
	}
	sb.WriteString("\x1b[m")
}

// writeShadeRow writes a row of shades for the mean brightness of each
// cell's two pixels.
func writeShadeRow(sb *strings.Builder, top, bottom []rgb) {
	for x, t := range top {
		l := t.luma()
		if bottom != nil {
			l = (l + bottom[x].luma()) / 2
		}
		sb.WriteString(shades[min(l*len(shades)/256, len(shades)-1)])
	}
}

// maxBoxSamples bounds the source pixels read along one side of a
// thumbnail pixel: a larger box is sampled on a grid, which keeps a
// 4096-pixel picture as quick to draw as a 256-pixel one.
const maxBoxSamples = 16

// boxFilter scales img to w×h pixels, each the mean of the source pixels
// in its box, blended onto thumbBackground by their alpha.
func boxFilter(img image.Image, w, h int) []rgb {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	at := pixelReader(img)
	out := make([]rgb, w*h)
	for y := range h {
		y0, y1 := b.Min.Y+y*sh/h, b.Min.Y+(y+1)*sh/h
		y1 = max(y1, y0+1)
		dy := max((y1-y0)/maxBoxSamples, 1)
		for x := range w {
			x0, x1 := b.Min.X+x*sw/w, b.Min.X+(x+1)*sw/w
			x1 = max(x1, x0+1)
			dx := max((x1-x0)/maxBoxSamples, 1)
			var sr, sg, sb, sa, n uint64
			for yy := y0; yy < y1; yy += dy {
				for xx := x0; xx < x1; xx += dx {
					r, g, b, a := at(xx, yy)
					sr, sg, sb, sa = sr+uint64(r), sg+uint64(g), sb+uint64(b), sa+uint64(a)
					n++
				}
			}
			// Premultiplied means over the background: c + bg·(1−a).
			bg := uint64(thumbBackground) * 0x101 * (n*0xffff - sa) / 0xffff
			out[y*w+x] = rgb{
				uint8((sr + bg) / n >> 8),
				uint8((sg + bg) / n >> 8),
				uint8((sb + bg) / n >> 8),
			}
		}
	}
	return out
}

// pixelReader returns a function reading img's premultiplied 16-bit RGBA
// at a point, direct for the types the decoders return (no allocation per
// pixel) and through At for the others.
func pixelReader(img image.Image) func(x, y int) (r, g, b, a uint32) {
	switch m := img.(type) {
	case *image.YCbCr:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			r, g, b := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			return uint32(r) * 0x101, uint32(g) * 0x101, uint32(b) * 0x101, 0xffff
		}
	case *image.RGBA:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			i := m.PixOffset(x, y)
			p := m.Pix[i : i+4 : i+4]
			return uint32(p[0]) * 0x101, uint32(p[1]) * 0x101, uint32(p[2]) * 0x101, uint32(p[3]) * 0x101
		}
	case *image.NRGBA:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			i := m.PixOffset(x, y)
			p := m.Pix[i : i+4 : i+4]
			a := uint32(p[3]) * 0x101
			return uint32(p[0]) * a / 0xff, uint32(p[1]) * a / 0xff, uint32(p[2]) * a / 0xff, a
		}
	case *image.Gray:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			v := uint32(m.Pix[m.PixOffset(x, y)]) * 0x101
			return v, v, v, 0xffff
		}
	case *image.Paletted:
		pal := make([][4]uint32, len(m.Palette))
		for i, c := range m.Palette {
			if c == nil {
				continue
			}
			r, g, b, a := c.RGBA()
			pal[i] = [4]uint32{r, g, b, a}
		}
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			i := int(m.Pix[m.PixOffset(x, y)])
			if i >= len(pal) {
				return 0, 0, 0, 0 // an index past the palette: transparent
			}
			p := pal[i]
			return p[0], p[1], p[2], p[3]
		}
	default:
		return func(x, y int) (uint32, uint32, uint32, uint32) { return img.At(x, y).RGBA() }
	}
}
