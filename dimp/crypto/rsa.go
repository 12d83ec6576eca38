package crypto

import (
	stdcrypto "crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"dimtui/dimp/internal/jsonx"
	"dimtui/dimp/internal/ted"
)

// RSA key sizes this package reads. Smaller keys are broken, and above
// 8192 bits a single verification becomes a denial of service. The least
// is 1023 bits, not 1024: dimchat's browser client makes its keys as the
// product of two 512-bit primes, which has 1023 bits about four times in
// ten, and those users must be able to talk. (Go's crypto/rsa refuses keys
// under 1024 bits unless GODEBUG rsa1024min=0: go.mod sets it, and this
// bound keeps everything smaller out.)
const (
	minRSABits = 1023
	maxRSABits = 8192
)

// rsaDefaults are the parameters the reference writes beside every RSA key.
func rsaDefaults() jsonx.Object {
	return jsonx.Object{
		"mode":    []byte(`"ECB"`),
		"padding": []byte(`"PKCS1"`),
		"digest":  []byte(`"SHA256"`),
	}
}

// RSAPublicKey is an RSA public key: it verifies PKCS#1 v1.5 SHA-256
// signatures and encrypts with PKCS#1 v1.5.
type RSAPublicKey struct {
	km  keyMap
	pub *rsa.PublicKey
	der []byte // SubjectPublicKeyInfo DER: the reference's key.data
}

// RSAPrivateKey is an RSA private key; it signs and decrypts.
type RSAPrivateKey struct {
	km   keyMap
	priv *rsa.PrivateKey
	pub  *RSAPublicKey
}

// GenerateRSA makes a new RSA key of the given size (1024 or 2048 for DIMP).
func GenerateRSA(bits int) (*RSAPrivateKey, error) {
	if bits < minRSABits || bits > maxRSABits {
		return nil, fmt.Errorf("%w: RSA size %d", ErrKeyUse, bits)
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	return newRSAPrivate(priv), nil
}

func newRSAPrivate(priv *rsa.PrivateKey) *RSAPrivateKey {
	priv.Precompute()
	block := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
	return &RSAPrivateKey{
		km:   keyMap{alg: AlgRSA, data: string(block), extra: rsaDefaults()},
		priv: priv,
		pub:  newRSAPublic(&priv.PublicKey),
	}
}

func newRSAPublic(pub *rsa.PublicKey) *RSAPublicKey {
	der, _ := x509.MarshalPKIXPublicKey(pub) // cannot fail for an RSA key
	block := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return &RSAPublicKey{
		km:  keyMap{alg: AlgRSA, data: string(block), extra: rsaDefaults()},
		pub: pub,
		der: der,
	}
}

// pemBlocks returns the DER of each PEM block in text, or, when text holds
// no PEM at all, the text read as Base64 DER (a form some old peers send).
func pemBlocks(text string) []*pem.Block {
	var blocks []*pem.Block
	rest := []byte(text)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) == 0 && !strings.Contains(text, "-----") {
		if der, err := ted.Base64(text); err == nil && len(der) > 0 {
			blocks = append(blocks, &pem.Block{Type: "", Bytes: der})
		}
	}
	return blocks
}

func checkRSASize(n int) error {
	if n < minRSABits || n > maxRSABits {
		return fmt.Errorf("%w: RSA key of %d bits", ErrKeyFormat, n)
	}
	return nil
}

// parseRSAPublic reads SPKI ("PUBLIC KEY"), PKCS#1 ("RSA PUBLIC KEY") and
// PKCS#1 wrapped in a "PUBLIC KEY" header, as old DIMP documents show.
func parseRSAPublic(km keyMap) (*RSAPublicKey, error) {
	for _, b := range pemBlocks(km.data) {
		if strings.Contains(b.Type, "PRIVATE") {
			continue
		}
		var pub *rsa.PublicKey
		if k, err := x509.ParsePKIXPublicKey(b.Bytes); err == nil {
			pub, _ = k.(*rsa.PublicKey)
		} else if k, err := x509.ParsePKCS1PublicKey(b.Bytes); err == nil {
			pub = k
		}
		if pub == nil {
			continue
		}
		if err := checkRSASize(pub.N.BitLen()); err != nil {
			return nil, err
		}
		k := newRSAPublic(pub)
		k.km = km
		return k, nil
	}
	return nil, fmt.Errorf("%w: no RSA public key in data", ErrKeyFormat)
}

// parseRSAPrivate reads PKCS#1 then PKCS#8, skipping any public block that
// shares the text (keys stored as public+private PEM).
func parseRSAPrivate(km keyMap) (*RSAPrivateKey, error) {
	for _, b := range pemBlocks(km.data) {
		if b.Type != "" && !strings.Contains(b.Type, "PRIVATE") {
			continue
		}
		var priv *rsa.PrivateKey
		if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
			priv = k
		} else if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
			priv, _ = k.(*rsa.PrivateKey)
		}
		if priv == nil {
			continue
		}
		if err := checkRSASize(priv.N.BitLen()); err != nil {
			return nil, err
		}
		k := newRSAPrivate(priv)
		k.km = km
		return k, nil
	}
	return nil, fmt.Errorf("%w: no RSA private key in data", ErrKeyFormat)
}

// Algorithm returns "RSA".
func (k *RSAPublicKey) Algorithm() string { return AlgRSA }

// MarshalJSON writes the key map as received or as the reference writes it.
func (k *RSAPublicKey) MarshalJSON() ([]byte, error) { return k.km.marshal(), nil }

// Data returns the SubjectPublicKeyInfo DER, as the reference's key.data.
func (k *RSAPublicKey) Data() []byte { return k.der }

// Size returns the modulus size in bytes.
func (k *RSAPublicKey) Size() int { return k.pub.Size() }

// fullBlock returns b as exactly size bytes, left-padding it with zeros
// when it is shorter, and false when it is empty or longer than size.
//
// An RSA signature or ciphertext is an integer below the modulus, written
// big-endian in as many bytes as the modulus has (RFC 8017, I2OSP).
// dimchat's browser client writes the integer without its leading zero
// bytes, so about one signature or encrypted key in 256 arrives a byte
// short (127 bytes for RSA-1024, 255 for RSA-2048). It is the same integer
// and as valid once padded; crypto/rsa wants exactly the modulus size, so
// the padding is done here. One byte more than the modulus is never
// accepted: it would be a second encoding of the same value, or none.
func fullBlock(b []byte, size int) ([]byte, bool) {
	switch {
	case len(b) == 0 || len(b) > size:
		return nil, false
	case len(b) == size:
		return b, true
	}
	full := make([]byte, size)
	copy(full[size-len(b):], b)
	return full, true
}

// Verify checks an RSASSA-PKCS1-v1_5 SHA-256 signature over data. A
// signature shorter than the modulus is read as the same integer padded
// with leading zeros (see fullBlock); an empty one or one longer than the
// modulus does not verify.
func (k *RSAPublicKey) Verify(data, signature []byte) error {
	sig, ok := fullBlock(signature, k.pub.Size())
	if !ok {
		return fmt.Errorf("%w (RSA): %d-byte signature for a %d-byte key", ErrSignature, len(signature), k.pub.Size())
	}
	h := sha256.Sum256(data)
	if err := rsa.VerifyPKCS1v15(k.pub, stdcrypto.SHA256, h[:], sig); err != nil {
		return fmt.Errorf("%w (RSA)", ErrSignature)
	}
	return nil
}

// Encrypt applies RSAES-PKCS1-v1_5. The reference encrypts one block only,
// so plaintext longer than the modulus size minus 11 is refused.
func (k *RSAPublicKey) Encrypt(plaintext []byte) ([]byte, error) {
	if len(plaintext) > k.pub.Size()-11 {
		return nil, fmt.Errorf("%w: %d bytes do not fit one RSA-%d block", ErrKeyUse, len(plaintext), k.pub.N.BitLen())
	}
	//lint:ignore SA1019 DIMP's message keys are RSAES-PKCS1-v1_5: the reference reads nothing else.
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, k.pub, plaintext)
	if err != nil {
		return nil, fmt.Errorf("RSA encrypt: %w", err)
	}
	return ct, nil
}

// Algorithm returns "RSA".
func (k *RSAPrivateKey) Algorithm() string { return AlgRSA }

// MarshalJSON writes the private key map (PKCS#1 PEM when generated here).
func (k *RSAPrivateKey) MarshalJSON() ([]byte, error) { return k.km.marshal(), nil }

// PublicKey returns the matching public key.
func (k *RSAPrivateKey) PublicKey() PublicKey { return k.pub }

// EncryptKey returns the matching public key as an encryption key.
func (k *RSAPrivateKey) EncryptKey() *RSAPublicKey { return k.pub }

// Sign makes an RSASSA-PKCS1-v1_5 SHA-256 signature (deterministic).
func (k *RSAPrivateKey) Sign(data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	sig, err := rsa.SignPKCS1v15(nil, k.priv, stdcrypto.SHA256, h[:])
	if err != nil {
		return nil, fmt.Errorf("RSA sign: %w", err)
	}
	return sig, nil
}

// Decrypt opens RSAES-PKCS1-v1_5 ciphertext. A ciphertext of several
// modulus-sized blocks (what dimchat's Go port writes) is opened block by
// block and the plaintexts joined.
//
// A ciphertext shorter than one block is the browser client's encrypted
// key written without its leading zero bytes, and is padded back (see
// fullBlock). Data longer than one block whose length is not a multiple of
// the block size is refused: no writer shortens one block of several, and
// which block would be short cannot be told from the length alone.
func (k *RSAPrivateKey) Decrypt(ciphertext []byte) ([]byte, error) {
	size := k.priv.Size()
	if len(ciphertext) < size {
		full, ok := fullBlock(ciphertext, size)
		if !ok {
			return nil, fmt.Errorf("%w: empty RSA ciphertext", ErrDecrypt)
		}
		ciphertext = full
	}
	if len(ciphertext)%size != 0 {
		return nil, fmt.Errorf("%w: RSA ciphertext of %d bytes for a %d-byte key", ErrDecrypt, len(ciphertext), size)
	}
	var out []byte
	for off := 0; off < len(ciphertext); off += size {
		// DIMP's message keys are RSAES-PKCS1-v1_5. Whoever decrypts keys for
		// others must not say which step failed (see mockstation's refusals).
		//lint:ignore SA1019 the protocol's only key transport
		pt, err := rsa.DecryptPKCS1v15(nil, k.priv, ciphertext[off:off+size])
		if err != nil {
			return nil, fmt.Errorf("%w: RSA: %v", ErrDecrypt, err)
		}
		if off == 0 && len(ciphertext) == size {
			return pt, nil
		}
		out = append(out, pt...)
	}
	return out, nil
}
