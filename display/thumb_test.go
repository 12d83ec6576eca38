package display

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// twoColour is a w×h picture, red on the left half and blue on the right.
func twoColour(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{255, 0, 0, 255}
			if x >= w/2 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// quoted makes a JSON string of s.
func quoted(s string) json.RawMessage { return json.RawMessage(strconv.Quote(s)) }

// cellColours reads the foreground and background colour of each cell of
// a rendered line.
func cellColours(t *testing.T, line string) (fg, bg []color.RGBA) {
	t.Helper()
	var cf, cb color.RGBA
	var state byte
	for s := line; len(s) > 0; {
		seq, width, n, st := ansi.DecodeSequence(s, state, nil)
		state, s = st, s[n:]
		if width > 0 {
			if seq != "▀" {
				t.Fatalf("cell %q, want ▀", seq)
			}
			fg, bg = append(fg, cf), append(bg, cb)
			continue
		}
		if !strings.HasPrefix(seq, "\x1b[") || !strings.HasSuffix(seq, "m") {
			t.Fatalf("sequence %q is not SGR", seq)
		}
		ps := strings.Split(seq[2:len(seq)-1], ";")
		for i := 0; i+4 < len(ps); i++ {
			if ps[i+1] != "2" || (ps[i] != "38" && ps[i] != "48") {
				continue
			}
			var v [3]uint8
			for j := range v {
				n, _ := strconv.Atoi(ps[i+2+j])
				v[j] = uint8(n)
			}
			c := color.RGBA{v[0], v[1], v[2], 255}
			if ps[i] == "38" {
				cf = c
			} else {
				cb = c
			}
			i += 4
		}
	}
	return fg, bg
}

func TestRenderThumbnailColours(t *testing.T) {
	lines := RenderThumbnail(twoColour(64, 32), 16, 8, true)
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4 (64×32 pixels in 16 columns: 16×8 pixels, two to a cell)", len(lines))
	}
	for i, l := range lines {
		if !strings.HasSuffix(l, "\x1b[m") {
			t.Errorf("line %d does not end with a reset: %q", i, l)
		}
		fg, bg := cellColours(t, l)
		if len(fg) != 16 {
			t.Fatalf("line %d has %d cells, want 16", i, len(fg))
		}
		for x := range fg {
			want := color.RGBA{255, 0, 0, 255}
			if x >= 8 {
				want = color.RGBA{0, 0, 255, 255}
			}
			if fg[x] != want || bg[x] != want {
				t.Errorf("line %d cell %d: fg %v bg %v, want %v", i, x, fg[x], bg[x], want)
			}
		}
	}
}

func TestRenderThumbnailShades(t *testing.T) {
	// Black on the left, white on the right, grey in the middle.
	m := image.NewGray(image.Rect(0, 0, 6, 4))
	for y := range 4 {
		for x := range 6 {
			m.SetGray(x, y, color.Gray{[]uint8{0, 0, 128, 128, 255, 255}[x]})
		}
	}
	got := strings.Join(RenderThumbnail(m, 10, 10, false), "\n")
	want := "  ▒▒██\n  ▒▒██"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRenderThumbnailTransparency(t *testing.T) {
	clear := image.NewNRGBA(image.Rect(0, 0, 4, 4)) // all transparent
	fg, bg := cellColours(t, RenderThumbnail(clear, 4, 2, true)[0])
	grey := color.RGBA{thumbBackground, thumbBackground, thumbBackground, 255}
	if fg[0] != grey || bg[0] != grey {
		t.Errorf("transparent pixels drawn as %v/%v, want the neutral %v", fg[0], bg[0], grey)
	}
}

func TestRenderThumbnailFits(t *testing.T) {
	tests := []struct {
		name                   string
		w, h, cols, rows       int
		wantCols, wantRowsLine int
	}{
		{"wide", 4000, 10, 20, 5, 20, 1},
		{"tall", 10, 4000, 20, 5, 1, 5},
		{"square keeps its shape", 100, 100, 40, 10, 20, 10},
		{"2:1 into a wide box", 64, 32, 40, 4, 16, 4},
		{"not enlarged", 4, 2, 40, 10, 4, 1},
		{"one pixel", 1, 1, 3, 3, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, colour := range []bool{true, false} {
				lines := RenderThumbnail(twoColour(tt.w, tt.h), tt.cols, tt.rows, colour)
				if len(lines) != tt.wantRowsLine {
					t.Errorf("colour=%v: %d lines, want %d", colour, len(lines), tt.wantRowsLine)
				}
				for i, l := range lines {
					if got := ansi.StringWidth(l); got != tt.wantCols || got > tt.cols {
						t.Errorf("colour=%v: line %d is %d cells, want %d (box %d)", colour, i, got, tt.wantCols, tt.cols)
					}
				}
			}
		})
	}
}

func TestRenderThumbnailNoRoom(t *testing.T) {
	img := twoColour(8, 8)
	for _, box := range [][2]int{{0, 4}, {4, 0}, {-1, 4}, {4, -3}} {
		if got := RenderThumbnail(img, box[0], box[1], true); got != nil {
			t.Errorf("box %v: got %q, want nil", box, got)
		}
	}
	if got := RenderThumbnail(nil, 8, 8, true); got != nil {
		t.Errorf("nil image: got %q", got)
	}
	if got := RenderThumbnail(image.NewRGBA(image.Rect(0, 0, 0, 5)), 8, 8, true); got != nil {
		t.Errorf("empty image: got %q", got)
	}
}

func TestDecodeThumbnailForms(t *testing.T) {
	pngData := encodePNG(t, twoColour(4, 2))
	b64 := base64.StdEncoding.EncodeToString(pngData)
	forms := []struct {
		name string
		raw  json.RawMessage
	}{
		{"data URI", quoted("data:image/png;base64," + b64)},
		{"data URI with a file name", quoted("data:image/png;filename=a.png;base64," + b64)},
		{"legacy base64 prefix", quoted("base64," + b64)},
		{"plain Base64", quoted(b64)},
		{"unpadded URL-safe Base64", quoted(base64.RawURLEncoding.EncodeToString(pngData))},
		{"Base64 in lines", quoted(b64[:20] + "\n" + b64[20:])},
		{"map with data", json.RawMessage(`{"data":"` + b64 + `","filename":"t.png"}`)},
		{"map with a data URI", json.RawMessage(`{"data":"data:image/png;base64,` + b64 + `"}`)},
		{"map with a data URI as URL", json.RawMessage(`{"URL":"data:image/png;base64,` + b64 + `"}`)},
		{"map with a plain key", json.RawMessage(`{"data":"` + b64 + `","key":{"algorithm":"PLAIN"}}`)},
		{"map in a string", quoted(`{"data":"` + b64 + `"}`)},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			img, err := DecodeThumbnail(f.raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := img.Bounds().Size(); got != image.Pt(4, 2) {
				t.Errorf("size %v, want 4×2", got)
			}
		})
	}
}

func TestDecodeThumbnailJPEGAndGIF(t *testing.T) {
	var j, g bytes.Buffer
	if err := jpeg.Encode(&j, twoColour(16, 8), nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&g, twoColour(16, 8), nil); err != nil {
		t.Fatal(err)
	}
	for mime, data := range map[string][]byte{"image/jpeg": j.Bytes(), "image/gif": g.Bytes()} {
		img, err := DecodeThumbnail(quoted("data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)))
		if err != nil {
			t.Fatalf("%s: %v", mime, err)
		}
		if got := img.Bounds().Size(); got != image.Pt(16, 8) {
			t.Errorf("%s: size %v, want 16×8", mime, got)
		}
		fg, _ := cellColours(t, RenderThumbnail(img, 16, 4, true)[0])
		if l, r := fg[0], fg[15]; l.R < 200 || l.B > 60 || r.B < 200 || r.R > 60 {
			t.Errorf("%s: left cell %v, right cell %v; want red, blue", mime, l, r)
		}
	}
}

func TestDecodeThumbnailRefuses(t *testing.T) {
	pngData := encodePNG(t, twoColour(4, 2))
	b64 := base64.StdEncoding.EncodeToString(pngData)
	tests := []struct {
		name string
		raw  json.RawMessage
		want error
		note string
	}{
		{"absent", nil, ErrNoThumbnail, "no thumbnail"},
		{"null", json.RawMessage(`null`), ErrNoThumbnail, "no thumbnail"},
		{"empty string", quoted(""), ErrNoThumbnail, "no thumbnail"},
		{"address only", quoted("https://cdn.example/t.jpg"), ErrThumbnailNotEmbedded, "the thumbnail is not in the message, only its address"},
		{"map with an address", json.RawMessage(`{"URL":"https://cdn.example/t.jpg","filename":"t.jpg"}`), ErrThumbnailNotEmbedded, "the thumbnail is not in the message, only its address"},
		{"encrypted", json.RawMessage(`{"data":"` + b64 + `","key":{"algorithm":"AES","data":"AAAA"}}`), ErrThumbnailEncrypted, "the thumbnail is encrypted"},
		{"text, not an image", quoted(base64.StdEncoding.EncodeToString([]byte("hello, this is text"))), ErrNotImage, "the thumbnail is not an image"},
		{"a text data URI", quoted("data:text/plain;base64,aGVsbG8="), ErrNotImage, "the thumbnail is not an image"},
		{"not Base64", quoted("!!!! not base64 ????"), ErrThumbnailEncoding, "the thumbnail is not an image"},
		{"percent-encoded data URI", quoted("data:image/png,%89PNG"), ErrThumbnailEncoding, "the thumbnail is not an image"},
		{"truncated PNG", quoted(base64.StdEncoding.EncodeToString(pngData[:len(pngData)/2])), ErrNotImage, "the thumbnail is not an image"},
		{"a number", json.RawMessage(`42`), ErrNotImage, "the thumbnail is not an image"},
		{"data not a string", json.RawMessage(`{"data":[1,2]}`), ErrNotImage, "the thumbnail is not an image"},
		{"too many bytes", quoted(strings.Repeat("A", 2<<20)), ErrThumbnailTooLarge, "the thumbnail is too large to show"},
		{"too large a picture", quoted(base64.StdEncoding.EncodeToString(bombPNG(100000, 100000))), ErrThumbnailTooLarge, "the thumbnail is too large to show"},
		{"too many pixels", quoted(base64.StdEncoding.EncodeToString(bombPNG(4096, 2048))), ErrThumbnailTooLarge, "the thumbnail is too large to show"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := DecodeThumbnail(tt.raw)
			if !errors.Is(err, tt.want) || img != nil {
				t.Fatalf("got %v, %v; want %v", img, err, tt.want)
			}
			if got := ThumbnailNote(err); got != tt.note {
				t.Errorf("note %q, want %q", got, tt.note)
			}
		})
	}
}

// bombPNG is the start of a PNG that declares w×h pixels: its signature
// and a valid header chunk, and no pixels.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestDecodeThumbnailBombDoesNotAllocate(t *testing.T) {
	raw := quoted("data:image/png;base64," + base64.StdEncoding.EncodeToString(bombPNG(60000, 60000)))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := DecodeThumbnail(raw)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrThumbnailTooLarge) {
		t.Fatalf("got %v, want ErrThumbnailTooLarge", err)
	}
	// 60000×60000 RGBA would be 14 GB; refusing it should take a few kB.
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes", got)
	}
}

func FuzzDecodeThumbnail(f *testing.F) {
	pngData := encodePNG(f, twoColour(3, 5))
	b64 := base64.StdEncoding.EncodeToString(pngData)
	f.Add([]byte(strconv.Quote("data:image/png;base64," + b64)))
	f.Add([]byte(`{"data":"` + b64 + `"}`))
	f.Add([]byte(strconv.Quote(b64[:len(b64)/2])))
	f.Add([]byte(strconv.Quote("data:image/png;base64," + base64.StdEncoding.EncodeToString(bombPNG(1<<31-1, 3)))))
	f.Add([]byte(strconv.Quote("GIF89a" + strings.Repeat("\x00", 20))))
	f.Add([]byte("\x00\xff garbage"))
	f.Add([]byte(`"data:,"`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		img, err := DecodeThumbnail(raw)
		if err != nil {
			if img != nil {
				t.Fatal("an image with an error")
			}
			return
		}
		for _, colour := range []bool{true, false} {
			for _, l := range RenderThumbnail(img, 7, 3, colour) {
				if ansi.StringWidth(l) > 7 {
					t.Fatalf("line %q wider than 7 cells", l)
				}
			}
		}
	})
}

// BenchmarkRenderThumbnail draws a decoded 256×256 JPEG into 32×8 cells.
func BenchmarkRenderThumbnail(b *testing.B) {
	m := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			m.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 80}); err != nil {
		b.Fatal(err)
	}
	raw := quoted("data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
	img, err := DecodeThumbnail(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			RenderThumbnail(img, 32, 8, true)
		}
	})
	b.Run("decode+render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			img, err := DecodeThumbnail(raw)
			if err != nil {
				b.Fatal(err)
			}
			RenderThumbnail(img, 32, 8, true)
		}
	})
}
