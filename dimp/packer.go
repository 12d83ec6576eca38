package dimp

import (
	"errors"
	"fmt"

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

// Seal encrypts and signs an instant message from Me. A broadcast needs no
// recipients; a personal message needs the receiver's profile; a group
// message needs every member's (see SealGroup).
func (p *Packer) Seal(im *InstantMessage, to []*Profile, opt SealOptions) (*ReliableMessage, error) {
	var pw crypto.SymmetricKey = crypto.Plain()
	var recipients []Recipient
	if !im.IsBroadcast() {
		dest := im.Destination()
		cached := p.Keys.Get(im.Sender, dest)
		pw = cached
		if pw == nil {
			k, err := crypto.GenerateAES()
			if err != nil {
				return nil, err
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
					return nil, err
				}
				recipients = append(recipients, r)
			}
			if len(recipients) == 0 {
				if skipped != nil {
					return nil, skipped
				}
				return nil, fmt.Errorf("%w: %s", ErrNoEncryptKey, im.Receiver)
			}
		}
	}
	sm, err := Encrypt(im, pw, recipients)
	if err != nil {
		return nil, err
	}
	rm, err := Sign(sm, p.Me.SignKey)
	if err != nil {
		return nil, err
	}
	if opt.Attach {
		rm.Meta, rm.Visa = p.Me.Meta, p.Me.Visa
	}
	return rm, nil
}

// Open verifies a reliable message with the sender's profile and decrypts
// it for Me, caching the message key it carried.
func (p *Packer) Open(rm *ReliableMessage, from *Profile) (*InstantMessage, error) {
	if from == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoVerifyKey, rm.Sender)
	}
	if !from.ID.SameAs(rm.Sender) {
		return nil, fmt.Errorf("%w: profile of %s for a message from %s", ErrNoVerifyKey, from.ID, rm.Sender)
	}
	sm, err := Verify(rm, from.VerifyKeys()...)
	if err != nil {
		return nil, err
	}
	dest := sm.Destination()
	cached, cachedFrom := p.Keys.get(sm.Sender, dest)
	pw, entry, err := messageKey(sm, p.Me.ID, p.Me.Decrypt, cached, cachedFrom)
	if err != nil {
		return nil, err
	}
	im, err := openWith(sm, pw)
	if err != nil {
		return nil, err
	}
	if (pw != cached || entry != cachedFrom) && !sm.IsBroadcast() {
		p.Keys.put(sm.Sender, dest, pw, entry)
	}
	return im, nil
}
