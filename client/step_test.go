package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
)

// connectStepping connects like connect, with step-through on from the start.
func connectStepping(t *testing.T, url string, u *dimp.Identity, mode client.StepMode) *peer {
	t.Helper()
	c, err := client.New(client.Config{URL: url, Identity: u, MinBackoff: 50 * time.Millisecond,
		MaxBackoff: 500 * time.Millisecond, EventBuffer: 1 << 16, Step: mode})
	if err != nil {
		t.Fatal(err)
	}
	return watch(t, c)
}

// held returns the held events seen so far, and which of them were released.
func held(evs []client.Event) (list []client.HeldEvent, released map[uint64]client.ReleasedEvent) {
	released = map[uint64]client.ReleasedEvent{}
	for _, ev := range evs {
		switch e := ev.(type) {
		case client.HeldEvent:
			list = append(list, e)
		case client.ReleasedEvent:
			released[e.Seq] = e
		}
	}
	return list, released
}

// waitHeld waits for the held frame with sequence number seq.
func (p *peer) waitHeld(what string, seq uint64) client.HeldEvent {
	p.t.Helper()
	var found client.HeldEvent
	p.waitFor(what, 10*time.Second, func(evs []client.Event) bool {
		list, _ := held(evs)
		for _, h := range list {
			if h.Seq == seq {
				found = h
				return true
			}
		}
		return false
	})
	return found
}

// waitHeldText waits for an outgoing text held by step-through.
func (p *peer) waitHeldText(text string) client.HeldEvent {
	p.t.Helper()
	var found client.HeldEvent
	p.waitFor("the text "+text+" held", 10*time.Second, func(evs []client.Event) bool {
		list, _ := held(evs)
		for _, h := range list {
			if h.Dir != client.Out || h.Layers == nil || h.Layers.Instant == nil {
				continue
			}
			if tc, ok := h.Layers.Instant.Content.(*dimp.TextContent); ok && tc.Text == text {
				found = h
				return true
			}
		}
		return false
	})
	return found
}

func (p *peer) count(match func(client.Event) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return count(p.events, match)
}

func count(evs []client.Event, match func(client.Event) bool) int {
	n := 0
	for _, ev := range evs {
		if match(ev) {
			n++
		}
	}
	return n
}

func isFrame(dir client.Direction, kind client.FrameKind) func(client.Event) bool {
	return func(ev client.Event) bool {
		f, ok := ev.(client.FrameEvent)
		return ok && f.Dir == dir && (kind == "" || f.Kind == kind)
	}
}

// introduce makes a know b's meta and visa, so that messages to b go out
// at once instead of after a query.
func introduce(t *testing.T, a, b *peer) {
	t.Helper()
	if _, err := a.c.Peer(context.Background(), b.c.Me()); err != nil {
		t.Fatal(err)
	}
	a.waitFor("the peer's visa", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if p, ok := ev.(client.PeerEvent); ok && p.Profile.ID.SameAs(b.c.Me()) {
				return true
			}
		}
		return false
	})
}

func handshakeTitle(l *client.Layers) string {
	if l == nil || l.Instant == nil {
		return ""
	}
	if hc, ok := l.Instant.Content.(*dimp.HandshakeCommand); ok {
		return hc.Title
	}
	return ""
}

// TestStepHoldsTheHandshake steps through a whole handshake with every
// frame held, and checks at each step that the held frame really waits:
// the station sees nothing the client holds, and the client does not act
// on what it holds.
func TestStepHoldsTheHandshake(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	ctx := context.Background()
	alice := connectStepping(t, st.url, newUser(t, "alice"), client.StepAll)

	// 1. Hello world! (Start) is held: not written, so the station does
	// not answer.
	h := alice.waitHeld("the first Hello", 1)
	if h.Dir != client.Out || h.Kind != client.KindHandshake || handshakeTitle(h.Layers) != dimp.HandshakeHello {
		t.Fatalf("first held frame %v %s %q, want the outgoing Hello", h.Dir, h.Kind, handshakeTitle(h.Layers))
	}
	if h.Layers.Reliable == nil || h.Layers.Reliable.Meta == nil || !h.Layers.Reliable.Receiver.Equal(dimp.AnyStation) {
		t.Errorf("the first Hello goes to station@anywhere with the meta attached")
	}
	time.Sleep(300 * time.Millisecond)
	if n := alice.count(isFrame(client.Out, "")); n != 0 {
		t.Fatalf("%d frames written while the Hello is held", n)
	}
	if n := alice.count(func(ev client.Event) bool { h, ok := ev.(client.HeldEvent); return ok && h.Dir == client.In }); n != 0 {
		t.Fatalf("the station answered a Hello that was never written")
	}

	// 2. Released, the Hello goes out and DIM? comes back: held, previewed
	// (decrypted without being processed), the state still Start.
	if err := alice.c.Release(ctx, 1); err != nil {
		t.Fatal(err)
	}
	h = alice.waitHeld("DIM?", 2)
	if h.Dir != client.In || handshakeTitle(h.Layers) != dimp.HandshakeAsk || !h.Layers.Verified {
		t.Fatalf("held %v %s %q verified=%v, want the incoming DIM?", h.Dir, h.Kind, handshakeTitle(h.Layers), h.Layers != nil && h.Layers.Verified)
	}
	session := h.Layers.Instant.Content.(*dimp.HandshakeCommand).Session
	time.Sleep(100 * time.Millisecond)
	if s := alice.c.Status(); s.Handshake != dimp.HandshakeStart || s.Session != "" {
		t.Fatalf("DIM? was processed while held: %v session %q", s.Handshake, s.Session)
	}

	// 3. Processing DIM? makes the Restart Hello (held) and the ACK (held).
	if err := alice.c.Release(ctx, 1); err != nil {
		t.Fatal(err)
	}
	h = alice.waitHeld("the Restart Hello", 3)
	alice.waitHeld("the ACK of DIM?", 4)
	if s := alice.c.Status(); s.Handshake != dimp.HandshakeRestart || s.Session != session {
		t.Fatalf("after DIM?: %v session %q", s.Handshake, s.Session)
	}
	if h.Dir != client.Out || handshakeTitle(h.Layers) != dimp.HandshakeHello || h.Layers.Instant.Content.(*dimp.HandshakeCommand).Session != session {
		t.Fatalf("held %v %q, want the Hello with the session key", h.Dir, handshakeTitle(h.Layers))
	}
	status, err := st.srv.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status.Sessions != 0 {
		t.Fatalf("the station opened a session while the Restart Hello is held")
	}

	// 4. Release everything as it comes until the client runs.
	deadline := time.Now().Add(10 * time.Second)
	for alice.c.Status().State != client.Running && time.Now().Before(deadline) {
		if err := alice.c.Release(ctx, 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	alice.waitRunning()
	status, _ = st.srv.Status(ctx)
	if status.Sessions != 1 {
		t.Errorf("station sessions %d after the handshake, want 1", status.Sessions)
	}

	// Every held frame was released once, none dropped, in order, and each
	// one was written (or processed) after it was held.
	alice.mu.Lock()
	defer alice.mu.Unlock()
	list, rel := held(alice.events)
	var order []string
	for i, h := range list[:5] {
		if h.Seq != uint64(i+1) {
			t.Errorf("held frame %d has seq %d", i, h.Seq)
		}
		order = append(order, fmt.Sprintf("%s %s %s", h.Dir, h.Kind, handshakeTitle(h.Layers)))
	}
	want := "[out handshake Hello world! in handshake DIM? out handshake Hello world! out ack  in handshake DIM!]"
	if fmt.Sprint(order) != want {
		t.Errorf("held frames %v\nwant %s", order, want)
	}
	for _, h := range list {
		if r, ok := rel[h.Seq]; ok && r.Dropped {
			t.Errorf("frame %d dropped", h.Seq)
		}
	}
}

// TestStepMessagesHoldsChat holds a running client's messages but not its
// control frames, and releases them in order when stepping is turned off.
func TestStepMessagesHoldsChat(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	ctx := context.Background()
	c, err := client.New(client.Config{URL: st.url, Identity: newUser(t, "alice"), EventBuffer: 1 << 16,
		PingInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	alice := watch(t, c)
	bob := connect(t, st.url, newUser(t, "bob"))
	alice.waitRunning()
	bob.waitRunning()
	introduce(t, alice, bob)
	if err := alice.c.SetStep(ctx, client.StepMessages); err != nil {
		t.Fatal(err)
	}
	if alice.c.Step() != client.StepMessages {
		t.Fatalf("step mode %v", alice.c.Step())
	}
	pings := alice.count(isFrame(client.Out, client.KindPing))

	id1, err := alice.c.SendText(ctx, bob.c.Me(), "one")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := alice.c.SendText(ctx, bob.c.Me(), "two")
	if err != nil {
		t.Fatal(err)
	}
	// Other frames may be held around them (bob's visa broadcast arriving
	// late): find the texts among them.
	one := alice.waitHeldText("one")
	two := alice.waitHeldText("two")
	if two.Seq <= one.Seq {
		t.Fatalf("held in the wrong order: one #%d, two #%d", one.Seq, two.Seq)
	}
	time.Sleep(300 * time.Millisecond)
	bob.mu.Lock()
	got := len(bob.messages)
	bob.mu.Unlock()
	if got != 0 {
		t.Fatalf("bob received %d messages that alice holds", got)
	}
	// Control frames are not held in this mode: the keep-alive goes on.
	alice.waitFor("PINGs while stepping", 5*time.Second, func(evs []client.Event) bool {
		return count(evs, isFrame(client.Out, client.KindPing)) > pings
	})

	// Release up to the first text only (nothing was released before):
	// bob gets "one" and not "two".
	if err := alice.c.Release(ctx, int(one.Seq)); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("one", 10*time.Second, func([]client.Event) bool { return bob.messages["one"] == 1 })
	// The station's receipt for "one" comes back and is held in turn.
	alice.waitFor("the receipt held", 10*time.Second, func(evs []client.Event) bool {
		list, rel := held(evs)
		for _, h := range list {
			if _, done := rel[h.Seq]; !done && h.Dir == client.In && h.Kind == client.KindReceipt {
				return true
			}
		}
		return false
	})
	alice.mu.Lock()
	d1, _ := delivery(alice.events, id1)
	alice.mu.Unlock()
	if d1 != client.Sending {
		t.Errorf("delivery %v before the receipt was released", d1)
	}
	bob.mu.Lock()
	got = bob.messages["two"]
	bob.mu.Unlock()
	if got != 0 {
		t.Fatal("bob received the message still held")
	}

	// Stepping off releases everything, in order.
	if err := alice.c.SetStep(ctx, client.StepOff); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("two", 10*time.Second, func([]client.Event) bool { return bob.messages["two"] == 1 })
	alice.waitFor("both delivered", 10*time.Second, func(evs []client.Event) bool {
		d1, _ := delivery(evs, id1)
		d2, _ := delivery(evs, id2)
		return d1 >= client.Delivered && d2 >= client.Delivered
	})
	bob.mu.Lock()
	var order []string
	for _, ev := range bob.events {
		if m, ok := ev.(client.MessageEvent); ok {
			order = append(order, m.Message.Content.(*dimp.TextContent).Text)
		}
	}
	bob.mu.Unlock()
	if fmt.Sprint(order) != "[one two]" {
		t.Errorf("bob got %v", order)
	}
}

// TestStepDropsHeldFramesOnReconnect: frames held for a connection that
// ends are discarded, and a message among them is sent again after the
// next handshake.
func TestStepDropsHeldFramesOnReconnect(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	ctx := context.Background()
	alice := connect(t, st.url, newUser(t, "alice"))
	bob := connect(t, st.url, newUser(t, "bob"))
	alice.waitRunning()
	bob.waitRunning()
	introduce(t, alice, bob)
	if err := alice.c.SetStep(ctx, client.StepMessages); err != nil {
		t.Fatal(err)
	}
	id, err := alice.c.SendText(ctx, bob.c.Me(), "after the reconnect")
	if err != nil {
		t.Fatal(err)
	}
	h := alice.waitHeld("the text", 1)
	if err := alice.c.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the held text dropped", 5*time.Second, func(evs []client.Event) bool {
		_, rel := held(evs)
		return rel[h.Seq].Dropped
	})
	if err := alice.c.SetStep(ctx, client.StepOff); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the text, resent", 10*time.Second, func([]client.Event) bool { return bob.messages["after the reconnect"] == 1 })
	alice.waitFor("delivered", 10*time.Second, func(evs []client.Event) bool {
		d, _ := delivery(evs, id)
		return d >= client.Delivered
	})
	resent := alice.count(func(ev client.Event) bool { r, ok := ev.(client.ResentEvent); return ok && r.ID == id })
	if resent != 1 {
		t.Errorf("%d ResentEvents for the message, want 1", resent)
	}
}

func TestParseStepMode(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want client.StepMode
		err  bool
	}{{"all", client.StepAll, false}, {"on", client.StepLesson, false}, {"lesson", client.StepLesson, false},
		{"messages", client.StepMessages, false}, {"off", client.StepOff, false}, {"sometimes", client.StepOff, true}} {
		got, err := client.ParseStepMode(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseStepMode(%q) = %v, %v", tt.in, got, err)
		}
		if err == nil && tt.in != "on" && got.String() != tt.in {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}
