package dimp

import (
	"errors"
	"fmt"
	"strings"

	"dimtui/dimp/crypto"
	"dimtui/dimp/internal/jsonx"
	"dimtui/dimp/internal/ted"
)

// Recipient is one receiver of a message key: a user and its keys per terminal.
type Recipient struct {
	ID   ID
	Keys []TerminalKey
}

// RecipientOf returns the recipient for a profile.
func RecipientOf(p *Profile) (Recipient, error) {
	keys, err := p.EncryptKeys()
	if err != nil {
		return Recipient{}, err
	}
	return Recipient{ID: p.ID, Keys: keys}, nil
}

// Encrypt turns an instant message into a secure message (Instant → Secure):
//
//  1. the content is serialised to JSON;
//  2. a broadcast is not encrypted: data is that JSON text and there are no
//     keys; otherwise the JSON is encrypted with pw (AES-CBC, a fresh IV
//     carried in the message's IV) and data is its Base64;
//  3. pw itself is serialised and encrypted for each recipient, one entry per
//     terminal: keys["ID"] for every device, keys["ID/terminal"] for one.
//
// With no recipients the message goes without keys: the receiver reuses the
// key it cached for this sender and destination. The content type is copied
// into the envelope so that relays can see it.
func Encrypt(im *InstantMessage, pw crypto.SymmetricKey, recipients []Recipient) (*SecureMessage, error) {
	body := MarshalContent(im.Content)
	sm := &SecureMessage{Envelope: im.Envelope}
	sm.Type, sm.HasType = im.Content.Header().Type, true
	if sm.IsBroadcast() {
		sm.Data = string(body)
		return sm, nil
	}
	if _, plain := pw.(*crypto.PlainKey); plain {
		return nil, fmt.Errorf("%w: PLAIN key for a message to %s", ErrNoEncryptKey, im.Receiver)
	}
	ct, iv, err := pw.Encrypt(body)
	if err != nil {
		return nil, fmt.Errorf("encrypt content: %w", err)
	}
	sm.Data, sm.IV = ted.Encode(ct), iv
	sm.decoded, sm.decodedFor = ct, sm.Data // what Sign needs, without decoding it again
	if len(recipients) == 0 {
		return sm, nil
	}
	pwd, err := pw.MarshalJSON()
	if err != nil {
		return nil, err
	}
	sm.Keys = make(map[string]string, len(recipients))
	for _, r := range recipients {
		base := r.ID.WithoutTerminal().String()
		for _, tk := range r.Keys {
			name := keysName(base, tk.Terminal)
			if _, done := sm.Keys[name]; done {
				continue
			}
			ek, err := tk.Key.Encrypt(pwd)
			if err != nil {
				return nil, fmt.Errorf("encrypt message key for %s: %w", name, err)
			}
			sm.Keys[name] = ted.Encode(ek)
		}
	}
	return sm, nil
}

// keysName is the member of `keys` that holds the message key for one
// terminal of a user whose ID without terminal is base: base itself for
// every device ("" or "*"), else base/terminal.
func keysName(base, terminal string) string {
	if terminal == "" || terminal == "*" {
		return base
	}
	return base + "/" + terminal
}

// Sign turns a secure message into a reliable one (Secure → Reliable): the
// signature covers the decoded data bytes, not their Base64.
func Sign(sm *SecureMessage, key crypto.PrivateKey) (*ReliableMessage, error) {
	data, err := sm.DataBytes()
	if err != nil {
		return nil, err
	}
	sig, err := key.Sign(data)
	if err != nil {
		return nil, fmt.Errorf("sign message: %w", err)
	}
	return &ReliableMessage{SecureMessage: *sm, Signature: sig}, nil
}

// Verify checks the signature of a reliable message with the sender's keys
// (Reliable → Secure). It fails with ErrSignature when no key verifies.
func Verify(rm *ReliableMessage, keys ...crypto.PublicKey) (*SecureMessage, error) {
	sm, _, err := verifyWith(rm, keys)
	return sm, err
}

// verifyWith is Verify, which also returns the key the signature verified
// with.
func verifyWith(rm *ReliableMessage, keys []crypto.PublicKey) (*SecureMessage, crypto.PublicKey, error) {
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("%w: %s", ErrNoVerifyKey, rm.Sender)
	}
	if len(rm.Signature) == 0 {
		return nil, nil, fmt.Errorf("%w: message from %s is not signed", ErrSignature, rm.Sender)
	}
	data, err := rm.DataBytes()
	if err != nil {
		return nil, nil, err
	}
	var last error
	for _, k := range keys {
		if last = k.Verify(data, rm.Signature); last == nil {
			return &rm.SecureMessage, k, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: from %s: %w", ErrSignature, rm.Sender, last)
}

// KeysFor returns the encrypted keys meant for me: keys["me/terminal"]
// first when me has a terminal, then keys["me"], then any "me/…" entry.
func (m *SecureMessage) KeysFor(me ID) []string {
	base := me.WithoutTerminal().String()
	var out []string
	if t := me.Terminal(); t != "" {
		if k, ok := m.Keys[base+"/"+t]; ok {
			out = append(out, k)
		}
	}
	if k, ok := m.Keys[base]; ok {
		out = append(out, k)
	}
	if me.Terminal() == "" {
		for name, k := range m.Keys {
			if rest, ok := strings.CutPrefix(name, base+"/"); ok && rest != "" {
				out = append(out, k)
			}
		}
	}
	return out
}

// Decrypt opens a secure message for the local user me (Secure → Instant):
// the message key is taken from keys and decrypted with whichever of privs
// opens it; without keys, cached is used (a reused key); a broadcast needs
// neither. It returns the key used, which the caller caches for the sender
// and destination.
func Decrypt(sm *SecureMessage, me ID, privs []crypto.DecryptKey, cached crypto.SymmetricKey) (*InstantMessage, crypto.SymmetricKey, error) {
	src, err := messageKey(sm, me, privs, cached, "")
	if err != nil {
		return nil, nil, err
	}
	im, err := openWith(sm, src.key)
	if err != nil {
		return nil, nil, err
	}
	return im, src.key, nil
}

// DecryptFor opens a secure message with whichever of privs opens it, for
// me, or, when me is zero, for its receiver; a group message then opens
// for whichever member privs hold a key of. A group message whose keys
// name no member cannot say whom it is for: that error wraps ErrNoMember
// (and ErrNoDecryptKey).
func DecryptFor(sm *SecureMessage, me ID, privs []crypto.DecryptKey) (*InstantMessage, error) {
	var candidates []ID
	switch {
	case !me.IsZero():
		candidates = []ID{me}
	case sm.Receiver.IsGroup() && !sm.IsBroadcast():
		for name := range sm.Keys {
			if id, err := ParseID(name); err == nil {
				candidates = append(candidates, id)
			}
		}
		if len(candidates) == 0 {
			return nil, fmt.Errorf("%w: %w", ErrNoDecryptKey, ErrNoMember)
		}
	default:
		candidates = []ID{sm.Receiver}
	}
	var errs []error
	for _, member := range candidates {
		im, _, err := Decrypt(sm, member, privs, nil)
		if err == nil {
			return im, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, fmt.Errorf("%w: no member key opens it: %w", ErrDecrypt, errors.Join(errs...))
}

// keySource is a message's key and where it came from.
type keySource struct {
	key   crypto.SymmetricKey
	entry string            // the `keys` text it was decrypted from ("" when none)
	by    crypto.DecryptKey // the private key that decrypted it; nil when none did
	// reused: the cached key of the direction, because the message carries
	// no key or carries the very text the cached one came from.
	reused bool
}

// messageKey finds the key of a message: PLAIN for a broadcast, the one in
// keys, or the cached one. When the entry for me is the very text cachedFrom
// that the cached key was decrypted from, no private-key operation is needed.
func messageKey(sm *SecureMessage, me ID, privs []crypto.DecryptKey, cached crypto.SymmetricKey, cachedFrom string) (keySource, error) {
	switch {
	case sm.IsBroadcast():
		return keySource{key: crypto.Plain()}, nil
	case len(sm.Keys) > 0 && !onlyDigest(sm.Keys):
		return decryptKey(sm, me, privs, cached, cachedFrom)
	case cached != nil:
		return keySource{key: cached, reused: true}, nil
	}
	return keySource{}, fmt.Errorf("%w: message from %s carries no key and none is cached", ErrNoDecryptKey, sm.Sender)
}

// openWith decrypts the data of a secure message with its key and reads
// the content.
func openWith(sm *SecureMessage, pw crypto.SymmetricKey) (*InstantMessage, error) {
	data, err := sm.DataBytes()
	if err != nil {
		return nil, err
	}
	body, err := pw.Decrypt(data, sm.IV)
	if err != nil {
		return nil, fmt.Errorf("%w: data: %w", ErrDecrypt, err)
	}
	// Data that is not a JSON object did not decrypt (a wrong key makes
	// garbage); an object that is not a valid content is the sender's
	// mistake, and is named as such. Random bytes practically never make a
	// JSON object, so telling the two apart is no padding oracle.
	m, err := jsonx.ParseMembers(body)
	switch {
	case errors.Is(err, jsonx.ErrTooDeep):
		// It decrypted: a content nested past the bound is the sender's.
		return nil, fmt.Errorf("%w: %w", ErrInvalidContent, err)
	case err != nil:
		return nil, fmt.Errorf("%w: data does not hold a content: %w", ErrDecrypt, err)
	}
	c, err := contentFrom(&fieldReader{m: m})
	if err != nil {
		return nil, err
	}
	im := &InstantMessage{Envelope: sm.Envelope, Content: c, Extra: sm.Extra.Clone()}
	if im.Extra != nil {
		delete(im.Extra, "key")
		delete(im.Extra, "iv")
	}
	return im, nil
}

func onlyDigest(keys map[string]string) bool {
	_, has := keys["digest"]
	return has && len(keys) == 1
}

func decryptKey(sm *SecureMessage, me ID, privs []crypto.DecryptKey, cached crypto.SymmetricKey, cachedFrom string) (keySource, error) {
	entries := sm.KeysFor(me)
	if len(entries) == 0 {
		return keySource{}, fmt.Errorf("%w: no key for %s among %d", ErrNoDecryptKey, me, len(sm.Keys))
	}
	if cached != nil && cachedFrom != "" {
		for _, e := range entries {
			if e == cachedFrom {
				// The same key, encrypted the same way: reused.
				return keySource{key: cached, entry: e, reused: true}, nil
			}
		}
	}
	if len(privs) == 0 {
		return keySource{}, fmt.Errorf("%w: no private key for %s", ErrNoDecryptKey, me)
	}
	var errs []error
	for _, e := range entries {
		ek, err := ted.Decode(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, k := range privs {
			pwd, err := k.Decrypt(ek)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			pw, err := crypto.ParseSymmetricKey(pwd)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			return keySource{key: pw, entry: e, by: k}, nil
		}
	}
	return keySource{}, fmt.Errorf("%w: message key for %s: %w", ErrDecrypt, me, errors.Join(errs...))
}

// Split makes one message per member from a group message (receiver = the
// group): each is addressed to the member, exposes the group, and keeps only
// that member's keys. The data and signature are shared.
func (m *ReliableMessage) Split(members []ID) []*ReliableMessage {
	out := make([]*ReliableMessage, 0, len(members))
	for _, member := range members {
		out = append(out, m.Trim(member))
	}
	return out
}

// Trim returns a copy of a group message for one member.
func (m *ReliableMessage) Trim(member ID) *ReliableMessage {
	c := *m
	c.Extra = m.Extra.Clone()
	if c.Group.IsZero() && m.Receiver.IsGroup() {
		c.Group = m.Receiver
	}
	c.Receiver = member
	base := member.WithoutTerminal().String()
	c.Keys = nil
	c.keysLegacy = false
	for name, k := range m.Keys {
		if name == base || strings.HasPrefix(name, base+"/") {
			if c.Keys == nil {
				c.Keys = map[string]string{}
			}
			c.Keys[name] = k
		}
	}
	delete(c.Extra, "key")
	return &c
}
