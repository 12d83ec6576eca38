package dimp

import (
	"fmt"
	"strings"

	"dimtui/dimp/crypto"
	"dimtui/dimp/internal/jsonx"
)

// MetaType says how an entity's address derives from its meta.
type MetaType int

// Meta types. MKM has a seed (the ID name) and a fingerprint; BTC and ETH
// derive the address from the key alone.
const (
	MetaMKM MetaType = 1
	MetaBTC MetaType = 2
	MetaETH MetaType = 4
)

// String names the meta type.
func (t MetaType) String() string {
	switch t {
	case MetaMKM:
		return "mkm"
	case MetaBTC:
		return "btc"
	case MetaETH:
		return "eth"
	}
	return fmt.Sprintf("meta-%d", int(t))
}

// ParseMetaType reads a meta type token: "1", "MKM", "mkm", "2", "BTC", ...
func ParseMetaType(s string) (MetaType, error) {
	switch strings.ToLower(s) {
	case "1", "mkm", "default":
		return MetaMKM, nil
	case "2", "btc":
		return MetaBTC, nil
	case "4", "eth":
		return MetaETH, nil
	}
	return 0, fmt.Errorf("%w: unknown meta type %q", ErrInvalidMeta, s)
}

// Meta is the immutable identity record of an entity: the key that signs for
// it and, for MKM, the seed (its name) bound to the key by a fingerprint.
type Meta struct {
	Type        MetaType
	Key         crypto.PublicKey
	Seed        string
	Fingerprint []byte

	fpText tedText      // fingerprint as received
	extra  jsonx.Object // unknown members
}

// GenerateMeta makes a meta for a private key. MKM needs a seed, BTC and
// ETH must have none; ETH needs an ECC key.
func GenerateMeta(t MetaType, priv crypto.PrivateKey, seed string) (*Meta, error) {
	m := &Meta{Type: t, Key: priv.PublicKey()}
	if t == MetaMKM {
		if seed == "" {
			return nil, fmt.Errorf("%w: an MKM meta needs a seed", ErrInvalidMeta)
		}
		fp, err := priv.Sign([]byte(seed))
		if err != nil {
			return nil, fmt.Errorf("sign meta seed: %w", err)
		}
		m.Seed, m.Fingerprint = seed, fp
	} else if seed != "" {
		return nil, fmt.Errorf("%w: a %s meta has no seed", ErrInvalidMeta, t)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// ParseMeta reads a meta map in any form the protocol has used (type as
// number or string or name, MKM 0.9 `version`) and validates it: a meta that
// parses is a valid meta.
func ParseMeta(raw []byte) (*Meta, error) {
	members, err := jsonx.ParseMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMeta, err)
	}
	return metaFromMembers(members)
}

// metaFromMembers reads a meta map already split into members.
func metaFromMembers(obj *jsonx.Members) (*Meta, error) {
	m := &Meta{}
	typeRaw := obj.Take("type")
	if legacy := obj.Take("version"); typeRaw == nil {
		typeRaw = legacy
	}
	if typeRaw == nil {
		return nil, fmt.Errorf("%w: no type", ErrInvalidMeta)
	}
	tok, err := jsonx.Token(typeRaw)
	if err != nil {
		return nil, fmt.Errorf("%w: type: %w", ErrInvalidMeta, err)
	}
	if m.Type, err = ParseMetaType(tok); err != nil {
		return nil, err
	}
	keyRaw := obj.Take("key")
	if keyRaw == nil {
		return nil, fmt.Errorf("%w: no key", ErrInvalidMeta)
	}
	if m.Key, err = crypto.ParsePublicKey(keyRaw); err != nil {
		return nil, fmt.Errorf("%w: key: %w", ErrInvalidMeta, err)
	}
	seedRaw, fpRaw := obj.Take("seed"), obj.Take("fingerprint")
	if (seedRaw == nil) != (fpRaw == nil) {
		return nil, fmt.Errorf("%w: seed and fingerprint go together", ErrInvalidMeta)
	}
	if seedRaw != nil {
		if m.Seed, err = jsonx.String(seedRaw); err != nil {
			return nil, fmt.Errorf("%w: seed: %w", ErrInvalidMeta, err)
		}
		if m.Fingerprint, m.fpText, err = readTED(fpRaw); err != nil {
			return nil, fmt.Errorf("%w: fingerprint: %w", ErrInvalidMeta, err)
		}
	}
	m.extra = obj.Rest()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Validate checks the meta on its own: an MKM meta has a non-empty seed and
// a fingerprint that is the key's signature of the seed; BTC and ETH metas
// carry neither; an ETH meta has an ECC key.
func (m *Meta) Validate() error {
	if m.Key == nil {
		return fmt.Errorf("%w: no key", ErrInvalidMeta)
	}
	switch m.Type {
	case MetaMKM:
		if m.Seed == "" || len(m.Fingerprint) == 0 {
			return fmt.Errorf("%w: MKM meta needs a seed and a fingerprint", ErrInvalidMeta)
		}
		if err := m.Key.Verify([]byte(m.Seed), m.Fingerprint); err != nil {
			return fmt.Errorf("%w: seed %q: %w", ErrFingerprint, m.Seed, err)
		}
	case MetaBTC, MetaETH:
		if m.Seed != "" || len(m.Fingerprint) != 0 {
			return fmt.Errorf("%w: a %s meta carries no seed or fingerprint", ErrInvalidMeta, m.Type)
		}
		if m.Type == MetaETH {
			if _, ok := m.Key.(*crypto.ECCPublicKey); !ok {
				return fmt.Errorf("%w: an ETH meta needs an ECC key", ErrInvalidMeta)
			}
		}
	default:
		return fmt.Errorf("%w: unknown meta type %d", ErrInvalidMeta, int(m.Type))
	}
	return nil
}

// Address derives the address this meta generates for an entity type
// (given as the raw network byte, so MKM 0.9 networks work too).
func (m *Meta) Address(network byte) (Address, error) {
	switch m.Type {
	case MetaMKM:
		return BTCAddress(m.Fingerprint, network), nil
	case MetaBTC:
		return BTCAddress(m.Key.Data(), network), nil
	case MetaETH:
		if EntityType(network) != User {
			return Address{}, fmt.Errorf("%w: ETH addresses are for users only", ErrInvalidMeta)
		}
		ecc, ok := m.Key.(*crypto.ECCPublicKey)
		if !ok {
			return Address{}, fmt.Errorf("%w: an ETH meta needs an ECC key", ErrInvalidMeta)
		}
		return ETHAddress(ecc.Point())
	}
	return Address{}, fmt.Errorf("%w: unknown meta type %d", ErrInvalidMeta, int(m.Type))
}

// GenerateID derives the ID this meta gives an entity of type t.
func (m *Meta) GenerateID(t EntityType, terminal string) (ID, error) {
	addr, err := m.Address(byte(t))
	if err != nil {
		return ID{}, err
	}
	return NewID(m.Seed, addr, terminal), nil
}

// MatchID checks that this meta generates id: same address for id's network,
// and the seed equals the name (MKM) or the name is empty (BTC, ETH). The
// reference checks the address only; the name check is the DIMP document's.
func (m *Meta) MatchID(id ID) error {
	if id.IsBroadcast() {
		return fmt.Errorf("%w: %s is a broadcast ID", ErrMetaMismatch, id)
	}
	if m.Seed != id.Name() {
		return fmt.Errorf("%w: seed %q is not the name of %s", ErrMetaMismatch, m.Seed, id)
	}
	addr, err := m.Address(id.Address().Network())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMetaMismatch, err)
	}
	if !addr.Equal(id.Address()) {
		return fmt.Errorf("%w: meta generates %s, not %s", ErrMetaMismatch, addr, id.Address())
	}
	return nil
}

// MarshalJSON writes the meta with its type as a JSON number (what peers of
// every generation read), keeping unknown members.
func (m *Meta) MarshalJSON() ([]byte, error) {
	key, err := m.Key.MarshalJSON()
	if err != nil {
		return nil, err
	}
	w := jsonx.NewWriter(make([]byte, 0, 256+len(key)))
	w.Int("type", int64(m.Type))
	w.Raw("key", key)
	if m.Seed != "" {
		w.String("seed", m.Seed)
		w.String("fingerprint", m.fpText.textOf(m.Fingerprint))
	}
	w.Rest(m.extra)
	return w.End(), nil
}
