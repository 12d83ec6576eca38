package mockstation

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"dimtui/dimp"
)

// Faults breaks a station on purpose, to show at a workshop how the
// protocol reacts: it loses or damages the next chat message of a user,
// delays what the station sends a user, and expires sessions. Give it to
// the station in Config.Faults; it outlives the server, so that a restarted
// station keeps the settings. Its methods are safe for concurrent use, and
// a nil *Faults breaks nothing.
//
// A chat message is a message routed to another user whose content is not
// a command: texts, application content, files... Receipts, handshakes,
// broadcasts and questions to the station are never touched, so that
// "the next one" is the one the presenter is about to type.
type Faults struct {
	report func(FaultReport)

	mu          sync.Mutex             // guards the fields below
	users       map[string]*userFaults // by user ID without terminal
	delayAll    time.Duration
	expireAfter time.Duration
	resumeAfter time.Duration
	expired     map[*conn]bool        // sessions the station forgot
	timers      map[*conn]*time.Timer // sessions that expire by themselves
}

// userFaults are the faults armed for one user.
type userFaults struct {
	dropFrom, dropTo       int // next chat messages from the user / to the user to lose
	corruptFrom, corruptTo int // ... whose signature to damage
	delay                  time.Duration
	delaySet               bool // delay overrides the delay for every user, even when 0
}

// FaultReport says what the station did on purpose, for the presenter's
// screen.
type FaultReport struct {
	Time  time.Time
	User  dimp.ID // whose frame or session; zero for every user
	Text  string  // what happened, as a phrase after "the station": "dropped …"
	Fault Fault   // which fault it was, for a screen that reacts to it
	// ToClient: the frame was on its way to the user (FaultDrop,
	// FaultCorrupt); else it came from the user.
	ToClient bool
	// Delay is what each message to the user now waits (FaultDelay); 0:
	// nothing.
	Delay time.Duration
}

// Fault names what a FaultReport is about.
type Fault int

// Faults a report can be about.
const (
	FaultDrop    Fault = iota + 1 // a chat message lost
	FaultCorrupt                  // a chat message's signature damaged
	FaultDelay                    // the delay of the messages to a user set or lifted
	FaultExpire                   // a session forgotten
)

// NewFaults returns a Faults with nothing armed; report (may be nil) is
// told whatever the station does on purpose.
func NewFaults(report func(FaultReport)) *Faults {
	if report == nil {
		report = func(FaultReport) {}
	}
	return &Faults{report: report, users: map[string]*userFaults{}, expired: map[*conn]bool{}, timers: map[*conn]*time.Timer{}}
}

func (f *Faults) user(id dimp.ID) *userFaults {
	k := id.WithoutTerminal().String()
	u := f.users[k]
	if u == nil {
		u = &userFaults{}
		f.users[k] = u
	}
	return u
}

// DropNext makes the station lose the next chat message from the user
// (toClient false: it never handles it, so the sender gets no receipt) or
// the next one it pushes to the user (toClient true: it stays stored, as
// nothing acknowledges it, and comes again at the user's next session).
func (f *Faults) DropNext(user dimp.ID, toClient bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if toClient {
		f.user(user).dropTo++
	} else {
		f.user(user).dropFrom++
	}
}

// CorruptNext damages the signature of the next chat message from the user
// as it arrives (the station refuses it: "Signature not verified.") or of
// the next one the station pushes to the user (the user's client refuses
// it).
func (f *Faults) CorruptNext(user dimp.ID, toClient bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if toClient {
		f.user(user).corruptTo++
	} else {
		f.user(user).corruptFrom++
	}
}

// SetDelay makes the station wait d before it pushes each message from
// someone else to the user (a chat message, a receipt, a broadcast), or to
// every user when user is zero; 0 stops waiting. The station's own
// answers to the user (its receipts, its handshake replies, PONG) go at
// once, so that a sender's ✓ still comes at once and the receiver's ✓✓
// late. The messages wait in order, as on a slow link: an answer queued
// behind a waiting message goes after it. A user's own setting, 0
// included, overrides the one for every user until that one is set again.
// It reports the new delay, unless it is 0 and nothing was delayed.
func (f *Faults) SetDelay(user dimp.ID, d time.Duration) {
	f.mu.Lock()
	var before time.Duration
	if user.IsZero() {
		before = f.delayAll
		f.delayAll = d
		for _, u := range f.users {
			u.delay, u.delaySet = 0, false
		}
	} else {
		u := f.user(user)
		before = f.delayAll
		if u.delaySet {
			before = u.delay
		}
		u.delay, u.delaySet = d, true
	}
	f.mu.Unlock()
	if d == 0 && before == 0 {
		return
	}
	whom := "every user"
	if !user.IsZero() {
		whom = user.Name()
	}
	text := fmt.Sprintf("holds every message to %s for %s before pushing it; its own answers (its ✓) go at once", whom, d)
	if d == 0 {
		text = "no longer delays the messages to " + whom
	}
	f.report(FaultReport{Time: time.Now(), User: user, Text: text, Fault: FaultDelay, Delay: d})
}

// delayFor returns the delay of the messages to user; f.mu is held.
func (f *Faults) delayFor(user dimp.ID) time.Duration {
	if !user.IsZero() {
		if u := f.users[user.WithoutTerminal().String()]; u != nil && u.delaySet {
			return u.delay
		}
	}
	return f.delayAll
}

// ExpireAfter makes every session expire d after its handshake (0: never),
// and again d after each new handshake.
func (f *Faults) ExpireAfter(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expireAfter = d
}

// ResumeAfter makes the station wait d before it answers the Hello world!
// that brings an expired session back, so that a workshop sees the phase
// where the user's messages are held (with step-through off it lasts a
// few milliseconds). 0 answers at once.
func (f *Faults) ResumeAfter(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resumeAfter = d
}

// Expire makes the station forget the sessions of user, as if they had
// expired: it stops pushing messages to them (they wait in the store),
// asks DIM? with "force": true, and holds what the user sends until a new
// Hello world! carries the session key; then the session is back, what was
// held is handled and what was stored is delivered. It returns how many
// sessions it expired. Config.Faults must be set.
func (s *Server) Expire(user dimp.ID) (int, error) {
	f := s.cfg.Faults
	if f == nil {
		return 0, errors.New("mockstation: expire: no Faults in the configuration")
	}
	e := s.hub.get(user.WithoutTerminal().String())
	if e == nil {
		return 0, nil
	}
	e.mu.Lock()
	sessions := append([]*conn(nil), e.sessions...)
	e.mu.Unlock()
	n := 0
	for _, c := range sessions {
		if f.expire(c) {
			n++
		}
	}
	return n, nil
}

// expire forgets one session and asks the client to handshake again.
func (f *Faults) expire(c *conn) bool {
	user, prof := c.session()
	if c.ctx.Err() != nil || user.IsZero() || prof == nil {
		return false
	}
	f.mu.Lock()
	if f.expired[c] {
		f.mu.Unlock()
		return false
	}
	f.expired[c] = true
	if t := f.timers[c]; t != nil {
		t.Stop()
		delete(f.timers, c)
	}
	pause := f.resumeAfter
	f.mu.Unlock()
	c.srv.hub.setActive(c, false)
	ask := dimp.NewHandshake(dimp.HandshakeAsk, c.key)
	ask.Force = true
	setExtra(ask, "remote_address", c.remote)
	data, err := c.srv.seal(user, prof, ask, false)
	if err != nil || !c.offer(frame{data: data}) {
		c.logger().Warn("expire: DIM? not sent", "user", user, "err", err)
	}
	c.logger().Info("session expired on purpose", "user", user)
	text := fmt.Sprintf("expired %s's session: DIM? (force) sent; %s's messages are held until a new handshake", user.Name(), user.Name())
	if pause > 0 {
		text += fmt.Sprintf(" (its DIM! waits %s, so that this shows)", pause)
	}
	f.report(FaultReport{Time: time.Now(), User: user, Fault: FaultExpire, Text: text})
	return true
}

// dispatch sees every verified message before the station routes it. On
// an expired session it holds what the client sends (DIM? again), lets
// meta and documents questions through, and takes the Hello world! that
// carries the session key as the session coming back. done reports that
// it handled the message.
func (f *Faults) dispatch(c *conn, in *inbound) (done bool, err error) {
	if f == nil {
		return false, nil
	}
	f.mu.Lock()
	expired := f.expired[c]
	if d := f.expireAfter; d > 0 && !expired && f.timers[c] == nil && !c.userID().IsZero() {
		f.timers[c] = time.AfterFunc(d, func() { f.expire(c) })
	}
	f.mu.Unlock()
	if !expired {
		return false, nil
	}
	rm := in.rm
	if rm.Receiver.SameAs(c.srv.me.ID) || rm.Receiver.SameAs(dimp.AnyStation) {
		im, err := c.srv.open(rm)
		if err != nil {
			return false, nil // the station refuses it the usual way
		}
		switch cc := im.Content.(type) {
		case *dimp.HandshakeCommand:
			if cc.Title != dimp.HandshakeHello || cc.Session != c.key {
				return false, nil // answered DIM? (or refused) as usual
			}
			return true, f.resume(c, in)
		case *dimp.MetaCommand, *dimp.DocumentCommand:
			return false, nil
		}
	}
	return true, c.hold(in)
}

// resume brings an expired session back: DIM!, pushes on, and what was
// held meanwhile handled. With ResumeAfter set it waits first, on the
// connection's worker: what the client sends meanwhile waits behind.
func (f *Faults) resume(c *conn, in *inbound) error {
	f.mu.Lock()
	wait := f.resumeAfter
	f.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return c.ctx.Err()
		}
	}
	f.mu.Lock()
	delete(f.expired, c)
	f.mu.Unlock()
	ok := dimp.NewHandshake(dimp.HandshakeOK, c.key)
	setExtra(ok, "remote_address", c.remote)
	if err := c.answer(in, ok); err != nil {
		return err
	}
	c.srv.hub.setActive(c, true) // catches up with what was stored meanwhile
	c.logger().Info("expired session back", "user", c.userID())
	return c.releaseHeld()
}

// fromClient sees a frame as it arrives from the client: it returns nil
// for a frame to lose, or the frame, its signature damaged if so armed.
func (f *Faults) fromClient(c *conn, data []byte) []byte {
	if f == nil || len(data) == 0 || data[0] != '{' {
		return data
	}
	user := c.userID()
	if user.IsZero() {
		return data
	}
	f.mu.Lock()
	u := f.users[user.WithoutTerminal().String()]
	armed := u != nil && (u.dropFrom > 0 || u.corruptFrom > 0)
	f.mu.Unlock()
	if !armed {
		return data
	}
	rm, ok := chatMessage(data)
	if !ok {
		return data
	}
	f.mu.Lock()
	drop := u.dropFrom > 0
	corrupt := !drop && u.corruptFrom > 0
	if drop {
		u.dropFrom--
	} else if corrupt {
		u.corruptFrom--
	}
	f.mu.Unlock()
	what := describe(rm, len(data))
	switch {
	case drop:
		f.report(FaultReport{Time: time.Now(), User: user, Fault: FaultDrop, Text: "dropped " + what + " as it arrived: no receipt will come"})
		return nil
	case corrupt:
		if bad, ok := damageSignature(data); ok {
			f.report(FaultReport{Time: time.Now(), User: user, Fault: FaultCorrupt, Text: "damaged the signature of " + what + " as it arrived"})
			return bad
		}
	}
	return data
}

// delayOf is how long a frame to c's user waits before it goes: the
// delay set for the user, for a message from someone else only; the
// station's own answers (its receipts, handshake, PONG) go at once.
func (f *Faults) delayOf(c *conn, fr frame) time.Duration {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	delay := f.delayFor(c.userID())
	f.mu.Unlock()
	if delay <= 0 || c.stationsOwn(fr) {
		return 0
	}
	return delay
}

// toClient sees a frame before the station writes it to the client (after
// its delay, see delayOf), and returns nil for a frame to lose, or the
// frame, its signature damaged if so armed.
func (f *Faults) toClient(c *conn, fr frame) ([]byte, error) {
	if f == nil {
		return fr.data, nil
	}
	user := c.userID()
	f.mu.Lock()
	var u *userFaults
	if !user.IsZero() {
		u = f.users[user.WithoutTerminal().String()]
	}
	armed := u != nil && fr.id != 0 && (u.dropTo > 0 || u.corruptTo > 0)
	f.mu.Unlock()
	if !armed {
		return fr.data, nil
	}
	rm, ok := chatMessage(fr.data)
	if !ok {
		return fr.data, nil
	}
	f.mu.Lock()
	drop := u.dropTo > 0
	corrupt := !drop && u.corruptTo > 0
	if drop {
		u.dropTo--
	} else if corrupt {
		u.corruptTo--
	}
	f.mu.Unlock()
	what := describe(rm, len(fr.data))
	switch {
	case drop:
		f.report(FaultReport{Time: time.Now(), User: user, Fault: FaultDrop, ToClient: true, Text: "dropped its push of " + what +
			": the copy stays stored until it is acknowledged"})
		return nil, nil
	case corrupt:
		if bad, ok := damageSignature(fr.data); ok {
			f.report(FaultReport{Time: time.Now(), User: user, Fault: FaultCorrupt, ToClient: true,
				Text: "damaged the signature of " + what + " on its way out"})
			return bad, nil
		}
	}
	return fr.data, nil
}

// stationsOwn reports whether a frame is the station's own answer (a
// receipt, a handshake reply, an answer to a question, PONG) rather than a
// message from someone else that it pushes: a stored message, or a
// broadcast.
func (c *conn) stationsOwn(fr frame) bool {
	if fr.id != 0 {
		return false
	}
	data := bytes.TrimSpace(fr.data)
	if len(data) == 0 || data[0] != '{' {
		return true // PONG and the like
	}
	rm, err := dimp.ParseReliableMessage(data)
	return err != nil || rm.Sender.SameAs(c.srv.me.ID)
}

// chatMessage parses a frame and reports whether it is a chat message: to
// a user, and not a command.
func chatMessage(data []byte) (*dimp.ReliableMessage, bool) {
	rm, err := dimp.ParseReliableMessage(bytes.TrimSpace(data))
	if err != nil {
		return nil, false
	}
	to := rm.Receiver
	if to.IsZero() || to.IsBroadcast() || to.IsGroup() || to.Type() == dimp.Station {
		return nil, false
	}
	if rm.HasType && (rm.Type == dimp.ContentCommand || rm.Type == dimp.ContentHistory) {
		return nil, false
	}
	return rm, true
}

// describe names a message for a report: "alice's message to bob (1.2 kB)".
func describe(rm *dimp.ReliableMessage, size int) string {
	return fmt.Sprintf("%s's message to %s (%d bytes)", rm.Sender.Name(), rm.Receiver.Name(), size)
}

// damageSignature flips a bit in the middle of a message's signature,
// leaving everything else as it was.
func damageSignature(data []byte) ([]byte, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, false
	}
	var sig string
	if err := json.Unmarshal(m["signature"], &sig); err != nil || sig == "" {
		return nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) == 0 {
		return nil, false
	}
	raw[len(raw)/2] ^= 0x01
	enc, err := json.Marshal(base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		return nil, false
	}
	m["signature"] = enc
	var out bytes.Buffer
	e := json.NewEncoder(&out)
	e.SetEscapeHTML(false) // the data string stays as it was written
	if err := e.Encode(m); err != nil {
		return nil, false
	}
	return bytes.TrimSpace(out.Bytes()), true
}
