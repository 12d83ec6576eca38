package client

import (
	"errors"
	"fmt"

	"dimtui/dimp"
)

// A user may forward whole messages (a forward content, 0xFF, carrying
// reliable messages as their senders signed them). The client does not
// take such a message as its sender's word to the user: each one inside
// is verified with its own sender's meta and visa, opened when it was
// encrypted for the user (or not encrypted), and shown as forwarded by
// the user who sent the forward, never as a new message from its signer.

// maxForwardChecked bounds the messages of a user's forward that are
// verified: each costs a signature check.
const maxForwardChecked = 16

// ForwardedMessage is what the client made of one message inside a
// user's forward.
type ForwardedMessage struct {
	Sender, Receiver dimp.ID
	Time             float64
	// Verified: the signature verified with the sender's meta and visa.
	Verified bool
	// Content is the message's content when it could be opened: it was
	// encrypted for this user, or not encrypted. Nil otherwise.
	Content dimp.Content
	// Problem says why it is not verified or not opened.
	Problem string
}

// checkForwarded verifies and, if it can, opens each message of a forward
// from a user. The sender's profile is the one the client knows, or the
// meta and visa the message carries (checked against its ID).
func (l *loop) checkForwarded(secrets []*dimp.ReliableMessage) []ForwardedMessage {
	out := make([]ForwardedMessage, 0, min(len(secrets), maxForwardChecked+1))
	for i, rm := range secrets {
		if i == maxForwardChecked {
			out = append(out, ForwardedMessage{Problem: fmt.Sprintf("%d more messages, not checked", len(secrets)-i)})
			break
		}
		if rm == nil {
			continue
		}
		f := ForwardedMessage{Sender: rm.Sender, Receiver: rm.Receiver, Time: rm.Time}
		p := l.peers[IDKey(rm.Sender)]
		if rm.Meta != nil {
			attached, err := dimp.ProfileFromMessage(rm)
			if err != nil {
				f.Problem = "not verified: the meta or visa it carries is not its sender's (" + err.Error() + ")"
				out = append(out, f)
				continue
			}
			p = newerProfile(p, attached)
		}
		if p == nil {
			f.Problem = "not verified: its sender's meta and visa are not known here"
			out = append(out, f)
			continue
		}
		im, _, err := l.packer.OpenTraced(rm, p)
		switch {
		case errors.Is(err, dimp.ErrSignature) || errors.Is(err, dimp.ErrNoVerifyKey):
			f.Problem = "its signature does not verify: " + err.Error()
		case err != nil:
			f.Verified = true
			if !rm.Receiver.SameAs(l.c.me.ID) && !rm.IsBroadcast() {
				f.Problem = "encrypted for " + rm.Receiver.String() + ": not readable here"
			} else {
				f.Problem = "cannot be opened: " + err.Error()
			}
		default:
			f.Verified, f.Content = true, im.Content
		}
		out = append(out, f)
	}
	return out
}
