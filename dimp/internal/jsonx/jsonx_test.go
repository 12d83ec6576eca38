package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseObject(t *testing.T) {
	obj, err := ParseObject([]byte(` {"a": 1, "b":"x\"y", "c": {"d": [1, 2.5e3, null, true]}, "a": 2} `))
	if err != nil {
		t.Fatal(err)
	}
	if string(obj["a"]) != "2" {
		t.Errorf("repeated name: last value should win, got %s", obj["a"])
	}
	if s, _ := String(obj["b"]); s != `x"y` {
		t.Errorf("b = %q", s)
	}
	if string(obj["c"]) != `{"d": [1, 2.5e3, null, true]}` {
		t.Errorf("c = %s", obj["c"])
	}
	for _, bad := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":1.}`, `{"a":"\x"}`,
		"{\"a\":\"\x01\"}", `{"a":tru}`, `{"a":1} x`, "{\"\xff\":1}"} {
		if _, err := ParseObject([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Values are decoded when taken: an unpaired surrogate fails then.
	if _, err := String([]byte(`"\ud800"`)); err == nil {
		t.Error("unpaired surrogate decoded")
	}
	if _, err := ParseObject([]byte(`[1]`)); !errors.Is(err, ErrNotObject) {
		t.Errorf("array: %v, want ErrNotObject", err)
	}
	deep := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)
	if _, err := ParseObject([]byte(deep)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep object: %v, want ErrTooDeep", err)
	}
}

func TestMembersAndExpand(t *testing.T) {
	m, err := ParseMembers([]byte(`{"F":"a","sender":"b","T":1,"x":[1, 2]}`))
	if err != nil {
		t.Fatal(err)
	}
	m.Expand([][2]string{{"sender", "F"}, {"type", "T"}})
	if s, _ := String(m.Take("sender")); s != "b" {
		t.Errorf("long name must win over short: %q", s)
	}
	if string(m.Take("type")) != "1" {
		t.Error("T was not expanded")
	}
	rest := m.Rest()
	if len(rest) != 2 || string(rest["x"]) != "[1, 2]" || string(rest["F"]) != `"a"` {
		t.Errorf("rest = %v", rest)
	}
}

func TestWriter(t *testing.T) {
	w := NewWriter(nil)
	w.String("s", "a\"b\\c\n\x01\u2028é\xff")
	w.Float("f", 1795677247.028054)
	w.Float("g", 1e21)
	w.Int("i", -3)
	w.Rest(Object{"z": []byte(`{ "k" : [ 1 ] }`), "s": []byte(`"dup"`)})
	got := string(w.End())
	want := `{"s":"a\"b\\c\n\u0001\u2028é` + "\uFFFD" + `","f":1795677247.028054,"g":1e+21,"i":-3,"z":{"k":[1]}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Error("writer output is not JSON")
	}
}

// FuzzScan checks the scanner against encoding/json: the same inputs are
// valid, except that jsonx refuses invalid UTF-8, unpaired surrogates and
// nesting deeper than MaxDepth, and decodes strings to the same text.
func FuzzScan(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b"}`, `{"a":[1,{"b":null}],"c":-0.5e-3}`, `{"a":"\u00e9\ud83d\udc4b"}`, `[1,2]`, `"x"`, `{"a":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Valid(data)
		std := json.Valid(data)
		if err == nil && !std {
			t.Fatalf("jsonx accepts what encoding/json refuses: %q", data)
		}
		if err != nil && std && utf8.Valid(data) && !errors.Is(err, ErrTooDeep) && !bytes.Contains(data, []byte(`\u`)) {
			t.Fatalf("jsonx refuses valid JSON %q: %v", data, err)
		}
		obj, err := ParseObject(data)
		if err != nil {
			return
		}
		var std2 map[string]json.RawMessage
		if err := json.Unmarshal(data, &std2); err != nil {
			t.Fatalf("encoding/json refuses an object jsonx took: %v", err)
		}
		for k, v := range obj {
			if !bytes.Equal(bytes.TrimSpace(std2[k]), v) {
				t.Fatalf("member %q: %s vs %s", k, v, std2[k])
			}
			if Kind(v) == "string" {
				got, err := String(v)
				var want string
				_ = json.Unmarshal(v, &want)
				if err == nil && got != want {
					t.Fatalf("string %s: %q vs %q", v, got, want)
				}
			}
		}
	})
}

// FuzzAppendString checks that every string is written as JSON that reads
// back as the same text (invalid UTF-8 as U+FFFD).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain ASCII text of some length", "a\"b\\c\n\x01\u2028é\xff", "0123456789abcdef\x7f\u2029"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q written as invalid JSON %s: %v", s, out, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); back != want && utf8.ValidString(s) {
			t.Fatalf("%q read back as %q", s, back)
		}
	})
}
