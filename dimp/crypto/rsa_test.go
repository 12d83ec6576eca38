package crypto_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"dimtui/dimp/crypto"
	"dimtui/dimp/dimptest"
)

// rsaKeys are the keys of the short-signature tests: a fresh RSA-1024 key,
// as dimchat's browser client makes, and the reference vectors' fixed
// RSA-2048 key (generating one would be the slowest part of the test).
var rsaKeys = struct {
	sync.Once
	k1024, k2048 *crypto.RSAPrivateKey
	err          error
}{}

func testRSAKeys(t *testing.T) map[int]*crypto.RSAPrivateKey {
	t.Helper()
	rsaKeys.Do(func() {
		if rsaKeys.k1024, rsaKeys.err = crypto.GenerateRSA(1024); rsaKeys.err != nil {
			return
		}
		var v struct {
			Asymmetric map[string]struct {
				PrivateKey json.RawMessage `json:"private_key"`
			} `json:"asymmetric"`
		}
		raw, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", "keys.json"))
		if err == nil {
			err = json.Unmarshal(raw, &v)
		}
		if err != nil {
			rsaKeys.err = err
			return
		}
		k, err := crypto.ParsePrivateKey(v.Asymmetric["rsa2048_bob"].PrivateKey)
		if err != nil {
			rsaKeys.err = err
			return
		}
		rsaKeys.k2048 = k.(*crypto.RSAPrivateKey)
	})
	if rsaKeys.err != nil {
		t.Fatal(rsaKeys.err)
	}
	return map[int]*crypto.RSAPrivateKey{1024: rsaKeys.k1024, 2048: rsaKeys.k2048}
}

// TestRSAShortSignature: a signature without its leading zero byte, as
// dimchat's browser client writes one in 256, verifies; one byte more than
// the key, none at all, or a short one with a wrong byte do not.
func TestRSAShortSignature(t *testing.T) {
	for bits, k := range testRSAKeys(t) {
		t.Run(fmt.Sprint(bits), func(t *testing.T) {
			pub := k.EncryptKey()
			var data []byte
			short := dimptest.ZeroLed(t, "signature", func(i int) []byte {
				data = fmt.Appendf(nil, "short signature %d", i)
				sig, err := k.Sign(data)
				if err != nil {
					t.Fatal(err)
				}
				return sig
			})
			if len(short) != bits/8-1 {
				t.Fatalf("short signature of %d bytes", len(short))
			}
			if err := pub.Verify(data, append([]byte{0}, short...)); err != nil {
				t.Fatalf("full signature: %v", err)
			}
			if err := pub.Verify(data, short); err != nil {
				t.Errorf("%d-byte signature (leading zero dropped): %v", len(short), err)
			}
			if short[0] == 0 {
				if err := pub.Verify(data, short[1:]); err != nil {
					t.Errorf("two leading zeros dropped: %v", err)
				}
			}
			wrong := bytes.Clone(short)
			wrong[len(wrong)/2] ^= 1
			other := append(bytes.Clone(data), '!')
			for _, c := range []struct {
				name      string
				data, sig []byte
			}{
				{"one byte longer than the key", data, append([]byte{0, 0}, short...)},
				{"empty", data, nil},
				{"short with a wrong byte", data, wrong},
				{"short, for other data", other, short},
			} {
				if err := pub.Verify(c.data, c.sig); !errors.Is(err, crypto.ErrSignature) {
					t.Errorf("%s: err = %v, want ErrSignature", c.name, err)
				}
			}
		})
	}
}

// TestRSAShortCiphertext: an encrypted key whose ciphertext starts with a
// zero byte, sent without it, decrypts; empty ciphertext and data longer
// than one block but not a whole number of blocks are refused.
func TestRSAShortCiphertext(t *testing.T) {
	for bits, k := range testRSAKeys(t) {
		t.Run(fmt.Sprint(bits), func(t *testing.T) {
			pub := k.EncryptKey()
			msg := []byte(`{"algorithm":"AES","data":"Uf/SozaArz8UugCD9ILlKl4zyNbqQB+IWWinIRrWxBw="}`)
			short := dimptest.ZeroLed(t, "ciphertext", func(int) []byte {
				ct, err := pub.Encrypt(msg)
				if err != nil {
					t.Fatal(err)
				}
				return ct
			})
			got, err := k.Decrypt(short)
			if err != nil {
				t.Fatalf("%d-byte ciphertext (leading zero dropped): %v", len(short), err)
			}
			ct := append([]byte{0}, short...)
			if !bytes.Equal(got, msg) {
				t.Errorf("decrypted %q", got)
			}
			// Two whole blocks open, joined; two blocks with one a byte short do not.
			if got, err := k.Decrypt(append(bytes.Clone(ct), ct...)); err != nil || !bytes.Equal(got, append(bytes.Clone(msg), msg...)) {
				t.Errorf("two blocks: %q, %v", got, err)
			}
			for name, bad := range map[string][]byte{
				"empty":                      {},
				"a block and a short block":  append(bytes.Clone(ct), ct[1:]...),
				"one byte longer than a key": append([]byte{0}, ct...),
			} {
				if _, err := k.Decrypt(bad); !errors.Is(err, crypto.ErrDecrypt) {
					t.Errorf("%s: err = %v, want ErrDecrypt", name, err)
				}
			}
		})
	}
}
