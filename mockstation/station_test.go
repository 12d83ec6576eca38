package mockstation_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/mockstation"
)

func TestHandshake(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice := user(t, "alice")
	c := dial(t, st.url, alice)
	got := c.handshake()
	want := []dimp.HandshakeState{dimp.HandshakeStart, dimp.HandshakeAgain, dimp.HandshakeRestart, dimp.HandshakeSuccess}
	if !slices.Equal(got, want) {
		t.Errorf("handshake states %v, want %v", got, want)
	}
	if !c.station.ID.Equal(st.srv.ID()) {
		t.Errorf("station ID %s, want %s", c.station.ID, st.srv.ID())
	}
	s := st.status(t)
	if s.Sessions != 1 || !slices.Equal(s.Users, []string{alice.ID.String()}) {
		t.Errorf("status after handshake: %+v", s)
	}

	// Handshaking again on the same connection with the key: DIM! again.
	c.send(st.srv.ID(), dimp.NewHandshake(dimp.HandshakeHello, c.session))
	if hs, ok := c.next().im.Content.(*dimp.HandshakeCommand); !ok || hs.State() != dimp.HandshakeSuccess {
		t.Errorf("second restart: %v", hs)
	}
	// A wrong key: DIM? with the right one.
	c.send(st.srv.ID(), dimp.NewHandshake(dimp.HandshakeHello, strings.Repeat("0", 64)))
	if hs, ok := c.next().im.Content.(*dimp.HandshakeCommand); !ok || hs.State() != dimp.HandshakeAgain || hs.Session != c.session {
		t.Errorf("wrong key: %v", hs)
	}
	// A client may not send DIM?.
	c.send(st.srv.ID(), dimp.NewHandshake(dimp.HandshakeAsk, c.session))
	c.receipt("Command not support.")
	// An empty forward (dimchat's Python SDK answers a forwarded login
	// so) is taken without an answer.
	c.send(st.srv.ID(), &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward)})
	c.quiet(100 * time.Millisecond)

	// Every connection gets its own key.
	c2 := dial(t, st.url, alice)
	c2.handshake()
	if c2.session == c.session {
		t.Error("two connections share a session key")
	}
	if s := st.status(t); s.Sessions != 2 || s.UsersOnline != 1 {
		t.Errorf("status with two sessions: %+v", s)
	}
}

func TestHeldBeforeHandshake(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob := user(t, "alice"), user(t, "bob")
	b := connect(t, st.url, bob)
	b.know(alice)

	a := dial(t, st.url, alice)
	a.know(bob)
	// A message to bob before any handshake, meta and visa attached so that
	// the station can check it and answer: held, and DIM? with force.
	early := a.seal(bob.ID, dimp.NewText("too early"), true)
	a.sendRM(early)
	raw := a.nextFrame()
	ask, err := dimp.ParseReliableMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	a.station, err = dimp.ProfileFromMessage(ask)
	if err != nil {
		t.Fatalf("DIM? before the handshake carries no station profile: %v", err)
	}
	opened, err := a.packer.Open(ask, a.station)
	if err != nil {
		t.Fatal(err)
	}
	hs, ok := opened.Content.(*dimp.HandshakeCommand)
	if !ok || hs.State() != dimp.HandshakeAgain || !hs.Force {
		t.Fatalf("want DIM? with force, got %s", dimp.MarshalContent(opened.Content))
	}
	b.quiet(100 * time.Millisecond) // not routed yet

	a.handshake()
	// After DIM! the held message is routed.
	if got := b.fromPeer(alice); got.im.Content.(*dimp.TextContent).Text != "too early" {
		t.Errorf("bob got %s", dimp.MarshalContent(got.im.Content))
	}
	r := a.receipt(dimp.ReceiptDelivered)
	if r.Origin == nil || r.Origin.Signature != early.SignatureText() {
		t.Errorf("receipt origin %+v, want signature of the held message", r.Origin)
	}
}

func TestExchange(t *testing.T) {
	st := startStation(t, mockstation.Config{TimeWindow: 10 * time.Minute})
	alice, bob := user(t, "alice"), user(t, "bob")
	a, b := connect(t, st.url, alice), connect(t, st.url, bob)
	a.know(bob)
	b.know(alice)

	extra := dimp.Fields{}
	extra.Set("score", 42)
	cases := []struct {
		name     string
		from, to *client
		content  dimp.Content
	}{
		{"text a→b", a, b, dimp.NewText("hello bob")},
		{"text b→a", b, a, dimp.NewText("hi alice")},
		{"app a→b", a, b, dimp.NewAppContent(dimp.ContentApplication, "chat.dim.demo", "game", "move", extra)},
		{"customized b→a", b, a, dimp.NewAppContent(dimp.ContentCustomized, "chat.dim.demo", "game", "move", extra)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sent := tc.from.send(tc.to.me.ID, tc.content)
			got := tc.to.fromPeer(tc.from.me)
			if got.rm.SignatureText() != sent.SignatureText() || got.rm.Data != sent.Data {
				t.Error("the station changed the message it routed")
			}
			if want, have := dimp.MarshalContent(tc.content), dimp.MarshalContent(got.im.Content); string(want) != string(have) {
				t.Errorf("content\n got %s\nwant %s", have, want)
			}
			r := tc.from.receipt(dimp.ReceiptDelivered)
			if !r.Recipient.Equal(tc.to.me.ID) || r.Origin == nil || r.Origin.Signature != sent.SignatureText() {
				t.Errorf("delivered receipt: recipient %s, origin %+v", r.Recipient, r.Origin)
			}
			// The receiver's own receipt goes back through the station.
			tc.to.ack(got.rm)
			back := tc.to.send(tc.from.me.ID, dimp.NewReceipt(dimp.ReceiptReceived, dimp.OriginOf(got.rm, got.im.Content.Header().SN)))
			tc.to.receipt(dimp.ReceiptDelivered)
			rr, ok := tc.from.fromPeer(tc.to.me).im.Content.(*dimp.ReceiptCommand)
			if !ok || rr.Text != dimp.ReceiptReceived || rr.Origin.Signature != sent.SignatureText() {
				t.Errorf("peer receipt: %+v", rr)
			}
			tc.from.ack(back)
		})
	}
	waitStored(t, st, 0)
}

// waitStored waits until the station stores n messages.
func waitStored(t *testing.T, st *station, n int64) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		s := st.status(t)
		if s.StoredMessages == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored messages %d, want %d", s.StoredMessages, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOfflineThenDelivered(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob := user(t, "alice"), user(t, "bob")
	// bob introduces himself once, so the station knows his visa.
	st.disconnect(t, connect(t, st.url, bob))

	a := connect(t, st.url, alice)
	a.know(bob)
	var sent []*dimp.ReliableMessage
	for _, text := range []string{"one", "two", "three"} {
		sent = append(sent, a.send(bob.ID, dimp.NewText(text)))
		a.receipt(dimp.ReceiptCached)
	}
	waitStored(t, st, 3)

	b := connect(t, st.url, bob)
	b.know(alice)
	for i, want := range sent { // oldest first, right after DIM!
		got := b.fromPeer(alice)
		if got.rm.SignatureText() != want.SignatureText() {
			t.Fatalf("message %d out of order: %s", i, dimp.MarshalContent(got.im.Content))
		}
		b.ack(got.rm)
	}
	waitStored(t, st, 0)
}

// copyDir copies the files of a running station's data directory: what a
// killed station leaves on disk at that instant (SQLite's WAL holds every
// committed transaction).
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		in, err := os.Open(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(to, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		out.Close()
	}
	return to
}

func TestRestart(t *testing.T) {
	alice, bob := user(t, "alice"), user(t, "bob")
	for _, mode := range []string{"shut down", "killed"} {
		t.Run(mode, func(t *testing.T) {
			st := startStation(t, mockstation.Config{})
			st.disconnect(t, connect(t, st.url, bob))
			a := connect(t, st.url, alice)
			a.know(bob)
			sent := a.send(bob.ID, dimp.NewText("while you were away"))
			a.receipt(dimp.ReceiptCached) // the promise: it is on disk now

			dir := st.dir
			if mode == "killed" {
				dir = copyDir(t, st.dir) // the station goes on running; the copy never closed
			} else {
				st.stop()
			}
			st2 := startStation(t, mockstation.Config{DataDir: dir})
			if st2.srv.ID() != st.srv.ID() {
				t.Fatalf("identity changed: %s, was %s", st2.srv.ID(), st.srv.ID())
			}
			b := connect(t, st2.url, bob)
			b.know(alice)
			got := b.fromPeer(alice)
			if got.rm.SignatureText() != sent.SignatureText() {
				t.Fatal("another message")
			}
			b.ack(got.rm)
			waitStored(t, st2, 0)
		})
	}
}

func TestRedeliveryUntilAcknowledged(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob := user(t, "alice"), user(t, "bob")
	b := connect(t, st.url, bob)
	b.know(alice)
	a := connect(t, st.url, alice)
	a.know(bob)

	sent := a.send(bob.ID, dimp.NewText("ack me"))
	a.receipt(dimp.ReceiptDelivered)
	b.fromPeer(alice) // received, not acknowledged
	b.close()
	waitStored(t, st, 1)

	b = connect(t, st.url, bob)
	b.know(alice)
	got := b.fromPeer(alice)
	if got.rm.SignatureText() != sent.SignatureText() {
		t.Fatal("another message redelivered")
	}
	b.quiet(100 * time.Millisecond) // once per session
	// An ACK for something else changes nothing; a receipt to the station
	// naming the message acknowledges it as well as an ACK: frame would.
	b.writeFrame(websocket.MessageText, []byte(`ACK:{"time":1,"signature":"bm90IHNlbnQ="}`))
	b.send(st.srv.ID(), dimp.NewReceipt(dimp.ReceiptReceived, dimp.OriginOf(got.rm, 0)))
	waitStored(t, st, 0)
	b.close()

	b = connect(t, st.url, bob)
	b.quiet(200 * time.Millisecond)
}

func TestDuplicateStoredOnce(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob := user(t, "alice"), user(t, "bob")
	st.disconnect(t, connect(t, st.url, bob))
	a := connect(t, st.url, alice)
	a.know(bob)
	rm := a.seal(bob.ID, dimp.NewText("once"), false)
	a.sendRM(rm)
	a.receipt(dimp.ReceiptCached)
	a.sendRM(rm) // a resend after a lost receipt
	a.receipt(dimp.ReceiptCached)
	waitStored(t, st, 1)

	b := connect(t, st.url, bob)
	b.know(alice)
	got := b.fromPeer(alice)
	b.quiet(150 * time.Millisecond)
	b.ack(got.rm)
	waitStored(t, st, 0)

	// A replay after the acknowledgement is not delivered again.
	a.sendRM(rm)
	r := a.receipt(dimp.ReceiptDelivered)
	if !r.Recipient.Equal(bob.ID) {
		t.Errorf("replay receipt recipient %s", r.Recipient)
	}
	b.quiet(150 * time.Millisecond)
	waitStored(t, st, 0)
}

func TestStatusPage(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	s := st.status(t)
	if s.Station != st.srv.ID().String() || s.Started.IsZero() || s.UptimeSeconds <= 0 || s.Users == nil {
		t.Errorf("status: %+v", s)
	}
	c := connect(t, st.url, user(t, "alice"))
	if s := st.status(t); s.Connections != 1 || s.Sessions != 1 || s.UsersOnline != 1 {
		t.Errorf("status with one client: %+v", s)
	}
	c.close()
	deadline := time.Now().Add(waitFor)
	for st.status(t).Connections != 0 {
		if time.Now().After(deadline) {
			t.Fatal("connection still counted after close")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestShutdownClosesSessions(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	c := connect(t, st.url, user(t, "alice"))
	st.srv.Close()
	var ce websocket.CloseError
	if err := c.closeErr(); !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway {
		t.Errorf("closed with %v, want going away", err)
	}
}

// TestPipelinedOrder has several senders write many messages to one
// receiver at once, each mixed with questions to the station: the station
// verifies ahead while earlier messages wait for their commit, and must
// still answer each sender in the order it sent (receipts and the
// station's own answers), and deliver every message exactly once, each
// sender's in order.
func TestPipelinedOrder(t *testing.T) {
	const senders, each, askEvery = 3, 100, 20
	st := startStation(t, mockstation.Config{RateLimit: -1})
	recv := user(t, "receiver")
	r := connect(t, st.url, recv)
	type sent struct {
		sig  string // a routed message's signature; "" for a question to the station
		text string
	}
	var plans [senders][]sent
	var cs [senders]*client
	for i := range cs {
		me := user(t, fmt.Sprint("sender", i))
		cs[i] = connect(t, st.url, me)
		cs[i].know(recv)
		r.know(me)
	}
	var frames [senders][][]byte
	for i, c := range cs {
		for k := range each {
			if k%askEvery == askEvery-1 {
				raw, _ := c.seal(st.srv.ID(), dimp.NewText("active users"), false).MarshalJSON()
				frames[i] = append(frames[i], raw)
				plans[i] = append(plans[i], sent{})
			}
			text := fmt.Sprintf("%d-%03d", i, k)
			rm := c.seal(recv.ID, dimp.NewText(text), false)
			raw, _ := rm.MarshalJSON()
			frames[i] = append(frames[i], raw)
			plans[i] = append(plans[i], sent{sig: rm.SignatureText(), text: text})
		}
	}
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for _, raw := range frames[i] {
				if err := c.ws.Write(context.Background(), websocket.MessageText, raw); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for n, want := range plans[i] {
				got := c.next()
				switch content := got.im.Content.(type) {
				case *dimp.ReceiptCommand:
					if want.sig == "" || content.Origin == nil || content.Origin.Signature != want.sig {
						t.Errorf("sender %d, answer %d: receipt %q for another message, want the answer to %q",
							i, n, content.Text, want.text)
						return
					}
					if content.Text != dimp.ReceiptDelivered {
						t.Errorf("sender %d: receipt %q for %s", i, content.Text, want.text)
					}
				case *dimp.TextContent:
					if want.sig != "" {
						t.Errorf("sender %d, answer %d: the station's text before the receipt for %s", i, n, want.text)
						return
					}
				default:
					t.Errorf("sender %d: unexpected %s", i, dimp.MarshalContent(content))
					return
				}
			}
		}()
	}
	next := map[int]int{} // sender → the number of its next message
	for range senders * each {
		got := r.next()
		var i, k int
		if _, err := fmt.Sscanf(got.im.Content.(*dimp.TextContent).Text, "%d-%03d", &i, &k); err != nil {
			t.Fatal(err)
		}
		if k != next[i] {
			t.Fatalf("from sender %d: message %d, want %d (lost, repeated or out of order)", i, k, next[i])
		}
		next[i]++
		r.ack(got.rm)
	}
	r.quiet(100 * time.Millisecond)
	wg.Wait()
	waitStored(t, st, 0)
}

// TestForwardToStation: the messages of a forward content to the station
// are handled as if sent one by one (dimchat's browser client wraps its
// receipts so): routed to their receivers and answered, each checked like
// any message; a forward inside a forward is not unwrapped.
func TestForwardToStation(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob, carol := user(t, "alice"), user(t, "bob"), user(t, "carol")
	b := connect(t, st.url, bob)
	b.know(alice)
	a := connect(t, st.url, alice)
	a.know(bob)
	wrap := func(msgs ...*dimp.ReliableMessage) *dimp.ForwardContent {
		return &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward), Secrets: msgs}
	}

	inner := a.seal(bob.ID, dimp.NewText("inside a forward"), false)
	a.send(st.srv.ID(), wrap(inner))
	if got := b.fromPeer(alice); got.rm.SignatureText() != inner.SignatureText() {
		t.Fatal("bob got another message")
	}
	if r := a.receipt(dimp.ReceiptDelivered); r.Origin == nil || r.Origin.Signature != inner.SignatureText() {
		t.Errorf("receipt for %+v, want the inner message", r.Origin)
	}

	// Not alice's to send: refused as if sent directly.
	c := dial(t, st.url, carol)
	c.know(bob)
	forged := c.seal(bob.ID, dimp.NewText("carol's"), false)
	a.send(st.srv.ID(), wrap(forged))
	a.receipt("Sender not handshaken on this connection.")
	b.quiet(100 * time.Millisecond)

	// One level only.
	a.send(st.srv.ID(), wrap(a.seal(st.srv.ID(), wrap(a.seal(bob.ID, dimp.NewText("deep"), false)), false)))
	a.receipt("Content not support.")
	b.quiet(100 * time.Millisecond)
}
