package dimp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
	"dimtui/dimp/dimptest"
)

// shortSigKeys are RSA keys of the browser's users: the 1023-bit key of a
// real browser user, a fresh 1024-bit key and the reference vectors'
// 2048-bit key.
func shortSigKeys(t *testing.T) map[string]*crypto.RSAPrivateKey {
	t.Helper()
	read := func(file string, path ...string) *crypto.RSAPrivateKey {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		km, _ := json.Marshal(v)
		k, err := crypto.ParsePrivateKey(km)
		if err != nil {
			t.Fatal(err)
		}
		return k.(*crypto.RSAPrivateKey)
	}
	k1024, err := crypto.GenerateRSA(1024)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*crypto.RSAPrivateKey{
		"RSA-1023": read("webclient_rsa1023.json", "private_key"),
		"RSA-1024": k1024,
		"RSA-2048": read(filepath.Join("vectors", "keys.json"), "asymmetric", "rsa2048_bob", "private_key"),
	}
}

// sent writes v as JSON and reads it back with parse, as a peer would.
func sent[T interface{ MarshalJSON() ([]byte, error) }](t *testing.T, v T, parse func([]byte) (T, error)) T {
	t.Helper()
	raw, err := v.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := parse(raw)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	return back
}

// TestShortRSASignatures: a meta, a visa, a bulletin and a message whose
// RSA signature lacks its leading zero byte (as dimchat's browser client
// sends one in 256) verify, for RSA-1023, -1024 and -2048; a signature
// with a wrong byte, a byte too many or none does not.
func TestShortRSASignatures(t *testing.T) {
	bob := dimptest.NewIdentity(t, dimp.User, "bob")
	for name, key := range shortSigKeys(t) {
		t.Run(name, func(t *testing.T) {
			web := dimptest.BrowserUser(t, key, "web")
			size := len(web.Visa.Signature) + 1
			meta := sent(t, web.Meta, dimp.ParseMeta) // verifies the fingerprint
			if _, err := dimp.NewProfile(web.ID, meta, sent(t, web.Visa, dimp.ParseDocument)); err != nil {
				t.Fatalf("visa with a short signature: %v", err)
			}

			// A bulletin of a group the web user founded.
			bulletin := sent(t, dimptest.ShortBulletin(t, web, key), dimp.ParseDocument)
			if err := bulletin.VerifyFor(bulletin.ID, web.Meta); err != nil {
				t.Errorf("bulletin with a short signature: %v", err)
			}

			// A message from the web user to bob, meta and visa attached.
			rm := sent(t, dimptest.ShortSeal(t, dimp.NewPacker(web), dimp.NewInstantMessage(web.ID, bob.ID, dimp.NewText("from the browser")),
				[]*dimp.Profile{bob.Profile()}, dimp.SealOptions{Attach: true}), dimp.ParseReliableMessage)
			if len(rm.Signature) != size-1 || len(rm.Meta.Fingerprint) != size-1 || len(rm.Visa.Signature) != size-1 {
				t.Fatalf("sent signature, fingerprint, visa signature of %d, %d, %d bytes; want %d",
					len(rm.Signature), len(rm.Meta.Fingerprint), len(rm.Visa.Signature), size-1)
			}
			from, err := dimp.ProfileFromMessage(rm)
			if err != nil {
				t.Fatalf("attached meta and visa: %v", err)
			}
			im, err := dimp.NewPacker(bob).Open(rm, from)
			if err != nil {
				t.Fatalf("open a message with a short signature: %v", err)
			}
			if text := im.Content.(*dimp.TextContent).Text; text != "from the browser" {
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
				bad := *rm
				bad.Signature = sig
				if _, err := dimp.NewPacker(bob).Open(&bad, from); !errors.Is(err, dimp.ErrSignature) {
					t.Errorf("message, %s: err = %v, want ErrSignature", what, err)
				}
			}
			badVisa := *web.Visa
			badVisa.Signature = bytes.Clone(web.Visa.Signature)
			badVisa.Signature[0] ^= 1
			if _, err := dimp.NewProfile(web.ID, web.Meta, &badVisa); !errors.Is(err, dimp.ErrDocumentSignature) {
				t.Errorf("visa with a wrong byte: err = %v, want ErrDocumentSignature", err)
			}
			badVisa.Signature = append([]byte{0, 0}, web.Visa.Signature...)
			if _, err := dimp.NewProfile(web.ID, web.Meta, &badVisa); !errors.Is(err, dimp.ErrDocumentSignature) {
				t.Errorf("visa one byte longer than the key: err = %v, want ErrDocumentSignature", err)
			}
			badMeta := *web.Meta
			badMeta.Fingerprint = bytes.Clone(web.Meta.Fingerprint)
			badMeta.Fingerprint[3] ^= 1
			if err := badMeta.Validate(); !errors.Is(err, dimp.ErrFingerprint) {
				t.Errorf("fingerprint with a wrong byte: err = %v, want ErrFingerprint", err)
			}
		})
	}
}

// TestShortRSAEncryptedKey: a message whose `keys` entry is an RSA
// ciphertext without its leading zero byte opens.
func TestShortRSAEncryptedKey(t *testing.T) {
	alice := dimptest.NewIdentity(t, dimp.User, "alice")
	for name, key := range shortSigKeys(t) {
		t.Run(name, func(t *testing.T) {
			web, err := dimp.NewIdentity(dimp.User, dimp.MetaMKM, "web", "web", key, key)
			if err != nil {
				t.Fatal(err)
			}
			rm := sent(t, dimptest.ShortKeySeal(t, dimp.NewPacker(alice), dimp.NewInstantMessage(alice.ID, web.ID, dimp.NewText("to the browser")),
				[]*dimp.Profile{web.Profile()}, web.ID.String()), dimp.ParseReliableMessage)
			im, err := dimp.NewPacker(web).Open(rm, alice.Profile())
			if err != nil {
				t.Fatalf("open with a short encrypted key: %v", err)
			}
			if text := im.Content.(*dimp.TextContent).Text; text != "to the browser" {
				t.Errorf("opened %q", text)
			}
		})
	}
}
