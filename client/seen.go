package client

import (
	"context"
	"fmt"
)

// Duplicates are dropped by digest (dimp.ReliableMessage.Digest: the
// sender and the data it signed, whatever form the signature takes): a
// station offers a message again until it has the client's ACK, and an ACK
// can be lost (the connection or the station went down before it counted).
// The digests seen are kept in memory for the last seenInMemory messages,
// and across runs in the identity's history when the client has one
// (Config.History).

// seenInMemory bounds the signatures the client keeps in memory.
const seenInMemory = 8192

// isSeen reports whether a message with this signature was processed,
// by this run or, with a history, an earlier one.
func (l *loop) isSeen(sig string) (bool, error) {
	if l.seen.has(sig) {
		return true, nil
	}
	h := l.c.cfg.History
	if h == nil {
		return false, nil
	}
	seen, err := h.Seen(l.ctx, sig)
	if err != nil {
		return false, fmt.Errorf("look the message up in the history: %w", err)
	}
	if seen {
		l.seen.add(sig)
	}
	return seen, nil
}

// markSeen records a signature before the message is acted on; dup says
// it was recorded already.
func (l *loop) markSeen(sig string) (dup bool, err error) {
	if l.seen.has(sig) {
		return true, nil
	}
	if h := l.c.cfg.History; h != nil {
		added, err := h.MarkSeen(l.ctx, sig)
		if err != nil {
			return false, fmt.Errorf("record the message in the history: %w", err)
		}
		dup = !added
	}
	l.seen.add(sig)
	return dup, nil
}

// unsee forgets a signature recorded for a message that was not shown
// after all: the client stopped before the UI took it.
func (l *loop) unsee(sig string) {
	l.seen.remove(sig)
	if h := l.c.cfg.History; h != nil {
		// The loop's context is done by now: this last write goes anyway.
		if err := h.Forget(context.WithoutCancel(l.ctx), sig); err != nil {
			l.c.log.Warn("history: a message not shown stays recorded as seen", "err", err)
		}
	}
}

// sigSet remembers the last n signatures seen, to drop duplicates.
type sigSet struct {
	set  map[string]struct{}
	ring []string
	next int
}

func newSigSet(n int) *sigSet {
	return &sigSet{set: map[string]struct{}{}, ring: make([]string, n)} // the map grows as signatures come
}

func (s *sigSet) has(sig string) bool {
	_, ok := s.set[sig]
	return ok
}

func (s *sigSet) add(sig string) {
	if s.has(sig) {
		return
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.set, old)
	}
	s.ring[s.next] = sig
	s.set[sig] = struct{}{}
	s.next = (s.next + 1) % len(s.ring)
}

// remove forgets sig (rarely: a linear search).
func (s *sigSet) remove(sig string) {
	if !s.has(sig) {
		return
	}
	delete(s.set, sig)
	for i, v := range s.ring {
		if v == sig {
			s.ring[i] = ""
		}
	}
}
