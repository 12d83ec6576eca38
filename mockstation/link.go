package mockstation

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"dimtui/dimp"
	"dimtui/mockstation/store"
)

// A link is a session between two stations, each handshaken with its own
// station identity. It carries, both ways, the messages for users at
// stations the link leads to, and broadcasts. A message passed over a link
// stays stored at the station that passed it until the next station
// acknowledges it, which it does only once it has stored it:
//
//	ACK:{"signature":"…","receiver":"…","time":…}
//
// (the receiver tells apart the copies of one group message, which share a
// signature). An acknowledgement with "error" says the next station
// refused the message for good (it told the sender why); one with "retry"
// says it could not store it now (a quota, a full disk): the message is
// offered again later. dimchat's stations delete what they passed once it
// is written to the socket; a link cut at that moment loses it.

// maxInflight bounds the messages written on a link and not yet
// acknowledged; the writer waits for acknowledgements past it.
const maxInflight = 256

// retryAfter is how long a message the next station could not store waits
// before it is offered again.
const retryAfter = 5 * time.Second

// linkRate multiplies the per-connection rate limit for a link, which
// carries many users' traffic.
const linkRate = 20

// link is the state of one link session (conn.link).
type link struct {
	peer  dimp.ID // the neighbour station
	url   string  // the neighbour's URL when this station dialed it; "" when it dialed us
	since time.Time
	prof  *dimp.Profile
	// acks: the neighbour acknowledges what it stored (it said so in the
	// handshake, with linkAckField). dimchat's stations do not: what is
	// written to them counts as passed, as they count it themselves.
	acks   bool
	passed atomic.Int64 // messages the neighbour acknowledged having stored
	taken  atomic.Int64 // messages received over the link
	refusd atomic.Int64 // messages received and refused

	mu       sync.Mutex
	inflight map[relayKey]relayInfo // written, not yet acknowledged
	cursors  map[string]int64       // per user: the highest store ID written
	// dirty are the users who may have messages to pass that the writer
	// has not read yet; all: every user routed here may (a new link, a
	// route changed).
	dirty map[string]struct{}
	all   bool
	// introduced are the senders whose meta and visa went over this link
	// already: the neighbour has them (it stores what it verified), and
	// parsing and checking them again with every message would cost it
	// a meta check each time.
	introduced map[string]bool
}

// relayKey names one stored copy of a message: its receiver and signature.
type relayKey struct{ receiver, signature string }

// relayInfo is what the passing station remembers of a message in flight.
type relayInfo struct {
	id     int64
	rm     *dimp.ReliableMessage // the message, when its sender is this station's user
	sender string
}

// linkAck is the body of a link's acknowledgement.
type linkAck struct {
	Signature string  `json:"signature"`
	Receiver  string  `json:"receiver"`
	Time      float64 `json:"time,omitempty"`
	Error     string  `json:"error,omitempty"`
	Retry     bool    `json:"retry,omitempty"`
}

// linkAckField is the member of a station's handshake command that says it
// acknowledges what it stores from a link (this station's extension).
const linkAckField = "link_ack"

// saysLinkAck reports whether a handshake command carries linkAckField.
func saysLinkAck(hc *dimp.HandshakeCommand) bool {
	var yes bool
	return hc.Extra != nil && hc.Extra.Get(linkAckField, &yes) == nil && yes
}

func newLink(peer dimp.ID, prof *dimp.Profile, url string, acks bool) *link {
	return &link{peer: peer.WithoutTerminal(), prof: prof, url: url, acks: acks, since: time.Now(),
		inflight: make(map[relayKey]relayInfo), cursors: make(map[string]int64), dirty: make(map[string]struct{}),
		all: true, introduced: make(map[string]bool)}
}

// markDirty says that user may have messages to pass.
func (l *link) markDirty(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dirty[user] = struct{}{}
}

// markAll says that every user routed here may have messages to pass.
func (l *link) markAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = true
}

// takeDirty returns the users to look at, routed (all of them, or those
// marked), and forgets the marks.
func (l *link) takeDirty(routed []string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.all {
		l.all = false
		clear(l.dirty)
		return routed
	}
	var out []string
	for _, u := range routed {
		if _, ok := l.dirty[u]; ok {
			out = append(out, u)
		}
	}
	clear(l.dirty)
	return out
}

// introduce reports whether sender's meta and visa should go with a
// message on this link: the first time only.
func (l *link) introduce(sender string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.introduced[sender] {
		return false
	}
	l.introduced[sender] = true
	return true
}

func (l *link) full() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.inflight) >= maxInflight
}

func (l *link) cursor(user string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cursors[user]
}

// skip moves user's cursor past a stored message that is not written.
func (l *link) skip(user string, id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cursors[user] = max(l.cursors[user], id)
}

// sent records a message written on the link.
func (l *link) sent(k relayKey, info relayInfo) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight[k] = info
	l.cursors[k.receiver] = max(l.cursors[k.receiver], info.id)
}

// settle takes a message off the in-flight set; a message to retry is
// offered again (its user's cursor goes back before it).
func (l *link) settle(k relayKey, retry bool) (relayInfo, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	info, ok := l.inflight[k]
	if !ok {
		return info, false
	}
	delete(l.inflight, k)
	if retry && info.id-1 < l.cursors[k.receiver] {
		l.cursors[k.receiver] = info.id - 1
	}
	return info, true
}

func (l *link) inFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.inflight)
}

// isLink reports whether c is a link to another station.
func (c *conn) isLink() bool { return c.link.Load() != nil }

// startLink makes the connection a link to station peer, which proved its
// identity in the handshake. It returns errPartitioned while the links are
// cut.
func (c *conn) startLink(peer dimp.ID, p *dimp.Profile, url string, acks bool) error {
	l := newLink(peer, p, url, acks)
	c.handshaken()
	c.sessionMu.Lock()
	c.user, c.profile = peer, c.srv.sharedProfile(p)
	c.sessionMu.Unlock()
	c.limit = newMessageLimit(c.srv.cfg.RateLimit*linkRate, c.srv.cfg.RateBurst*linkRate)
	c.link.Store(l)
	if err := c.srv.net.up(c, l.peer.String()); err != nil {
		return err
	}
	dir := "accepted"
	if url != "" {
		dir = "dialed"
	}
	c.logger().Info("link up", "station", l.peer, "direction", dir, "acknowledges", acks)
	c.srv.notice(Notice{Kind: NoticeLinkUp, Station: l.peer.String(), Detail: dir})
	c.srv.sendLogins(c)
	c.srv.net.kickAll()
	return nil
}

// endLink unregisters a link that ended; what it had in flight is offered
// again on whatever link now leads there.
func (c *conn) endLink() {
	l := c.link.Load()
	if l == nil || !c.srv.net.down(c, l.peer.String()) {
		return
	}
	c.logger().Info("link down", "station", l.peer, "unacknowledged", l.inFlight())
	c.srv.notice(Notice{Kind: NoticeLinkDown, Station: l.peer.String()})
	c.srv.net.kickAll()
}

// relayCatchUp writes, on link session c, what waits in the store for the
// users whose messages go out on it, each user's in store order, up to
// maxInflight unacknowledged. It reports whether there may be more.
func (c *conn) relayCatchUp(l *link, dl *writeDeadline) (more bool, err error) {
	users := l.takeDirty(c.srv.net.usersVia(c))
	for i, u := range users {
		if l.full() {
			// Acknowledgements kick the writer again; these users wait.
			for _, rest := range users[i:] {
				l.markDirty(rest)
			}
			return false, nil
		}
		msgs, err := c.srv.store.PendingMessages(c.ctx, u, l.cursor(u), catchPage)
		if err != nil {
			l.markDirty(u)
			return false, err
		}
		for _, m := range msgs {
			data, info, err := c.srv.relayForm(c.ctx, m, l.introduce)
			if err != nil {
				// What the station stored, it parsed before: this cannot
				// be passed on. It stays stored for a local session.
				c.logger().Error("stored message not relayable", "receiver", u, "err", err)
				l.skip(u, m.ID)
				continue
			}
			k := relayKey{u, m.Signature}
			l.sent(k, info)
			if err := c.write(frame{data: data}, dl); err != nil {
				return false, err
			}
			if !l.acks {
				// A neighbour that does not acknowledge: written is passed.
				if info, ok := l.settle(k, false); ok {
					c.passedOn(l, k, info)
				}
			}
		}
		if len(msgs) == catchPage {
			l.markDirty(u)
			more = true
		}
	}
	return more, nil
}

// relayForm is a stored message as it goes over a link: the same signed
// message, with this station added to its `traces`, and the sender's meta
// and visa attached when it has none and introduce says the link has not
// carried them yet, so that the next station can verify it without asking.
func (s *Server) relayForm(ctx context.Context, m store.Message, introduce func(sender string) bool) ([]byte, relayInfo, error) {
	rm, err := s.packer.Parse(m.Data)
	if err != nil {
		return nil, relayInfo{}, err
	}
	info := relayInfo{id: m.ID, sender: rm.Sender.WithoutTerminal().String()}
	tr := readTraces(rm)
	if len(tr) == 0 && !(rm.HasType && rm.Type == dimp.ContentCommand) {
		info.rm = rm // it starts here: its sender hears where it went (not of a receipt or command)
	}
	if err := s.addTrace(rm, tr); err != nil {
		return nil, relayInfo{}, err
	}
	if rm.Meta == nil && introduce(info.sender) {
		s.attachSender(ctx, rm)
	}
	data, err := rm.MarshalJSON()
	return data, info, err
}

// attachSender attaches the sender's meta and visa to a message going
// over a link, when it carries none, so that the next station can verify
// it without asking.
func (s *Server) attachSender(ctx context.Context, rm *dimp.ReliableMessage) {
	if rm.Meta != nil {
		return
	}
	if p, err := s.profile(ctx, rm.Sender); err == nil && p != nil {
		rm.Meta = p.Meta
		if rm.Visa == nil {
			rm.Visa = p.Visa()
		}
	}
}

// linkAckFrom takes an acknowledgement that came over link l: the message
// is deleted here (the next station holds it), or offered again later.
// It reports whether the acknowledgement named a message in flight.
func (c *conn) linkAckFrom(l *link, body []byte) bool {
	var a linkAck
	if json.Unmarshal(body, &a) != nil || a.Signature == "" || a.Receiver == "" {
		c.logger().Info("bad link acknowledgement", "station", l.peer, "body", truncate(body, 80))
		return true
	}
	k := relayKey{a.Receiver, a.Signature}
	info, ok := l.settle(k, a.Retry)
	if !ok {
		return true // acknowledged twice, or after a reconnect: nothing to do
	}
	if a.Retry {
		c.logger().Info("neighbour could not store, retrying", "station", l.peer, "receiver", a.Receiver, "err", a.Error)
		l.markDirty(a.Receiver)
		time.AfterFunc(retryAfter, c.kick)
		return true
	}
	if a.Error != "" {
		c.logger().Info("neighbour refused relayed message", "station", l.peer, "receiver", a.Receiver, "err", a.Error)
		c.forgetPassed(k)
	} else {
		c.passedOn(l, k, info)
	}
	c.kick()
	return true
}

// passedOn settles a message the neighbour took: deleted here, and its
// sender told "Message redirected.".
func (c *conn) passedOn(l *link, k relayKey, info relayInfo) {
	l.passed.Add(1)
	c.forgetPassed(k)
	c.srv.notice(Notice{Kind: NoticePassed, Station: l.peer.String(), Sender: info.sender, Receiver: k.receiver})
	if info.rm != nil {
		r := newReceipt("Message redirected.", info.rm, 0)
		r.Recipient = info.rm.Receiver
		setExtra(r, "neighbor", l.peer.String())
		setTemplate(r, "Message passed to station ${station}.", map[string]any{"station": l.peer.String()})
		c.srv.sendOwn(info.rm.Sender, r)
	}
}

// forgetPassed deletes a message that left this station for good.
func (c *conn) forgetPassed(k relayKey) {
	err := c.srv.store.AckMessageAsync(c.ctx, store.Ack{Receiver: k.receiver, Signature: k.signature, Passed: true}, c.srv.ackDone)
	if err != nil && c.ctx.Err() == nil {
		c.srv.acked(false, err)
	}
	c.srv.hub.forget(k.receiver, k.signature, nil)
}

// ackLink acknowledges, to the neighbour on link session c, a message it
// passed: stored here (text ""), refused for good, or to be offered again.
func (c *conn) ackLink(rm *dimp.ReliableMessage, refusal string, retry bool) error {
	if f, ok := c.linkAckFrame(rm, refusal, retry); ok {
		return c.reply(f)
	}
	return nil
}

// linkAckFrame is the acknowledgement of rm for the neighbour on link
// session c; ok is false when the neighbour does not read them.
func (c *conn) linkAckFrame(rm *dimp.ReliableMessage, refusal string, retry bool) (f frame, ok bool) {
	if l := c.link.Load(); l == nil || !l.acks {
		return frame{}, false
	}
	body, _ := json.Marshal(linkAck{Signature: rm.SignatureText(), Receiver: rm.Receiver.WithoutTerminal().String(),
		Time: float64(time.Now().UnixMilli()) / 1000, Error: refusal, Retry: retry})
	return frame{data: append([]byte("ACK:"), body...)}, true
}

// trace is one station a message passed through.
type trace struct {
	Station string  `json:"did"`
	ID      string  `json:"ID,omitempty"`
	Time    float64 `json:"time,omitempty"`
}

// readTraces reads a message's `traces`: each a station ID, or an object
// with `did` or `ID` (as dimchat's stations write them). What cannot be
// read is left out.
func readTraces(rm *dimp.ReliableMessage) []trace {
	raw, ok := rm.Extra["traces"]
	if !ok {
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	out := make([]trace, 0, len(items))
	for _, it := range items {
		var s string
		if json.Unmarshal(it, &s) == nil {
			out = append(out, trace{Station: s})
			continue
		}
		var t trace
		if json.Unmarshal(it, &t) != nil {
			continue
		}
		if t.Station == "" {
			t.Station = t.ID
		}
		if t.Station != "" {
			out = append(out, t)
		}
	}
	return out
}

// addTrace appends this station to the message's traces (tr, read
// already).
func (s *Server) addTrace(rm *dimp.ReliableMessage, tr []trace) error {
	me := s.me.ID.String()
	tr = append(tr, trace{Station: me, ID: me, Time: float64(time.Now().UnixMilli()) / 1000})
	if rm.Extra == nil {
		rm.Extra = dimp.Fields{}
	}
	if err := rm.Extra.Set("traces", tr); err != nil {
		return fmt.Errorf("traces: %w", err)
	}
	return nil
}

// passedThrough reports whether station is among the traces.
func passedThrough(tr []trace, station string) bool {
	for _, t := range tr {
		if t.Station == station {
			return true
		}
	}
	return false
}
