package jsonx

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// Writer appends one JSON object member by member. Known fields are written
// in a fixed order, then the preserved unknown members in byte order, so that
// the output of the same value is always the same bytes.
type Writer struct {
	buf     []byte
	first   bool
	written []string
}

// NewWriter starts an object, appending to buf.
func NewWriter(buf []byte) *Writer {
	return &Writer{buf: append(buf, '{'), first: true, written: make([]string, 0, 12)}
}

func (w *Writer) key(k string) {
	if !w.first {
		w.buf = append(w.buf, ',')
	}
	w.first = false
	w.written = append(w.written, k)
	w.buf = AppendString(w.buf, k)
	w.buf = append(w.buf, ':')
}

// Empty reports whether no member was written yet.
func (w *Writer) Empty() bool { return w.first }

// String writes a string member.
func (w *Writer) String(k, v string) {
	w.key(k)
	w.buf = AppendString(w.buf, v)
}

// StringIf writes a string member unless v is empty.
func (w *Writer) StringIf(k, v string) {
	if v != "" {
		w.String(k, v)
	}
}

// Float writes a number member the way the reference writes floats.
func (w *Writer) Float(k string, f float64) {
	w.key(k)
	w.buf = AppendFloat(w.buf, f)
}

// Int writes an integer member.
func (w *Writer) Int(k string, i int64) {
	w.key(k)
	w.buf = strconv.AppendInt(w.buf, i, 10)
}

// Bool writes a boolean member.
func (w *Writer) Bool(k string, b bool) {
	w.key(k)
	w.buf = strconv.AppendBool(w.buf, b)
}

// Raw writes a member whose value is already JSON text. A nil raw is skipped.
func (w *Writer) Raw(k string, raw []byte) {
	if raw == nil {
		return
	}
	w.key(k)
	w.buf = append(w.buf, raw...)
}

// Strings writes an array of strings.
func (w *Writer) Strings(k string, vs []string) {
	w.key(k)
	w.buf = append(w.buf, '[')
	for i, v := range vs {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = AppendString(w.buf, v)
	}
	w.buf = append(w.buf, ']')
}

// Rest writes the members of o that the writer has not written yet, in
// byte order of their names: the unknown members a value was read with.
func (w *Writer) Rest(o Object) {
	if len(o) == 0 {
		return
	}
	n := len(w.written)
	for _, k := range o.SortedKeys() {
		if w.seen(k, n) {
			continue
		}
		w.Raw(k, compact(o[k]))
	}
}

func (w *Writer) seen(k string, n int) bool {
	for _, name := range w.written[:n] {
		if name == k {
			return true
		}
	}
	return false
}

// End closes the object and returns the buffer.
func (w *Writer) End() []byte {
	return append(w.buf, '}')
}

// AppendFloat appends f as a JSON number, the shortest text that reads back
// as the same float64. Non-finite values become 0, as JSON has no spelling
// for them.
func AppendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string literal. Invalid UTF-8 becomes
// U+FFFD; control characters and the JavaScript line separators are escaped.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Pass eight bytes at a time while none needs escaping or a
		// UTF-8 check (the Base64 of data, keys and signatures).
		for i+8 <= len(s) {
			v := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if (hasLess(v, 0x20)|hasByte(v, '"')|hasByte(v, '\\')|v)&0x8080808080808080 != 0 {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// compact removes insignificant white space from objects and arrays kept
// raw, so that what was pretty-printed by a peer goes out on one line.
func compact(raw []byte) []byte {
	if len(raw) == 0 || (raw[0] != '{' && raw[0] != '[') || !hasSpace(raw) {
		return raw
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

func hasSpace(raw []byte) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			return true
		}
	}
	return false
}
