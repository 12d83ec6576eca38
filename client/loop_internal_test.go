package client

import (
	"context"
	"testing"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// TestOutboxIsBounded checks that a long-running client (the echo bot runs
// for days) does not keep every message it ever sent or received.
func TestOutboxIsBounded(t *testing.T) {
	sign, _ := crypto.GenerateECC()
	visa, _ := crypto.GenerateRSA(1024)
	me, err := dimp.NewIdentity(dimp.User, dimp.MetaMKM, "bot", "", sign, visa)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{URL: "ws://127.0.0.1:1", Identity: me, EventBuffer: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	l := newLoop(c)
	l.ctx = context.Background()
	peer := me.Profile()
	for i := range 3 * maxOutbox {
		o := &outgoing{id: messageID(me.ID, int64(i+1)), im: dimp.NewInstantMessage(me.ID, peer.ID, dimp.NewText("x")),
			state: Sending, seq: i, user: i%2 == 0, sig: string(rune(i))}
		l.outbox[o.id], l.bySig[o.sig] = o, o
		switch i % 3 {
		case 0:
			l.setDelivery(o, Delivered, "") // a user message never read: kept, up to the bound
		case 1:
			l.setDelivery(o, AtStation, "") // settled when it is the client's own
		case 2:
			l.setDelivery(o, Read, "") // settled
		}
		l.remember(MessageID(string(rune(i))), &incoming{})
	}
	if len(l.outbox) > maxOutbox || len(l.bySig) > maxOutbox {
		t.Errorf("outbox %d, by signature %d: more than %d", len(l.outbox), len(l.bySig), maxOutbox)
	}
	if len(l.inbox) > maxInbox || len(l.inOrder) > maxInbox {
		t.Errorf("inbox %d: more than %d", len(l.inbox), maxInbox)
	}
	// Messages still to be sent are never dropped.
	waiting := &outgoing{id: "waiting", im: dimp.NewInstantMessage(me.ID, peer.ID, dimp.NewText("y")), state: Sending, seq: -1, user: true}
	l.outbox[waiting.id] = waiting
	for i := range maxOutbox {
		o := &outgoing{id: messageID(me.ID, int64(1e6+i)), im: waiting.im, state: Sending, seq: 1e6 + i, user: true}
		l.outbox[o.id] = o
		l.setDelivery(o, Delivered, "")
	}
	if l.outbox["waiting"] == nil {
		t.Error("a message waiting to be sent was forgotten")
	}
}
