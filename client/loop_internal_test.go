package client

import (
	"context"
	"strings"
	"testing"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// TestOutboxIsBounded checks that a long-running client (the echo bot runs
// for days) does not keep every message it ever sent or received.
func TestOutboxIsBounded(t *testing.T) {
	l, me := newTestLoop(t, dimp.ID{}, 1<<20)
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

// newTestLoop is a loop whose session with station is running, without a
// connection: what it would write is dropped. Its events wait in a buffer
// of the given size.
func newTestLoop(t *testing.T, station dimp.ID, buffer int) (*loop, *dimp.Identity) {
	t.Helper()
	me := newTestUser(t, "alice")
	c, err := New(Config{URL: "ws://127.0.0.1:1", Identity: me, EventBuffer: buffer})
	if err != nil {
		t.Fatal(err)
	}
	l := newLoop(c)
	l.ctx = context.Background()
	l.station, l.state = station, Running
	return l, me
}

// newTestUser makes a user with an ECC meta key and an RSA visa key.
func newTestUser(t *testing.T, name string) *dimp.Identity {
	t.Helper()
	sign, _ := crypto.GenerateECC()
	visa, _ := crypto.GenerateRSA(1024)
	u, err := dimp.NewIdentity(dimp.User, dimp.MetaMKM, name, "", sign, visa)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// newTestID makes a valid ID of type t.
func newTestID(tb testing.TB, t dimp.EntityType, name string) dimp.ID {
	tb.Helper()
	sign, _ := crypto.GenerateECC()
	meta, err := dimp.GenerateMeta(dimp.MetaMKM, sign, name)
	if err != nil {
		tb.Fatal(err)
	}
	id, err := meta.GenerateID(t, "")
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// drainEvents returns what the loop emitted so far.
func drainEvents(l *loop) []Event {
	var out []Event
	for {
		select {
		case ev := <-l.c.events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

// stationReceipt is the station's receipt text about o.
func stationReceipt(l *loop, o *outgoing, text string) (*dimp.ReliableMessage, *dimp.ReceiptCommand) {
	rm := &dimp.ReliableMessage{SecureMessage: dimp.SecureMessage{Envelope: dimp.Envelope{Sender: l.station, Receiver: l.c.me.ID}}}
	r := dimp.NewReceipt(text, &dimp.Origin{Sender: l.c.me.ID, Receiver: o.im.Receiver, SN: o.im.Content.Header().SN})
	return rm, r
}

// A station that refuses a visa query (dimp 2.2 stations know only the
// command name "document"; any station may not know the peer) fails what
// waits for that peer at once, with the station's words, instead of after
// the query timeout.
func TestRefusedQueryFailsAtOnce(t *testing.T) {
	station := newTestID(t, dimp.Station, "s1")
	l, me := newTestLoop(t, station, 1<<10)
	bob := newTestID(t, dimp.User, "bob")

	l.query(bob)
	waiting := &outgoing{id: "w", im: dimp.NewInstantMessage(me.ID, bob, dimp.NewText("hi")), state: Sending, user: true}
	l.waitOut[IDKey(bob)] = []*outgoing{waiting}
	var q *outgoing
	for _, o := range l.outbox {
		if dc, ok := o.im.Content.(*dimp.DocumentCommand); ok && dc.ID.Equal(bob) {
			q = o
		}
	}
	if q == nil {
		t.Fatal("no query in the outbox")
	}
	if name := q.im.Content.(*dimp.DocumentCommand).CommandName(); name != "document" {
		t.Errorf("query written as %q, want \"document\" (what dimchat's apps write)", name)
	}
	l.onReceipt(stationReceipt(l, q, "Command not support."))
	if waiting.state != Failed {
		t.Fatalf("waiting message %v, want Failed", waiting.state)
	}
	var detail string
	for _, ev := range drainEvents(l) {
		if d, ok := ev.(DeliveryEvent); ok && d.ID == "w" {
			detail = d.Detail
		}
	}
	if !strings.Contains(detail, "Command not support.") || !strings.Contains(detail, ErrUnknownPeer.Error()) {
		t.Errorf("failure detail %q, want the station's words", detail)
	}
	if _, still := l.queries[IDKey(bob)]; still {
		t.Error("the refused query is still waited for")
	}
}

// The answer to "active users" from dimchat's station-py is a Markdown
// table; dimples refuses the question. Neither shows up as a chat message,
// and a refusal stops the question for the session.
func TestActiveUsersDialects(t *testing.T) {
	station := newTestID(t, dimp.Station, "s1")
	l, me := newTestLoop(t, station, 1<<10)
	bob := newTestID(t, dimp.User, "bob")
	table := "Totally 3 users\n\n| ID | Sockets |\n|----|---------|\n| " + me.ID.String() +
		" | _('127.0.0.1', 5000)_ |\n| " + bob.String() + " | _('127.0.0.1', 5001)_ _('127.0.0.1', 5002)_ |\n\n2 active users."
	got, ok := parseUserTable(table)
	if !ok || len(got) != 2 || !got[0].Equal(me.ID) || !got[1].Equal(bob) {
		t.Fatalf("parseUserTable = %v, %v", got, ok)
	}
	if _, ok := parseUserTable("hello | ID | there"); ok {
		t.Error("a chat line taken for the table")
	}

	id, err := l.send(station, dimp.NewText("active users"), false)
	if err != nil {
		t.Fatal(err)
	}
	l.usersAsk = id
	rm := &dimp.ReliableMessage{SecureMessage: dimp.SecureMessage{Envelope: dimp.Envelope{Sender: station, Receiver: me.ID}}}
	l.dispatch(rm, dimp.NewInstantMessage(station, me.ID, dimp.NewText(table)), nil)
	evs := drainEvents(l)
	var users *UsersEvent
	for _, ev := range evs {
		switch ev := ev.(type) {
		case UsersEvent:
			users = &ev
		case MessageEvent:
			t.Errorf("the station's table shown as a message")
		}
	}
	if users == nil || len(users.Users) != 2 || users.Unlisted {
		t.Fatalf("users event %+v", users)
	}

	// Asked again, refused: unlisted from now on in this session.
	id, _ = l.send(station, dimp.NewText("active users"), false)
	l.usersAsk = id
	l.onReceipt(stationReceipt(l, l.outbox[id], "Content not support."))
	users = nil
	for _, ev := range drainEvents(l) {
		if ev, ok := ev.(UsersEvent); ok {
			users = &ev
		}
	}
	if users == nil || !users.Unlisted || !l.usersUnlisted {
		t.Fatalf("after a refusal: event %+v, unlisted %v", users, l.usersUnlisted)
	}
	l.onRunning()
	if l.usersUnlisted {
		t.Error("a new session still counts the old refusal")
	}
}
