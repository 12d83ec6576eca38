package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"fmt"

	"dimtui/dimp/internal/jsonx"
	"dimtui/dimp/internal/ted"
)

// AESKey is a message key: AES-CBC with PKCS#7 padding. DIMP uses 256-bit
// keys; 128- and 192-bit keys from other peers are read too.
type AESKey struct {
	km    keyMap
	key   []byte
	block cipher.Block
	iv    []byte // legacy: an `iv` inside the key map (old peers)
}

// GenerateAES makes a fresh 256-bit message key.
func GenerateAES() (*AESKey, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate AES key: %w", err)
	}
	return NewAESKey(key)
}

// NewAESKey wraps raw key bytes (16, 24 or 32 of them).
func NewAESKey(key []byte) (*AESKey, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFormat, err)
	}
	return &AESKey{km: keyMap{alg: AlgAES, data: ted.Encode(key)}, key: key, block: block}, nil
}

func parseAES(km keyMap) (*AESKey, error) {
	key, err := ted.Decode(km.data)
	if err != nil {
		return nil, fmt.Errorf("%w: AES data: %v", ErrKeyFormat, err)
	}
	k, err := NewAESKey(key)
	if err != nil {
		return nil, err
	}
	k.km = km
	if raw, ok := km.extra["iv"]; ok {
		s, err := jsonx.String(raw)
		if err == nil {
			k.iv, err = ted.Decode(s)
		}
		if err != nil || len(k.iv) != aes.BlockSize {
			return nil, fmt.Errorf("%w: AES iv", ErrKeyFormat)
		}
	}
	return k, nil
}

// Algorithm returns "AES".
func (k *AESKey) Algorithm() string { return AlgAES }

// MarshalJSON writes {"algorithm":"AES","data":base64} plus kept members.
func (k *AESKey) MarshalJSON() ([]byte, error) { return k.km.marshal(), nil }

// Data returns the raw key bytes.
func (k *AESKey) Data() []byte { return k.key }

// Encrypt pads with PKCS#7 and encrypts under a fresh random IV.
func (k *AESKey) Encrypt(plaintext []byte) (ciphertext, iv []byte, err error) {
	iv = make([]byte, aes.BlockSize)
	if _, err := rand.Read(iv); err != nil {
		return nil, nil, fmt.Errorf("AES IV: %w", err)
	}
	return k.EncryptIV(plaintext, iv), iv, nil
}

// EncryptIV encrypts under the given 16-byte IV (for reproducible vectors).
func (k *AESKey) EncryptIV(plaintext, iv []byte) []byte {
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	out := make([]byte, len(plaintext)+pad)
	copy(out, plaintext)
	for i := len(plaintext); i < len(out); i++ {
		out[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(k.block, iv).CryptBlocks(out, out)
	return out
}

// Decrypt opens CBC ciphertext and removes PKCS#7 padding. A nil iv falls
// back to the key's legacy iv, then to sixteen zero bytes.
func (k *AESKey) Decrypt(ciphertext, iv []byte) ([]byte, error) {
	if iv == nil {
		iv = k.iv
	}
	if iv == nil {
		iv = make([]byte, aes.BlockSize)
	}
	if len(iv) != aes.BlockSize {
		return nil, fmt.Errorf("%w: IV of %d bytes", ErrDecrypt, len(iv))
	}
	if len(ciphertext) == 0 || len(ciphertext)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: AES ciphertext of %d bytes", ErrDecrypt, len(ciphertext))
	}
	out := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(k.block, iv).CryptBlocks(out, ciphertext)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, fmt.Errorf("%w: bad padding", ErrDecrypt)
	}
	want := make([]byte, pad)
	for i := range want {
		want[i] = byte(pad)
	}
	if subtle.ConstantTimeCompare(out[len(out)-pad:], want) != 1 {
		return nil, fmt.Errorf("%w: bad padding", ErrDecrypt)
	}
	return out[:len(out)-pad], nil
}

// PlainKey is the PLAIN algorithm of broadcasts: encryption is the identity.
type PlainKey struct{ km keyMap }

// Plain returns the PLAIN key.
func Plain() *PlainKey { return &PlainKey{km: keyMap{alg: AlgPlain}} }

// Algorithm returns "PLAIN".
func (k *PlainKey) Algorithm() string { return AlgPlain }

// MarshalJSON writes {"algorithm":"PLAIN"}.
func (k *PlainKey) MarshalJSON() ([]byte, error) { return k.km.marshal(), nil }

// Data is empty for PLAIN.
func (k *PlainKey) Data() []byte { return nil }

// Encrypt returns plaintext unchanged.
func (k *PlainKey) Encrypt(plaintext []byte) ([]byte, []byte, error) { return plaintext, nil, nil }

// Decrypt returns ciphertext unchanged.
func (k *PlainKey) Decrypt(ciphertext, _ []byte) ([]byte, error) { return ciphertext, nil }
