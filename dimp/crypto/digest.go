package crypto

import (
	"crypto/md5"
	"crypto/sha256"

	//lint:ignore SA1019 BTC-style addresses are RIPEMD-160 of SHA-256, by definition
	"golang.org/x/crypto/ripemd160"
	"golang.org/x/crypto/sha3"
)

// SHA256 returns the SHA-256 digest of data.
func SHA256(data []byte) []byte {
	h := sha256.Sum256(data)
	return h[:]
}

// Keccak256 returns the original (pre-SHA-3) Keccak-256 digest that
// Ethereum, and so DIMP's ETH addresses, use.
func Keccak256(data []byte) []byte {
	h := sha3.NewLegacyKeccak256()
	h.Write(data)
	return h.Sum(nil)
}

// RIPEMD160 returns the RIPEMD-160 digest of data.
func RIPEMD160(data []byte) []byte {
	h := ripemd160.New()
	h.Write(data)
	return h.Sum(nil)
}

// MD5 returns the MD5 digest of data (apps use it for key digests only).
func MD5(data []byte) []byte {
	h := md5.Sum(data)
	return h[:]
}
