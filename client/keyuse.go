package client

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// A frame's layers say which keys did the work, as the client used them
// when it processed the frame: the key a signature verified with (or was
// made with), the key that decrypted the message key (or the keys it was
// encrypted to), and the message key itself. The inspector shows them
// beside each layer; nothing is worked out again afterwards, so what it
// shows is what happened, also when a peer's keys change later.
//
// The message key is shown in the clear on purpose: it is the user's own
// (a key of a conversation the user takes part in), shown in the user's
// own client, and seeing it is the lesson of the Secure layer. A KeyUse or
// MessageKey holds a few dozen bytes and nothing of the frame, so keeping
// them does not change what a frame costs to keep (see shrinkFrame).

// KeyRole says which of its keys an entity used.
type KeyRole string

// Key roles.
const (
	// MetaKey is the key of the entity's meta: its identity, which signs
	// its messages and its documents.
	MetaKey KeyRole = "meta"
	// VisaKey is the key of its visa (a document its meta key signed):
	// message keys are encrypted to it, and it may sign messages too.
	VisaKey KeyRole = "visa"
)

// KeyUse names an asymmetric key that did one step of a message: whose it
// is, which of the owner's keys, and what kind of key.
type KeyUse struct {
	Owner     dimp.ID
	Role      KeyRole
	Algorithm string // crypto.AlgRSA or crypto.AlgECC
	// Bits is the RSA modulus size; 256 for a secp256k1 key.
	Bits int
	// Fingerprint is the start of the SHA-256 of the public key's data
	// (its DER for RSA, its point for ECC), in hex: enough to tell two
	// keys apart on a screen.
	Fingerprint string
}

// Kind names the key's type: "RSA-1024", "ECC secp256k1".
func (k KeyUse) Kind() string {
	switch k.Algorithm {
	case crypto.AlgRSA:
		return fmt.Sprintf("RSA-%d", k.Bits)
	case crypto.AlgECC:
		return "ECC secp256k1"
	}
	return k.Algorithm
}

// MessageKey is the symmetric key a message's content is encrypted with,
// as the client used it.
type MessageKey struct {
	// Algorithm is "AES-256-CBC" (with the key's size), or "PLAIN" for a
	// broadcast, which is not encrypted.
	Algorithm string
	Key       []byte // the key's bytes; nil for PLAIN
	IV        []byte // the IV the content was encrypted under; nil when the message has none
	// Reused: the key is the one kept for this direction (sender →
	// receiver) from an earlier message, not a fresh one (out) nor one
	// decrypted from this message's keys (in).
	Reused bool
	// DecryptedBy is the user's private key that decrypted the message
	// key from keys[Entry] (in); nil when none was needed: Reused, with
	// Entry set when keys[Entry] is the very text the kept key came from.
	DecryptedBy *KeyUse
	Entry       string
	// EncryptedTo lists the keys the message key was encrypted to, one per
	// member of keys (out).
	EncryptedTo []Recipient
}

// Recipient is one member of a message's keys: its name ("bob",
// "bob/phone") and the receiver's key the message key was encrypted to.
type Recipient struct {
	Name string
	Key  KeyUse
}

// describeKey names a public key of owner, whose meta key is meta: its
// role is the meta's when it is the same key, else the visa's.
func describeKey(owner dimp.ID, meta *dimp.Meta, k crypto.PublicKey) *KeyUse {
	if k == nil {
		return nil
	}
	u := &KeyUse{Owner: owner.WithoutTerminal(), Role: VisaKey, Algorithm: k.Algorithm()}
	if meta != nil && crypto.SamePublicKey(meta.Key, k) {
		u.Role = MetaKey
	}
	switch k := k.(type) {
	case *crypto.RSAPublicKey:
		u.Bits = k.Size() * 8
	case *crypto.ECCPublicKey:
		u.Bits = 256
	}
	sum := sha256.Sum256(k.Data())
	u.Fingerprint = hex.EncodeToString(sum[:4])
	return u
}

// describeMessageKey records a message key and how it was got; iv is the
// message's.
func describeMessageKey(k crypto.SymmetricKey, iv []byte, reused bool) *MessageKey {
	if k == nil {
		return nil
	}
	mk := &MessageKey{Algorithm: k.Algorithm(), Reused: reused}
	if data := k.Data(); len(data) > 0 {
		mk.Key = bytes.Clone(data)
		if k.Algorithm() == crypto.AlgAES {
			mk.Algorithm = fmt.Sprintf("AES-%d-CBC", len(data)*8)
		}
	}
	if len(iv) > 0 {
		mk.IV = bytes.Clone(iv)
	}
	return mk
}

// openedKeys records, in the layers of an incoming message, the keys that
// opened it as far as it was opened: the sender's key the signature
// verified with (from the sender's profile p), the message key, and which
// of the user's keys decrypted it.
func openedKeys(layers *Layers, rm *dimp.ReliableMessage, p *dimp.Profile, me *dimp.Identity, tr *dimp.KeyTrace) {
	if tr == nil {
		return
	}
	if tr.Signer != nil && p != nil {
		layers.Signer = describeKey(rm.Sender, p.Meta, tr.Signer)
	}
	if tr.MessageKey == nil {
		return
	}
	mk := describeMessageKey(tr.MessageKey, rm.IV, tr.Reused)
	mk.Entry = tr.Entry
	if tr.Decrypter != nil {
		mk.DecryptedBy = describeKey(me.ID, me.Meta, tr.Decrypter.PublicKey())
	}
	layers.MessageKey = mk
}

// sealedLayers are the layers of a message the user's client sealed: the
// key it was signed with, the message key and the receivers' keys it was
// encrypted to (to: their profiles).
func sealedLayers(rm *dimp.ReliableMessage, im *dimp.InstantMessage, me *dimp.Identity, to []*dimp.Profile, tr *dimp.KeyTrace) *Layers {
	layers := &Layers{Reliable: rm, Verified: true, Instant: im}
	if tr == nil {
		return layers
	}
	layers.Signer = describeKey(me.ID, me.Meta, tr.Signer)
	layers.MessageKey = describeMessageKey(tr.MessageKey, rm.IV, tr.Reused)
	for _, e := range tr.EncryptedTo {
		owner, meta := dimp.ID{}, (*dimp.Meta)(nil)
		for _, p := range to {
			if id, err := dimp.ParseID(e.Name); err == nil && p.ID.SameAs(id) {
				owner, meta = p.ID, p.Meta
			}
		}
		if k := describeKey(owner, meta, e.Key); k != nil && layers.MessageKey != nil {
			layers.MessageKey.EncryptedTo = append(layers.MessageKey.EncryptedTo, Recipient{Name: e.Name, Key: *k})
		}
	}
	return layers
}
