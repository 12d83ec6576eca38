package mockstation_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
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

func TestBadInput(t *testing.T) {
	alice, bob, mallory := user(t, "alice"), user(t, "bob"), user(t, "mallory")
	st := startStation(t, mockstation.Config{MaxFrame: 64 << 10, TimeWindow: time.Minute})
	st.disconnect(t, connect(t, st.url, bob))
	st.disconnect(t, connect(t, st.url, mallory))

	// mutate returns a copy of a valid message to bob with one member set
	// to raw JSON (or removed when raw is "").
	valid := func(c *client) *dimp.ReliableMessage { return c.seal(bob.ID, dimp.NewText("x"), false) }
	mutate := func(c *client, member, raw string) []byte {
		b, _ := valid(c).MarshalJSON()
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if raw == "" {
			delete(m, member)
		} else {
			m[member] = json.RawMessage(raw)
		}
		out, _ := json.Marshal(m)
		return out
	}
	cases := []struct {
		name    string
		frame   func(c *client) []byte
		receipt string // the answer; "" when it is not a receipt
		noError bool   // not a refusal: the receipt carries no error detail
	}{
		{name: "invalid JSON", frame: func(*client) []byte { return []byte(`{"sender": "alice@`) }, receipt: "Message not valid."},
		{name: "binary junk", frame: func(*client) []byte { return []byte{0xff, 0x00, 0x13, 0x37, 0x80} }, receipt: "Message not valid."},
		{name: "JSON array", frame: func(*client) []byte { return []byte(`[1,2,3]`) }, receipt: "Message not valid."},
		{name: "deeply nested", frame: func(*client) []byte {
			return []byte(`{"sender":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`)
		}, receipt: "Message not valid."},
		{name: "bad base64 data", frame: func(c *client) []byte { return mutate(c, "data", `"!!!not base64!!!"`) }, receipt: "Message not valid."},
		{name: "bad base64 signature", frame: func(c *client) []byte { return mutate(c, "signature", `"%%%"`) }, receipt: "Message not valid."},
		{name: "unsigned", frame: func(c *client) []byte { return mutate(c, "signature", "") }, receipt: "Message not signed."},
		{name: "wrong signature", frame: func(c *client) []byte {
			other, _ := valid(c).MarshalJSON()
			var m map[string]json.RawMessage
			json.Unmarshal(other, &m)
			return mutate(c, "signature", string(m["data"]))
		}, receipt: "Signature not verified."},
		{name: "forged sender", frame: func(*client) []byte {
			// A genuine message of mallory's, sent on alice's connection.
			m := dial(t, st.url, mallory)
			m.know(bob)
			b, _ := m.seal(bob.ID, dimp.NewText("from mallory"), false).MarshalJSON()
			return b
		}, receipt: "Sender not handshaken on this connection."},
		{name: "time out of window", frame: func(c *client) []byte { return mutate(c, "time", "1000000000") }, receipt: "Message time out of window."},
		{name: "bad attached meta", frame: func(c *client) []byte {
			b, _ := mallory.Meta.MarshalJSON()
			return mutate(c, "meta", string(b))
		}, receipt: "Meta does not match the sender."},
		{name: "wrong session key", frame: func(c *client) []byte {
			b, _ := c.seal(st.srv.ID(), dimp.NewHandshake(dimp.HandshakeHello, "not-the-key"), false).MarshalJSON()
			return b
		}, receipt: ""},
		{name: "unknown command", frame: func(c *client) []byte {
			b, _ := c.seal(st.srv.ID(), dimp.NewListCommand("frobnicate", nil), false).MarshalJSON()
			return b
		}, receipt: "Command not support.", noError: true},
		{name: "group receiver", frame: func(c *client) []byte {
			group, err := alice.Meta.GenerateID(dimp.Group, "")
			if err != nil {
				t.Fatal(err)
			}
			im := dimp.NewInstantMessage(alice.ID, group, dimp.NewText("to the group"))
			rm, err := c.packer.Seal(im, []*dimp.Profile{bob.Profile()}, dimp.SealOptions{})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := rm.MarshalJSON()
			return b
		}, receipt: "Group message not supported: send it to each member."},
	}
	a := connect(t, st.url, alice)
	a.know(bob)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a.writeFrame(websocket.MessageBinary, tc.frame(a))
			if tc.receipt != "" {
				r := a.receipt(tc.receipt)
				if r.Header().Extra["error"] == nil && !tc.noError {
					t.Errorf("refusal without error detail: %s", dimp.MarshalContent(r))
				}
			} else if hs, ok := a.next().im.Content.(*dimp.HandshakeCommand); !ok || hs.State() != dimp.HandshakeAgain {
				t.Errorf("want DIM?, got %v", hs)
			}
			// Still serving, on the same connection.
			a.send(bob.ID, dimp.NewText("still there?"))
			a.receipt(dimp.ReceiptCached)
		})
	}

	// dave never introduced himself and attaches nothing.
	d := dial(t, st.url, user(t, "dave"))
	d.know(bob)
	unknown, _ := d.seal(bob.ID, dimp.NewText("who am I?"), false).MarshalJSON()
	d.close()
	closing := []struct {
		name  string
		early bool // before the handshake
		frame []byte
		code  websocket.StatusCode
	}{
		{"junk before handshake", true, []byte("GET / HTTP/1.1"), websocket.StatusPolicyViolation},
		{"unknown sender before handshake", true, unknown, websocket.StatusPolicyViolation},
		{"oversized frame", false, []byte(`{"data":"` + strings.Repeat("A", 70<<10) + `"}`), websocket.StatusMessageTooBig},
	}
	for _, tc := range closing {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, st.url, alice)
			if !tc.early {
				c.handshake()
			}
			c.writeFrame(websocket.MessageText, tc.frame)
			err := c.closeErr()
			var ce websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tc.code || ce.Reason == "" {
				t.Fatalf("closed with %v, want status %d and a reason", err, tc.code)
			}
			t.Logf("closed: %d %q", ce.Code, ce.Reason)
		})
	}
	// The station still serves.
	a.send(bob.ID, dimp.NewText("after all that"))
	a.receipt(dimp.ReceiptCached)
	connect(t, st.url, alice).close()
}

func TestRateLimit(t *testing.T) {
	st := startStation(t, mockstation.Config{RateLimit: 1, RateBurst: 5})
	c := dial(t, st.url, user(t, "alice"))
	for range 10 { // the station closes the connection on the sixth
		if err := c.ws.Write(t.Context(), websocket.MessageText, []byte("PING")); err != nil {
			break
		}
	}
	var pongs int
	for f := range c.frames {
		if string(f) == "PONG" {
			pongs++
		}
	}
	var ce websocket.CloseError
	if err := c.closeErr(); !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation {
		t.Fatalf("closed with %v, want policy violation", err)
	}
	if pongs != 5 {
		t.Errorf("%d PONGs before the limit, want 5", pongs)
	}
}

func TestControlFrames(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	c := connect(t, st.url, user(t, "alice"))
	for _, f := range []string{"PONG", "NOOP", "OK", "", "ACK:not json", `ACK:{"signature":"x"}`} {
		c.writeFrame(websocket.MessageText, []byte(f))
	}
	c.writeFrame(websocket.MessageBinary, []byte("PING"))
	if f := c.nextFrame(); string(f) != "PONG" {
		t.Errorf("PING answered %q", f)
	}
	// Several messages in one frame, one per line.
	var lines []string
	for _, text := range []string{"active users", "active users"} {
		b, _ := c.seal(st.srv.ID(), dimp.NewText(text), false).MarshalJSON()
		lines = append(lines, string(b))
	}
	c.writeFrame(websocket.MessageText, []byte(strings.Join(lines, "\n")+"\n"))
	for range lines {
		if _, ok := c.next().im.Content.(*dimp.TextContent); !ok {
			t.Error("a line went unanswered")
		}
	}
}

func TestBlockAndMute(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob, carol := user(t, "alice"), user(t, "bob"), user(t, "carol")
	st.disconnect(t, connect(t, st.url, carol))
	b := connect(t, st.url, bob)
	b.send(st.srv.ID(), dimp.NewListCommand(dimp.CmdBlock, []dimp.ID{alice.ID}))
	b.receipt("Block received.")
	b.send(st.srv.ID(), dimp.NewListCommand(dimp.CmdMute, []dimp.ID{carol.ID}))
	b.receipt("Mute received.")
	for _, q := range []struct {
		name string
		want dimp.ID
	}{{dimp.CmdBlock, alice.ID}, {dimp.CmdMute, carol.ID}} {
		b.send(st.srv.ID(), dimp.NewListCommand(q.name, nil))
		l, ok := b.next().im.Content.(*dimp.ListCommand)
		if !ok || l.CommandName() != q.name || !l.HasList || len(l.List) != 1 || !l.List[0].Equal(q.want) {
			t.Errorf("%s list query: %+v", q.name, l)
		}
	}
	b.close()

	a := connect(t, st.url, alice)
	a.know(bob)
	a.send(bob.ID, dimp.NewText("let me in"))
	a.receipt("Message is blocked by the receiver.")
	c := connect(t, st.url, carol)
	c.know(bob)
	c.send(bob.ID, dimp.NewText("muted is not blocked"))
	c.receipt(dimp.ReceiptCached)
	waitStored(t, st, 1)
}

func TestActiveUsersAndBroadcast(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob := user(t, "alice"), user(t, "bob")
	a, b := connect(t, st.url, alice), connect(t, st.url, bob)
	a.know(bob)
	b.know(alice)

	a.send(st.srv.ID(), dimp.NewText("active users"))
	txt, ok := a.next().im.Content.(*dimp.TextContent)
	if !ok {
		t.Fatal("no text answer")
	}
	var users []string
	json.Unmarshal(txt.Extra["users"], &users)
	want := []string{alice.ID.String(), bob.ID.String()}
	slices.Sort(want)
	if !slices.Equal(users, want) || txt.Text != strings.Join(want, "\n") {
		t.Errorf("active users %q %v, want %v", txt.Text, users, want)
	}

	// A text to everyone reaches bob; alice learns who it reached.
	a.send(dimp.Everyone, dimp.NewText("hello everyone"))
	if got := b.fromPeer(alice); got.im.Content.(*dimp.TextContent).Text != "hello everyone" {
		t.Errorf("bob got %s", dimp.MarshalContent(got.im.Content))
	}
	r := a.receipt("Message forwarded.")
	var recipients []string
	json.Unmarshal(r.Extra["recipients"], &recipients)
	if !slices.Equal(recipients, []string{bob.ID.String()}) {
		t.Errorf("recipients %v", recipients)
	}

	// A login to everyone is processed by the station too.
	login := dimp.NewLogin(alice.ID, "test", &dimp.LoginStation{ID: st.srv.ID(), Host: "127.0.0.1", Port: 9394})
	a.send(dimp.Everyone, login)
	if got := b.fromPeer(alice); got.im.Content.(*dimp.LoginCommand) == nil {
		t.Error("bob did not get the login")
	}
	a.receipt("Login received.")

	// bob goes offline by report: messages wait; back online: delivered.
	b.send(dimp.AnyStation, dimp.NewReport(dimp.ReportOffline))
	b.quiet(100 * time.Millisecond)
	if s := st.status(t); s.UsersOnline != 1 {
		t.Errorf("users online after report offline: %d", s.UsersOnline)
	}
	a.send(bob.ID, dimp.NewText("are you there?"))
	a.receipt(dimp.ReceiptCached)
	b.send(dimp.AnyStation, dimp.NewReport(dimp.ReportOnline))
	// The receipt and the waiting message, in either order.
	var gotReceipt, gotText bool
	for range 2 {
		switch m := b.next(); c := m.im.Content.(type) {
		case *dimp.ReceiptCommand:
			gotReceipt = c.Text == "Online received."
		case *dimp.TextContent:
			gotText = c.Text == "are you there?"
		}
	}
	if !gotReceipt || !gotText {
		t.Errorf("after report online: receipt %v, message %v", gotReceipt, gotText)
	}
}

func TestMetaAndDocuments(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, carol := user(t, "alice"), user(t, "carol")
	a := connect(t, st.url, alice)
	to := st.srv.ID()

	// Queries about someone unknown.
	a.send(to, dimp.NewMetaCommand(carol.ID, nil))
	a.receipt("Meta not found.")
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, nil))
	a.receipt("Document not found.")

	// A visa before its meta cannot be checked.
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, []*dimp.Document{carol.Visa}))
	a.receipt("Document not accepted.")
	// A meta that is not carol's.
	a.send(to, dimp.NewMetaCommand(carol.ID, alice.Meta))
	a.receipt("Meta not accepted.")
	a.send(to, dimp.NewMetaCommand(carol.ID, carol.Meta))
	a.receipt("Meta received.")
	a.send(to, dimp.NewMetaCommand(carol.ID, nil))
	if m, ok := a.next().im.Content.(*dimp.MetaCommand); !ok || m.Meta == nil || m.Meta.MatchID(carol.ID) != nil {
		t.Errorf("meta query answered %+v", m)
	}

	// A tampered visa, then the real one, twice.
	bad := *carol.Visa
	bad.Data = strings.Replace(bad.Data, "carol", "karol", 1)
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, []*dimp.Document{&bad}))
	a.receipt("Document not accepted.")
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, []*dimp.Document{carol.Visa}))
	a.receipt("Document received.")
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, []*dimp.Document{carol.Visa}))
	a.receipt("Document not changed.")

	// The query answers with the visa; one that has it already is told so.
	// Asked the dimp 2.4 way (command "documents"), answered so.
	q := dimp.NewDocumentCommand(carol.ID, nil, nil)
	q.Name = dimp.CmdDocuments
	a.send(to, q)
	d, ok := a.next().im.Content.(*dimp.DocumentCommand)
	if !ok || len(d.Documents) != 1 || d.Documents[0].Data != carol.Visa.Data || d.Meta == nil {
		t.Fatalf("documents query answered %+v", d)
	}
	if d.CommandName() != dimp.CmdDocuments {
		t.Errorf("a documents query answered with command %q", d.CommandName())
	}
	// Asked the way dimchat's apps (and dimtui) ask, command "document",
	// answered so.
	old := dimp.NewDocumentCommand(carol.ID, nil, nil)
	a.send(to, old)
	if d, ok := a.next().im.Content.(*dimp.DocumentCommand); !ok || d.CommandName() != "document" || len(d.Documents) != 1 {
		t.Errorf("a document query answered %+v", d)
	}
	q = dimp.NewDocumentCommand(carol.ID, nil, nil)
	q.LastTime = carol.Visa.Time()
	a.send(to, q)
	a.receipt("Document not updated.")

	// Queries to station@anywhere are broadcasts, answered the same way, and
	// the station's own profile can be asked for.
	a.send(dimp.AnyStation, dimp.NewDocumentCommand(st.srv.ID(), nil, nil))
	got := a.next()
	if d, ok := got.im.Content.(*dimp.DocumentCommand); !ok || len(d.Documents) != 1 || !d.ID.Equal(st.srv.ID()) {
		t.Errorf("station documents: %s", dimp.MarshalContent(got.im.Content))
	}
	if got.rm.Meta == nil {
		t.Error("first answer to station@anywhere without the station's meta")
	}

	// Once carol logged in, a query for her documents also forwards her login.
	c := connect(t, st.url, carol)
	c.send(to, dimp.NewLogin(carol.ID, "test", &dimp.LoginStation{ID: st.srv.ID()}))
	c.receipt("Login received.")
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, nil))
	if _, ok := a.next().im.Content.(*dimp.DocumentCommand); !ok {
		t.Fatal("no documents answer")
	}
	if f, ok := a.next().im.Content.(*dimp.ForwardContent); !ok || len(f.Secrets) != 1 || !f.Secrets[0].Sender.Equal(carol.ID) {
		t.Errorf("no forwarded login: %+v", f)
	}
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

// TestGarbage feeds randomly damaged copies of valid messages to the
// station: every one is answered or ignored, none crashes it, and the
// connection keeps serving in order.
func TestGarbage(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob := user(t, "alice"), user(t, "bob")
	st.disconnect(t, connect(t, st.url, bob))
	a := connect(t, st.url, alice)
	a.know(bob)
	rng := rand.New(rand.NewPCG(1, 2))
	templates := [][]byte{}
	for _, to := range []dimp.ID{bob.ID, st.srv.ID(), dimp.AnyStation, dimp.Everyone} {
		b, _ := a.seal(to, dimp.NewText("garbage in"), true).MarshalJSON()
		templates = append(templates, b)
	}
	for range 300 {
		b := slices.Clone(templates[rng.IntN(len(templates))])
		switch rng.IntN(4) {
		case 0: // flip some bytes
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
		case 1: // cut it short
			b = b[:rng.IntN(len(b))]
		case 2: // repeat a slice of it inside
			i, j := rng.IntN(len(b)), rng.IntN(len(b))
			if i > j {
				i, j = j, i
			}
			b = slices.Concat(b[:j], b[i:j], b[j:])
		case 3: // a digit or quote somewhere
			b[rng.IntN(len(b))] = "0\"{}[],:\\"[rng.IntN(9)]
		}
		if len(b) > 0 && (b[0] == 'P' || b[0] == 'A' || b[0] == 'N' || b[0] == 'O') {
			continue // not a control payload by accident
		}
		a.writeFrame(websocket.MessageBinary, b)
	}
	sentinel := a.send(bob.ID, dimp.NewText("sentinel"))
	for {
		raw := a.nextFrame()
		rm, err := dimp.ParseReliableMessage(raw)
		if err != nil || !rm.Sender.Equal(st.srv.ID()) {
			continue // a broadcast echoed to... nobody else is online; skip anything odd
		}
		im, err := a.packer.Open(rm, a.station)
		if err != nil {
			t.Fatalf("station answer does not open: %v", err)
		}
		if r, ok := im.Content.(*dimp.ReceiptCommand); ok && r.Origin != nil && r.Origin.Signature == sentinel.SignatureText() {
			if r.Text != dimp.ReceiptCached {
				t.Errorf("sentinel: %q", r.Text)
			}
			break
		}
	}
	connect(t, st.url, alice).close()
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

// TestNoPaddingOracle sends the station messages whose key fails in
// different ways — not RSA at all, RSA that decrypts to a random key, RSA
// with bad padding — and checks that every refusal reads the same: a
// station that told them apart would be a PKCS#1 v1.5 padding oracle.
func TestNoPaddingOracle(t *testing.T) {
	alice := user(t, "alice")
	st := startStation(t, mockstation.Config{})
	a := connect(t, st.url, alice)
	stationKey, err := st.srv.Profile().EncryptKeys()
	if err != nil {
		t.Fatal(err)
	}
	size := 128 // the station's RSA-1024 visa key
	withKey := func(ek []byte) []byte {
		rm := a.seal(st.srv.ID(), dimp.NewText("active users"), false)
		for k := range rm.Keys {
			rm.Keys[k] = base64.StdEncoding.EncodeToString(ek)
		}
		data, _ := rm.DataBytes()
		rm.Signature, _ = alice.SignKey.Sign(data)
		raw, _ := rm.MarshalJSON()
		return raw
	}
	garbageKey, _ := stationKey[0].Key.Encrypt([]byte("not a key map at all"))
	cases := map[string][]byte{
		"bad padding":       withKey(bytes.Repeat([]byte{0x42}, size)),
		"wrong length":      withKey([]byte{1, 2, 3}),
		"decrypts to junk":  withKey(garbageKey),
		"a real random key": withKey(mustEncrypt(t, stationKey[0].Key, `{"algorithm":"AES","data":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`)),
	}
	var first string
	for name, frame := range cases {
		a.writeFrame(websocket.MessageBinary, frame)
		r := a.receipt("Message not decrypted.")
		got := r.Text + " / " + string(r.Extra["error"])
		if first == "" {
			first = got
		} else if got != first {
			t.Errorf("%s: refusal %q differs from %q", name, got, first)
		}
	}
}

func mustEncrypt(t *testing.T, k crypto.EncryptKey, plain string) []byte {
	t.Helper()
	ct, err := k.Encrypt([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	return ct
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
