package mockstation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"dimtui/dimp"
	"dimtui/mockstation/store"
)

// What comes over a link. A neighbour station passes messages of users,
// never its own word for them: every message is verified here as if its
// sender had sent it on a session of its own (the signature with the
// sender's meta and visa, attached or known), and what a neighbour may
// say is bounded:
//
//   - a broadcast that passed through this station already (its `traces`
//     name it) came around a ring: dropped. A message for a user may come
//     back the way it came, when its receiver moved; one that passed
//     through maxHops stations is in a loop: refused;
//   - a login names the station the user logged in at, which must be the
//     station the message started from (the first trace): a station
//     cannot claim a user it does not host;
//   - a message from a user who is online here and whose newest login is
//     here, signed after that login, that did not start here, did not
//     come from that user's station: a link cannot speak for a user of
//     this station (a message that started here may come back, when its
//     receiver moved);
//   - a broadcast is handled once (the seen pool), then passed to the
//     neighbours not yet reached (`recipients`).
//
// dimchat's stations trust a session logged in as any station and verify
// nothing it relays.

// maxHops bounds the stations a message may pass through: past it, routes
// that disagree while a login spreads have sent it round in circles.
const maxHops = 16

// Reasons for refusing what comes over a link.
var (
	errLoop        = errors.New("message passed through too many stations")
	errNotHosted   = errors.New("station relayed a user it does not host")
	errLocalSender = errors.New("a link cannot speak for a user of this station")
)

// relayed handles one message that came over link l.
func (c *conn) relayed(in *inbound, l *link) error {
	rm := in.rm
	l.taken.Add(1)
	me := c.srv.me.ID.String()
	tr := readTraces(rm)
	in.origin = l.peer.String()
	if len(tr) > 0 {
		in.origin = tr[0].Station
	}
	broadcast := rm.Receiver.SameAs(dimp.Everyone) || rm.Receiver.SameAs(dimp.EveryStations)
	if broadcast && passedThrough(tr, me) {
		return nil // came around a ring: handled already
	}
	if len(tr) >= maxHops {
		return c.refuseRelayed(in, l, "Message not delivered: passed through too many stations.",
			fmt.Errorf("%w: %d stations", errLoop, len(tr)))
	}
	prof, err := c.srv.senderProfile(c.ctx, rm)
	if err == nil && prof == nil {
		return c.holdUnknown(in, l)
	}
	if err != nil {
		if c.ctx.Err() != nil {
			return c.ctx.Err()
		}
		return c.refuseRelayed(in, l, reasonOf(err), err)
	}
	in.from = prof
	if _, err := dimp.Verify(rm, prof.VerifyKeys()...); err != nil {
		return c.refuseRelayed(in, l, reasonOf(err), err)
	}
	if rm.Meta != nil || rm.Visa != nil {
		if _, err := c.srv.learn(c.ctx, prof, rm.Meta, rm.Visa); err != nil && c.ctx.Err() == nil {
			c.logger().Error("store attached meta/visa", "sender", rm.Sender, "err", err)
		}
	}
	hops := max(len(tr), 1)
	c.srv.net.learnRoute(in.origin, l.peer.String(), hops)
	recv := rm.Receiver
	switch {
	case broadcast:
		if !c.srv.net.seen.first(rm.SignatureText()) {
			return nil
		}
		if err := c.srv.checkRelayedLogin(rm, in.origin); err != nil {
			return c.refuseRelayed(in, l, "Login not accepted.", err)
		}
		var reached []string
		if recv.SameAs(dimp.Everyone) {
			reached = c.srv.hub.broadcast(outgoing(in), rm.Sender.WithoutTerminal().String())
		}
		return c.thenFlood(true, rm, tr, c.toStation(in, reached), l.peer.String(), in.origin)
	case recv.SameAs(c.srv.me.ID), recv.SameAs(dimp.AnyStation), recv.SameAs(dimp.Anyone):
		return c.toStation(in, nil)
	case recv.IsBroadcast(), recv.IsGroup(), recv.Type() == dimp.Station:
		return c.refuseRelayed(in, l, "Receiver not supported.", fmt.Errorf("%w: %s", errReceiver, recv))
	}
	if rm.Sender.Type() == dimp.Station && rm.Sender.WithoutTerminal().String() != in.origin {
		return c.refuseRelayed(in, l, "Message not accepted: a station's message must start at that station.",
			fmt.Errorf("%w: %s, first trace %s", errNotHosted, rm.Sender, in.origin))
	}
	if loc, ok := c.srv.net.located(rm.Sender.WithoutTerminal().String()); ok && loc.station == me &&
		in.origin != me && rm.Time > loc.time {
		if c.srv.hub.get(rm.Sender.WithoutTerminal().String()) != nil {
			return c.refuseRelayed(in, l, "Message not accepted: its sender is logged in at this station.",
				fmt.Errorf("%w: %s", errLocalSender, rm.Sender))
		}
	}
	return c.route(in)
}

// checkRelayedLogin refuses a login that came over a link from a station
// other than the one it names: a station cannot claim a user it does not
// host. It is checked before the broadcast goes anywhere.
func (s *Server) checkRelayedLogin(rm *dimp.ReliableMessage, origin string) error {
	im, err := s.open(rm)
	if err != nil {
		return nil // not readable here: toStation refuses it
	}
	lc, ok := im.Content.(*dimp.LoginCommand)
	if !ok {
		return nil
	}
	var station string
	if lc.Station != nil {
		station = lc.Station.ID.WithoutTerminal().String()
	}
	if station != origin {
		return fmt.Errorf("%w: login of %s at %q relayed from %s", errNotHosted, lc.ID, station, origin)
	}
	return nil
}

// refuseRelayed refuses a message that came over link l for good: the
// neighbour is told to stop offering it, and its sender is told why by a
// receipt from this station, which finds its way back like any message.
func (c *conn) refuseRelayed(in *inbound, l *link, text string, err error) error {
	l.refusd.Add(1)
	rm := in.rm
	c.logger().Info("refused relayed message", "station", l.peer, "sender", rm.Sender, "receiver", rm.Receiver,
		"reason", text, "err", err)
	c.srv.notice(Notice{Kind: NoticeRefused, Station: l.peer.String(), Sender: rm.Sender.String(),
		Receiver: rm.Receiver.String(), Detail: text})
	if in.from != nil && rm.Sender.Type() != dimp.Station {
		r := newReceipt(text, rm, 0)
		setExtra(r, "error", publicDetail(err))
		c.srv.sendOwn(rm.Sender, r)
	}
	if rm.Receiver.IsBroadcast() {
		return nil // broadcasts are not stored, so not acknowledged
	}
	return c.ackLink(rm, text, false)
}

// relayStored answers a message that came over a link once its commit is
// done: the neighbour may delete it now. Its sender hears that it was
// delivered, when it was pushed to a session of the receiver's here
// (unless it is a command).
func (c *conn) relayStored(in *inbound, res store.SaveResult, online int, err error) error {
	rm := in.rm
	if err != nil {
		c.logger().Info("relayed message not stored, neighbour retries", "receiver", rm.Receiver, "err", err)
		return c.ackLink(rm, publicDetail(err), true)
	}
	if l := c.link.Load(); l != nil && res == store.Saved {
		c.srv.notice(Notice{Kind: NoticeReceived, Station: l.peer.String(), Sender: rm.Sender.String(),
			Receiver: rm.Receiver.String()})
	}
	if online > 0 && res == store.Saved && !(rm.HasType && rm.Type == dimp.ContentCommand) {
		// A command (a receipt among them) gets no receipt: its envelope
		// says what it carries, where the sender wrote it.
		r := newReceipt(dimp.ReceiptDelivered, rm, 0)
		r.Recipient = rm.Receiver
		setExtra(r, "station", c.srv.me.ID.String())
		c.srv.sendOwn(rm.Sender, r)
	}
	return c.ackLink(rm, "", false)
}

// sendOwn sends a content from this station to a user who may be at
// another station: sealed to the user's visa, with the station's meta and
// visa attached the first time (the user may never have met this station;
// after that its client knows them, or asks its own station), stored, and
// delivered or passed on like any message. A user the station knows no
// visa of is not told; nor is a station.
func (s *Server) sendOwn(to dimp.ID, content dimp.Content) {
	if to.Type() == dimp.Station {
		return // stations get no receipts (spec/station.md §3.2)
	}
	ctx := s.ctx
	p, err := s.profile(ctx, to)
	if err != nil || p == nil {
		s.log.Debug("cannot tell user", "user", to, "err", err)
		return
	}
	rm, err := s.sealMessage(to.WithoutTerminal(), p, content, s.net.introduceTo(to.WithoutTerminal().String()))
	if err != nil {
		s.log.Debug("cannot tell user", "user", to, "err", err)
		return
	}
	data, err := rm.MarshalJSON()
	if err != nil {
		return
	}
	m := store.Message{Receiver: to.WithoutTerminal().String(), Sender: s.me.ID.String(),
		Signature: rm.SignatureText(), Time: rm.Time, Data: data}
	err = s.store.SaveMessageAsync(ctx, m, func(id int64, res store.SaveResult, err error) {
		if err != nil || res == store.Acknowledged {
			return
		}
		m.ID = id
		s.deliver(m)
	})
	if err != nil && ctx.Err() == nil {
		s.log.Error("store station's message", "user", to, "err", err)
	}
}

// deliver hands a stored message on: pushed to the receiver's sessions
// here, or, with none, to the link toward the station the receiver last
// logged in at (if it is another). It returns how many sessions here it
// was pushed to.
func (s *Server) deliver(m store.Message) (online int) {
	if online = s.hub.push(m); online == 0 {
		s.net.kickFor(m.Receiver)
	}
	return online
}

// flood passes a broadcast to every neighbour it has not reached yet: not
// one it passed through (tr), nor the ones in from (the neighbour it came
// from, the station it started at: a broadcast of dimchat's stations
// carries no traces of them), nor one a station before already sent it to
// (`recipients`). The neighbours it goes to are added to `recipients`, so
// that in a ring each station gets it once. Broadcasts are not stored: a
// neighbour whose link is down misses it (logins are sent again when a
// link comes up).
func (s *Server) flood(rm *dimp.ReliableMessage, tr []trace, from ...string) {
	me := s.me.ID.String()
	skip := map[string]bool{me: true}
	for _, f := range from {
		skip[f] = true
	}
	for _, t := range tr {
		skip[t.Station] = true
	}
	var recipients []string
	if raw, ok := rm.Extra["recipients"]; ok {
		_ = json.Unmarshal(raw, &recipients) // unreadable: none
	}
	for _, r := range recipients {
		skip[r] = true
	}
	targets := s.net.carriers(skip)
	if len(targets) == 0 {
		return
	}
	out := *rm
	out.Extra = rm.Extra.Clone()
	for _, c := range targets {
		if l := c.link.Load(); l != nil {
			recipients = append(recipients, l.peer.String())
		}
	}
	slices.Sort(recipients)
	recipients = slices.Compact(recipients)
	if out.Extra == nil {
		out.Extra = dimp.Fields{}
	}
	if err := out.Extra.Set("recipients", recipients); err != nil {
		return
	}
	if err := s.addTrace(&out, tr); err != nil {
		return
	}
	s.attachSender(s.ctx, &out)
	data, err := out.MarshalJSON()
	if err != nil {
		return
	}
	for _, c := range targets {
		if !c.offer(frame{data: data}) {
			s.log.Info("broadcast not passed: link busy", "station", c.userID())
		}
	}
}

// sendLogins sends a new link's neighbour the newest login of every user
// this station knows of, so that it knows where they are even if it missed
// their broadcasts while the link was down. The neighbour keeps only what
// is newer than what it has, and passes on only that.
func (s *Server) sendLogins(c *conn) {
	logins, err := s.store.Logins(s.ctx)
	if err != nil {
		s.log.Error("logins for a new link", "err", err)
		return
	}
	l := c.link.Load()
	var batch [][]byte
	send := func() {
		if len(batch) > 0 {
			if err := c.queueReply(frame{data: joinLines(batch)}); err != nil {
				s.log.Info("logins not sent to neighbour", "station", l.peer, "err", err)
			}
			batch = nil
		}
	}
	for _, lg := range logins {
		rm, err := s.packer.Parse(lg.Message)
		if err != nil {
			continue
		}
		tr := readTraces(rm)
		if passedThrough(tr, l.peer.String()) {
			continue // it came from there
		}
		if err := s.addTrace(rm, tr); err != nil {
			continue
		}
		s.attachSender(s.ctx, rm)
		if data, err := rm.MarshalJSON(); err == nil {
			batch = append(batch, data)
		}
		if len(batch) == 64 {
			send()
		}
	}
	send()
}

// joinLines writes messages one per line, a frame dimchat's stations and
// this one take apart line by line.
func joinLines(msgs [][]byte) []byte {
	n := 0
	for _, m := range msgs {
		n += len(m) + 1
	}
	out := make([]byte, 0, n)
	for i, m := range msgs {
		if i > 0 {
			out = append(out, '\n')
		}
		out = append(out, m...)
	}
	return out
}

// loadLocations reads where every user last logged in from the store.
func (s *Server) loadLocations(ctx context.Context) error {
	logins, err := s.store.Logins(ctx)
	if err != nil {
		return err
	}
	for _, l := range logins {
		s.net.locate(l.User, l.Station, l.Time)
	}
	return nil
}
