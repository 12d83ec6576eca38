package crypto

import (
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"dimtui/dimp/internal/jsonx"
)

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
)

// eccDefaults are the parameters the reference writes beside every ECC key.
func eccDefaults() jsonx.Object {
	return jsonx.Object{
		"curve":  []byte(`"SECP256k1"`),
		"digest": []byte(`"SHA256"`),
	}
}

// ECCPublicKey is a secp256k1 public key; it verifies ECDSA SHA-256
// signatures. It cannot encrypt: users with ECC metas publish an RSA visa key.
type ECCPublicKey struct {
	km         keyMap
	pub        *secp256k1.PublicKey
	compressed bool // key map says "compressed": true → Data is 33 bytes
}

// ECCPrivateKey is a secp256k1 private key.
type ECCPrivateKey struct {
	km   keyMap
	priv *secp256k1.PrivateKey
	pub  *ECCPublicKey
}

// GenerateECC makes a new secp256k1 key.
func GenerateECC() (*ECCPrivateKey, error) {
	priv, err := secp256k1.GeneratePrivateKey() // crypto/rand
	if err != nil {
		return nil, fmt.Errorf("generate ECC key: %w", err)
	}
	return newECCPrivate(priv), nil
}

func newECCPrivate(priv *secp256k1.PrivateKey) *ECCPrivateKey {
	pub := newECCPublic(priv.PubKey())
	block := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: marshalPKCS8(priv)})
	return &ECCPrivateKey{
		km:   keyMap{alg: AlgECC, data: string(block), extra: eccDefaults()},
		priv: priv,
		pub:  pub,
	}
}

func newECCPublic(pub *secp256k1.PublicKey) *ECCPublicKey {
	block := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: marshalSPKI(pub)})
	return &ECCPublicKey{km: keyMap{alg: AlgECC, data: string(block), extra: eccDefaults()}, pub: pub}
}

func algorithmIdentifier(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidECPublicKey)
		b.AddASN1ObjectIdentifier(oidSecp256k1)
	})
}

func marshalSPKI(pub *secp256k1.PublicKey) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		algorithmIdentifier(b)
		b.AddASN1BitString(pub.SerializeUncompressed())
	})
	return b.BytesOrPanic()
}

// marshalPKCS8 writes PKCS#8 v0 around a SEC1 ECPrivateKey carrying the
// public point, a form OpenSSL and the reference's ecdsa package both read.
func marshalPKCS8(priv *secp256k1.PrivateKey) []byte {
	var sec1 cryptobyte.Builder
	sec1.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1OctetString(priv.Serialize())
		b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1BitString(priv.PubKey().SerializeUncompressed())
		})
	})
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		algorithmIdentifier(b)
		b.AddASN1OctetString(sec1.BytesOrPanic())
	})
	return b.BytesOrPanic()
}

// parsePoint reads an uncompressed (65), raw X|Y (64) or compressed (33) point.
func parsePoint(b []byte) (*secp256k1.PublicKey, error) {
	if len(b) == 64 {
		b = append([]byte{0x04}, b...)
	}
	pub, err := secp256k1.ParsePubKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: ECC point: %v", ErrKeyFormat, err)
	}
	return pub, nil
}

// parseSPKI reads SubjectPublicKeyInfo for id-ecPublicKey on secp256k1.
func parseSPKI(der []byte) (*secp256k1.PublicKey, error) {
	in := cryptobyte.String(der)
	var spki, algo cryptobyte.String
	var oid, curve asn1.ObjectIdentifier
	var bits asn1.BitString
	if !in.ReadASN1(&spki, cbasn1.SEQUENCE) || !in.Empty() ||
		!spki.ReadASN1(&algo, cbasn1.SEQUENCE) ||
		!algo.ReadASN1ObjectIdentifier(&oid) || !algo.ReadASN1ObjectIdentifier(&curve) ||
		!spki.ReadASN1BitString(&bits) {
		return nil, fmt.Errorf("%w: not an EC SubjectPublicKeyInfo", ErrKeyFormat)
	}
	if !oid.Equal(oidECPublicKey) || !curve.Equal(oidSecp256k1) {
		return nil, fmt.Errorf("%w: EC key is not on secp256k1", ErrKeyFormat)
	}
	return parsePoint(bits.RightAlign())
}

// parseSEC1 reads an ECPrivateKey structure.
func parseSEC1(der []byte) (*secp256k1.PrivateKey, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	var version int64
	var scalar []byte
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&version) ||
		!seq.ReadASN1Bytes(&scalar, cbasn1.OCTET_STRING) || version != 1 {
		return nil, fmt.Errorf("%w: not a SEC1 EC private key", ErrKeyFormat)
	}
	var params cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&params, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("%w: SEC1 parameters", ErrKeyFormat)
	}
	if present {
		var curve asn1.ObjectIdentifier
		if !params.ReadASN1ObjectIdentifier(&curve) || !curve.Equal(oidSecp256k1) {
			return nil, fmt.Errorf("%w: EC key is not on secp256k1", ErrKeyFormat)
		}
	}
	return scalarKey(scalar)
}

// parsePKCS8 reads PKCS#8 (version 0 or 1) wrapping a SEC1 key.
func parsePKCS8(der []byte) (*secp256k1.PrivateKey, error) {
	in := cryptobyte.String(der)
	var seq, algo cryptobyte.String
	var version int64
	var oid, curve asn1.ObjectIdentifier
	var inner []byte
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&version) ||
		!seq.ReadASN1(&algo, cbasn1.SEQUENCE) || !algo.ReadASN1ObjectIdentifier(&oid) ||
		!seq.ReadASN1Bytes(&inner, cbasn1.OCTET_STRING) || (version != 0 && version != 1) {
		return nil, fmt.Errorf("%w: not a PKCS#8 private key", ErrKeyFormat)
	}
	if !oid.Equal(oidECPublicKey) {
		return nil, fmt.Errorf("%w: PKCS#8 key is not an EC key", ErrKeyFormat)
	}
	if !algo.Empty() && (!algo.ReadASN1ObjectIdentifier(&curve) || !curve.Equal(oidSecp256k1)) {
		return nil, fmt.Errorf("%w: EC key is not on secp256k1", ErrKeyFormat)
	}
	return parseSEC1(inner)
}

func scalarKey(b []byte) (*secp256k1.PrivateKey, error) {
	if len(b) == 0 || len(b) > 32 {
		return nil, fmt.Errorf("%w: EC private scalar of %d bytes", ErrKeyFormat, len(b))
	}
	var s secp256k1.ModNScalar
	if overflow := s.SetByteSlice(b); overflow || s.IsZero() {
		return nil, fmt.Errorf("%w: EC private scalar out of range", ErrKeyFormat)
	}
	return secp256k1.NewPrivateKey(&s), nil
}

func isHexText(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

func parseECCPublic(km keyMap) (*ECCPublicKey, error) {
	text := strings.TrimSpace(km.data)
	var pub *secp256k1.PublicKey
	var err error
	switch {
	case (len(text) == 130 || len(text) == 128 || len(text) == 66) && isHexText(text):
		raw, _ := hex.DecodeString(text)
		pub, err = parsePoint(raw)
	default:
		err = fmt.Errorf("%w: no ECC public key in data", ErrKeyFormat)
		for _, b := range pemBlocks(text) {
			if strings.Contains(b.Type, "PRIVATE") {
				continue
			}
			if pub, err = parseSPKI(b.Bytes); err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	k := &ECCPublicKey{km: km, pub: pub}
	if c, ok := km.extra["compressed"]; ok {
		k.compressed, _ = jsonx.Bool(c)
	}
	return k, nil
}

func parseECCPrivate(km keyMap) (*ECCPrivateKey, error) {
	text := strings.TrimSpace(km.data)
	var priv *secp256k1.PrivateKey
	var err error
	if len(text) == 64 && isHexText(text) {
		raw, _ := hex.DecodeString(text)
		priv, err = scalarKey(raw)
	} else {
		err = fmt.Errorf("%w: no ECC private key in data", ErrKeyFormat)
		for _, b := range pemBlocks(text) {
			if b.Type != "" && !strings.Contains(b.Type, "PRIVATE") {
				continue
			}
			if priv, err = parsePKCS8(b.Bytes); err == nil {
				break
			}
			if priv, err = parseSEC1(b.Bytes); err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	k := newECCPrivate(priv)
	k.km = km
	return k, nil
}

// Algorithm returns "ECC".
func (k *ECCPublicKey) Algorithm() string { return AlgECC }

// MarshalJSON writes the key map as received or as the reference writes it.
func (k *ECCPublicKey) MarshalJSON() ([]byte, error) { return k.km.marshal(), nil }

// Data returns the 65-byte uncompressed point, or 33 bytes when the key map
// carries "compressed": true.
func (k *ECCPublicKey) Data() []byte {
	if k.compressed {
		return k.pub.SerializeCompressed()
	}
	return k.pub.SerializeUncompressed()
}

// Point returns the 65-byte uncompressed point 04|X|Y.
func (k *ECCPublicKey) Point() []byte { return k.pub.SerializeUncompressed() }

// Verify checks an ECDSA signature over SHA-256(data). The signature is DER
// (what the reference writes) or raw 64-byte r|s (what dimchat's Go port
// accepts). High-S signatures are valid: the reference signs with random k.
func (k *ECCPublicKey) Verify(data, signature []byte) error {
	var sig *ecdsa.Signature
	if len(signature) == 64 {
		var r, s secp256k1.ModNScalar
		if r.SetByteSlice(signature[:32]) || s.SetByteSlice(signature[32:]) || r.IsZero() || s.IsZero() {
			return fmt.Errorf("%w (ECDSA r|s out of range)", ErrSignature)
		}
		sig = ecdsa.NewSignature(&r, &s)
	} else {
		var err error
		if sig, err = ecdsa.ParseDERSignature(signature); err != nil {
			return fmt.Errorf("%w (ECDSA: %v)", ErrSignature, err)
		}
	}
	h := sha256.Sum256(data)
	if !sig.Verify(h[:], k.pub) {
		return fmt.Errorf("%w (ECDSA)", ErrSignature)
	}
	return nil
}

// Algorithm returns "ECC".
func (k *ECCPrivateKey) Algorithm() string { return AlgECC }

// MarshalJSON writes the private key map (PKCS#8 PEM when generated here).
func (k *ECCPrivateKey) MarshalJSON() ([]byte, error) { return k.km.marshal(), nil }

// PublicKey returns the matching public key.
func (k *ECCPrivateKey) PublicKey() PublicKey { return k.pub }

// Sign makes a DER ECDSA signature over SHA-256(data) (RFC 6979 nonce).
func (k *ECCPrivateKey) Sign(data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	return ecdsa.Sign(k.priv, h[:]).Serialize(), nil
}
