package dimp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"dimtui/dimp/crypto"
)

// TestWebClientRSA1023 takes a user registered by dimchat's browser client,
// whose key generator multiplies two 512-bit primes and so makes a 1023-bit
// modulus about four times in ten: its meta generates its ID, its visa
// verifies, and messages to and from it seal and open.
func TestWebClientRSA1023(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "webclient_rsa1023.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		ID         string          `json:"id"`
		Meta       json.RawMessage `json:"meta"`
		Visa       json.RawMessage `json:"visa"`
		PrivateKey json.RawMessage `json:"private_key"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	id, err := ParseID(v.ID)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := ParseMeta(v.Meta)
	if err != nil {
		t.Fatalf("meta: %v", err)
	}
	visa, err := ParseDocument(v.Visa)
	if err != nil {
		t.Fatalf("visa: %v", err)
	}
	web, err := NewProfile(id, meta, visa)
	if err != nil {
		t.Fatalf("profile: %v", err)
	}
	priv, err := crypto.ParsePrivateKey(v.PrivateKey)
	if err != nil {
		t.Fatalf("private key: %v", err)
	}
	dec, ok := priv.(crypto.DecryptKey)
	if !ok {
		t.Fatal("the RSA private key cannot decrypt")
	}
	me := &Identity{ID: id, Meta: meta, Visa: visa, SignKey: priv, Decrypt: []crypto.DecryptKey{dec}}

	bob := newTestUser(t, "bob", MetaMKM, mustECC(t))
	// bob → the web user: encrypted to its 1023-bit visa key.
	toWeb, err := NewPacker(bob).Seal(NewInstantMessage(bob.ID, id, NewText("to the browser")), []*Profile{web}, SealOptions{})
	if err != nil {
		t.Fatalf("seal to the web user: %v", err)
	}
	im, err := NewPacker(me).Open(wire(t, toWeb), bob.Profile())
	if err != nil {
		t.Fatalf("the web user opens: %v", err)
	}
	if text := im.Content.(*TextContent).Text; text != "to the browser" {
		t.Errorf("opened %q", text)
	}
	// The web user → bob: signed with its 1023-bit meta key.
	fromWeb, err := NewPacker(me).Seal(NewInstantMessage(id, bob.ID, NewText("from the browser")), []*Profile{bob.Profile()}, SealOptions{Attach: true})
	if err != nil {
		t.Fatalf("seal from the web user: %v", err)
	}
	if _, err := NewPacker(bob).Open(wire(t, fromWeb), web); err != nil {
		t.Fatalf("bob opens: %v", err)
	}
}

// Keys under 1023 bits stay refused, though go.mod lets crypto/rsa use
// them.
func TestRSABelow1023Refused(t *testing.T) {
	for _, bits := range []int{512, 1022} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		raw, _ := json.Marshal(map[string]string{"algorithm": "RSA", "data": pemText})
		if _, err := crypto.ParsePublicKey(raw); !errors.Is(err, crypto.ErrKeyFormat) {
			t.Errorf("%d-bit key: err = %v, want ErrKeyFormat", bits, err)
		}
		if _, err := crypto.GenerateRSA(bits); err == nil {
			t.Errorf("a %d-bit key was generated", bits)
		}
	}
}
