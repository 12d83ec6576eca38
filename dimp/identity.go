package dimp

import (
	"encoding/json"
	"errors"
	"fmt"

	"dimtui/dimp/crypto"
)

// identityFile is the stored form of an Identity: its ID, meta and visa,
// the private key of the meta and the private key of the visa.
type identityFile struct {
	ID         string          `json:"id"`
	Meta       json.RawMessage `json:"meta"`
	Visa       json.RawMessage `json:"visa,omitempty"`
	SignKey    json.RawMessage `json:"private_key"`
	DecryptKey json.RawMessage `json:"visa_private_key,omitempty"`
}

// MarshalIdentity writes an identity, private keys included, as indented
// JSON. Whoever stores it must keep it private.
func MarshalIdentity(u *Identity) ([]byte, error) {
	f := identityFile{ID: u.ID.String()}
	var err error
	if f.Meta, err = u.Meta.MarshalJSON(); err != nil {
		return nil, err
	}
	if u.Visa != nil {
		if f.Visa, err = u.Visa.MarshalJSON(); err != nil {
			return nil, err
		}
	}
	if f.SignKey, err = u.SignKey.MarshalJSON(); err != nil {
		return nil, err
	}
	if len(u.Decrypt) > 0 && u.Decrypt[0] != u.SignKey {
		if f.DecryptKey, err = u.Decrypt[0].MarshalJSON(); err != nil {
			return nil, err
		}
	}
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(raw, '\n'), nil
}

// ParseIdentity reads what MarshalIdentity wrote and checks it: the meta
// generates the ID, the visa is the ID's and signed by the meta key, the
// private key pairs with the meta key.
func ParseIdentity(raw []byte) (*Identity, error) {
	var f identityFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	id, err := ParseID(f.ID)
	if err != nil {
		return nil, err
	}
	meta, err := ParseMeta(f.Meta)
	if err != nil {
		return nil, err
	}
	u := &Identity{ID: id, Meta: meta}
	if u.SignKey, err = crypto.ParsePrivateKey(f.SignKey); err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if !crypto.SamePublicKey(u.SignKey.PublicKey(), meta.Key) {
		return nil, errors.New("private key does not pair with the meta key")
	}
	var docs []*Document
	if f.Visa != nil {
		if u.Visa, err = ParseDocument(f.Visa); err != nil {
			return nil, err
		}
		docs = append(docs, u.Visa)
	}
	if _, err := NewProfile(id, meta, docs...); err != nil {
		return nil, err
	}
	if f.DecryptKey != nil {
		k, err := crypto.ParsePrivateKey(f.DecryptKey)
		if err != nil {
			return nil, fmt.Errorf("visa private key: %w", err)
		}
		dk, ok := k.(crypto.DecryptKey)
		if !ok {
			return nil, errors.New("visa private key cannot decrypt")
		}
		u.Decrypt = append(u.Decrypt, dk)
	}
	if dk, ok := u.SignKey.(crypto.DecryptKey); ok {
		u.Decrypt = append(u.Decrypt, dk)
	}
	return u, nil
}
