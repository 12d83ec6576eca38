package dimp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"dimtui/dimp/internal/jsonx"
	"dimtui/dimp/internal/ted"
)

// Fields holds the members of a map this package does not model, as raw
// JSON by name. They are written back after the known members, so unknown
// fields survive a parse and a re-serialize.
type Fields = jsonx.Object

// fieldReader takes typed members out of an object, remembering the first
// error so that a parser reads as a list of fields.
type fieldReader struct {
	m     *jsonx.Members
	err   error
	cache *IDCache // optional
}

func (r *fieldReader) fail(key string, err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w", key, err)
	}
}

// raw takes a member as raw JSON (nil when absent or null).
func (r *fieldReader) raw(key string) json.RawMessage {
	v := r.m.Take(key)
	if v == nil {
		return nil
	}
	return json.RawMessage(v)
}

// rawEither takes key, or legacy when key is absent; both are removed.
func (r *fieldReader) rawEither(key, legacy string) json.RawMessage {
	v, old := r.raw(key), r.raw(legacy)
	if v == nil {
		return old
	}
	return v
}

func (r *fieldReader) str(key string) string {
	return r.strOf(key, r.raw(key))
}

func (r *fieldReader) strOf(key string, raw []byte) string {
	if raw == nil {
		return ""
	}
	s, err := jsonx.String(raw)
	if err != nil {
		r.fail(key, err)
	}
	return s
}

func (r *fieldReader) float(key string) float64 {
	raw := r.raw(key)
	if raw == nil {
		return 0
	}
	f, err := jsonx.Float(raw)
	if err != nil {
		r.fail(key, err)
	}
	return f
}

func (r *fieldReader) int(key string) int64 {
	raw := r.raw(key)
	if raw == nil {
		return 0
	}
	i, err := jsonx.Int(raw)
	if err != nil {
		r.fail(key, err)
	}
	return i
}

func (r *fieldReader) bool(key string) bool {
	raw := r.raw(key)
	if raw == nil {
		return false
	}
	b, err := jsonx.Bool(raw)
	if err != nil {
		r.fail(key, err)
	}
	return b
}

func (r *fieldReader) id(key string) ID {
	return r.idOf(key, r.raw(key))
}

func (r *fieldReader) idOf(key string, raw []byte) ID {
	if raw == nil {
		return ID{}
	}
	if r.cache != nil {
		id, err := r.cache.parseJSON(raw)
		if err != nil {
			r.fail(key, err)
		}
		return id
	}
	id, err := idField(raw)
	if err != nil {
		r.fail(key, err)
	}
	return id
}

func (r *fieldReader) ids(key string) []ID { return r.idsOf(key, r.raw(key)) }

func (r *fieldReader) idsOf(key string, raw []byte) []ID {
	if raw == nil {
		return nil
	}
	strs, err := jsonx.StringArray(raw)
	if err != nil {
		r.fail(key, err)
		return nil
	}
	out := make([]ID, 0, len(strs))
	for _, s := range strs {
		id, err := ParseID(s)
		if err != nil {
			r.fail(key, err)
			return nil
		}
		out = append(out, id)
	}
	return out
}

func (r *fieldReader) object(key string) jsonx.Object {
	raw := r.raw(key)
	if raw == nil {
		return nil
	}
	obj, err := jsonx.SubObject(raw)
	if err != nil {
		r.fail(key, err)
	}
	return obj
}

// members takes a member that must be an object, split into its members
// (nil when absent or not an object).
func (r *fieldReader) members(key string) *jsonx.Members {
	raw := r.raw(key)
	if raw == nil {
		return nil
	}
	m, err := jsonx.MembersOf(raw)
	if err != nil {
		r.fail(key, err)
		return nil
	}
	return m
}

// sub takes a member that must be an object and returns a reader of it
// (nil when absent).
func (r *fieldReader) sub(key string) *fieldReader {
	m := r.members(key)
	if m == nil {
		return nil
	}
	return &fieldReader{m: m, cache: r.cache}
}

// idField reads a JSON string holding an ID.
func idField(raw []byte) (ID, error) {
	s, err := jsonx.String(raw)
	if err != nil {
		return ID{}, err
	}
	return ParseID(s)
}

// lenientIDs reads a list of ID strings, returning the entries that are
// no IDs apart instead of failing; a member that is no list of strings
// still fails.
func (r *fieldReader) lenientIDs(key string, raw []byte) (ids []ID, invalid []string) {
	strs, err := jsonx.StringArray(raw)
	if err != nil {
		r.fail(key, err)
		return nil, nil
	}
	ids = make([]ID, 0, len(strs))
	for _, s := range strs {
		if id, err := ParseID(s); err == nil {
			ids = append(ids, id)
		} else {
			invalid = append(invalid, s)
		}
	}
	return ids, invalid
}

// writeIDs writes a list of IDs as strings.
func writeIDs(w *jsonx.Writer, key string, ids []ID) {
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = id.String()
	}
	w.Strings(key, strs)
}

// writeIDIf writes an ID member unless the ID is zero.
func writeIDIf(w *jsonx.Writer, key string, id ID) {
	if !id.IsZero() {
		w.String(key, id.String())
	}
}

// tedText remembers the text binary data was read from, so that writing
// the value back, unchanged, yields the same text.
type tedText struct {
	text string
	data []byte
}

// textOf returns the original text if cur is still the data it decoded to,
// else cur in Base64.
func (t tedText) textOf(cur []byte) string {
	if t.text != "" && bytes.Equal(cur, t.data) {
		return t.text
	}
	return ted.Encode(cur)
}

// readTED decodes a JSON string of transportable data.
func readTED(raw []byte) ([]byte, tedText, error) {
	s, err := jsonx.String(raw)
	if err != nil {
		return nil, tedText{}, err
	}
	b, err := ted.Decode(s)
	if err != nil {
		return nil, tedText{}, err
	}
	return b, tedText{text: s, data: b}, nil
}

// idCacheSize bounds an IDCache; when full it starts over.
const idCacheSize = 4096

// IDCache remembers parsed IDs, so that the IDs of every message between the
// same peers are checked (Base58, checksum) once. It is safe for concurrent use.
type IDCache struct {
	mu sync.RWMutex
	m  map[string]ID
}

// Parse returns the ID for s, from the cache when it was seen before.
func (c *IDCache) Parse(s string) (ID, error) {
	c.mu.RLock()
	id, ok := c.m[s]
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	return c.add(s)
}

func (c *IDCache) add(s string) (ID, error) {
	id, err := ParseID(s)
	if err != nil {
		return ID{}, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= idCacheSize {
		c.m = make(map[string]ID, 64)
	}
	c.m[s] = id
	c.mu.Unlock()
	return id, nil
}

// parseJSON reads a JSON string holding an ID, without allocating when the
// ID is cached and unescaped.
func (c *IDCache) parseJSON(raw []byte) (ID, error) {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		body := raw[1 : len(raw)-1]
		c.mu.RLock()
		id, ok := c.m[string(body)]
		c.mu.RUnlock()
		if ok {
			return id, nil
		}
	}
	s, err := jsonx.String(raw)
	if err != nil {
		return ID{}, err
	}
	return c.add(s)
}

// DecodeTED reads transportable data as a content carries it (a file's
// `data`, a thumbnail): plain Base64, a data: URI, or a legacy prefixed
// form (spec §6.1).
func DecodeTED(s string) ([]byte, error) {
	b, err := ted.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidContent, err)
	}
	return b, nil
}
