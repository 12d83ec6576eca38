package dimp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"dimtui/dimp/crypto"
)

type vecUser struct {
	ID             string          `json:"id"`
	Meta           json.RawMessage `json:"meta"`
	Visa           json.RawMessage `json:"visa"`
	Bulletin       json.RawMessage `json:"bulletin"`
	PrivateKey     json.RawMessage `json:"private_key"`
	PrivateKeyMeta json.RawMessage `json:"private_key_meta"`
	PrivateKeyVisa json.RawMessage `json:"private_key_visa"`
	Members        []string        `json:"members"`
}

type vecPipeline struct {
	Name         string          `json:"name"`
	Variant      string          `json:"variant"`
	Sender       string          `json:"sender"`
	Receiver     string          `json:"receiver"`
	Instant      json.RawMessage `json:"instant_message"`
	Secure       json.RawMessage `json:"secure_message"`
	Reliable     json.RawMessage `json:"reliable_message"`
	Wire         string          `json:"wire_json"`
	SymmetricKey json.RawMessage `json:"symmetric_key"`
	Serialized   string          `json:"serialized_content_utf8"`
	DecryptedKey string          `json:"decrypted_key_utf8"`
	SignatureHex string          `json:"signature_hex"`
	IVHex        string          `json:"iv_hex"`
	WantContent  json.RawMessage `json:"expected_content_after_decrypt"`
	Members      []string        `json:"members"`
	Valid        bool            `json:"valid"`
}

type vecMessages struct {
	Users     map[string]vecUser `json:"users"`
	Pipelines []vecPipeline      `json:"pipelines"`
	Tampered  []struct {
		Name     string          `json:"name"`
		Reliable json.RawMessage `json:"reliable_message"`
		Valid    bool            `json:"valid"`
	} `json:"tampered"`
}

// vectorWorld is the vectors' users as profiles and identities.
type vectorWorld struct {
	profiles   map[string]*Profile
	identities map[string]*Identity
}

func loadWorld(t testing.TB) (vecMessages, vectorWorld) {
	var v vecMessages
	loadVectors(t, "messages.json", &v)
	w := vectorWorld{profiles: map[string]*Profile{}, identities: map[string]*Identity{}}
	for name, u := range v.Users {
		id := MustParseID(u.ID)
		meta, err := ParseMeta(u.Meta)
		if err != nil {
			t.Fatalf("%s meta: %v", name, err)
		}
		var docs []*Document
		for _, raw := range []json.RawMessage{u.Visa, u.Bulletin} {
			if raw == nil {
				continue
			}
			d, err := ParseDocument(raw)
			if err != nil {
				t.Fatalf("%s document: %v", name, err)
			}
			docs = append(docs, d)
		}
		var prof *Profile
		if id.IsGroup() {
			prof = &Profile{ID: id, Meta: meta}
		} else if prof, err = NewProfile(id, meta, docs...); err != nil {
			t.Fatalf("%s profile: %v", name, err)
		}
		w.profiles[u.ID] = prof
		sign := u.PrivateKey
		if sign == nil {
			sign = u.PrivateKeyMeta
		}
		if sign == nil {
			continue
		}
		sk, err := crypto.ParsePrivateKey(sign)
		if err != nil {
			t.Fatalf("%s key: %v", name, err)
		}
		ident := &Identity{ID: id, Meta: meta, SignKey: sk}
		if len(docs) > 0 {
			ident.Visa = docs[0]
		}
		for _, raw := range []json.RawMessage{u.PrivateKeyVisa, sign} {
			if raw == nil {
				continue
			}
			k, err := crypto.ParsePrivateKey(raw)
			if err != nil {
				t.Fatal(err)
			}
			if dk, ok := k.(crypto.DecryptKey); ok {
				ident.Decrypt = append(ident.Decrypt, dk)
			}
		}
		w.identities[u.ID] = ident
	}
	return v, w
}

// sameContent compares a content with the reference's expected map.
func sameContent(t *testing.T, got Content, want json.RawMessage) {
	t.Helper()
	exp, err := ParseContent(want)
	if err != nil {
		t.Fatalf("expected content: %v", err)
	}
	if g, w := MarshalContent(got), MarshalContent(exp); !bytes.Equal(g, w) {
		t.Errorf("content\n got %s\nwant %s", g, w)
	}
}

func TestVectorMessages(t *testing.T) {
	v, w := loadWorld(t)
	bob := w.identities["bob@1KTtckknLw3AxD1WK4oLYpVN7RkQevC8wK"]
	for _, p := range v.Pipelines {
		t.Run(p.Name+"/"+p.Variant, func(t *testing.T) {
			sender := w.profiles[p.Sender]
			forms := map[string][]byte{"reliable_message": p.Reliable}
			if p.Wire != "" {
				forms["wire_json"] = []byte(p.Wire)
			}
			for form, raw := range forms {
				rm, err := ParseReliableMessage(raw)
				if err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				me := bob.ID
				if rm.IsBroadcast() {
					me = MustParseID(p.Receiver)
				}
				packer := &Packer{Me: &Identity{ID: me, Decrypt: bob.Decrypt}, Keys: &KeyCache{}}
				im, err := packer.Open(rm, sender)
				if err != nil {
					t.Fatalf("%s: open: %v", form, err)
				}
				sameContent(t, im.Content, p.WantContent)
				if im.Sender.String() != p.Sender || im.Receiver.String() != p.Receiver {
					t.Errorf("%s: envelope %s → %s", form, im.Sender, im.Receiver)
				}
				// Written back, the message still verifies and opens.
				out, _ := rm.MarshalJSON()
				again, err := ParseReliableMessage(out)
				if err != nil {
					t.Fatalf("%s: reparse: %v", form, err)
				}
				if _, err := packer.Open(again, sender); err != nil {
					t.Errorf("%s: reopen: %v", form, err)
				}
			}
			if p.SignatureHex != "" {
				rm, _ := ParseReliableMessage(p.Reliable)
				if got := hex.EncodeToString(rm.Signature); got != p.SignatureHex {
					t.Errorf("signature = %s", got)
				}
				if ident := w.identities[p.Sender]; ident != nil {
					if _, isRSA := ident.SignKey.(*crypto.RSAPrivateKey); isRSA {
						data, _ := rm.DataBytes()
						sig, _ := ident.SignKey.Sign(data)
						if hex.EncodeToString(sig) != p.SignatureHex {
							t.Errorf("our RSA signature of the data differs from the reference's")
						}
					}
				}
			}
			if p.Serialized != "" && p.IVHex != "" {
				rm, _ := ParseReliableMessage(p.Reliable)
				key, err := crypto.ParseSymmetricKey(p.SymmetricKey)
				if err != nil {
					t.Fatal(err)
				}
				data, _ := rm.DataBytes()
				iv, _ := hex.DecodeString(p.IVHex)
				body, err := key.Decrypt(data, iv)
				if err != nil || string(body) != p.Serialized {
					t.Errorf("AES plaintext = %q, %v", body, err)
				}
				if !bytes.Equal(rm.IV, iv) {
					t.Errorf("IV = %x", rm.IV)
				}
			}
			if p.DecryptedKey != "" {
				k, err := crypto.ParseSymmetricKey([]byte(p.DecryptedKey))
				want, _ := crypto.ParseSymmetricKey(p.SymmetricKey)
				if err != nil || !bytes.Equal(k.Data(), want.Data()) {
					t.Errorf("short-name key %s: %v", p.DecryptedKey, err)
				}
			}
		})
	}
}

func TestVectorTampered(t *testing.T) {
	v, w := loadWorld(t)
	for _, c := range v.Tampered {
		rm, err := ParseReliableMessage(c.Reliable)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		_, err = Verify(rm, w.profiles[rm.Sender.String()].VerifyKeys()...)
		if c.Valid || err == nil || !errors.Is(err, ErrSignature) {
			t.Errorf("%s: verify = %v, want ErrSignature", c.Name, err)
		}
	}
}
