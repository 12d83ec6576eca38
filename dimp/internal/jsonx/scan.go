// Package jsonx splits JSON objects into raw members and writes them back.
//
// DIMP objects are open dictionaries: every map on the wire may carry fields
// this implementation does not know, and they must survive a parse and a
// re-serialize. jsonx therefore decodes an object into its members with the
// values left as raw JSON, lets the typed layer take the fields it knows, and
// keeps the rest. The scanner validates the whole input (strings, numbers,
// literals, nesting) in one pass without building a tree, which is what makes
// opening a message cheap next to the cryptography it needs.
package jsonx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of arrays and objects the scanner accepts.
// Deeper input is refused with ErrTooDeep instead of recursing without limit.
const MaxDepth = 128

// Errors returned by the scanner; each is wrapped with the byte offset.
var (
	ErrSyntax    = errors.New("invalid JSON")
	ErrNotObject = errors.New("JSON value is not an object")
	ErrTooDeep   = errors.New("JSON nested too deeply")
	ErrWrongType = errors.New("wrong JSON type")
)

// Object is a JSON object split into members; each value is the raw JSON text
// of that member, validated. Values alias the parsed input: callers must not
// modify the input afterwards. When a key repeats, the last value wins, as it
// does for the reference implementation's decoder.
type Object map[string][]byte

type scanner struct {
	data    []byte
	pos     int
	short   bool      // a member name of one byte was seen at the top level (see Members.Expand)
	collect *[]Member // where ParseMembers wants the top-level members
}

func (s *scanner) errorf(base error, format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", base, s.pos, fmt.Sprintf(format, args...))
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// ParseObject validates data as one JSON object (surrounding white space
// allowed) and returns its members.
func ParseObject(data []byte) (Object, error) {
	s := scanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '{' {
		if s.pos >= len(data) {
			return nil, fmt.Errorf("%w: empty input", ErrSyntax)
		}
		// Distinguish "valid JSON of another type" from garbage.
		if err := s.value(0); err == nil {
			return nil, ErrNotObject
		}
		return nil, s.errorf(ErrSyntax, "expected '{'")
	}
	obj, err := s.object(0, true)
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return nil, s.errorf(ErrSyntax, "data after the object")
	}
	return obj, nil
}

// Valid reports whether data is one well-formed JSON value within MaxDepth.
func Valid(data []byte) error {
	s := scanner{data: data}
	s.skipSpace()
	if err := s.value(0); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return s.errorf(ErrSyntax, "data after the value")
	}
	return nil
}

// object scans an object starting at '{'. When collect is false the members
// are validated but not stored.
func (s *scanner) object(depth int, collect bool) (Object, error) {
	if depth >= MaxDepth {
		return nil, s.errorf(ErrTooDeep, "more than %d levels", MaxDepth)
	}
	s.pos++ // '{'
	var obj Object
	if collect && s.collect == nil {
		obj = make(Object, 8)
	}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return obj, nil
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return nil, s.errorf(ErrSyntax, "expected a member name")
		}
		kStart := s.pos
		escaped, err := s.str()
		if err != nil {
			return nil, err
		}
		var key string
		if collect {
			if escaped {
				key, err = unquoteSlow(s.data[kStart:s.pos])
				if err != nil {
					return nil, err
				}
			} else {
				key = intern(s.data[kStart+1 : s.pos-1])
			}
			if len(key) == 1 {
				s.short = true
			}
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return nil, s.errorf(ErrSyntax, "expected ':'")
		}
		s.pos++
		s.skipSpace()
		vStart := s.pos
		if err := s.value(depth + 1); err != nil {
			return nil, err
		}
		if collect {
			if s.collect != nil {
				*s.collect = append(*s.collect, Member{Name: key, Value: s.data[vStart:s.pos:s.pos]})
			} else {
				obj[key] = s.data[vStart:s.pos:s.pos]
			}
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil, s.errorf(ErrSyntax, "unterminated object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return obj, nil
		default:
			return nil, s.errorf(ErrSyntax, "expected ',' or '}'")
		}
	}
}

func (s *scanner) array(depth int) error {
	if depth >= MaxDepth {
		return s.errorf(ErrTooDeep, "more than %d levels", MaxDepth)
	}
	s.pos++ // '['
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.errorf(ErrSyntax, "unterminated array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.errorf(ErrSyntax, "expected ',' or ']'")
		}
	}
}

func (s *scanner) value(depth int) error {
	if s.pos >= len(s.data) {
		return s.errorf(ErrSyntax, "unexpected end of input")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		_, err := s.object(depth, false)
		return err
	case c == '[':
		return s.array(depth)
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.errorf(ErrSyntax, "unexpected character %q", c)
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.errorf(ErrSyntax, "invalid literal")
	}
	s.pos += len(lit)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (s *scanner) digits() int {
	n := 0
	for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
		s.pos++
		n++
	}
	return n
}

func (s *scanner) number() error {
	if s.data[s.pos] == '-' {
		s.pos++
	}
	if s.pos >= len(s.data) {
		return s.errorf(ErrSyntax, "invalid number")
	}
	if s.data[s.pos] == '0' {
		s.pos++
	} else if s.digits() == 0 {
		return s.errorf(ErrSyntax, "invalid number")
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return s.errorf(ErrSyntax, "invalid number")
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return s.errorf(ErrSyntax, "invalid number")
		}
	}
	return nil
}

// str scans a string starting at '"' and reports whether it has escapes.
func (s *scanner) str() (escaped bool, err error) {
	s.pos++ // opening quote
	for s.pos < len(s.data) {
		// Skip eight plain bytes at a time: no quote, backslash, control
		// character or non-ASCII byte among them.
		for s.pos+8 <= len(s.data) {
			v := binary.LittleEndian.Uint64(s.data[s.pos:])
			if (hasLess(v, 0x20)|hasByte(v, '"')|hasByte(v, '\\')|v)&0x8080808080808080 != 0 {
				break
			}
			s.pos += 8
		}
		if s.pos >= len(s.data) {
			break
		}
		c := s.data[s.pos]
		if plain[c] {
			s.pos++
			continue
		}
		switch {
		case c == '"':
			s.pos++
			return escaped, nil
		case c == '\\':
			escaped = true
			s.pos++
			if s.pos >= len(s.data) {
				return false, s.errorf(ErrSyntax, "unterminated string")
			}
			switch s.data[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			case 'u':
				if len(s.data)-s.pos < 5 {
					return false, s.errorf(ErrSyntax, "short \\u escape")
				}
				for _, h := range s.data[s.pos+1 : s.pos+5] {
					if !isHex(h) {
						return false, s.errorf(ErrSyntax, "bad \\u escape")
					}
				}
				s.pos += 5
			default:
				return false, s.errorf(ErrSyntax, "bad escape")
			}
		case c < 0x20:
			return false, s.errorf(ErrSyntax, "control character in string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size == 1 {
				return false, s.errorf(ErrSyntax, "invalid UTF-8 in string")
			}
			s.pos += size
		default:
			s.pos++
		}
	}
	return false, s.errorf(ErrSyntax, "unterminated string")
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// unquoteSlow decodes a validated JSON string literal with escapes.
func unquoteSlow(lit []byte) (string, error) {
	b := make([]byte, 0, len(lit))
	for i := 1; i < len(lit)-1; {
		c := lit[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		i++
		switch lit[i] {
		case '"', '\\', '/':
			b = append(b, lit[i])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(lit[i+1 : i+5])
			i += 4
			if r >= 0xD800 && r < 0xDC00 && i+6 < len(lit) && lit[i+1] == '\\' && lit[i+2] == 'u' {
				r2 := hex4(lit[i+3 : i+7])
				if r2 >= 0xDC00 && r2 < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 6
				} else {
					return "", fmt.Errorf("%w: unpaired surrogate in string", ErrSyntax)
				}
			} else if r >= 0xD800 && r < 0xE000 {
				return "", fmt.Errorf("%w: unpaired surrogate in string", ErrSyntax)
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", fmt.Errorf("%w: bad escape", ErrSyntax)
		}
		i++
	}
	return string(b), nil
}

func hex4(h []byte) rune {
	v, _ := strconv.ParseUint(string(h), 16, 32)
	return rune(v)
}

// intern returns the member names DIMP uses as constant strings, so that
// splitting a message allocates no string for them.
func intern(b []byte) string {
	switch string(b) {
	case "sender":
		return "sender"
	case "receiver":
		return "receiver"
	case "time":
		return "time"
	case "type":
		return "type"
	case "group":
		return "group"
	case "data":
		return "data"
	case "keys":
		return "keys"
	case "key":
		return "key"
	case "signature":
		return "signature"
	case "IV":
		return "IV"
	case "meta":
		return "meta"
	case "visa":
		return "visa"
	case "content":
		return "content"
	case "sn":
		return "sn"
	case "text":
		return "text"
	case "command":
		return "command"
	case "cmd":
		return "cmd"
	case "title":
		return "title"
	case "message":
		return "message"
	case "session":
		return "session"
	case "app":
		return "app"
	case "mod":
		return "mod"
	case "act":
		return "act"
	case "algorithm":
		return "algorithm"
	case "did":
		return "did"
	case "ID":
		return "ID"
	case "origin":
		return "origin"
	}
	return string(b)
}

// plain marks the bytes a string scan can pass without a second look:
// printable ASCII other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const lsb = 0x0101010101010101

// hasLess sets the high bit of each byte of v below n (n ≤ 128); bytes with
// their own high bit set may be flagged too, which the caller tests anyway.
func hasLess(v uint64, n byte) uint64 { return (v - lsb*uint64(n)) &^ v }

// hasByte sets the high bit of each byte of v equal to c (and perhaps of a
// byte after it, which only sends the scan to the byte-wise path).
func hasByte(v uint64, c byte) uint64 {
	x := v ^ (lsb * uint64(c))
	return (x - lsb) &^ x
}
