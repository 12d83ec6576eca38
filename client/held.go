package client

import "time"

// maxHeldBytes bounds the messages a client keeps while it asks for their
// senders' visas. A station may send messages from senders it then knows
// nothing of, a megabyte each, faster than its answers come; past the
// bound the oldest message is dropped unacknowledged, so the station keeps
// its copy and offers it again after the next handshake.
const maxHeldBytes = 16 << 20

// holdForVisa keeps a message until its sender's visa is known (learn) or
// known to be missing (peerUnknown).
func (l *loop) holdForVisa(peer string, h *held) {
	l.waitIn[peer] = append(l.waitIn[peer], h)
	l.heldBytes += len(h.raw)
	for l.heldBytes > maxHeldBytes && len(l.waitIn) > 0 {
		l.dropOldestHeld()
	}
}

// takeHeld removes and returns the messages waiting for peer's visa.
func (l *loop) takeHeld(peer string) []*held {
	hs := l.waitIn[peer]
	delete(l.waitIn, peer)
	for _, h := range hs {
		l.heldBytes -= len(h.raw)
	}
	return hs
}

// dropOldestHeld forgets the message that has waited longest, and says so.
func (l *loop) dropOldestHeld() {
	var oldest string
	var since time.Time
	for peer, hs := range l.waitIn {
		if oldest == "" || hs[0].since.Before(since) {
			oldest, since = peer, hs[0].since
		}
	}
	hs := l.waitIn[oldest]
	h := hs[0]
	if len(hs) == 1 {
		delete(l.waitIn, oldest)
	} else {
		hs[0] = nil
		l.waitIn[oldest] = hs[1:]
	}
	l.heldBytes -= len(h.raw)
	l.c.emit(l.ctx, errorf("message from %s left at the station: more than %d MB of messages wait for their senders' visas",
		h.rm.Sender, maxHeldBytes>>20))
}
