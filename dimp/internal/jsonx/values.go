package jsonx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Kind names the JSON type of a raw value, for error messages.
func Kind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch c := raw[0]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	default:
		return "number"
	}
}

// IsNull reports whether raw is absent or the literal null.
func IsNull(raw []byte) bool { return len(raw) == 0 || raw[0] == 'n' }

func wrongType(want string, raw []byte) error {
	return fmt.Errorf("%w: want %s, got %s", ErrWrongType, want, Kind(raw))
}

// String decodes a raw JSON string value.
func String(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", wrongType("string", raw)
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	return unquoteSlow(raw)
}

// Float decodes a raw JSON number. A numeric string is accepted too, as old
// peers sometimes quote times and serial numbers.
func Float(raw []byte) (float64, error) {
	if len(raw) > 0 && raw[0] == '"' {
		s, err := String(raw)
		if err != nil {
			return 0, err
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, fmt.Errorf("%w: %q is not a number", ErrWrongType, s)
		}
		return f, nil
	}
	if Kind(raw) != "number" {
		return 0, wrongType("number", raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return 0, fmt.Errorf("%w: number out of range", ErrWrongType)
	}
	return f, nil
}

// Int decodes a raw JSON integer (or an integral float, or a numeric string).
func Int(raw []byte) (int64, error) {
	if Kind(raw) == "number" {
		if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return i, nil
		}
	}
	f, err := Float(raw)
	if err != nil {
		return 0, err
	}
	// 2^63 is the first float64 past MaxInt64; int64() of it overflows.
	if f != math.Trunc(f) || f >= 9223372036854775808.0 || f < math.MinInt64 {
		return 0, fmt.Errorf("%w: %v is not an integer", ErrWrongType, f)
	}
	return int64(f), nil
}

// Bool decodes a raw JSON boolean; numbers 0/1 are accepted as old peers send them.
func Bool(raw []byte) (bool, error) {
	switch string(raw) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, wrongType("boolean", raw)
}

// Token decodes a value that peers send either as a string or as a number
// (content and meta types): `"1"` and `1` both give "1".
func Token(raw []byte) (string, error) {
	switch Kind(raw) {
	case "string":
		return String(raw)
	case "number":
		if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err == nil && f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.FormatInt(int64(f), 10), nil
		}
		return "", fmt.Errorf("%w: %s is not an integer", ErrWrongType, raw)
	}
	return "", wrongType("string or number", raw)
}

// Array splits a raw JSON array into its raw elements.
func Array(raw []byte) ([][]byte, error) {
	if len(raw) < 2 || raw[0] != '[' {
		return nil, wrongType("array", raw)
	}
	s := scanner{data: raw, pos: 1}
	var out [][]byte
	s.skipSpace()
	if s.pos < len(raw) && raw[s.pos] == ']' {
		return out, nil
	}
	for {
		s.skipSpace()
		start := s.pos
		if err := s.value(0); err != nil {
			return nil, err
		}
		out = append(out, raw[start:s.pos:s.pos])
		s.skipSpace()
		if s.pos >= len(raw) {
			return nil, s.errorf(ErrSyntax, "unterminated array")
		}
		if raw[s.pos] == ']' {
			return out, nil
		}
		if raw[s.pos] != ',' {
			return nil, s.errorf(ErrSyntax, "expected ',' or ']'")
		}
		s.pos++
	}
}

// StringArray decodes an array of strings.
func StringArray(raw []byte) ([]string, error) {
	elems, err := Array(raw)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(elems))
	for i, e := range elems {
		s, err := String(e)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// SubObject decodes a raw value that must be an object.
func SubObject(raw []byte) (Object, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, wrongType("object", raw)
	}
	return ParseObject(raw)
}

// Clone returns a shallow copy whose values are copied out of the input, so
// that the copy outlives the buffer it was parsed from.
func (o Object) Clone() Object {
	if o == nil {
		return nil
	}
	c := make(Object, len(o))
	for k, v := range o {
		c[k] = append([]byte(nil), v...)
	}
	return c
}

// SortedKeys returns the member names in byte order.
func (o Object) SortedKeys() []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Set stores v, encoded with encoding/json, under key.
func (o Object) Set(key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	o[key] = raw
	return nil
}

// Get decodes the member key into v with encoding/json; absent is not an error.
func (o Object) Get(key string, v any) error {
	raw, ok := o[key]
	if !ok {
		return nil
	}
	return json.Unmarshal(raw, v)
}
