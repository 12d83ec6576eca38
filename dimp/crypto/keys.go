// Package crypto holds DIMP's keys in their wire form: JSON maps with an
// `algorithm`, a `data` string and optional parameters.
//
// Asymmetric keys are RSA (PKCS#1 v1.5 encryption, PKCS#1 v1.5 SHA-256
// signatures) and ECC on secp256k1 (ECDSA over SHA-256, DER signatures).
// Message keys are AES-256-CBC with PKCS#7 padding, the IV carried by the
// message, or PLAIN for broadcasts. Every key keeps the `data` text and the
// unknown members it was read with, so writing it back yields what the peer
// sent. Randomness comes from crypto/rand only.
package crypto

import (
	"errors"
	"fmt"
	"strings"

	"dimtui/dimp/internal/jsonx"
)

// Errors for callers to test with errors.Is.
var (
	// ErrUnknownAlgorithm: the `algorithm` names no key this package knows.
	ErrUnknownAlgorithm = errors.New("unknown key algorithm")
	// ErrKeyFormat: the key map or its `data` cannot be read.
	ErrKeyFormat = errors.New("malformed key")
	// ErrSignature: a signature does not verify with the key.
	ErrSignature = errors.New("signature does not verify")
	// ErrDecrypt: ciphertext cannot be opened with the key.
	ErrDecrypt = errors.New("cannot decrypt")
	// ErrKeyUse: the key cannot do what was asked (plaintext too long, ...).
	ErrKeyUse = errors.New("key cannot be used for this")
)

// Algorithm names as written on the wire.
const (
	AlgRSA   = "RSA"
	AlgECC   = "ECC"
	AlgAES   = "AES"
	AlgPlain = "PLAIN"
)

// Key is any DIMP key; MarshalJSON writes its wire map.
type Key interface {
	// Algorithm returns the canonical algorithm name (RSA, ECC, AES, PLAIN).
	Algorithm() string
	MarshalJSON() ([]byte, error)
}

// PublicKey verifies signatures. Its Data is the `key.data` bytes that
// BTC-style and ETH addresses are derived from.
type PublicKey interface {
	Key
	Data() []byte
	// Verify returns nil when signature is valid for data, else an error
	// wrapping ErrSignature.
	Verify(data, signature []byte) error
}

// EncryptKey is a public key that can also encrypt (RSA).
type EncryptKey interface {
	PublicKey
	Encrypt(plaintext []byte) ([]byte, error)
}

// PrivateKey signs; PublicKey returns its pair.
type PrivateKey interface {
	Key
	PublicKey() PublicKey
	Sign(data []byte) ([]byte, error)
}

// DecryptKey is a private key that can also decrypt (RSA).
type DecryptKey interface {
	PrivateKey
	Decrypt(ciphertext []byte) ([]byte, error)
}

// SymmetricKey encrypts message bodies.
type SymmetricKey interface {
	Key
	// Data is the raw key material (empty for PLAIN).
	Data() []byte
	// Encrypt returns the ciphertext and the IV it used (nil when the
	// algorithm has none); the IV travels in the message's "IV" field.
	Encrypt(plaintext []byte) (ciphertext, iv []byte, err error)
	// Decrypt opens ciphertext. A nil iv means the message carried none: the
	// key's own legacy `iv` is used if it has one, else an all-zero IV.
	Decrypt(ciphertext, iv []byte) ([]byte, error)
}

// keyMap is what every key keeps of its wire form.
type keyMap struct {
	alg   string       // algorithm as received
	data  string       // `data` text as received or generated
	extra jsonx.Object // every other member
}

func (k *keyMap) marshal() []byte {
	w := jsonx.NewWriter(make([]byte, 0, 96+len(k.data)))
	w.String("algorithm", k.alg)
	if k.data != "" {
		w.String("data", k.data)
	}
	w.Rest(k.extra)
	return w.End()
}

// shortKeyNames are the symmetric-key members the reference's optional
// shortener renames: algorithm↔A, data↔D, iv↔I.
var shortKeyNames = [][2]string{{"algorithm", "A"}, {"data", "D"}, {"iv", "I"}}

// readKeyMap splits a key map and normalises its algorithm name.
func readKeyMap(raw []byte) (canon string, km keyMap, err error) {
	obj, err := jsonx.ParseMembers(raw)
	if err != nil {
		return "", km, fmt.Errorf("%w: %v", ErrKeyFormat, err)
	}
	obj.Expand(shortKeyNames)
	alg, err := jsonx.String(obj.Take("algorithm"))
	if err != nil {
		return "", km, fmt.Errorf("%w: algorithm: %v", ErrKeyFormat, err)
	}
	km.alg = alg
	if raw := obj.Take("data"); raw != nil {
		if km.data, err = jsonx.String(raw); err != nil {
			return "", km, fmt.Errorf("%w: data: %v", ErrKeyFormat, err)
		}
	}
	km.extra = obj.Rest()
	return canonicalAlgorithm(alg), km, nil
}

// canonicalAlgorithm maps every registered alias to one name.
func canonicalAlgorithm(alg string) string {
	switch strings.ToUpper(alg) {
	case "RSA", "SHA256WITHRSA", "RSA/ECB/PKCS1PADDING":
		return AlgRSA
	case "ECC", "SHA256WITHECDSA", "ECDSA":
		return AlgECC
	case "AES", "AES/CBC/PKCS7PADDING":
		return AlgAES
	case "PLAIN":
		return AlgPlain
	}
	return ""
}

// ParsePublicKey reads a public key map.
func ParsePublicKey(raw []byte) (PublicKey, error) {
	canon, km, err := readKeyMap(raw)
	if err != nil {
		return nil, err
	}
	return publicFromMap(canon, km)
}

func publicFromMap(canon string, km keyMap) (PublicKey, error) {
	switch canon {
	case AlgRSA:
		return parseRSAPublic(km)
	case AlgECC:
		return parseECCPublic(km)
	}
	return nil, fmt.Errorf("%w: %q is not a public key algorithm", ErrUnknownAlgorithm, km.alg)
}

// ParsePrivateKey reads a private key map.
func ParsePrivateKey(raw []byte) (PrivateKey, error) {
	canon, km, err := readKeyMap(raw)
	if err != nil {
		return nil, err
	}
	switch canon {
	case AlgRSA:
		return parseRSAPrivate(km)
	case AlgECC:
		return parseECCPrivate(km)
	}
	return nil, fmt.Errorf("%w: %q is not a private key algorithm", ErrUnknownAlgorithm, km.alg)
}

// ParseSymmetricKey reads a message key map, short member names included.
func ParseSymmetricKey(raw []byte) (SymmetricKey, error) {
	canon, km, err := readKeyMap(raw)
	if err != nil {
		return nil, err
	}
	switch canon {
	case AlgAES:
		return parseAES(km)
	case AlgPlain:
		return &PlainKey{km: km}, nil
	}
	return nil, fmt.Errorf("%w: %q is not a symmetric algorithm", ErrUnknownAlgorithm, km.alg)
}

// SamePublicKey reports whether two public keys are the same key.
func SamePublicKey(a, b PublicKey) bool {
	if a == nil || b == nil || a.Algorithm() != b.Algorithm() {
		return false
	}
	return string(a.Data()) == string(b.Data())
}
