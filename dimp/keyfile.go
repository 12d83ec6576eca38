package dimp

import (
	"bytes"
	"encoding/json"
	"fmt"

	"dimtui/dimp/crypto"
)

// ParsePrivateKeys reads a file of private keys in any of the forms DIM
// tools keep them in: a key map, an identity file as MarshalIdentity
// writes it, or PEM text holding an RSA or secp256k1 private key. An
// identity file gives two keys, its visa's (which decrypts) first and then
// its meta's (which signs): the key that signs is always the last one.
func ParsePrivateKeys(raw []byte) ([]crypto.PrivateKey, error) {
	trimmed := bytes.TrimSpace(raw)
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		// A key map holds PEM text as its data; the PEM does not say which
		// algorithm, so each is tried.
		for _, alg := range []string{crypto.AlgRSA, crypto.AlgECC} {
			m, _ := json.Marshal(map[string]string{"algorithm": alg, "data": string(trimmed)})
			if k, err := crypto.ParsePrivateKey(m); err == nil {
				return []crypto.PrivateKey{k}, nil
			}
		}
		return nil, fmt.Errorf("%w: PEM holds no RSA or secp256k1 private key", crypto.ErrKeyFormat)
	}
	var ident identityFile
	if json.Unmarshal(raw, &ident) == nil && ident.SignKey != nil {
		var keys []crypto.PrivateKey
		for _, part := range []json.RawMessage{ident.DecryptKey, ident.SignKey} {
			if part == nil {
				continue
			}
			k, err := crypto.ParsePrivateKey(part)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
		return keys, nil
	}
	k, err := crypto.ParsePrivateKey(raw)
	if err != nil {
		return nil, err
	}
	return []crypto.PrivateKey{k}, nil
}
