package dimp

import (
	"crypto/rand"
	"fmt"
	"math/big"

	"dimtui/dimp/crypto"
)

// A group, as dimchat's clients make one: its ID comes from an MKM meta
// built with the founder's identity key and a seed (the ID's name part),
// so the group's meta key is the founder's; its bulletin, the group's
// document, is signed by the founder and checked with that key. For a
// plain group the owner is the founder.

// GroupSeedPrefix starts the seed a new group gets when none is given:
// "Group-" and a random number.
const GroupSeedPrefix = "Group-"

// NewGroupID makes the meta and ID of a new group founded with priv, the
// founder's identity (meta) private key. An empty seed is replaced by
// "Group-" and a random number from 10,000 to 999,999,999, as the
// reference registrar does; the seed becomes the ID's name.
func NewGroupID(priv crypto.PrivateKey, seed string) (ID, *Meta, error) {
	if seed == "" {
		n, err := rand.Int(rand.Reader, big.NewInt(999_999_999-10_000+1))
		if err != nil {
			return ID{}, nil, fmt.Errorf("group seed: %w", err)
		}
		seed = fmt.Sprintf("%s%d", GroupSeedPrefix, n.Int64()+10_000)
	}
	meta, err := GenerateMeta(MetaMKM, priv, seed)
	if err != nil {
		return ID{}, nil, fmt.Errorf("group meta: %w", err)
	}
	id, err := meta.GenerateID(Group, "")
	if err != nil {
		return ID{}, nil, fmt.Errorf("group ID: %w", err)
	}
	return id, meta, nil
}

// Bulletin is what a group's document says, as NewBulletin writes it.
type Bulletin struct {
	Group          ID
	Name           string // the title people see (not the seed)
	Founder        ID
	Administrators []ID // written only when there are some
	Assistants     []ID // group bots; written only when there are some
}

// NewBulletin makes the group's bulletin and signs it with priv, the
// founder's identity private key (the group meta's key): type, the
// creation and signing times (seconds), founder, name, and the
// administrators and assistants when there are some.
func NewBulletin(b Bulletin, priv crypto.PrivateKey) (*Document, error) {
	if !b.Group.IsGroup() || b.Group.IsBroadcast() {
		return nil, fmt.Errorf("%w: bulletin for %s, which is not a group", ErrInvalidDocument, b.Group)
	}
	if b.Founder.IsZero() {
		return nil, fmt.Errorf("%w: bulletin of %s without a founder", ErrInvalidDocument, b.Group)
	}
	d := NewDocument(b.Group, DocBulletin)
	ids := func(list []ID) []string {
		out := make([]string, len(list))
		for i, id := range list {
			out[i] = id.String()
		}
		return out
	}
	props := []struct {
		name string
		v    any
		set  bool
	}{
		{"type", DocBulletin, true},
		{"created_time", Now(), true},
		{"founder", b.Founder.String(), true},
		{"name", b.Name, true},
		{"administrators", ids(b.Administrators), len(b.Administrators) > 0},
		{"assistants", ids(b.Assistants), len(b.Assistants) > 0},
	}
	for _, p := range props {
		if !p.set {
			continue
		}
		if err := d.Set(p.name, p.v); err != nil {
			return nil, fmt.Errorf("bulletin %s: %w", p.name, err)
		}
	}
	if err := d.Sign(priv); err != nil {
		return nil, fmt.Errorf("bulletin of %s: %w", b.Group, err)
	}
	return d, nil
}
