// Package dimp is the Decentralized Instant Messaging Protocol: identities
// (IDs, addresses, metas, documents), contents and commands, and the message
// pipeline Instant → Secure → Reliable and back, byte-compatible with
// dimchat's reference implementation.
//
// The package is pure: no network, no goroutines, no globals. Everything it
// reads comes in every form the protocol has used; everything it writes is
// the v2.4 form plus the duplicates older peers still need. Verification is
// strict where the reference is lax, and every failure is a named error.
package dimp

import "errors"

// Errors for callers to test with errors.Is. Each is wrapped with detail.
var (
	// ErrInvalidID: the text is not name@address/terminal with a valid address.
	ErrInvalidID = errors.New("invalid ID")
	// ErrInvalidAddress: not a BTC-style, ETH or broadcast address.
	ErrInvalidAddress = errors.New("invalid address")
	// ErrInvalidMeta: the meta map is malformed or inconsistent.
	ErrInvalidMeta = errors.New("invalid meta")
	// ErrFingerprint: an MKM meta's fingerprint is not a signature of its seed by its key.
	ErrFingerprint = errors.New("meta fingerprint does not verify")
	// ErrMetaMismatch: the meta does not generate this ID (address or name).
	ErrMetaMismatch = errors.New("meta does not match ID")
	// ErrInvalidDocument: the document map is malformed.
	ErrInvalidDocument = errors.New("invalid document")
	// ErrDocumentSignature: the document is not signed by the key it should be.
	ErrDocumentSignature = errors.New("document signature does not verify")
	// ErrDocumentID: the document belongs to another entity.
	ErrDocumentID = errors.New("document ID does not match")
	// ErrInvalidContent: the content map is malformed.
	ErrInvalidContent = errors.New("invalid content")
	// ErrInvalidMessage: the message map is malformed.
	ErrInvalidMessage = errors.New("invalid message")
	// ErrSignature: the message signature does not verify with any key of the sender.
	ErrSignature = errors.New("message signature does not verify")
	// ErrNoVerifyKey: nothing is known of the sender to verify with.
	ErrNoVerifyKey = errors.New("no key to verify the sender")
	// ErrNoDecryptKey: the message carries no key for us and none is cached.
	ErrNoDecryptKey = errors.New("no message key for this receiver")
	// ErrNoMember: a group message's keys name none of its members, so
	// whom to decrypt it for must be told.
	ErrNoMember = errors.New("group message without member keys")
	// ErrDecrypt: the message key or data cannot be decrypted.
	ErrDecrypt = errors.New("cannot decrypt message")
	// ErrNoEncryptKey: the receiver has no key to encrypt to (no visa key, meta key cannot encrypt).
	ErrNoEncryptKey = errors.New("no key to encrypt to the receiver")
)
