package mockstation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/mockstation/store"
)

// Routing: a message off the wire is parsed, checked (sender, profile,
// signature, time) and dispatched by its receiver: to the station itself
// (station_commands.go), to everyone, to the search engine (search.go), or
// stored and pushed to a user.

// Reasons the station refuses a message, beside dimp's errors. They are
// logged and sent as the `error` of the refusal receipt.
var (
	errForgedSender = errors.New("sender is not the user handshaken on this connection")
	errTimeWindow   = errors.New("message time outside the accepted window")
	errBlocked      = errors.New("the receiver blocked the sender")
	errGroup        = errors.New("the station does not split group messages")
	errReceiver     = errors.New("receiver not served by this station")
	errUnsigned     = errors.New("message has no signature")
)

// inbound is one message being handled, with what the station learnt of it.
type inbound struct {
	rm     *dimp.ReliableMessage
	raw    []byte        // the message as it arrived (one line of the frame)
	from   *dimp.Profile // the sender's checked profile, once known
	attach bool          // the next answer carries the station's meta and visa
	// forwarded: it came inside a forward content to the station, whose
	// messages are handled one level deep.
	forwarded bool
	// origin is the station a message that came over a link started
	// from (its first trace); "" for a message of a session here.
	origin string
}

// handlePackage takes one message off the wire. Refusals are answered with
// receipts; an error return closes the connection.
func (c *conn) handlePackage(raw []byte) error {
	rm, err := c.srv.packer.Parse(raw)
	if err != nil {
		return c.badPackage(raw, err)
	}
	return c.handleMessage(&inbound{rm: rm, raw: raw})
}

// badPackage answers what does not parse as a reliable message. Before the
// handshake there is no one to answer: the connection is closed. After it,
// the user gets a receipt, with the envelope as origin when it can be read.
func (c *conn) badPackage(raw []byte, err error) error {
	user, prof := c.session()
	if user.IsZero() || prof == nil {
		return closeWith(websocket.StatusPolicyViolation, "not a DIM message before the handshake: %v", err)
	}
	text := "Message not valid."
	var rm *dimp.ReliableMessage
	if sm, perr := dimp.ParseSecureMessage(raw); perr == nil {
		rm = &dimp.ReliableMessage{SecureMessage: *sm}
		var probe map[string]json.RawMessage
		if json.Unmarshal(raw, &probe) == nil && probe["signature"] == nil && probe["V"] == nil {
			text, err = "Message not signed.", fmt.Errorf("%w: %w", errUnsigned, err)
		}
	}
	c.logger().Info("refused", "user", user, "reason", text, "err", err)
	r := newReceipt(text, rm, 0)
	setExtra(r, "error", publicDetail(err))
	return c.answerTo(user, prof, r, false)
}

// handleMessage checks a parsed message and dispatches it:
//
//  1. after the handshake, the sender must be the handshaken user;
//  2. the sender's profile comes from the attached meta and visa (valid,
//     matching the sender) or from what the station stored before;
//  3. the signature must verify with it, and the time must be within the
//     window;
//  4. attached meta and visa are stored; a visa over maxDocumentJSON
//     refuses the message instead (the receipt, encrypted to that visa
//     before the handshake, says its size and the bound), and nothing of
//     it is kept;
//  5. the receiver decides: the station (processed here), everyone
//     (pushed to all online users, then processed here), the search
//     engine archivist@anywhere (answered here), a user (stored and
//     routed), or refused (groups, other broadcasts, other stations).
func (c *conn) handleMessage(in *inbound) error {
	if l := c.link.Load(); l != nil {
		return c.relayed(in, l)
	}
	rm := in.rm
	user, userProf := c.session()
	if !user.IsZero() && !rm.Sender.SameAs(user) {
		return c.refuseTo(in, user, userProf, "Sender not handshaken on this connection.",
			fmt.Errorf("%w: %s, handshaken: %s", errForgedSender, rm.Sender, user))
	}
	prof, err := c.srv.senderProfile(c.ctx, rm)
	if err == nil && prof == nil {
		err = fmt.Errorf("%w: %s attached no meta and is unknown here", dimp.ErrNoVerifyKey, rm.Sender)
	}
	if err != nil {
		if c.ctx.Err() != nil {
			return c.ctx.Err()
		}
		if user.IsZero() {
			return closeWith(websocket.StatusPolicyViolation, "%s %v", reasonOf(err), err)
		}
		return c.refuseTo(in, user, userProf, reasonOf(err), err)
	}
	in.from = prof
	if _, err := dimp.Verify(rm, prof.VerifyKeys()...); err != nil {
		return c.refuse(in, reasonOf(err), err)
	}
	if w := c.srv.cfg.TimeWindow; w > 0 {
		skew := rm.Time - float64(time.Now().UnixNano())/1e9
		if rm.Time == 0 || math.Abs(skew) > w.Seconds() {
			return c.refuse(in, "Message time out of window.",
				fmt.Errorf("%w: %.0fs off, %s accepted", errTimeWindow, skew, w))
		}
	}
	if rm.Visa != nil {
		if n, err := checkDocumentSize(rm.Visa); err != nil {
			return c.refuse(in, tooLargeText("Visa", n), err)
		}
	}
	if rm.Meta != nil || rm.Visa != nil {
		if _, err := c.srv.learn(c.ctx, prof, rm.Meta, rm.Visa); err != nil && c.ctx.Err() == nil {
			c.logger().Error("store attached meta/visa", "sender", rm.Sender, "err", err)
		}
	}
	// The station introduces itself in its first answer to a client that
	// does not know it yet (spec/station.md §2.3).
	in.attach = rm.Receiver.SameAs(dimp.AnyStation) || rm.Group.SameAs(dimp.EveryStations)
	return c.dispatch(in, user.IsZero())
}

// dispatch routes a verified message by its receiver (spec/station.md §3.1).
func (c *conn) dispatch(in *inbound, early bool) error {
	if done, err := c.srv.cfg.Faults.dispatch(c, in); done {
		return err // an expired session (Config.Faults)
	}
	recv := in.rm.Receiver
	switch {
	case recv.SameAs(c.srv.me.ID), recv.SameAs(dimp.AnyStation), recv.SameAs(dimp.Anyone):
		return c.toStation(in, nil)
	case recv.SameAs(dimp.EveryStations):
		first := !early && c.srv.net.seen.first(in.rm.SignatureText())
		return c.thenFlood(first, in.rm, nil, c.toStation(in, nil))
	case recv.SameAs(dimp.Everyone):
		if early {
			return c.hold(in)
		}
		first := c.srv.net.seen.first(in.rm.SignatureText())
		reached := c.srv.hub.broadcast(outgoing(in), in.rm.Sender.WithoutTerminal().String())
		if reached == nil {
			reached = []string{}
		}
		return c.thenFlood(first, in.rm, nil, c.toStation(in, reached))
	case recv.IsGroup():
		return c.refuse(in, "Group message not supported: send it to each member.",
			fmt.Errorf("%w: %s", errGroup, recv))
	case recv.SameAs(dimp.Archivist):
		if early {
			return c.hold(in)
		}
		return c.archivist(in)
	case recv.IsBroadcast():
		return c.refuse(in, "Receiver not supported.", fmt.Errorf("%w: %s", errReceiver, recv))
	case recv.Type() == dimp.Station:
		return c.refuse(in, "Message not redirected: unknown station.", fmt.Errorf("%w: %s", errReceiver, recv))
	}
	if early {
		return c.hold(in)
	}
	return c.route(in)
}

// thenFlood passes a broadcast to the neighbours (first: not seen
// before) once this station has processed it (err is how that went): a
// login is stored first, so that a link coming up meanwhile, which is sent
// the stored logins, misses none.
func (c *conn) thenFlood(first bool, rm *dimp.ReliableMessage, tr []trace, err error, from ...string) error {
	if first {
		c.srv.flood(rm, tr, from...)
	}
	return err
}

// maxHeld bounds the messages kept while waiting for the handshake.
const maxHeld = 32

// held is a message that arrived before the handshake, kept to be handled
// after it.
type held struct {
	rm  *dimp.ReliableMessage
	raw []byte
}

// hold keeps a message that came before the handshake, to be handled after
// it, and asks the client to handshake: DIM? with "force": true.
func (c *conn) hold(in *inbound) error {
	if len(c.held) >= maxHeld {
		return closeWith(websocket.StatusPolicyViolation, "more than %d messages before the handshake", maxHeld)
	}
	c.held = append(c.held, held{rm: in.rm, raw: in.raw})
	ask := dimp.NewHandshake(dimp.HandshakeAsk, c.key)
	ask.Force = true
	setExtra(ask, "remote_address", c.remote)
	return c.answer(in, ask)
}

// outgoing is the message as pushed to receivers: the bytes that arrived,
// unless they span lines (receivers split frames that start with '{' into
// lines), in which case it is written anew; its data is never rewritten.
func outgoing(in *inbound) []byte {
	if bytes.ContainsAny(in.raw, "\r\n") {
		if out, err := in.rm.MarshalJSON(); err == nil {
			return out
		}
	}
	return in.raw
}

// route stores a message for a user and pushes it to the user's active
// sessions. The store commits before anything is sent: the push, and the
// receipt "Message delivered." (pushed to a session; or acknowledged
// already, for a replay) or "Message cached." (the user is offline), which
// is a promise that survives the station being killed right after.
//
// The worker does not wait for the commit: it queues the write and goes on
// with the next frames. The store's committer then pushes the message
// (pushes thus follow the order of the store's IDs, which hub relies on)
// and makes the step ready, and the worker sends the receipt in its turn.
func (c *conn) route(in *inbound) error {
	rm := in.rm
	recv := rm.Receiver.WithoutTerminal().String()
	blocked, err := c.srv.blocked(c.ctx, recv, rm)
	if err != nil {
		return c.internal(in, err)
	}
	if blocked {
		return c.refuse(in, c.srv.blockedText(c.ctx, rm.Receiver, rm.Group), fmt.Errorf("%w: %s", errBlocked, rm.Receiver))
	}
	m := store.Message{Receiver: recv, Sender: rm.Sender.WithoutTerminal().String(), Signature: rm.SignatureText(),
		Time: rm.Time, Data: outgoing(in)}
	st := &step{size: len(in.raw)}
	c.later(st)
	err = c.srv.store.SaveMessageAsync(c.ctx, m, func(id int64, res store.SaveResult, err error) {
		online := 0
		if err == nil && res != store.Acknowledged {
			m.ID = id
			online = c.srv.deliver(m)
		}
		st.then = func() error { return c.routed(in, res, online, err) }
		c.ready(st)
	})
	if err != nil {
		st.then = func() error { return c.internal(in, err) }
		c.ready(st)
	}
	return nil
}

// routed answers a routed message once its commit is done: online is the
// number of the receiver's sessions it was pushed to.
func (c *conn) routed(in *inbound, res store.SaveResult, online int, err error) error {
	if c.isLink() {
		return c.relayStored(in, res, online, err)
	}
	if err != nil {
		return c.notStored(in, err)
	}
	rm := in.rm
	if c.srv.log.Enabled(c.ctx, slog.LevelDebug) {
		c.logger().Debug("routed", "sender", rm.Sender, "receiver", rm.Receiver, "stored", res, "online", online)
	}
	var r *dimp.ReceiptCommand
	if online > 0 || res == store.Acknowledged {
		r = newReceipt(dimp.ReceiptDelivered, rm, 0)
		r.Recipient = rm.Receiver
	} else {
		r = newReceipt(dimp.ReceiptCached, rm, 0)
	}
	return c.answer(in, r)
}

// notStored answers a message the store did not take: a quota reached
// (the sender's or the receiver's: the receipt says which), the disk full,
// or another failure of the station's.
func (c *conn) notStored(in *inbound, err error) error {
	if qe, ok := errors.AsType[*store.QuotaError](err); ok {
		if qe.Sender {
			return c.refuse(in, "Sender's storage quota reached: message not stored.", err)
		}
		return c.refuse(in, "Receiver's storage quota reached: message not stored.", err)
	}
	if !errors.Is(err, store.ErrFull) || c.ctx.Err() != nil {
		return c.internal(in, err)
	}
	c.logger().Error("station storage full", "sender", in.rm.Sender, "err", err)
	return c.refuse(in, "Station storage full: message not stored.", err)
}

// internal answers a message the station failed to handle by its own
// fault (the store failed); when the connection is closing there is no one
// to answer.
func (c *conn) internal(in *inbound, err error) error {
	if c.ctx.Err() != nil {
		return c.ctx.Err()
	}
	c.logger().Error("station error", "sender", in.rm.Sender, "err", err)
	return c.refuse(in, "Station error: message not stored.", err)
}
