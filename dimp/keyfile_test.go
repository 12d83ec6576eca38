package dimp

import (
	"encoding/json"
	"errors"
	"testing"

	"dimtui/dimp/crypto"
)

// TestParsePrivateKeys reads every form of a key file: a key map, the PEM
// text a key map holds, and an identity file, whose signing key comes last.
func TestParsePrivateKeys(t *testing.T) {
	type keyFile struct {
		name string
		raw  []byte
		want []crypto.PrivateKey
	}
	var files []keyFile
	for name, k := range map[string]crypto.PrivateKey{"RSA": mustRSA(t, 1024), "secp256k1": mustECC(t)} {
		raw, err := k.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var km struct {
			Data string `json:"data"`
		}
		if err := json.Unmarshal(raw, &km); err != nil {
			t.Fatal(err)
		}
		files = append(files,
			keyFile{name + " key map", raw, []crypto.PrivateKey{k}},
			keyFile{name + " PEM", []byte("\n" + km.Data + "\n"), []crypto.PrivateKey{k}})
	}
	u := newTestUser(t, "alice", MetaMKM, mustECC(t))
	ident, err := MarshalIdentity(u)
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, keyFile{"identity file", ident, []crypto.PrivateKey{u.Decrypt[0], u.SignKey}})

	for _, f := range files {
		got, err := ParsePrivateKeys(f.raw)
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		if len(got) != len(f.want) {
			t.Errorf("%s: %d keys, want %d", f.name, len(got), len(f.want))
			continue
		}
		for i := range got {
			if !crypto.SamePublicKey(got[i].PublicKey(), f.want[i].PublicKey()) {
				t.Errorf("%s: key %d is not the one written", f.name, i)
			}
		}
	}

	if _, err := ParsePrivateKeys([]byte("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")); !errors.Is(err, crypto.ErrKeyFormat) {
		t.Errorf("PEM of no key: err = %v, want ErrKeyFormat", err)
	}
	for _, bad := range []string{`{"private_key":{"algorithm":"RSA","data":"x"}}`, `{"algorithm":"AES","data":"x"}`, `not JSON`} {
		if keys, err := ParsePrivateKeys([]byte(bad)); err == nil {
			t.Errorf("%s: read as %d keys", bad, len(keys))
		}
	}
}
