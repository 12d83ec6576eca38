package ui

import (
	"fmt"
	"strings"
	"time"

	"dimtui/client"
	"dimtui/dimp"
)

// heldNotice is the notice of a handshake step (Start, Restart) whose
// frame step-through holds. It says so, with the frame's number once the
// frame is held, and says what became of it when it goes: sent, or
// dropped with the connection. A notice never says "held" of a frame
// already sent.
type heldNotice struct {
	e    *entry
	step dimp.HandshakeState
	seq  uint64 // the client's sequence of the held frame; 0 until it is held
	n    int    // the frame's number in the session
}

// holdNotice adds the notice of a handshake step whose frame will be held.
func (s *chatState) holdNotice(at time.Time, step dimp.HandshakeState) {
	h := &heldNotice{step: step}
	h.e = s.noticeAt(at, h.text("held until you release it"), false)
	s.held = h
}

// text is the notice's text with a state in brackets: the step's sentence
// without "sent", and the frame's number when known.
func (h *heldNotice) text(state string) string {
	if h.n > 0 {
		state = fmt.Sprintf("frame #%d, %s", h.n, state)
	}
	return strings.Replace(handshakeNotice(h.step), ": sent ", ": ", 1) + " (" + state + ")"
}

// set rewrites the notice.
func (h *heldNotice) set(text string) {
	h.e.text = text
	h.e.version++
}

// heldFrame gives the notice its frame's number when the frame is held.
func (s *chatState) heldFrame(ev client.HeldEvent) {
	h := s.held
	if h == nil || h.seq != 0 || ev.Dir != client.Out || ev.Kind != client.KindHandshake {
		return
	}
	h.seq, h.n = ev.Seq, ev.Number
	h.set(h.text("held until you release it"))
}

// frameSent says the held handshake frame went: the notice becomes the
// step's, with the frame's number.
func (s *chatState) frameSent(ev client.FrameEvent) {
	h := s.held
	if h == nil || ev.Dir != client.Out || ev.Kind != client.KindHandshake || (h.n != 0 && ev.Number != h.n) {
		return
	}
	h.n = max(h.n, ev.Number)
	s.heldSent()
}

// handshakeMoved settles the notice of a held step when the handshake
// went past it (the station answered, so the frame went): the frame's own
// report may not have come first.
func (s *chatState) handshakeMoved(st client.Status) {
	if h := s.held; h != nil && st.Handshake > h.step && (st.State == client.Handshaking || st.State == client.Running) {
		s.heldSent()
	}
}

// heldSent makes the held step's notice say the frame was sent.
func (s *chatState) heldSent() {
	h := s.held
	text := handshakeNotice(h.step)
	if h.n > 0 {
		text += fmt.Sprintf(" (frame #%d)", h.n)
	}
	h.set(text)
	s.held = nil
}

// heldReleased notes a held handshake frame dropped with its connection.
func (s *chatState) heldReleased(ev client.ReleasedEvent) {
	h := s.held
	if h == nil || h.seq == 0 || ev.Seq != h.seq || !ev.Dropped {
		return
	}
	h.set(h.text("dropped: the connection ended"))
	s.held = nil
}
