package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
	"dimtui/dimp/dimptest"
)

// writeMarshaled writes v's JSON to a file in dir and returns its path.
func writeMarshaled(t *testing.T, dir, name string, v interface{ MarshalJSON() ([]byte, error) }) string {
	t.Helper()
	raw, err := v.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return writeJSON(t, dir, name, string(raw))
}

// newUser makes a user as dimtui does: a secp256k1 meta key and an
// RSA-1024 visa key (Decrypt[0]).
func newUser(t *testing.T, name string) *dimp.Identity {
	t.Helper()
	sign, err := crypto.GenerateECC()
	if err != nil {
		t.Fatal(err)
	}
	visa, err := crypto.GenerateRSA(1024)
	if err != nil {
		t.Fatal(err)
	}
	u, err := dimp.NewIdentity(dimp.User, dimp.MetaMKM, name, "nick", sign, visa)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestInspectShortRSASignatures: the inspection commands take a meta, a
// visa, a bulletin and a message whose RSA signature lacks its leading
// zero byte (as dimchat's browser client sends one in 256), and a message
// whose encrypted key does; a wrong or too long signature stays refused.
func TestInspectShortRSASignatures(t *testing.T) {
	dir := t.TempDir()
	key, err := crypto.GenerateRSA(1024)
	if err != nil {
		t.Fatal(err)
	}
	web := dimptest.BrowserUser(t, key, "web")
	bob := newUser(t, "bob")
	meta := writeMarshaled(t, dir, "web.meta.json", web.Meta)
	if out, err := run(t, "meta", "check", meta, "--id", web.ID.String()); err != nil || strings.TrimSpace(out) != web.ID.String() {
		t.Errorf("meta check, short fingerprint: %q, %v", out, err)
	}
	visa := writeMarshaled(t, dir, "web.visa.json", web.Visa)
	if _, err := run(t, "doc", "verify", visa, "--meta", meta); err != nil {
		t.Errorf("doc verify, visa with a short signature: %v", err)
	}
	bulletinFile := writeMarshaled(t, dir, "bulletin.json", dimptest.ShortBulletin(t, web, key))
	if _, err := run(t, "doc", "verify", bulletinFile, "--meta", meta); err != nil {
		t.Errorf("doc verify, bulletin with a short signature: %v", err)
	}

	// web → bob, signed short, meta and visa attached.
	rm := dimptest.ShortSeal(t, dimp.NewPacker(web), dimp.NewInstantMessage(web.ID, bob.ID, dimp.NewText("short signed")),
		[]*dimp.Profile{bob.Profile()}, dimp.SealOptions{Attach: true})
	msg := writeMarshaled(t, dir, "msg.json", rm)
	bobKey := writeMarshaled(t, dir, "bob.key.json", bob.Decrypt[0])
	if out, err := run(t, "msg", "open", msg, "--key", bobKey); err != nil || !strings.Contains(out, `"short signed"`) {
		t.Errorf("msg open, short signature: %v\n%s", err, out)
	}
	// bob → web, the key for web a byte short.
	toWeb := dimptest.ShortKeySeal(t, dimp.NewPacker(bob), dimp.NewInstantMessage(bob.ID, web.ID, dimp.NewText("short key")),
		[]*dimp.Profile{web.Profile()}, web.ID.String())
	toWeb.Meta, toWeb.Visa = bob.Meta, bob.Visa
	webKey := writeMarshaled(t, dir, "web.key.json", key)
	if out, err := run(t, "msg", "open", writeMarshaled(t, dir, "toweb.json", toWeb), "--key", webKey); err != nil || !strings.Contains(out, `"short key"`) {
		t.Errorf("msg open, short encrypted key: %v\n%s", err, out)
	}

	// Refused: a wrong byte in a short signature, a byte more than the key.
	for what, mutate := range map[string]func([]byte) []byte{
		"a wrong byte":                 func(s []byte) []byte { s = bytes.Clone(s); s[len(s)/2] ^= 1; return s },
		"one byte longer than the key": func(s []byte) []byte { return append([]byte{0, 0}, s...) },
	} {
		bad := *rm
		bad.Signature = mutate(rm.Signature)
		if _, err := run(t, "msg", "open", writeMarshaled(t, dir, "bad.json", &bad), "--key", bobKey); !errors.Is(err, dimp.ErrSignature) {
			t.Errorf("msg open, %s: err = %v, want ErrSignature", what, err)
		}
		badVisa := *web.Visa
		badVisa.Signature = mutate(web.Visa.Signature)
		if _, err := run(t, "doc", "verify", writeMarshaled(t, dir, "badvisa.json", &badVisa), "--meta", meta); !errors.Is(err, dimp.ErrDocumentSignature) {
			t.Errorf("doc verify, %s: err = %v, want ErrDocumentSignature", what, err)
		}
	}
}
