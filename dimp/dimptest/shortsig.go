// Package dimptest makes, for tests, identities and messages as dimtui
// makes them (NewIdentity, World), and what dimchat's browser client sends
// and a test cannot get from dimp alone: RSA signatures and encrypted keys
// written without their leading zero byte.
//
// The browser's RSA library writes a signature or ciphertext as the
// integer it is, dropping leading zero bytes, where PKCS#1 writes exactly
// the modulus size. About one output in 256 starts with a zero byte, so
// about one in 256 arrives a byte short (127 bytes for RSA-1024, 255 for
// RSA-2048). The helpers here sign (or encrypt) for real until the output
// starts with a zero byte and then drop it; what they return is in memory,
// to be sent or written as JSON by the test.
package dimptest

import (
	"encoding/base64"
	"fmt"
	"testing"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// maxTries bounds every search for a zero-led output: the chance that
// 20,000 tries find none is below 10^-34.
const maxTries = 20000

// ZeroLed calls try with 0, 1, 2, … until the bytes it returns start with
// a zero byte, and returns them without that byte, as the browser sends
// them.
func ZeroLed(t testing.TB, what string, try func(i int) []byte) []byte {
	t.Helper()
	for i := range maxTries {
		if b := try(i); len(b) > 0 && b[0] == 0 {
			return b[1:]
		}
	}
	t.Fatalf("%s: nothing starting with a zero byte in %d tries", what, maxTries)
	return nil
}

// BrowserUser makes a user as dimchat's browser client does, with one RSA
// key for its MKM meta and its visa, whose meta fingerprint and visa
// signature are both a byte short. The seed is prefix and a number; the ID
// is derived from the fingerprint as sent, short.
func BrowserUser(t testing.TB, key *crypto.RSAPrivateKey, prefix string) *dimp.Identity {
	t.Helper()
	var meta *dimp.Meta
	fp := ZeroLed(t, "meta fingerprint", func(i int) []byte {
		var err error
		if meta, err = dimp.GenerateMeta(dimp.MetaMKM, key, fmt.Sprintf("%s%d", prefix, i)); err != nil {
			t.Fatal(err)
		}
		return meta.Fingerprint
	})
	meta.Fingerprint = fp
	id, err := meta.GenerateID(dimp.User, "")
	if err != nil {
		t.Fatal(err)
	}
	visa := dimp.NewDocument(id, dimp.DocVisa)
	if err := visa.Set("key", key.PublicKey()); err != nil {
		t.Fatal(err)
	}
	return &dimp.Identity{ID: id, Meta: meta, Visa: ShortSign(t, visa, key), SignKey: key, Decrypt: []crypto.DecryptKey{key}}
}

// ShortSign signs d with key, changing its name ("signed N") until the
// signature starts with a zero byte, drops that byte and returns d.
func ShortSign(t testing.TB, d *dimp.Document, key crypto.PrivateKey) *dimp.Document {
	t.Helper()
	d.Signature = ZeroLed(t, d.DocType()+" signature", func(i int) []byte {
		if err := d.Set("name", fmt.Sprintf("signed %d", i)); err != nil {
			t.Fatal(err)
		}
		if err := d.Sign(key); err != nil {
			t.Fatal(err)
		}
		return d.Signature
	})
	return d
}

// ShortBulletin makes the bulletin of a group that founder founded, with
// founder's key as the group's meta key, its signature a byte short.
func ShortBulletin(t testing.TB, founder *dimp.Identity, key crypto.PrivateKey) *dimp.Document {
	t.Helper()
	meta, err := dimp.GenerateMeta(dimp.MetaMKM, key, "group")
	if err != nil {
		t.Fatal(err)
	}
	gid, err := meta.GenerateID(dimp.Group, "")
	if err != nil {
		t.Fatal(err)
	}
	d := dimp.NewDocument(gid, dimp.DocBulletin)
	if err := d.Set("founder", founder.ID.String()); err != nil {
		t.Fatal(err)
	}
	return ShortSign(t, d, key)
}

// ShortSeal seals im with p until the message signature starts with a zero
// byte and returns the message with that byte dropped. p's identity must
// sign with RSA.
func ShortSeal(t testing.TB, p *dimp.Packer, im *dimp.InstantMessage, to []*dimp.Profile, opt dimp.SealOptions) *dimp.ReliableMessage {
	t.Helper()
	var rm *dimp.ReliableMessage
	sig := ZeroLed(t, "message signature", func(int) []byte {
		var err error
		if rm, err = p.Seal(im, to, opt); err != nil {
			t.Fatal(err)
		}
		return rm.Signature
	})
	rm.Signature = sig
	return rm
}

// ShortKeySeal seals im with p until the message key encrypted for entry
// (a key of the message's `keys`, such as the receiver's ID) starts with a
// zero byte, and returns the message with that entry a byte short. The
// receiver's key must be RSA.
func ShortKeySeal(t testing.TB, p *dimp.Packer, im *dimp.InstantMessage, to []*dimp.Profile, entry string) *dimp.ReliableMessage {
	t.Helper()
	var rm *dimp.ReliableMessage
	ek := ZeroLed(t, "encrypted key", func(int) []byte {
		var err error
		if rm, err = p.Seal(im, to, dimp.SealOptions{}); err != nil {
			t.Fatal(err)
		}
		ct, err := base64.StdEncoding.DecodeString(rm.Keys[entry])
		if err != nil {
			t.Fatalf("keys[%q] of %v: %v", entry, rm.Keys, err)
		}
		return ct
	})
	rm.Keys[entry] = base64.StdEncoding.EncodeToString(ek)
	return rm
}
