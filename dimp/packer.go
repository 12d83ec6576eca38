package dimp

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"dimtui/dimp/crypto"
)

// Packer runs the whole pipeline for one local identity, with the key
// cache that makes later messages of a direction reuse their key.
type Packer struct {
	Me   *Identity
	Keys *KeyCache
	IDs  *IDCache
}

// NewPacker returns a packer for me with empty caches.
func NewPacker(me *Identity) *Packer { return &Packer{Me: me, Keys: &KeyCache{}, IDs: &IDCache{}} }

// Parse reads a reliable message from the wire, as ParseReliableMessage,
// checking each peer's ID once thanks to the packer's ID cache.
func (p *Packer) Parse(raw []byte) (*ReliableMessage, error) {
	return parseMessage(raw, true, p.IDs)
}

// SealOptions tune Seal.
type SealOptions struct {
	// OmitKey leaves `keys` out when the direction's key is being reused,
	// for a receiver known to hold it already.
	OmitKey bool
	// Attach adds the sender's meta and visa (first contact, handshake).
	Attach bool
}

// KeyTrace says which keys did each step of one message, as Seal or Open
// used them: what a teaching tool shows beside each layer. It holds the
// message key in the clear; keep it where the user's own keys are kept.
type KeyTrace struct {
	// Signer is the sender's key the signature verified with (Open; nil
	// when it did not verify), or the public half of Me's key that made it
	// (Seal).
	Signer crypto.PublicKey
	// MessageKey encrypted the content: PLAIN for a broadcast; nil when
	// it could not be found.
	MessageKey crypto.SymmetricKey
	// Reused: MessageKey is the one cached for the message's direction
	// (sender → destination) rather than a fresh one (Seal) or one
	// decrypted with a private key (Open: the message carried no key, or
	// the very text of keys the cached one was decrypted from).
	Reused bool
	// Open: Decrypter is Me's private key that decrypted MessageKey from
	// keys[Entry]; nil when no private key was used.
	Decrypter crypto.DecryptKey
	Entry     string
	// Seal: the keys MessageKey was encrypted to, one per member of keys;
	// empty when keys was left out (OmitKey) or for a broadcast.
	EncryptedTo []KeyEntry
}

// KeyEntry is one member of a message's keys: its name ("bob",
// "bob/phone") and the key the message key was encrypted with for it.
type KeyEntry struct {
	Name string
	Key  crypto.EncryptKey
}

// Seal encrypts and signs an instant message from Me. A broadcast needs no
// recipients; a personal message needs the receiver's profile; a group
// message needs every member's (see SealGroup).
func (p *Packer) Seal(im *InstantMessage, to []*Profile, opt SealOptions) (*ReliableMessage, error) {
	rm, _, err := p.SealTraced(im, to, opt)
	return rm, err
}

// SealTraced is Seal, which also says which keys it used.
func (p *Packer) SealTraced(im *InstantMessage, to []*Profile, opt SealOptions) (*ReliableMessage, *KeyTrace, error) {
	var pw crypto.SymmetricKey = crypto.Plain()
	var recipients []Recipient
	trace := &KeyTrace{}
	if !im.IsBroadcast() {
		dest := im.Destination()
		cached := p.Keys.Get(im.Sender, dest)
		pw, trace.Reused = cached, cached != nil
		if pw == nil {
			k, err := crypto.GenerateAES()
			if err != nil {
				return nil, nil, err
			}
			pw = k
			p.Keys.Put(im.Sender, dest, pw)
		}
		if cached == nil || !opt.OmitKey {
			// A group member without an encryption key (an ECC meta and no
			// visa yet) is skipped, as the reference does; a personal
			// receiver without one is an error.
			group := im.Receiver.IsGroup()
			var skipped error
			for _, prof := range to {
				r, err := RecipientOf(prof)
				if group && errors.Is(err, ErrNoEncryptKey) {
					skipped = err
					continue
				}
				if err != nil {
					return nil, nil, err
				}
				recipients = append(recipients, r)
			}
			if len(recipients) == 0 {
				if skipped != nil {
					return nil, nil, skipped
				}
				return nil, nil, fmt.Errorf("%w: %s", ErrNoEncryptKey, im.Receiver)
			}
		}
	}
	sm, err := Encrypt(im, pw, recipients)
	if err != nil {
		return nil, nil, err
	}
	rm, err := Sign(sm, p.Me.SignKey)
	if err != nil {
		return nil, nil, err
	}
	if opt.Attach {
		rm.Meta, rm.Visa = p.Me.Meta, p.Me.Visa
	}
	trace.Signer, trace.MessageKey = p.Me.SignKey.PublicKey(), pw
	for _, r := range recipients {
		base := r.ID.WithoutTerminal().String()
		for _, tk := range r.Keys {
			name := keysName(base, tk.Terminal)
			if _, sent := sm.Keys[name]; sent && !slices.ContainsFunc(trace.EncryptedTo, func(e KeyEntry) bool { return e.Name == name }) {
				trace.EncryptedTo = append(trace.EncryptedTo, KeyEntry{Name: name, Key: tk.Key})
			}
		}
	}
	return rm, trace, nil
}

// Open verifies a reliable message with the sender's profile and decrypts
// it for Me, caching the message key it carried.
func (p *Packer) Open(rm *ReliableMessage, from *Profile) (*InstantMessage, error) {
	im, _, err := p.OpenTraced(rm, from)
	return im, err
}

// OpenTraced is Open, which also says which keys it used: the trace is
// filled as far as the message was opened (the signer once the signature
// verified, the message key once it was found), also when err is not nil.
func (p *Packer) OpenTraced(rm *ReliableMessage, from *Profile) (*InstantMessage, *KeyTrace, error) {
	trace := &KeyTrace{}
	if from == nil {
		return nil, trace, fmt.Errorf("%w: %s", ErrNoVerifyKey, rm.Sender)
	}
	if !from.ID.SameAs(rm.Sender) {
		return nil, trace, fmt.Errorf("%w: profile of %s for a message from %s", ErrNoVerifyKey, from.ID, rm.Sender)
	}
	sm, signer, err := verifyWith(rm, from.VerifyKeys())
	if err != nil {
		return nil, trace, err
	}
	trace.Signer = signer
	dest := sm.Destination()
	cached, cachedFrom := p.Keys.get(sm.Sender, dest)
	src, err := messageKey(sm, p.Me.ID, p.Me.Decrypt, cached, cachedFrom)
	if err != nil {
		return nil, trace, err
	}
	trace.MessageKey, trace.Reused, trace.Decrypter = src.key, src.reused, src.by
	for _, name := range slices.Sorted(maps.Keys(sm.Keys)) {
		if src.entry != "" && sm.Keys[name] == src.entry {
			trace.Entry = name
			break
		}
	}
	im, err := openWith(sm, src.key)
	if err != nil {
		return nil, trace, err
	}
	if (src.key != cached || src.entry != cachedFrom) && !sm.IsBroadcast() {
		p.Keys.put(sm.Sender, dest, src.key, src.entry)
	}
	return im, trace, nil
}
