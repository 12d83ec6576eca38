package dimp

import (
	"bytes"
	"encoding/json"
	"testing"

	"dimtui/dimp/crypto"
)

// Fuzz targets for every parser. Each checks that no input panics and that
// whatever parses writes out in a form that parses again to the same bytes.
// Seeds come from the reference vectors; `go test` runs them as unit tests,
// `go test -fuzz=FuzzX` explores further.

// seedVectors adds every JSON object found under the vectors' fields named keys.
func seedVectors(f *testing.F, file string, keys ...string) {
	var doc any
	loadVectors(f, file, &doc)
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				if want[k] {
					if s, ok := sub.(string); ok {
						f.Add([]byte(s))
					} else if raw, err := json.Marshal(sub); err == nil {
						f.Add(raw)
					}
				}
				walk(sub)
			}
		case []any:
			for _, sub := range x {
				walk(sub)
			}
		}
	}
	walk(doc)
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"anyone@anywhere", "everyone@everywhere", "alice@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB/DIM-1",
		"0xB367a032383B8F49518Bd401Bc42394D3B0052d9", "13SS19sSbXAQRjAwkr5pDe7SSTCQevX1cb", "a@b@anywhere", "@anywhere", "x/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			return
		}
		if id.String() != s {
			t.Fatalf("ID text changed: %q → %q", s, id)
		}
		again, err := ParseID(NewID(id.Name(), id.Address(), id.Terminal()).String())
		if err != nil || !again.SameAs(id) {
			t.Fatalf("rebuilt ID %q does not parse the same: %v", again, err)
		}
	})
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"anywhere", "EVERYWHERE", "1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB", "hA4dVYkJUP5xZAKr4jZcAZYWF19un4Ukz",
		"0xb367a032383b8f49518bd401bc42394d3b0052d9", "0xB367a032383B8F49518Bd401Bc42394D3B0052D9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			return
		}
		if b, err := ParseAddress(a.String()); err != nil || !b.Equal(a) || b.Network() != a.Network() {
			t.Fatalf("address %q does not re-parse: %v", s, err)
		}
	})
}

func FuzzParseMeta(f *testing.F) {
	seedVectors(f, "ids.json", "meta")
	f.Add([]byte(`{"type":1,"key":{"algorithm":"ECC","data":"04` + "00" + `"},"seed":"x","fingerprint":"AA=="}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := ParseMeta(raw)
		if err != nil {
			return
		}
		stable(t, m.MarshalJSON, func(b []byte) (json.Marshaler, error) { return ParseMeta(b) })
	})
}

func FuzzParseDocument(f *testing.F) {
	seedVectors(f, "documents.json", "document")
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := ParseDocument(raw)
		if err != nil {
			return
		}
		_ = d.Name()
		_ = d.Terminal()
		_, _ = d.VisaKey()
		_, _ = d.Founder()
		stable(t, d.MarshalJSON, func(b []byte) (json.Marshaler, error) { return ParseDocument(b) })
	})
}

func FuzzParseKey(f *testing.F) {
	seedVectors(f, "keys.json", "private_key", "public_key", "key")
	f.Add([]byte(`{"A":"AES","D":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","I":"AAAAAAAAAAAAAAAAAAAAAA=="}`))
	f.Add([]byte(`{"algorithm":"ECC","data":"045ba27726a6fc69a6eefb0eb2802ab87fdced64e05ea8ed510de591e1ee692d874ec4e72186b32f49d3c9261dd5676c0fa8d2855ee4323ce1f899428029e8b969"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if k, err := crypto.ParsePublicKey(raw); err == nil {
			_ = k.Data()
			_ = k.Verify([]byte("x"), []byte("y"))
			stable(t, k.MarshalJSON, func(b []byte) (json.Marshaler, error) { return crypto.ParsePublicKey(b) })
		}
		if k, err := crypto.ParsePrivateKey(raw); err == nil {
			stable(t, k.MarshalJSON, func(b []byte) (json.Marshaler, error) { return crypto.ParsePrivateKey(b) })
			if dk, ok := k.(crypto.DecryptKey); ok {
				_, _ = dk.Decrypt(raw)
			}
		}
		if k, err := crypto.ParseSymmetricKey(raw); err == nil {
			_, _ = k.Decrypt(raw, nil)
			stable(t, k.MarshalJSON, func(b []byte) (json.Marshaler, error) { return crypto.ParseSymmetricKey(b) })
		}
	})
}

func FuzzParseContent(f *testing.F) {
	seedVectors(f, "messages.json", "content", "expected_content_after_decrypt", "serialized_content_utf8")
	for _, s := range []string{
		`{"type":255,"sn":1,"forward":{"sender":"anyone@anywhere","data":"{}","signature":"AA=="}}`,
		`{"type":202,"sn":1,"contents":[{"type":1,"sn":2,"text":"a"}]}`,
		`{"type":136,"sn":1,"cmd":"document","ID":"anyone@anywhere","document":{"ID":"anyone@anywhere","data":"{}","signature":"AA=="}}`,
		`{"type":136,"sn":1,"command":"receipt","envelope":{"sender":"anyone@anywhere","receiver":"anyone@anywhere"}}`,
		`{"type":137,"sn":1,"command":"invite","group":"everyone@everywhere","member":"anyone@anywhere"}`,
		`{"type":136,"sn":1,"command":"block","list":["anyone@anywhere"]}`,
		`{"type":136,"sn":1,"command":"login","did":"anyone@anywhere","station":{"did":"anyone@anywhere","host":"h","port":9394}}`,
		`{"type":"file","sn":1,"filename":"a.png","password":{"algorithm":"PLAIN"}}`,
		`{"type":207,"sn":1,"title":"t","messages":[{"sender":"anyone@anywhere","content":{"type":1,"text":"x"}}]}`,
		`{"type":55,"sn":1,"text":"q","origin":{"sender":"anyone@anywhere","type":"1","sn":3}}`,
		`{"type":136,"sn":1,"cmd":"users","tag":1,"keywords":["a","b"],"start":"2","limit":3}`,
		`{"type":136,"sn":1,"command":"search","users":["anyone@anywhere"],"station":"anyone@anywhere",` +
			`"results":{"anyone@anywhere/t":null},"visas":{"anyone@anywhere":{"ID":"anyone@anywhere","data":"{}","signature":"AA=="}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseContent(raw)
		if err != nil {
			return
		}
		out := MarshalContent(c)
		back, err := ParseContent(out)
		if err != nil {
			t.Fatalf("written content does not parse: %v\n%s", err, out)
		}
		if again := MarshalContent(back); !bytes.Equal(out, again) {
			t.Fatalf("content not stable:\n%s\n%s", out, again)
		}
	})
}

func FuzzParseMessage(f *testing.F) {
	seedVectors(f, "messages.json", "reliable_message", "wire_json", "instant_message", "secure_message")
	f.Fuzz(func(t *testing.T, raw []byte) {
		if rm, err := ParseReliableMessage(raw); err == nil {
			_, _ = rm.DataBytes()
			_ = rm.Split([]ID{Anyone})
			if rm.Meta != nil {
				_, _ = ProfileFromMessage(rm)
			}
			stable(t, rm.MarshalJSON, func(b []byte) (json.Marshaler, error) { return ParseReliableMessage(b) })
		}
		if im, err := ParseInstantMessage(raw); err == nil {
			stable(t, im.MarshalJSON, func(b []byte) (json.Marshaler, error) { return ParseInstantMessage(b) })
		}
	})
}

// stable checks that a parsed value, written and read again, writes the same bytes.
func stable(t *testing.T, marshal func() ([]byte, error), parse func([]byte) (json.Marshaler, error)) {
	t.Helper()
	out, err := marshal()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	back, err := parse(out)
	if err != nil {
		t.Fatalf("written form does not parse: %v\n%s", err, out)
	}
	again, err := back.MarshalJSON()
	if err != nil || !bytes.Equal(out, again) {
		t.Fatalf("not stable (%v):\n%s\n%s", err, out, again)
	}
}
