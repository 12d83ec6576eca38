package dimp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"dimtui/dimp/crypto"
	"dimtui/dimp/internal/ted"
)

// loadVectors reads one of the reference implementation's vector files.
func loadVectors(t testing.TB, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

type vecKeyPair struct {
	PrivateKey json.RawMessage `json:"private_key"`
	PublicKey  json.RawMessage `json:"public_key"`
	PrivHex    string          `json:"private_key_data_hex"`
	PubHex     string          `json:"public_key_data_hex"`
}

type vecKeys struct {
	Asymmetric map[string]vecKeyPair `json:"asymmetric"`
	Symmetric  map[string]struct {
		Key     json.RawMessage `json:"key"`
		DataHex string          `json:"key_data_hex"`
	} `json:"symmetric"`
}

func testKeys(t testing.TB) vecKeys {
	var v vecKeys
	loadVectors(t, "keys.json", &v)
	return v
}

func TestVectorKeys(t *testing.T) {
	v := testKeys(t)
	for name, kp := range v.Asymmetric {
		t.Run(name, func(t *testing.T) {
			priv, err := crypto.ParsePrivateKey(kp.PrivateKey)
			if err != nil {
				t.Fatalf("private key: %v", err)
			}
			pub, err := crypto.ParsePublicKey(kp.PublicKey)
			if err != nil {
				t.Fatalf("public key: %v", err)
			}
			if got := hex.EncodeToString(pub.Data()); got != kp.PubHex {
				t.Errorf("public data = %s, want %s", got, kp.PubHex)
			}
			if got := hex.EncodeToString(priv.PublicKey().Data()); got != kp.PubHex {
				t.Errorf("derived public data = %s, want %s", got, kp.PubHex)
			}
			// The written form reads back to the same key.
			out, _ := pub.MarshalJSON()
			again, err := crypto.ParsePublicKey(out)
			if err != nil || !bytes.Equal(again.Data(), pub.Data()) {
				t.Errorf("public key does not round-trip: %v", err)
			}
			sig, err := priv.Sign([]byte("round trip"))
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.Verify([]byte("round trip"), sig); err != nil {
				t.Errorf("own signature: %v", err)
			}
		})
	}
	for name, s := range v.Symmetric {
		k, err := crypto.ParseSymmetricKey(s.Key)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := hex.EncodeToString(k.Data()); got != s.DataHex {
			t.Errorf("%s data = %s, want %s", name, got, s.DataHex)
		}
	}
}

func TestVectorPrimitives(t *testing.T) {
	keys := testKeys(t)
	var v struct {
		RSA []struct {
			Key        string `json:"key"`
			Op         string `json:"op"`
			Data       string `json:"data_utf8"`
			Plain      string `json:"plaintext_utf8"`
			Sig        string `json:"signature_base64"`
			Ct         string `json:"ciphertext_base64"`
			WantVerify *bool  `json:"expected_verify"`
		} `json:"rsa"`
		ECC []struct {
			Key        string `json:"key"`
			Data       string `json:"data_utf8"`
			Sig        string `json:"signature_base64"`
			WantVerify bool   `json:"expected_verify"`
		} `json:"ecc"`
		AES []struct {
			Key   json.RawMessage `json:"key"`
			IV    *string         `json:"iv_base64"`
			Plain string          `json:"plaintext_utf8"`
			Ct    string          `json:"ciphertext_base64"`
		} `json:"aes"`
		Digest   map[string]map[string]string `json:"digest"`
		Encoding struct {
			Base58 []struct{ Hex, Base58 string } `json:"base58"`
		} `json:"encoding"`
	}
	loadVectors(t, "primitives.json", &v)
	for i, c := range v.RSA {
		priv, _ := crypto.ParsePrivateKey(keys.Asymmetric[c.Key].PrivateKey)
		pub, _ := crypto.ParsePublicKey(keys.Asymmetric[c.Key].PublicKey)
		switch c.Op {
		case "sign":
			sig, err := priv.Sign([]byte(c.Data))
			if err != nil || ted.Encode(sig) != c.Sig {
				t.Errorf("rsa[%d] sign %q: not the reference's signature (%v)", i, c.Data, err)
			}
			if err := pub.Verify([]byte(c.Data), sig); err != nil {
				t.Errorf("rsa[%d] verify: %v", i, err)
			}
		case "verify":
			sig, _ := ted.Decode(c.Sig)
			err := pub.Verify([]byte(c.Data), sig)
			if (err == nil) != *c.WantVerify {
				t.Errorf("rsa[%d] verify %q = %v, want ok=%v", i, c.Data, err, *c.WantVerify)
			}
			if err != nil && !errors.Is(err, crypto.ErrSignature) {
				t.Errorf("rsa[%d] error %v is not ErrSignature", i, err)
			}
		case "encrypt":
			ct, _ := ted.Decode(c.Ct)
			pt, err := priv.(crypto.DecryptKey).Decrypt(ct)
			if err != nil || string(pt) != c.Plain {
				t.Errorf("rsa[%d] decrypt = %q, %v; want %q", i, pt, err, c.Plain)
			}
		default:
			t.Fatalf("rsa[%d]: unknown op %q", i, c.Op)
		}
	}
	for i, c := range v.ECC {
		pub, _ := crypto.ParsePublicKey(keys.Asymmetric[c.Key].PublicKey)
		sig, _ := ted.Decode(c.Sig)
		err := pub.Verify([]byte(c.Data), sig)
		if (err == nil) != c.WantVerify {
			t.Errorf("ecc[%d] verify %q = %v, want ok=%v", i, c.Data, err, c.WantVerify)
		}
	}
	for i, c := range v.AES {
		k, err := crypto.ParseSymmetricKey(c.Key)
		if err != nil {
			t.Fatal(err)
		}
		ct, _ := ted.Decode(c.Ct)
		var iv []byte
		if c.IV != nil {
			iv, _ = ted.Decode(*c.IV)
			if got := ted.Encode(k.(*crypto.AESKey).EncryptIV([]byte(c.Plain), iv)); got != c.Ct {
				t.Errorf("aes[%d] encrypt = %s, want %s", i, got, c.Ct)
			}
		}
		pt, err := k.Decrypt(ct, iv)
		if err != nil || string(pt) != c.Plain {
			t.Errorf("aes[%d] decrypt = %q, %v; want %q", i, pt, err, c.Plain)
		}
	}
	for in, d := range v.Digest {
		if got := hex.EncodeToString(crypto.SHA256([]byte(in))); got != d["sha256"] {
			t.Errorf("sha256(%q) = %s", in, got)
		}
		if got := hex.EncodeToString(crypto.Keccak256([]byte(in))); got != d["keccak256"] {
			t.Errorf("keccak256(%q) = %s", in, got)
		}
		if got := hex.EncodeToString(crypto.RIPEMD160([]byte(in))); got != d["ripemd160"] {
			t.Errorf("ripemd160(%q) = %s", in, got)
		}
	}
	for _, c := range v.Encoding.Base58 {
		b, _ := hex.DecodeString(c.Hex)
		if got := ted.EncodeBase58(b); got != c.Base58 {
			t.Errorf("base58(%s) = %q, want %q", c.Hex, got, c.Base58)
		}
		back, err := ted.Base58(c.Base58)
		if err != nil || !bytes.Equal(back, b) {
			t.Errorf("base58 decode %q = %x, %v", c.Base58, back, err)
		}
	}
}

func TestVectorIDs(t *testing.T) {
	var v struct {
		IDs []struct {
			Key      string          `json:"key"`
			MetaType string          `json:"meta_type"`
			Network  int             `json:"network"`
			Meta     json.RawMessage `json:"meta"`
			Address  string          `json:"address"`
			ID       string          `json:"id"`
			Name     *string         `json:"id_name"`
			IsUser   bool            `json:"is_user"`
			IsGroup  bool            `json:"is_group"`
		} `json:"ids"`
		BadMetas []struct {
			Case  string          `json:"case"`
			Meta  json.RawMessage `json:"meta"`
			Valid bool            `json:"valid"`
		} `json:"bad_metas"`
		IDStrings []struct {
			String      string  `json:"string"`
			Name        string  `json:"name"`
			Address     string  `json:"address"`
			Terminal    *string `json:"terminal"`
			Network     int     `json:"network"`
			IsBroadcast bool    `json:"is_broadcast"`
			IsUser      bool    `json:"is_user"`
			IsGroup     bool    `json:"is_group"`
		} `json:"id_strings"`
	}
	loadVectors(t, "ids.json", &v)
	for _, c := range v.IDs {
		t.Run(c.ID, func(t *testing.T) {
			m, err := ParseMeta(c.Meta)
			if err != nil {
				t.Fatalf("meta: %v", err)
			}
			id, err := m.GenerateID(EntityType(c.Network), "")
			if err != nil {
				t.Fatal(err)
			}
			if id.String() != c.ID || id.Address().String() != c.Address {
				t.Errorf("generated %s, want %s", id, c.ID)
			}
			parsed, err := ParseID(c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.MatchID(parsed); err != nil {
				t.Errorf("MatchID: %v", err)
			}
			if parsed.IsUser() != c.IsUser || parsed.IsGroup() != c.IsGroup {
				t.Errorf("user/group = %v/%v", parsed.IsUser(), parsed.IsGroup())
			}
			if c.Name != nil && parsed.Name() != *c.Name {
				t.Errorf("name = %q", parsed.Name())
			}
			out, _ := m.MarshalJSON()
			if again, err := ParseMeta(out); err != nil || again.MatchID(parsed) != nil {
				t.Errorf("meta does not round-trip: %v", err)
			}
		})
	}
	for _, c := range v.BadMetas {
		_, err := ParseMeta(c.Meta)
		if c.Valid != (err == nil) {
			t.Errorf("%s: err = %v, want valid=%v", c.Case, err, c.Valid)
		}
		if err != nil && !errors.Is(err, ErrInvalidMeta) && !errors.Is(err, ErrFingerprint) {
			t.Errorf("%s: %v is not a named meta error", c.Case, err)
		}
	}
	for _, c := range v.IDStrings {
		id, err := ParseID(c.String)
		if err != nil {
			t.Errorf("%s: %v", c.String, err)
			continue
		}
		term := ""
		if c.Terminal != nil {
			term = *c.Terminal
		}
		got := []any{id.Name(), id.Address().String(), id.Terminal(), int(id.Type()), id.IsBroadcast(), id.IsUser(), id.IsGroup()}
		want := []any{c.Name, c.Address, term, c.Network, c.IsBroadcast, c.IsUser, c.IsGroup}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", c.String, got, want)
		}
	}
}

type vecDoc struct {
	Document         json.RawMessage `json:"document"`
	Signer           string          `json:"signer"`
	VerifyWithMetaOf string          `json:"verify_with_meta_of"`
	ExpectedVerify   bool            `json:"expected_verify"`
	Properties       map[string]any  `json:"properties"`
	VisaKeyExpected  json.RawMessage `json:"visa_key_expected"`
}

// metasByID collects every meta of the vectors by the ID it generates.
func metasByID(t testing.TB) map[string]*Meta {
	var v struct {
		IDs []struct {
			Meta json.RawMessage `json:"meta"`
			ID   string          `json:"id"`
		} `json:"ids"`
	}
	loadVectors(t, "ids.json", &v)
	out := map[string]*Meta{}
	for _, c := range v.IDs {
		m, err := ParseMeta(c.Meta)
		if err != nil {
			t.Fatal(err)
		}
		out[c.ID] = m
	}
	return out
}

func TestVectorDocuments(t *testing.T) {
	metas := metasByID(t)
	var docs map[string]vecDoc
	loadVectors(t, "documents.json", &docs)
	for name, c := range docs {
		t.Run(name, func(t *testing.T) {
			d, err := ParseDocument(c.Document)
			if err != nil {
				t.Fatal(err)
			}
			signer := c.Signer
			if c.VerifyWithMetaOf != "" {
				signer = c.VerifyWithMetaOf
			}
			meta := metas[signer]
			if meta == nil {
				t.Fatalf("no meta for %s", signer)
			}
			err = d.Verify(meta.Key)
			if (err == nil) != c.ExpectedVerify {
				t.Fatalf("verify = %v, want ok=%v", err, c.ExpectedVerify)
			}
			if err != nil && !errors.Is(err, ErrDocumentSignature) {
				t.Errorf("error %v is not ErrDocumentSignature", err)
			}
			if c.Properties != nil {
				var props map[string]any
				if err := json.Unmarshal([]byte(d.Data), &props); err != nil || !reflect.DeepEqual(props, c.Properties) {
					t.Errorf("properties differ: %v", err)
				}
				if d.Name() != c.Properties["name"] {
					t.Errorf("name = %q", d.Name())
				}
			}
			if c.VisaKeyExpected != nil {
				k, err := d.VisaKey()
				want, _ := crypto.ParsePublicKey(c.VisaKeyExpected)
				if err != nil || k == nil || !crypto.SamePublicKey(k, want) {
					t.Errorf("visa key: %v", err)
				}
			}
			// Written back, the document still verifies: data is never rebuilt.
			out, _ := d.MarshalJSON()
			again, err := ParseDocument(out)
			if err != nil || again.Data != d.Data || (again.Verify(meta.Key) == nil) != c.ExpectedVerify {
				t.Errorf("document does not round-trip: %v", err)
			}
		})
	}
}
