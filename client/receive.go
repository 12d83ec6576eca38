package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"dimtui/dimp"
)

// receive handles one payload from the station, read at the given time.
func (l *loop) receive(payload []byte, at time.Time) {
	switch s := string(payload); {
	case s == "PING":
		l.c.emit(l.ctx, FrameEvent{Time: time.Now(), Dir: In, Raw: payload, Kind: KindPing})
		l.writeControl(payloadPong, KindPing)
		return
	case s == "PONG":
		// The round trip ends when the PONG was read, not when the loop
		// got to it behind other frames.
		if !l.pingAt.IsZero() && !at.Before(l.pingAt) {
			l.rtt = at.Sub(l.pingAt)
			l.pingAt = time.Time{}
			l.publish()
		}
		l.c.emit(l.ctx, FrameEvent{Time: time.Now(), Dir: In, Raw: payload, Kind: KindPing})
		return
	case s == "NOOP" || s == "OK":
		l.c.emit(l.ctx, FrameEvent{Time: time.Now(), Dir: In, Raw: payload, Kind: KindPing})
		return
	case strings.HasPrefix(s, "ACK:"):
		l.c.emit(l.ctx, FrameEvent{Time: time.Now(), Dir: In, Raw: payload, Kind: KindAck})
		return
	}
	packs := splitPayload(payload)
	for _, pack := range packs {
		if len(packs) > 1 {
			// A message of a payload of several keeps none of the others
			// alive, in what the client or the UI keeps of it.
			pack = bytes.Clone(pack)
		}
		l.receiveMessage(pack)
	}
}

// receiveMessage parses, verifies and opens one message from the station,
// then acts on it.
func (l *loop) receiveMessage(raw []byte) { l.receiveOne(raw, true) }

// receiveOne handles one message; outer is false for a message forwarded
// inside another, which is not the station's to acknowledge.
func (l *loop) receiveOne(raw []byte, outer bool) {
	layers := &Layers{Forwarded: !outer}
	rm, err := l.packer.Parse(raw)
	if err != nil {
		layers.ParseErr = err
		l.c.emit(l.ctx, FrameEvent{Time: time.Now(), Dir: In, Raw: raw, Kind: KindOther, Layers: layers})
		l.c.emit(l.ctx, ErrorEvent{Time: time.Now(), Err: fmt.Errorf("frame from the station: %w", err)})
		return
	}
	layers.Reliable = rm
	switch dup, err := l.isSeen(rm.Digest()); {
	case err != nil:
		l.c.emit(l.ctx, FrameEvent{Time: time.Now(), Dir: In, Raw: raw, Kind: kindOf(rm, nil), Layers: layers})
		l.c.emit(l.ctx, ErrorEvent{Time: time.Now(), Err: fmt.Errorf("message from %s (left at the station): %w", rm.Sender, err)})
		return
	case dup:
		layers.OpenErr = ErrDuplicate
		l.c.emit(l.ctx, FrameEvent{Time: time.Now(), Dir: In, Raw: raw, Kind: kindOf(rm, nil), Layers: layers})
		l.ackIf(outer, rm)
		return
	}
	// The sender's profile: attached (first contact, station replies), else known.
	p := l.peers[IDKey(rm.Sender)]
	if rm.Meta != nil {
		attached, err := dimp.ProfileFromMessage(rm)
		if err != nil {
			layers.VerifyErr = err
			l.c.emit(l.ctx, FrameEvent{Time: time.Now(), Dir: In, Raw: raw, Kind: kindOf(rm, nil), Layers: layers})
			// Not acknowledged: the station keeps its copy and offers it
			// again after the next handshake, so nothing is lost if the
			// fault was on the way here.
			l.c.emit(l.ctx, ErrorEvent{Time: time.Now(), Err: fmt.Errorf("message from %s (left at the station): %w", rm.Sender, err)})
			return
		}
		if newerProfile(p, attached) == attached {
			p = attached
			if l.isStation(rm.Sender) || l.station.IsZero() {
				// learned below, once the handshake says it is the station
			} else {
				l.learn(p)
			}
		}
	}
	if p == nil {
		layers.KeyAsked = true
		layers.VerifyErr = fmt.Errorf("%w: waiting for the meta and visa of %s", ErrUnknownPeer, rm.Sender)
		k := IDKey(rm.Sender)
		l.holdForVisa(k, &held{raw: raw, rm: rm, layers: layers, since: time.Now(), outer: outer})
		l.query(rm.Sender)
		return
	}
	l.open(raw, rm, layers, p, outer)
}

// newerProfile is the profile to check a message with: the one attached
// to it when the client knows none (or none with a visa), or when its visa
// is as new as the known one or newer; else the known one.
func newerProfile(known, attached *dimp.Profile) *dimp.Profile {
	if known == nil || known.Visa() == nil || (attached.Visa() != nil && attached.Visa().Time() >= known.Visa().Time()) {
		return attached
	}
	return known
}

// isStation reports whether id is the station this client talks to.
func (l *loop) isStation(id dimp.ID) bool {
	return !l.station.IsZero() && l.station.SameAs(id)
}

// open verifies and decrypts a message with the sender's profile, records
// its signature as seen, reports the frame, and acts on its content.
//
// The signature is recorded (committed, with a history) before the message
// is shown or acknowledged: a client that stops or crashes after that
// drops the station's next offer of it as a duplicate instead of showing
// it again. A client that stops before showing it forgets the signature
// and does not acknowledge it, so that it is shown after the restart (see
// dispatch).
func (l *loop) open(raw []byte, rm *dimp.ReliableMessage, layers *Layers, p *dimp.Profile, outer bool) {
	im, trace, err := l.packer.OpenTraced(rm, p)
	openedKeys(layers, rm, p, l.c.me, trace)
	switch {
	case errors.Is(err, dimp.ErrSignature) || errors.Is(err, dimp.ErrNoVerifyKey):
		layers.VerifyErr = err
	case err != nil:
		// Verified: the wait for the sender's visa (KeyAsked) is over.
		layers.Verified, layers.VerifyErr = true, nil
		layers.OpenErr = err
	default:
		layers.Verified, layers.VerifyErr, layers.Instant = true, nil, im
	}
	dup := false
	if err == nil {
		// Another copy may have been processed while this one waited for
		// its sender's visa, or by another dimtui on this identity.
		if dup, err = l.markSeen(rm.Digest()); dup {
			layers.OpenErr = ErrDuplicate
		} else if err != nil {
			layers.OpenErr = err
		}
	}
	l.c.emit(l.ctx, FrameEvent{Time: time.Now(), Dir: In, Raw: raw, Kind: kindOf(rm, im), Layers: layers})
	switch {
	case err != nil:
		// Not acknowledged: see receiveOne.
		l.c.emit(l.ctx, ErrorEvent{Time: time.Now(), Err: fmt.Errorf("message from %s (left at the station): %w", rm.Sender, err)})
	case dup:
		l.ackIf(outer, rm)
	case l.dispatch(rm, im, p):
		l.ackIf(outer, rm)
	default:
		l.unsee(rm.Digest())
	}
}

// ackIf acknowledges a message the station sent (outer), not one that
// came forwarded inside another.
func (l *loop) ackIf(outer bool, rm *dimp.ReliableMessage) {
	if outer {
		l.ack(rm)
	}
}

// ack tells the station the message arrived, so it can drop its copy.
func (l *loop) ack(rm *dimp.ReliableMessage) {
	// The signature is Base64: no character of it needs escaping.
	ack := `ACK:{"time":` + strconv.FormatFloat(rm.Time, 'f', -1, 64) + `,"signature":"` + rm.SignatureText() + `"}`
	l.writeControl([]byte(ack), KindAck)
}

// maxGroupCommandMembers bounds the members a group command reports: a
// peer may list any number, the UI shows a line of them.
const maxGroupCommandMembers = 1000

// dispatch acts on an opened message. False: a message for the user that
// could not be handed over, because the client is stopping.
func (l *loop) dispatch(rm *dimp.ReliableMessage, im *dimp.InstantMessage, p *dimp.Profile) bool {
	now := time.Now()
	switch c := im.Content.(type) {
	case *dimp.HandshakeCommand:
		if !l.acceptStation(rm, p) {
			return true
		}
		l.onHandshake(rm, c)
		return true
	case *dimp.ReceiptCommand:
		l.onReceipt(rm, c)
		return true
	case *dimp.DocumentCommand:
		l.onDocuments(rm, c)
		return true
	case *dimp.MetaCommand:
		if c.Meta != nil && !c.ID.IsZero() {
			if prof, err := dimp.NewProfile(c.ID, c.Meta); err == nil && l.peers[IDKey(c.ID)] == nil {
				l.learn(prof)
			}
		}
		return true
	case *dimp.TextContent:
		if l.isStation(rm.Sender) {
			// The answer to "active users": dimtui's station lists the
			// users in `users`; dimchat's station-py writes a Markdown
			// table, taken as the answer only while a question waits.
			if users, ok := c.Extra["users"]; ok {
				l.usersAsk = ""
				l.c.emit(l.ctx, UsersEvent{Time: now, Users: parseUsers(users)})
				return true
			}
			if l.usersAsk != "" {
				if users, ok := parseUserTable(c.Text); ok {
					l.usersAsk = ""
					l.c.emit(l.ctx, UsersEvent{Time: now, Users: users})
					return true
				}
			}
		}
	case *dimp.ForwardContent:
		if l.isStation(rm.Sender) {
			// The station forwards protocol messages (the login a user
			// broadcast, with a documents answer): process each inside.
			for _, inner := range c.Secrets {
				if raw, err := inner.MarshalJSON(); err == nil {
					l.receiveOne(raw, false)
				}
			}
			return true
		}
		if len(c.Secrets) == 0 {
			// dimchat's clients answer a forward with one of their own:
			// empty when the messages inside called for no answer.
			return true
		}
		if ownAnswers(c.Secrets, rm.Sender) {
			// dimchat's clients return their receipts for a forward's
			// messages this way: those for me are taken as if they came
			// alone; those for the writers of what I passed on are theirs,
			// not readable here and nothing to show.
			for _, inner := range c.Secrets {
				if !inner.Receiver.SameAs(l.c.me.ID) && !inner.IsBroadcast() {
					continue
				}
				if raw, err := inner.MarshalJSON(); err == nil {
					l.receiveOne(raw, false)
				}
			}
			return true
		}
		// Opened when every message inside is one of these, each checked
		// as if it came alone: a group's bot passing on a member's message
		// to the group; a member's group history (the group's documents,
		// its reset and the commands since, each signed by its own writer).
		for _, accept := range []func(*dimp.ReliableMessage) bool{
			l.fromAssistant(rm.Sender), inGroupHistory,
		} {
			if inner := openable(c.Secrets, accept); len(inner) > 0 {
				for _, raw := range inner {
					l.receiveOne(raw, false)
				}
				return true
			}
		}
	case *dimp.SearchCommand:
		l.onSearch(rm, c)
		return true
	case *dimp.ListCommand:
		l.onList(rm, c)
		return true
	case *dimp.AnsCommand:
		l.onAns(rm, c)
		return true
	case *dimp.GroupCommand:
		// A group command from a peer: shown in the group's conversation as
		// its sender's word. One about no group, or from the station, is
		// protocol traffic only.
		if c.Group.IsGroup() && !c.Group.IsBroadcast() && !l.isStation(rm.Sender) {
			return l.onGroupCommand(rm, c, now)
		}
		return true
	case dimp.Command:
		return true // login, report...: nothing for the user to see
	}
	if !l.incomingContent(rm, im) {
		return true // from a blocked user: acknowledged, counted, not shown (privacy.go)
	}
	id := messageID(rm.Sender, im.Content.Header().SN)
	ev := MessageEvent{Time: now, ID: id, Message: im}
	if fc, ok := im.Content.(*dimp.ForwardContent); ok {
		ev.Forwarded = l.checkForwarded(fc.Secrets)
	}
	hold := false
	if g := im.Content.Header().Group; g.IsGroup() && !g.IsBroadcast() {
		grp := l.groups[IDKey(g)]
		switch {
		case grp == nil || grp.Owner.IsZero():
			// A group not known yet: its bulletin first, then the message.
			hold = l.holdForGroup(g, ev)
		case len(grp.Members) == 0:
			l.askMembers(grp)
		case !grp.IsMember(rm.Sender):
			// Its members are known and the sender is not one of them.
			return l.c.emit(l.ctx, GroupRefusedEvent{Time: now, From: rm.Sender, Group: g,
				Reason: "not a member of the group: the message is not shown"})
		case !grp.IsMember(l.c.me.ID):
			return l.c.emit(l.ctx, GroupRefusedEvent{Time: now, From: rm.Sender, Group: g,
				Reason: "I am not a member of the group (any more): the message is not shown"})
		}
	}
	l.remember(id, &incoming{sender: rm.Sender, origin: dimp.OriginOf(rm, im.Content.Header().SN)})
	if !hold && !l.c.emit(l.ctx, ev) {
		return false
	}
	// A real client tells a user sender it received a non-command content;
	// stations and bots get no receipt (spec: station.md §3.2).
	if t := rm.Sender.Type(); t == dimp.User && !l.isStation(rm.Sender) {
		r := dimp.NewReceipt(dimp.ReceiptReceived, dimp.OriginOf(rm, im.Content.Header().SN))
		if _, err := l.send(rm.Sender, r, false); err != nil {
			l.c.emit(l.ctx, errorf("receipt to %s: %w", rm.Sender, err))
		}
	}
	return true
}

// acceptStation learns the station's ID and profile from its first reply and
// checks that later handshakes come from the same station.
func (l *loop) acceptStation(rm *dimp.ReliableMessage, p *dimp.Profile) bool {
	if rm.Sender.Type() != dimp.Station {
		l.c.emit(l.ctx, errorf("handshake from %s, which is not a station", rm.Sender))
		return false
	}
	if l.station.IsZero() || l.station.IsBroadcast() {
		l.station = rm.Sender.WithoutTerminal()
	} else if !l.station.SameAs(rm.Sender) {
		l.c.emit(l.ctx, errorf("handshake from %s, but the station is %s", rm.Sender, l.station))
		return false
	}
	if p != nil {
		l.stationProfile = p
		l.peers[IDKey(p.ID)] = p
	}
	return true
}

// onReceipt moves the message a receipt is about.
func (l *loop) onReceipt(rm *dimp.ReliableMessage, r *dimp.ReceiptCommand) {
	var o *outgoing
	if r.Origin != nil {
		if r.Origin.Signature != "" {
			o = l.bySig[r.Origin.Signature]
		}
		if o == nil && r.Origin.SN != 0 {
			o = l.outbox[messageID(l.c.me.ID, r.Origin.SN)]
		}
		if o == nil && r.Origin.Time != 0 {
			o = l.byEnvelope(r.Origin)
		}
	}
	if o != nil && len(o.copies) > 0 {
		// A group message: the receipt is about one member's copy.
		member := rm.Sender
		if rm.Sender.Type() == dimp.Station {
			member = r.Origin.Receiver
		}
		if c := o.copyFor(member); c != nil {
			o = c
		}
	}
	ev := ReceiptEvent{Time: time.Now(), From: rm.Sender, Receipt: r}
	if o != nil && o.parent != nil {
		ev.For = o.parent.id
	}
	if o != nil && o.user {
		ev.For = o.id
	}
	l.c.emit(l.ctx, ev)
	if o == nil {
		return
	}
	if l.isStation(rm.Sender) && !routedOK(r.Text) {
		l.onRefused(o, r.Text)
	}
	switch {
	case l.isStation(rm.Sender):
		to := o.im.Receiver
		switch {
		case to.IsBroadcast() || l.isStation(to):
			// The station processed it: any answer means it arrived.
			l.setDelivery(o, AtStation, r.Text)
		case routedOK(r.Text):
			l.setDelivery(o, AtStation, r.Text)
		default:
			// A routed message the station refused: the text says why.
			l.refused(o, r.Text)
		}
	case rm.Sender.Type() == dimp.Station:
		// Another station of the network, which the message reached on
		// its way: it holds it, pushed it to the receiver, or refused it.
		if routedOK(r.Text) {
			l.setDelivery(o, AtStation, r.Text)
		} else {
			l.refused(o, r.Text)
		}
	case rm.Sender.SameAs(o.im.Receiver) || (o.parent != nil && rm.Sender.SameAs(o.member)):
		if r.Text == dimp.ReceiptRead {
			l.setDelivery(o, Read, r.Text)
		} else {
			l.setDelivery(o, Delivered, r.Text)
		}
	}
}

// routedOK reports whether a station's receipt text says it took a
// message (rather than why it did not).
func routedOK(text string) bool {
	switch text {
	case dimp.ReceiptDelivered, dimp.ReceiptCached, dimp.ReceiptReceived, "Message redirected.", "Message forwarded.":
		return true
	}
	return false
}

// onRefused acts on the station's refusal of one of the client's own
// questions, whose answer would otherwise be waited for: a visa query
// ("Command not support." from a station that knows only another command
// name, "Document not found.") fails what waits for the peer at once, with
// the station's words; an "active users" question the station does not
// answer ("Content not support." from dimples) is not asked again in this
// session; a refused search ends with a SearchEvent saying so.
func (l *loop) onRefused(o *outgoing, text string) {
	switch c := o.im.Content.(type) {
	case *dimp.DocumentCommand:
		k := IDKey(c.ID)
		if _, waiting := l.queries[k]; c.IsQuery() && waiting {
			delete(l.queries, k)
			l.peerUnknown(k, fmt.Errorf("%w: the station answered the query for %s: %s", ErrUnknownPeer, c.ID, text))
		}
	case *dimp.SearchCommand:
		l.searchRefused(c, text)
	case *dimp.AnsCommand:
		l.ansRefused(o, text)
	case *dimp.TextContent:
		if o.id == l.usersAsk {
			l.usersAsk, l.usersUnlisted = "", true
			l.c.emit(l.ctx, UsersEvent{Time: time.Now(), Unlisted: true})
		}
	}
}

// parseUserTable reads the Markdown answer of dimchat's station-py to
// "active users": a table whose header row is `| ID | Sockets |` and whose
// rows start with a user's ID. ok says whether text is such a table.
func parseUserTable(text string) (users []dimp.ID, ok bool) {
	for line := range strings.Lines(text) {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) < 3 || cells[0] != "" {
			continue
		}
		first := strings.TrimSpace(cells[1])
		if first == "ID" {
			ok = true
			continue
		}
		if id, err := dimp.ParseID(first); err == nil && ok {
			users = append(users, id)
		}
	}
	return users, ok
}

// byEnvelope finds the message a receipt is about by its envelope
// (receiver and time) when the signature it names is none of ours: the
// station refused a message whose signature was damaged on the way, and
// its receipt carries the damaged one.
func (l *loop) byEnvelope(origin *dimp.Origin) *outgoing {
	if !origin.Sender.IsZero() && !origin.Sender.SameAs(l.c.me.ID) {
		return nil
	}
	for _, o := range l.outbox {
		if o.state == Sending && o.im.Time == origin.Time && o.im.Receiver.SameAs(origin.Receiver) {
			return o
		}
	}
	return nil
}

// onDocuments learns profiles from a documents response or broadcast.
func (l *loop) onDocuments(rm *dimp.ReliableMessage, c *dimp.DocumentCommand) {
	if c.IsQuery() || c.ID.IsZero() {
		return
	}
	meta := c.Meta
	if meta == nil {
		if old := l.peers[IDKey(c.ID)]; old != nil {
			meta = old.Meta
		}
	}
	if meta == nil {
		l.c.emit(l.ctx, errorf("documents of %s came without a meta", c.ID))
		return
	}
	p, err := dimp.NewProfile(c.ID, meta, c.Documents...)
	if err != nil {
		l.c.emit(l.ctx, errorf("documents of %s: %w", c.ID, err))
		return
	}
	if IDKey(c.ID) == IDKey(l.c.me.ID) {
		return
	}
	l.learn(p)
}

// parseUsers reads the station's list of online users.
func parseUsers(raw []byte) []dimp.ID {
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil
	}
	out := make([]dimp.ID, 0, len(list))
	for _, s := range list {
		if id, err := dimp.ParseID(s); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// kindOf classifies a message frame for the inspector.
func kindOf(rm *dimp.ReliableMessage, im *dimp.InstantMessage) FrameKind {
	var t dimp.ContentType
	known := false
	if im != nil {
		switch im.Content.(type) {
		case *dimp.HandshakeCommand:
			return KindHandshake
		case *dimp.ReceiptCommand:
			return KindReceipt
		}
		t, known = im.Content.Header().Type, true
	} else if rm != nil && rm.HasType {
		t, known = rm.Type, true
	}
	if !known {
		return KindMessage
	}
	switch t {
	case dimp.ContentCommand, dimp.ContentHistory:
		return KindCommand
	case dimp.ContentText:
		return KindText
	case dimp.ContentApplication, dimp.ContentCustomized:
		return KindApp
	}
	return KindOther
}

// hostPort splits a ws:// URL for the login command.
func hostPort(u string) (string, int64) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", 0
	}
	port, _ := strconv.ParseInt(parsed.Port(), 10, 64)
	return parsed.Hostname(), port
}

// remoteAddress reads the station's remote_address: [ip, port].
func remoteAddress(raw []byte) string {
	var v []any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil || len(v) != 2 {
		return ""
	}
	return net.JoinHostPort(fmt.Sprint(v[0]), fmt.Sprint(v[1]))
}
