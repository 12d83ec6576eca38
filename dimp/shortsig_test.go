package dimp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"dimtui/dimp/crypto"
	"dimtui/dimp/internal/ted"
)

// dimchat's browser client writes an RSA signature (and an encrypted key)
// as an integer without its leading zero bytes, so about one in 256 is a
// byte short. These tests make such signatures for real, by signing until
// one starts with a zero byte, and drop that byte as the browser does.

// zeroLed calls sign with 0, 1, 2, … until the bytes it returns start with
// a zero byte, and returns those bytes.
func zeroLed(t *testing.T, what string, sign func(i int) []byte) []byte {
	t.Helper()
	for i := range 20000 {
		if b := sign(i); len(b) > 0 && b[0] == 0 {
			return b
		}
	}
	t.Fatalf("%s: no signature starting with a zero byte in 20000", what)
	return nil
}

// shortSigKeys are the RSA keys of the browser's users: the 1023-bit key
// of a real browser user, a fresh 1024-bit key and the reference vectors'
// 2048-bit key.
func shortSigKeys(t *testing.T) map[string]crypto.PrivateKey {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "webclient_rsa1023.json"))
	if err != nil {
		t.Fatal(err)
	}
	var web struct {
		PrivateKey json.RawMessage `json:"private_key"`
	}
	if err := json.Unmarshal(raw, &web); err != nil {
		t.Fatal(err)
	}
	k1023, err := crypto.ParsePrivateKey(web.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	k2048, err := crypto.ParsePrivateKey(testKeys(t).Asymmetric["rsa2048_bob"].PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]crypto.PrivateKey{"RSA-1023": k1023, "RSA-1024": mustRSA(t, 1024), "RSA-2048": k2048}
}

// shortSignedUser makes a browser-like user on key whose meta fingerprint
// and visa signature are both a byte short, read back from their JSON.
func shortSignedUser(t *testing.T, key crypto.PrivateKey) *Identity {
	t.Helper()
	var meta *Meta
	zeroLed(t, "meta", func(i int) []byte {
		m, err := GenerateMeta(MetaMKM, key, fmt.Sprintf("web%d", i))
		if err != nil {
			t.Fatal(err)
		}
		meta = m
		return m.Fingerprint
	})
	meta.Fingerprint = meta.Fingerprint[1:]
	raw, err := meta.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if meta, err = ParseMeta(raw); err != nil {
		t.Fatalf("meta with a short fingerprint: %v", err)
	}
	// The address is derived from the fingerprint as sent, short.
	id, err := meta.GenerateID(User, "")
	if err != nil {
		t.Fatal(err)
	}
	visa := shortSignedDoc(t, NewDocument(id, DocVisa), key, func(d *Document) {
		if err := d.Set("key", key.PublicKey()); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := NewProfile(id, meta, visa); err != nil {
		t.Fatalf("visa with a short signature: %v", err)
	}
	dec, _ := key.(crypto.DecryptKey)
	return &Identity{ID: id, Meta: meta, Visa: visa, SignKey: key, Decrypt: []crypto.DecryptKey{dec}}
}

// shortSignedDoc signs d with key, changing its name until the signature
// starts with a zero byte, drops that byte and reads the document back
// from its JSON.
func shortSignedDoc(t *testing.T, d *Document, key crypto.PrivateKey, set func(*Document)) *Document {
	t.Helper()
	set(d)
	zeroLed(t, d.DocType(), func(i int) []byte {
		if err := d.Set("name", fmt.Sprintf("web user %d", i)); err != nil {
			t.Fatal(err)
		}
		if err := d.Sign(key); err != nil {
			t.Fatal(err)
		}
		return d.Signature
	})
	d.Signature = d.Signature[1:]
	raw, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestShortRSASignatures: a meta, a visa, a bulletin and a message whose
// RSA signature lacks its leading zero byte verify, for RSA-1023, -1024
// and -2048; a signature with a wrong byte, a byte too many or none does
// not.
func TestShortRSASignatures(t *testing.T) {
	for name, key := range shortSigKeys(t) {
		t.Run(name, func(t *testing.T) {
			web := shortSignedUser(t, key)
			size := len(web.Visa.Signature) + 1

			// A bulletin of a group the web user founded.
			gmeta, err := GenerateMeta(MetaMKM, key, "group")
			if err != nil {
				t.Fatal(err)
			}
			gid, err := gmeta.GenerateID(Group, "")
			if err != nil {
				t.Fatal(err)
			}
			bulletin := shortSignedDoc(t, NewDocument(gid, DocBulletin), key, func(d *Document) {
				if err := d.Set("founder", web.ID.String()); err != nil {
					t.Fatal(err)
				}
			})
			if err := bulletin.VerifyFor(gid, web.Meta); err != nil {
				t.Errorf("bulletin with a short signature: %v", err)
			}

			// A message from the web user to bob, meta and visa attached.
			bob := newTestUser(t, "bob", MetaMKM, mustECC(t))
			var rm *ReliableMessage
			zeroLed(t, "message", func(int) []byte {
				rm, err = NewPacker(web).Seal(NewInstantMessage(web.ID, bob.ID, NewText("from the browser")),
					[]*Profile{bob.Profile()}, SealOptions{Attach: true})
				if err != nil {
					t.Fatal(err)
				}
				return rm.Signature
			})
			rm.Signature = rm.Signature[1:]
			got := wire(t, rm)
			if len(got.Signature) != size-1 || len(got.Meta.Fingerprint) != size-1 || len(got.Visa.Signature) != size-1 {
				t.Fatalf("sent signature, fingerprint, visa signature of %d, %d, %d bytes; want %d",
					len(got.Signature), len(got.Meta.Fingerprint), len(got.Visa.Signature), size-1)
			}
			from, err := ProfileFromMessage(got)
			if err != nil {
				t.Fatalf("attached meta and visa: %v", err)
			}
			im, err := NewPacker(bob).Open(got, from)
			if err != nil {
				t.Fatalf("open a message with a short signature: %v", err)
			}
			if text := im.Content.(*TextContent).Text; text != "from the browser" {
				t.Errorf("opened %q", text)
			}

			// Refused: a wrong byte, a byte too many, no signature.
			wrong := bytes.Clone(rm.Signature)
			wrong[len(wrong)/2] ^= 1
			for what, sig := range map[string][]byte{
				"a wrong byte":                    wrong,
				"one byte longer than the key":    append([]byte{0, 0}, rm.Signature...),
				"zero-length":                     {},
				"the short signature of the visa": web.Visa.Signature,
			} {
				bad := wire(t, rm)
				bad.Signature = sig
				if _, err := NewPacker(bob).Open(wire(t, bad), from); !errors.Is(err, ErrSignature) {
					t.Errorf("message, %s: err = %v, want ErrSignature", what, err)
				}
			}
			badVisa := *web.Visa
			badVisa.Signature = bytes.Clone(web.Visa.Signature)
			badVisa.Signature[0] ^= 1
			if _, err := NewProfile(web.ID, web.Meta, &badVisa); !errors.Is(err, ErrDocumentSignature) {
				t.Errorf("visa with a wrong byte: err = %v, want ErrDocumentSignature", err)
			}
			badVisa.Signature = append([]byte{0, 0}, web.Visa.Signature...)
			if _, err := NewProfile(web.ID, web.Meta, &badVisa); !errors.Is(err, ErrDocumentSignature) {
				t.Errorf("visa one byte longer than the key: err = %v, want ErrDocumentSignature", err)
			}
			badMeta := *web.Meta
			badMeta.Fingerprint = bytes.Clone(web.Meta.Fingerprint)
			badMeta.Fingerprint[3] ^= 1
			if err := badMeta.Validate(); !errors.Is(err, ErrFingerprint) {
				t.Errorf("fingerprint with a wrong byte: err = %v, want ErrFingerprint", err)
			}
		})
	}
}

// TestShortRSAEncryptedKey: a message whose `keys` entry is an RSA
// ciphertext without its leading zero byte opens.
func TestShortRSAEncryptedKey(t *testing.T) {
	for name, key := range shortSigKeys(t) {
		t.Run(name, func(t *testing.T) {
			alice := newTestUser(t, "alice", MetaMKM, mustECC(t))
			web, err := NewIdentity(User, MetaMKM, "web", "web", key, key.(crypto.DecryptKey))
			if err != nil {
				t.Fatal(err)
			}
			var rm *ReliableMessage
			var entry string
			ek := zeroLed(t, "encrypted key", func(int) []byte {
				if rm, err = NewPacker(alice).Seal(NewInstantMessage(alice.ID, web.ID, NewText("to the browser")),
					[]*Profile{web.Profile()}, SealOptions{}); err != nil {
					t.Fatal(err)
				}
				entry = web.ID.String()
				ct, err := ted.Decode(rm.Keys[entry])
				if err != nil {
					t.Fatal(err)
				}
				return ct
			})
			rm.Keys[entry] = ted.Encode(ek[1:])
			im, err := NewPacker(web).Open(wire(t, rm), alice.Profile())
			if err != nil {
				t.Fatalf("open with a %d-byte encrypted key: %v", len(ek)-1, err)
			}
			if text := im.Content.(*TextContent).Text; text != "to the browser" {
				t.Errorf("opened %q", text)
			}
		})
	}
}
