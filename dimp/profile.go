package dimp

import (
	"fmt"
	"sync"

	"dimtui/dimp/crypto"
)

// Profile is what is known of an entity, checked: a meta that generates its
// ID and the visas that meta's key signed. Build one with NewProfile.
type Profile struct {
	ID    ID
	Meta  *Meta
	Visas []*Document // one per terminal

	visaKeys []TerminalKey // parsed visa keys, in the order of Visas
}

// NewProfile checks that meta generates id and that every document belongs
// to id and is signed by meta's key, then keeps the newest visa of each
// terminal. A bad document is an error, not skipped: a peer that sends one
// is lying or broken.
func NewProfile(id ID, meta *Meta, docs ...*Document) (*Profile, error) {
	if meta == nil {
		return nil, fmt.Errorf("%w: no meta for %s", ErrNoVerifyKey, id)
	}
	if err := meta.MatchID(id); err != nil {
		return nil, err
	}
	p := &Profile{ID: id.WithoutTerminal(), Meta: meta}
	for _, d := range docs {
		if err := p.AddDocument(d); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// AddDocument verifies d against the profile's meta and keeps it if it is
// the newest of its terminal.
func (p *Profile) AddDocument(d *Document) error {
	if d == nil {
		return nil
	}
	if err := d.VerifyFor(p.ID, p.Meta); err != nil {
		return err
	}
	key, err := d.VisaKey()
	if err != nil {
		return err
	}
	tk := TerminalKey{Terminal: d.Terminal(), Key: key}
	for i, old := range p.Visas {
		if p.visaKeys[i].Terminal == tk.Terminal {
			if d.Time() >= old.Time() {
				p.Visas[i], p.visaKeys[i] = d, tk
			}
			return nil
		}
	}
	p.Visas = append(p.Visas, d)
	p.visaKeys = append(p.visaKeys, tk)
	return nil
}

// Visa returns the newest visa, or nil.
func (p *Profile) Visa() *Document {
	var best *Document
	for _, v := range p.Visas {
		if best == nil || v.Time() > best.Time() {
			best = v
		}
	}
	return best
}

// VerifyKeys returns the keys a message from this entity may be signed
// with: the meta key, then visa keys (the reference tries both).
func (p *Profile) VerifyKeys() []crypto.PublicKey {
	keys := []crypto.PublicKey{p.Meta.Key}
	for _, tk := range p.visaKeys {
		if tk.Key != nil && !crypto.SamePublicKey(tk.Key, p.Meta.Key) {
			keys = append(keys, tk.Key)
		}
	}
	return keys
}

// TerminalKey is a key to encrypt message keys to, for one terminal ("" or
// "*" for every device).
type TerminalKey struct {
	Terminal string
	Key      crypto.EncryptKey
}

// EncryptKeys returns one key per terminal from the visas; without any visa
// key, the meta key if it can encrypt (RSA); else ErrNoEncryptKey.
func (p *Profile) EncryptKeys() ([]TerminalKey, error) {
	var out []TerminalKey
	for _, tk := range p.visaKeys {
		if tk.Key != nil {
			out = append(out, tk)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if k, ok := p.Meta.Key.(crypto.EncryptKey); ok {
		return []TerminalKey{{Key: k}}, nil
	}
	return nil, fmt.Errorf("%w: %s has no visa key and an %s meta key", ErrNoEncryptKey, p.ID, p.Meta.Key.Algorithm())
}

// ProfileFromMessage builds the sender's profile from the meta and visa
// attached to a message. It fails when there is no meta, the meta does not
// match the sender, or the visa is not the sender's or not signed by the meta.
func ProfileFromMessage(m *ReliableMessage) (*Profile, error) {
	if m.Meta == nil {
		return nil, fmt.Errorf("%w: %s attached no meta", ErrNoVerifyKey, m.Sender)
	}
	return NewProfile(m.Sender, m.Meta, m.Visa)
}

// Identity is a local user: its ID, meta, visa and private keys.
type Identity struct {
	ID      ID
	Meta    *Meta
	Visa    *Document
	SignKey crypto.PrivateKey   // pairs with Meta.Key
	Decrypt []crypto.DecryptKey // the visa key's pair first, then the meta key if it can decrypt
}

// Profile returns the identity's public profile.
func (u *Identity) Profile() *Profile {
	p := &Profile{ID: u.ID.WithoutTerminal(), Meta: u.Meta}
	if u.Visa != nil {
		key, _ := u.Visa.VisaKey()
		p.Visas = []*Document{u.Visa}
		p.visaKeys = []TerminalKey{{Terminal: u.Visa.Terminal(), Key: key}}
	}
	return p
}

// NewIdentity creates a user (or station, or bot) with a fresh meta of type
// mt signed by sign, and a visa carrying the public half of visaKey, named
// nick. For MKM metas, seed becomes the ID name.
func NewIdentity(t EntityType, mt MetaType, seed, nick string, sign crypto.PrivateKey, visaKey crypto.DecryptKey) (*Identity, error) {
	meta, err := GenerateMeta(mt, sign, seed)
	if err != nil {
		return nil, err
	}
	id, err := meta.GenerateID(t, "")
	if err != nil {
		return nil, err
	}
	u := &Identity{ID: id, Meta: meta, SignKey: sign}
	if visaKey != nil {
		u.Decrypt = append(u.Decrypt, visaKey)
	}
	if d, ok := sign.(crypto.DecryptKey); ok {
		u.Decrypt = append(u.Decrypt, d)
	}
	visa := NewDocument(id, DocVisa)
	if nick != "" {
		if err := visa.Set("name", nick); err != nil {
			return nil, err
		}
	}
	if visaKey != nil {
		if err := visa.Set("key", visaKey.PublicKey()); err != nil {
			return nil, err
		}
	}
	if err := visa.Sign(sign); err != nil {
		return nil, err
	}
	u.Visa = visa
	return u, nil
}

// keyCacheSize bounds a KeyCache; when full it starts over, and directions
// whose key was dropped simply get a new one.
const keyCacheSize = 1 << 16

// KeyCache holds the symmetric key of each direction (sender → destination)
// so that later messages reuse it. It is safe for concurrent use.
type KeyCache struct {
	mu   sync.Mutex
	keys map[[2]string]cachedKey
}

// cachedKey is a message key and, when it came in a message, the encrypted
// text it was decrypted from: the same text again opens without RSA.
type cachedKey struct {
	key  crypto.SymmetricKey
	from string
}

func cacheKey(from, to ID) [2]string {
	return [2]string{from.WithoutTerminal().String(), to.WithoutTerminal().String()}
}

// Get returns the cached key for from → to, or nil.
func (c *KeyCache) Get(from, to ID) crypto.SymmetricKey {
	k, _ := c.get(from, to)
	return k
}

func (c *KeyCache) get(from, to ID) (crypto.SymmetricKey, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.keys[cacheKey(from, to)]
	return e.key, e.from
}

// Put caches key for from → to.
func (c *KeyCache) Put(from, to ID, key crypto.SymmetricKey) { c.put(from, to, key, "") }

func (c *KeyCache) put(from, to ID, key crypto.SymmetricKey, encrypted string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil || len(c.keys) >= keyCacheSize {
		c.keys = make(map[[2]string]cachedKey)
	}
	c.keys[cacheKey(from, to)] = cachedKey{key: key, from: encrypted}
}
