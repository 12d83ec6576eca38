package mockstation

import (
	"fmt"
	"sync"
	"time"

	"dimtui/dimp"
)

// A message that comes over a link from a sender this station knows
// nothing of (no meta attached, none stored) cannot be verified yet.
// dimchat's clients attach their meta and visa only to their first
// handshake, and dimchat's stations attach nothing when they relay, so a
// reference user's first message reaching this station is such a message.
// It is held, and the neighbour is asked for the sender's meta and visa (a
// documents query, which a station answers with the meta and the newest
// documents); once they are learnt, the message is handled again, from
// its signature on. One not answered in heldRelayTimeout is refused.

// Bounds of what waits for a sender's meta and visa.
const (
	maxHeldRelays       = 4096             // messages in all
	maxHeldPerSender    = 256              // messages of one sender
	heldRelayTimeout    = 30 * time.Second // how long one waits
	unknownQueryBetween = 10 * time.Second // asked of a neighbour again after
)

// heldRelay is a message from an unknown sender, with the link it came on.
type heldRelay struct {
	c   *conn
	raw []byte
	at  time.Time
}

// unknownSenders are the messages waiting for their senders' metas.
type unknownSenders struct {
	mu     sync.Mutex
	held   map[string][]heldRelay // sender → its messages
	n      int
	asked  map[string]time.Time // sender → when a neighbour was last asked
	timers map[string]*time.Timer
}

// hold keeps raw for sender; it reports whether it was kept (false when
// full) and whether the neighbour should be asked now.
func (u *unknownSenders) hold(sender string, h heldRelay, expire func()) (kept, ask bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.held == nil {
		u.held, u.asked, u.timers = make(map[string][]heldRelay), make(map[string]time.Time), make(map[string]*time.Timer)
	}
	if u.n >= maxHeldRelays || len(u.held[sender]) >= maxHeldPerSender {
		return false, false
	}
	u.held[sender] = append(u.held[sender], h)
	u.n++
	if u.timers[sender] == nil {
		u.timers[sender] = time.AfterFunc(heldRelayTimeout, expire)
	}
	if last, ok := u.asked[sender]; !ok || time.Since(last) > unknownQueryBetween {
		u.asked[sender] = time.Now()
		ask = true
	}
	return true, ask
}

// take removes and returns what waits for sender.
func (u *unknownSenders) take(sender string) []heldRelay {
	u.mu.Lock()
	defer u.mu.Unlock()
	hs := u.held[sender]
	delete(u.held, sender)
	delete(u.asked, sender)
	if t := u.timers[sender]; t != nil {
		t.Stop()
		delete(u.timers, sender)
	}
	u.n -= len(hs)
	return hs
}

// holdUnknown holds a message from a sender not known here and asks the
// neighbour it came from for the sender's meta and visa.
func (c *conn) holdUnknown(in *inbound, l *link) error {
	sender := in.rm.Sender.WithoutTerminal()
	key := sender.String()
	s := c.srv
	kept, ask := s.unknown.hold(key, heldRelay{c: c, raw: in.raw, at: time.Now()}, func() { s.expireUnknown(key) })
	if !kept {
		return c.refuseRelayed(in, l, "Sender unknown: attach meta and visa.",
			fmt.Errorf("%w: %s, and too many messages wait for senders' metas", dimp.ErrNoVerifyKey, sender))
	}
	c.logger().Info("relayed message held: asking the neighbour for its sender's meta and visa", "station", l.peer, "sender", sender)
	if ask {
		q := dimp.NewDocumentCommand(sender, nil, nil)
		if data, err := s.seal(l.peer, l.prof, q, false); err == nil {
			return c.reply(frame{data: data})
		}
	}
	return nil
}

// releaseUnknown hands what waited for id's meta back to the links it
// came on, now that the station knows the meta.
func (s *Server) releaseUnknown(id string) {
	for _, h := range s.unknown.take(id) {
		go func() { _ = h.c.take(h.raw) }() // closed meanwhile: the neighbour offers it again
	}
}

// expireUnknown refuses what waited too long for id's meta: each is
// acknowledged with the reason, so that a neighbour stops offering it.
func (s *Server) expireUnknown(id string) {
	for _, h := range s.unknown.take(id) {
		rm, err := dimp.ParseReliableMessage(h.raw)
		if err != nil {
			continue
		}
		s.log.Info("relayed message refused: its sender's meta never came", "sender", id, "waited", time.Since(h.at))
		if rm.Receiver.IsBroadcast() {
			continue // broadcasts are not stored, so not acknowledged
		}
		if f, ok := h.c.linkAckFrame(rm, "Sender unknown: its meta and visa never came.", false); ok {
			_ = h.c.queueReply(f) // from a timer: not the worker's reply
		}
	}
}
