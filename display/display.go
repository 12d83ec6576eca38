// Package display is how dimtui shows text it did not write to a person:
// names, IDs and message text from the network made safe for a terminal
// (no control characters, no bidirectional overrides), cut or wrapped to a
// number of cells, and the short forms of IDs, keys and sizes that the
// terminal UI and the workshop's explanations share.
package display

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"

	"dimtui/dimp"
)

// Sanitize makes text from the network safe to draw: tabs become spaces and
// every other control character (ESC above all, which could drive the
// terminal) is dropped. Newlines are kept when keepNewlines is set; other
// line breaks, U+2028 and U+2029 included, become spaces.
//
// The bidirectional formatting characters are dropped too: the embeddings
// and overrides U+202A–U+202E, the isolates U+2066–U+2069 and the marks
// LRM, RLM and ALM (U+200E, U+200F, U+061C). A peer's name or message could
// use them to show its text in another order than it has ("Trojan Source")
// or to reorder the rest of the line it is drawn in. The marks are dropped
// with the others: they are invisible, a terminal without bidi support
// may draw them as a cell or nothing, which breaks the layout, and
// right-to-left text still reads in the order it was written without
// them. Joiners (U+200C, U+200D), which emoji and scripts need, stay.
func Sanitize(s string, keepNewlines bool) string {
	if !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' && keepNewlines:
			b.WriteRune(r)
		case r == '\t':
			b.WriteString("    ")
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			b.WriteRune(' ')
		case unsafeRune(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isBidiControl reports the bidirectional formatting characters that
// Sanitize drops.
func isBidiControl(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }

// DropBidi removes the bidirectional formatting characters from a drawn
// screen, leaving its styling (ANSI sequences) alone.
func DropBidi(s string) string {
	if !strings.ContainsFunc(s, isBidiControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// unsafeRune reports what Sanitize changes: control characters (C0, DEL,
// C1), bidirectional formatting characters and the Unicode line and
// paragraph separators.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || isBidiControl(r) || r == '\u2028' || r == '\u2029'
}

// Wrap breaks plain (unstyled) text into lines at most width cells wide, at
// spaces where it can and inside words where it must. Newlines in s start
// new lines.
func Wrap(s string, width int) []string {
	if width < 1 {
		width = 1
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		if ansi.StringWidth(para) <= width {
			out = append(out, para)
			continue
		}
		w := ansi.Wrap(para, width, "")
		for _, l := range strings.Split(w, "\n") {
			out = append(out, strings.TrimRight(l, " "))
		}
	}
	return out
}

// HardWrap cuts text into lines of exactly width cells (the last one
// shorter), for things with no spaces such as Base64.
func HardWrap(s string, width int) []string {
	if width < 1 {
		width = 1
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		if ansi.StringWidth(para) <= width {
			out = append(out, para)
			continue
		}
		out = append(out, strings.Split(ansi.Hardwrap(para, width, true), "\n")...)
	}
	return out
}

// Fit truncates a (possibly styled) line to width cells with an ellipsis and
// pads it with spaces to exactly width cells.
func Fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	w := ansi.StringWidth(s)
	if w > width {
		s = ansi.Truncate(s, width, "…")
		w = ansi.StringWidth(s)
	}
	if w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// Truncate shortens plain text to width cells with an ellipsis.
func Truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// ShortHex shortens a long key or hash: the first 8 and the last 4
// characters.
func ShortHex(s string) string {
	if len(s) <= 14 {
		return s
	}
	return s[:8] + "…" + s[len(s)-4:]
}

// ShortID writes an ID compactly: name@abcd…wxyz (the address cut when
// long), keeping the terminal.
func ShortID(id dimp.ID) string {
	if id.IsZero() {
		return ""
	}
	addr := id.Address().String()
	if len(addr) > 12 {
		addr = addr[:5] + "…" + addr[len(addr)-4:]
	}
	s := addr
	if n := id.Name(); n != "" {
		s = n + "@" + addr
	}
	if t := id.Terminal(); t != "" {
		s += "/" + t
	}
	return Sanitize(s, false) // a peer's name and terminal are its own text
}

// Name is how a user is named in lists and chat lines: the ID's
// name, or its shortened address when it has none.
func Name(id dimp.ID) string {
	if n := id.Name(); n != "" {
		return Sanitize(n, false)
	}
	return ShortID(id)
}

// Size writes a byte count as 512 B, 1.2 kB, 3.4 MB.
func Size(n int) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1000)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
}

// Plural writes a count with its noun: "1 frame", "2 frames".
func Plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
