package mockstation

import (
	"context"
	"errors"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
	"dimtui/mockstation/store"
)

// The station's own messages to a user: answers and refusal receipts,
// sealed (encrypted to the user's visa key, signed with the station's meta
// key), and the opening of messages addressed to the station.

// refuse answers a message the station will not take with a receipt whose
// text names the reason; err says more, in the receipt's `error`. On a
// handshaken connection the answer goes to the user on the line.
func (c *conn) refuse(in *inbound, text string, err error) error {
	to, p := in.rm.Sender, in.from
	if user, up := c.session(); !user.IsZero() {
		to, p = user, up
	}
	return c.refuseTo(in, to, p, text, err)
}

func (c *conn) refuseTo(in *inbound, to dimp.ID, p *dimp.Profile, text string, err error) error {
	c.logger().Info("refused", "sender", in.rm.Sender, "receiver", in.rm.Receiver, "reason", text, "err", err)
	if p == nil {
		return closeWith(websocket.StatusPolicyViolation, "%s %v", text, err)
	}
	r := newReceipt(text, in.rm, 0)
	setExtra(r, "error", publicDetail(err))
	attach := in.attach
	in.attach = false
	return c.answerTo(to, p, r, attach)
}

// answer sends content from the station to the sender of in.
func (c *conn) answer(in *inbound, content dimp.Content) error {
	attach := in.attach
	in.attach = false
	return c.answerTo(in.rm.Sender, in.from, content, attach)
}

// answerTo seals content for to and queues it on this connection. Receipts
// are not sent to stations (spec/station.md §3.2). Content that cannot be
// sealed (the user has no key to encrypt to) is logged and dropped; before
// the handshake, when the client would wait for an answer that never
// comes, the connection is closed with the reason instead.
func (c *conn) answerTo(to dimp.ID, p *dimp.Profile, content dimp.Content, attach bool) error {
	if _, ok := content.(*dimp.ReceiptCommand); ok && to.Type() == dimp.Station {
		return nil
	}
	if l := c.link.Load(); l != nil && !to.SameAs(l.peer) {
		// What a neighbour passed came from users elsewhere: the link is
		// not their session. What they must hear, sendOwn tells them. The
		// neighbour itself is answered (a documents query).
		return nil
	}
	// A client that has not handshaken may not know the station yet: it
	// needs the station's meta and visa to read any answer.
	early := c.userID().IsZero()
	data, err := c.srv.seal(to, p, content, attach || early)
	if err != nil {
		c.logger().Warn("cannot answer", "to", to, "err", err)
		if early {
			return closeWith(websocket.StatusPolicyViolation, "Station cannot answer: %v", err)
		}
		return nil
	}
	return c.reply(frame{data: data})
}

// seal packs content from the station for one user (Instant → Secure →
// Reliable): encrypted with the station's message key for that user, which
// is encrypted to the user's visa keys and carried in every message (a
// client may not have kept it), and signed with the station's meta key;
// attach adds the station's meta and visa. The key and its encrypted form
// are made once per user and visa keys (see answerKeys), so an answer
// costs one AES encryption and one signature.
func (s *Server) seal(to dimp.ID, p *dimp.Profile, content dimp.Content, attach bool) ([]byte, error) {
	rm, err := s.sealMessage(to, p, content, attach)
	if err != nil {
		return nil, err
	}
	return rm.MarshalJSON()
}

// sealMessage is seal, which returns the message.
func (s *Server) sealMessage(to dimp.ID, p *dimp.Profile, content dimp.Content, attach bool) (*dimp.ReliableMessage, error) {
	recipient, err := dimp.RecipientOf(p)
	if err != nil {
		return nil, err
	}
	im := dimp.NewInstantMessage(s.me.ID, to, content)
	var sm *dimp.SecureMessage
	if k := s.answerKeys.get(recipient); k != nil {
		if sm, err = dimp.Encrypt(im, k.pw, nil); err != nil {
			return nil, err
		}
		sm.Keys = k.keys // shared, never modified
	} else {
		pw, err := newMessageKey()
		if err != nil {
			return nil, err
		}
		if sm, err = dimp.Encrypt(im, pw, []dimp.Recipient{recipient}); err != nil {
			return nil, err
		}
		s.answerKeys.put(recipient, pw, sm.Keys)
	}
	rm, err := dimp.Sign(sm, s.me.SignKey)
	if err != nil {
		return nil, err
	}
	if attach {
		rm.Meta, rm.Visa = s.me.Meta, s.me.Visa
	}
	return rm, nil
}

// open decrypts a verified message addressed to the station, reusing the
// message key the sender sent before when this one carries none.
func (s *Server) open(rm *dimp.ReliableMessage) (*dimp.InstantMessage, error) {
	sm := &rm.SecureMessage
	dest := sm.Destination()
	cached := s.keys.Get(sm.Sender, dest)
	im, pw, err := dimp.Decrypt(sm, s.me.ID, s.me.Decrypt, cached)
	if err != nil {
		return nil, err
	}
	if pw != cached && !sm.IsBroadcast() {
		s.keys.Put(sm.Sender, dest, pw)
	}
	return im, nil
}

// publicDetail is the `error` of a refusal receipt. Decryption failures all
// read the same: telling a bad RSA padding from a key that decrypted to
// garbage, or from data that did not decrypt, would let anyone with a
// session use the station as a PKCS#1 v1.5 padding oracle (Bleichenbacher)
// against message keys encrypted to its visa key.
//
// The database's own errors name its file, which is none of the user's
// business: they read as what they mean to the user.
func publicDetail(err error) string {
	switch {
	case errors.Is(err, dimp.ErrDecrypt) || errors.Is(err, dimp.ErrNoDecryptKey):
		return "the station cannot decrypt this message"
	case errors.Is(err, store.ErrFull):
		return "the station's storage is full"
	case errors.Is(err, store.ErrCorrupt), errors.Is(err, store.ErrReadOnly):
		return "the station's database failed"
	}
	return err.Error()
}

// reasonOf names, for a receipt's text, why a message was refused.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, dimp.ErrMetaMismatch):
		return "Meta does not match the sender."
	case errors.Is(err, dimp.ErrInvalidMeta), errors.Is(err, dimp.ErrFingerprint):
		return "Meta not valid."
	case errors.Is(err, dimp.ErrDocumentSignature), errors.Is(err, dimp.ErrDocumentID),
		errors.Is(err, dimp.ErrInvalidDocument):
		return "Visa not valid."
	case errors.Is(err, dimp.ErrNoVerifyKey):
		return "Sender unknown: attach meta and visa."
	case errors.Is(err, dimp.ErrSignature):
		return "Signature not verified."
	case errors.Is(err, dimp.ErrDecrypt), errors.Is(err, dimp.ErrNoDecryptKey):
		// Checked before "content not valid": see publicDetail.
		return "Message not decrypted."
	case errors.Is(err, dimp.ErrInvalidContent):
		return "Content not valid."
	case errors.Is(err, dimp.ErrInvalidMessage):
		return "Message not valid."
	case errors.Is(err, context.Canceled):
		return "Station closing."
	}
	return "Message refused."
}

// newReceipt makes a receipt about rm (nil when the message could not be
// read), with the content's serial number when known. A broadcast group
// (the first handshake's stations@everywhere) is not copied into it.
func newReceipt(text string, rm *dimp.ReliableMessage, sn int64) *dimp.ReceiptCommand {
	var origin *dimp.Origin
	if rm != nil {
		origin = dimp.OriginOf(rm, sn)
	}
	r := dimp.NewReceipt(text, origin)
	if r.Group.IsBroadcast() {
		r.Group = dimp.ID{}
	}
	return r
}

// setExtra sets a member of a content beside those dimp models. A value
// JSON cannot write (a non-finite number read from the wire) is left out.
func setExtra(c dimp.Content, key string, v any) {
	h := c.Header()
	if h.Extra == nil {
		h.Extra = dimp.Fields{}
	}
	_ = h.Extra.Set(key, v)
}

// setTemplate adds the template and replacements the reference's receipts
// carry for clients that display them.
func setTemplate(c dimp.Content, template string, replacements map[string]any) {
	setExtra(c, "template", template)
	setExtra(c, "replacements", replacements)
}

// newMessageKey makes the message key of one answer.
func newMessageKey() (crypto.SymmetricKey, error) {
	k, err := crypto.GenerateAES()
	if err != nil {
		return nil, errors.Join(errors.New("message key"), err)
	}
	return k, nil
}
