package client

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dimtui/client/history"
	"dimtui/dimp"
)

// sealedFrom returns a text from a new user to me, as the station would
// hand it over, with the sender's profile.
func sealedFrom(t *testing.T, me *dimp.Identity, text string) (*dimp.ReliableMessage, []byte, *dimp.Profile) {
	t.Helper()
	bob := newTestUser(t, "bob")
	rm, err := dimp.NewPacker(bob).Seal(dimp.NewInstantMessage(bob.ID, me.ID, dimp.NewText(text)), []*dimp.Profile{me.Profile()}, dimp.SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := rm.MarshalJSON()
	return rm, raw, bob.Profile()
}

func countMessages(evs []Event) int {
	n := 0
	for _, ev := range evs {
		if _, ok := ev.(MessageEvent); ok {
			n++
		}
	}
	return n
}

// A message is recorded in the history before it is shown; one the
// client could not hand to the UI because it was stopping is forgotten
// again, so that the station's next offer of it is shown, not dropped.
func TestSeenIsRecordedBeforeShown(t *testing.T) {
	l, me := newTestLoop(t, newTestID(t, dimp.Station, "s1"), 1<<10)
	h, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"), me.ID, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	l.c.cfg.History = h
	ctx := context.Background()

	rm, raw, bob := sealedFrom(t, me, "hello")
	l.open(raw, rm, &Layers{Reliable: rm}, bob, true)
	if seen, err := h.Seen(ctx, rm.Digest()); err != nil || !seen {
		t.Fatalf("a message shown is not in the history (%v)", err)
	}
	if n := countMessages(drainEvents(l)); n != 1 {
		t.Fatalf("%d message events, want 1", n)
	}
	// A restarted client (a new loop on the same history) drops it.
	l2, _ := newTestLoop(t, l.station, 1<<10)
	l2.c.me, l2.packer, l2.c.cfg.History = me, dimp.NewPacker(me), h
	l2.receiveOne(raw, true)
	if n := countMessages(drainEvents(l2)); n != 0 {
		t.Errorf("the restarted client showed it again")
	}

	// Stopping before the message is recorded: neither recorded nor shown.
	rm, raw, bob = sealedFrom(t, me, "too late")
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	l2.ctx = stopped
	l2.open(raw, rm, &Layers{Reliable: rm}, bob, true)
	if seen, err := h.Seen(ctx, rm.Digest()); err != nil || seen {
		t.Errorf("a message not shown is recorded as seen (%v)", err)
	}

	// Stopping while the message is handed over (recorded, and the UI
	// does not take it): forgotten again.
	l3, _ := newTestLoop(t, l.station, 1)
	l3.c.me, l3.packer, l3.c.cfg.History = me, dimp.NewPacker(me), h
	l3.c.events <- ErrorEvent{} // the UI is behind: the channel is full
	stopping, stop := context.WithCancel(ctx)
	l3.ctx = stopping
	rm, raw, bob = sealedFrom(t, me, "while quitting")
	done := make(chan struct{})
	go func() {
		defer close(done)
		l3.open(raw, rm, &Layers{Reliable: rm}, bob, true)
	}()
	for {
		if seen, err := h.Seen(ctx, rm.Digest()); err != nil {
			t.Fatal(err)
		} else if seen {
			break // recorded: the loop now waits to hand it over
		}
		select {
		case <-done:
			t.Fatal("open returned before it recorded the message")
		case <-time.After(time.Millisecond):
		}
	}
	stop()
	<-done
	if seen, err := h.Seen(ctx, rm.Digest()); err != nil || seen {
		t.Errorf("a message the UI never took is still recorded as seen (%v)", err)
	}
	if l3.seen.has(rm.Digest()) {
		t.Error("a message the UI never took is remembered in memory")
	}

	// A history that fails: the message is left at the station, with an
	// error that says why, and neither shown nor acknowledged.
	h.Close()
	l4, _ := newTestLoop(t, l.station, 1<<10)
	l4.c.me, l4.packer, l4.c.cfg.History = me, dimp.NewPacker(me), h
	rm, raw, bob = sealedFrom(t, me, "no history")
	l4.peers[IDKey(bob.ID)] = bob
	l4.receiveOne(raw, true)
	evs := drainEvents(l4)
	var errs []string
	for _, ev := range evs {
		if e, ok := ev.(ErrorEvent); ok {
			errs = append(errs, e.Err.Error())
		}
	}
	if n := countMessages(evs); n != 0 || len(errs) != 1 || !strings.Contains(errs[0], "left at the station") || !strings.Contains(errs[0], "history") {
		t.Errorf("with a failing history: %d shown, errors %q", n, errs)
	}
}

// A copy of a message whose signature travels in another form (here the
// legacy "hex," encoding of the same bytes) is the same message: shown once.
func TestDuplicateInAnotherSignatureForm(t *testing.T) {
	l, me := newTestLoop(t, newTestID(t, dimp.Station, "s1"), 1<<10)
	rm, raw, bob := sealedFrom(t, me, "hello")
	variant := []byte(strings.Replace(string(raw), `"`+rm.SignatureText()+`"`, `"hex,`+hex.EncodeToString(rm.Signature)+`"`, 1))
	if string(variant) == string(raw) {
		t.Fatal("the signature was not re-encoded")
	}
	// The re-encoded copy is valid: a client that never saw the message shows it.
	fresh, _ := newTestLoop(t, l.station, 1<<10)
	fresh.c.me, fresh.packer = me, dimp.NewPacker(me)
	fresh.learn(bob)
	fresh.receiveOne(variant, true)
	if n := countMessages(drainEvents(fresh)); n != 1 {
		t.Fatalf("the re-encoded copy alone: %d message events, want 1", n)
	}
	l.learn(bob)
	l.receiveOne(raw, true)
	l.receiveOne(variant, true)
	if n := countMessages(drainEvents(l)); n != 1 {
		t.Errorf("a message and its re-encoded copy: %d message events, want 1", n)
	}
}
