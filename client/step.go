package client

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"dimtui/dimp"
)

// StepMode says which frames step-through holds. While a frame is held it
// really waits: an outgoing frame is not written to the socket, an incoming
// one is not processed, until the presenter releases it (Client.Release).
type StepMode int

// Step modes.
const (
	StepOff      StepMode = iota // frames pass at once
	StepMessages                 // DIM messages wait; PING, PONG and ACK pass
	StepAll                      // every frame waits, control frames too
	// StepLesson holds the stops of a lesson (Classify: handshake steps,
	// chat and app messages, their receipts) and lets housekeeping pass.
	StepLesson
)

// String names the mode as the UI and the flags write it.
func (m StepMode) String() string {
	switch m {
	case StepOff:
		return "off"
	case StepMessages:
		return "messages"
	case StepAll:
		return "all"
	case StepLesson:
		return "lesson"
	}
	return fmt.Sprintf("StepMode(%d)", int(m))
}

// ParseStepMode reads "off", "lesson", "messages" or "all"; "on" is
// lesson, the mode a presenter starts with.
func ParseStepMode(s string) (StepMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off", "none", "false", "":
		return StepOff, nil
	case "lesson", "lessons", "on", "true":
		return StepLesson, nil
	case "messages", "msgs", "msg":
		return StepMessages, nil
	case "all":
		return StepAll, nil
	}
	return StepOff, fmt.Errorf("step mode %q: use off, lesson, messages or all", s)
}

// maxGated and maxGatedBytes bound the frames step-through holds. A
// station that sends more than that while the presenter waits gets its
// oldest frames processed anyway: memory stays bounded whatever comes from
// the network (4096 frames of a megabyte would be 4 GB).
const (
	maxGated      = 4096
	maxGatedBytes = 32 << 20
)

// HeldEvent reports a frame that step-through holds. Seq numbers the held
// frames of one client; they are released in that order. For an outgoing
// frame Layers are what will be written; for an incoming one they are a
// preview (verified and decrypted with what the client knows now, nothing
// stored), since the frame is not processed until it is released.
type HeldEvent struct {
	Time   time.Time
	Seq    uint64
	Dir    Direction
	Raw    []byte
	Kind   FrameKind
	Layers *Layers
	Cut    *FrameCut // as in FrameEvent: nil when Raw is the whole frame
	Number int       // as in FrameEvent: the frame's number in the session, when known
}

// ReleasedEvent reports that a held frame went on: written, or handed to
// the client to process. Dropped says it was discarded instead, because
// the connection it belonged to ended (what was not acknowledged is sent
// again after the next handshake).
type ReleasedEvent struct {
	Time    time.Time
	Seq     uint64
	Dropped bool
}

func (e HeldEvent) eventTime() time.Time     { return e.Time }
func (e ReleasedEvent) eventTime() time.Time { return e.Time }

// gated is a frame held by step-through.
type gated struct {
	seq    uint64
	dir    Direction
	raw    []byte
	kind   FrameKind
	role   Role
	layers *Layers // outgoing: what the FrameEvent will carry; incoming: nil
}

// SetStep turns step-through on (StepLesson, StepMessages, StepAll) or
// off. Turning it off releases every held frame, in order; changing the
// mode releases the held frames at the head that the new mode lets pass.
func (c *Client) SetStep(ctx context.Context, mode StepMode) error {
	return c.do(ctx, func(l *loop) { l.setStep(mode) })
}

// Release lets the n oldest held frames go on, in order; n <= 0 releases
// every frame held now. Frames that processing them makes the client send
// are held in turn while step-through is on.
func (c *Client) Release(ctx context.Context, n int) error {
	return c.do(ctx, func(l *loop) { l.release(n) })
}

// Step returns the current step mode.
func (c *Client) Step() StepMode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.step
}

func (l *loop) setStep(mode StepMode) {
	was := l.step
	l.step = mode
	l.c.mu.Lock()
	l.c.step = mode
	l.c.mu.Unlock()
	if l.conn != nil {
		l.conn.answerPings.Store(l.controlPasses())
	}
	if mode == StepOff && was != StepOff {
		// The timers were paused while stepping: they start again now.
		l.since, l.pingAt = time.Now(), time.Time{}
		for k := range l.queries {
			l.queries[k] = time.Now()
		}
		l.release(0)
		return
	}
	// The frames at the head that the new mode lets pass go on (those
	// behind a frame it holds wait: each client's frames keep their order).
	for len(l.gate) > 0 && !mode.Holds(l.gate[0].kind, l.gate[0].role) {
		l.releaseOne()
	}
}

// Holds reports whether a frame of this kind and role (Classify) waits
// for the presenter in this mode.
func (m StepMode) Holds(kind FrameKind, role Role) bool {
	switch m {
	case StepAll:
		return true
	case StepMessages:
		return kind != KindPing && kind != KindAck
	case StepLesson:
		return role.Stop()
	}
	return false
}

// controlPasses reports whether control frames (PING, PONG, ACK) go on
// at once in the current mode: the keep-alive runs.
func (l *loop) controlPasses() bool { return !l.step.Holds(KindPing, Housekeeping) }

// holdIf holds a frame when the step mode says it must wait, and reports
// whether it did; a frame not held is the caller's to send or process.
func (l *loop) holdIf(dir Direction, raw []byte, kind FrameKind, layers *Layers) bool {
	if l.step == StepOff {
		return false
	}
	role := Classify(kind, layers)
	if !l.step.Holds(kind, role) {
		return false
	}
	l.hold(dir, raw, kind, role, layers)
	return true
}

// hold queues a frame and reports it; the loop goes on at once.
func (l *loop) hold(dir Direction, raw []byte, kind FrameKind, role Role, layers *Layers) {
	for len(l.gate) > 0 && (len(l.gate) >= maxGated || l.gateBytes+len(raw) > maxGatedBytes) {
		l.releaseOne()
	}
	l.gateSeq++
	g := gated{seq: l.gateSeq, dir: dir, raw: raw, kind: kind, role: role}
	if dir == Out {
		g.layers = layers // an incoming frame's preview is the event's only
	}
	l.gate = append(l.gate, g)
	l.gateBytes += len(raw)
	l.c.emit(l.ctx, HeldEvent{Time: time.Now(), Seq: g.seq, Dir: dir, Raw: raw, Kind: kind, Layers: layers})
}

// release lets n held frames go (n <= 0: all those held now).
func (l *loop) release(n int) {
	if n <= 0 || n > len(l.gate) {
		n = len(l.gate)
	}
	for range n {
		if len(l.gate) == 0 {
			return
		}
		l.releaseOne()
	}
}

// releaseOne lets the oldest held frame go: an outgoing frame is written,
// an incoming one is processed (which may hold new frames at the tail).
func (l *loop) releaseOne() {
	g := l.gate[0]
	l.gate[0] = gated{}
	l.gate = l.gate[1:]
	l.gateBytes -= len(g.raw)
	if len(l.gate) == 0 {
		l.gate = nil
	}
	l.c.emit(l.ctx, ReleasedEvent{Time: time.Now(), Seq: g.seq})
	if g.dir == Out {
		l.transmit(g.raw, g.kind, g.layers)
		return
	}
	l.receive(g.raw, time.Now())
}

// dropHeld discards every held frame: the connection they belonged to is
// gone.
func (l *loop) dropHeld() {
	for _, g := range l.gate {
		l.c.emit(l.ctx, ReleasedEvent{Time: time.Now(), Seq: g.seq, Dropped: true})
	}
	l.gate, l.gateBytes = nil, 0
}

// arrive takes a payload from the connection: processed at once, or held.
// A PING the reader answered already is only reported.
func (l *loop) arrive(f inFrame) {
	payload := f.payload
	if f.answered {
		l.c.emit(l.ctx, FrameEvent{Time: f.at, Dir: In, Raw: payload, Kind: KindPing})
		l.c.emit(l.ctx, FrameEvent{Time: f.at, Dir: Out, Raw: payloadPong, Kind: KindPing})
		return
	}
	kind, ok := controlKind(payload)
	if !ok && l.step == StepOff {
		l.receive(payload, f.at)
		return
	}
	var layers *Layers
	if !ok {
		kind, layers = l.preview(payload)
	}
	if !l.holdIf(In, payload, kind, layers) {
		l.receive(payload, f.at)
	}
}

// controlKind classifies the payloads that are not messages (without
// copying a long payload into a string to compare it).
func controlKind(payload []byte) (FrameKind, bool) {
	if len(payload) <= len("NOOP") {
		switch string(payload) {
		case "PING", "PONG", "NOOP", "OK":
			return KindPing, true
		}
	}
	if bytes.HasPrefix(payload, []byte("ACK:")) {
		return KindAck, true
	}
	return "", false
}

// preview opens an incoming message as far as the client can now, without
// keeping anything: no profile learned, no message key cached, nothing
// marked as seen. A payload of several messages is previewed by its first.
func (l *loop) preview(payload []byte) (FrameKind, *Layers) {
	packs := splitPayload(payload)
	if len(packs) == 0 {
		return KindOther, nil
	}
	layers := &Layers{}
	rm, err := l.packer.Parse(packs[0])
	if err != nil {
		layers.ParseErr = err
		return KindOther, layers
	}
	layers.Reliable = rm
	p := l.peers[IDKey(rm.Sender)]
	if rm.Meta != nil {
		attached, err := dimp.ProfileFromMessage(rm)
		if err != nil {
			layers.VerifyErr = err
			return kindOf(rm, nil), layers
		}
		if p == nil || p.Visa() == nil {
			p = attached
		}
	}
	if p == nil {
		layers.KeyAsked = true
		layers.VerifyErr = fmt.Errorf("%w: the meta and visa of %s will be asked for", ErrUnknownPeer, rm.Sender)
		return kindOf(rm, nil), layers
	}
	sm, err := dimp.Verify(rm, p.VerifyKeys()...)
	if err != nil {
		layers.VerifyErr = err
		return kindOf(rm, nil), layers
	}
	layers.Verified = true
	im, _, err := dimp.Decrypt(sm, l.c.me.ID, l.c.me.Decrypt, l.packer.Keys.Get(sm.Sender, sm.Destination()))
	if err != nil {
		layers.OpenErr = err
		return kindOf(rm, nil), layers
	}
	layers.Instant = im
	return kindOf(rm, im), layers
}
