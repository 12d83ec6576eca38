package client_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
)

// recordedFrame is a frame of a transcript (the JSON Lines /export
// writes), as the client reported it.
type recordedFrame struct {
	Event   string          `json:"event"`
	Dir     string          `json:"dir"`
	Kind    string          `json:"kind"`
	Raw     json.RawMessage `json:"raw"`
	Instant json.RawMessage `json:"instant"`
}

// recordedFrames reads the frames of a transcript with their layers
// parsed again, as they were reported.
func recordedFrames(t *testing.T, path string) []frameCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []frameCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r recordedFrame
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Event != "frame" {
			continue
		}
		fc := frameCase{dir: r.Dir, kind: client.FrameKind(r.Kind)}
		if len(r.Raw) > 0 && r.Raw[0] == '{' {
			rm, err := dimp.ParseReliableMessage(r.Raw)
			if err != nil {
				t.Fatalf("recorded frame: %v", err)
			}
			fc.layers = &client.Layers{Reliable: rm}
			if len(r.Instant) > 0 {
				if fc.layers.Instant, err = dimp.ParseInstantMessage(r.Instant); err != nil {
					t.Fatalf("recorded content: %v", err)
				}
			}
		} else {
			var s string
			_ = json.Unmarshal(r.Raw, &s)
			fc.control = s
		}
		out = append(out, fc)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// frameCase is one frame to classify.
type frameCase struct {
	dir     string
	kind    client.FrameKind
	control string // PING, PONG, ACK:...
	layers  *client.Layers
}

// describe names a frame by what a lesson would call it, so that one row
// of the table covers every frame of its sort.
func (f frameCase) describe() string {
	d := f.dir + " " + string(f.kind)
	if f.layers == nil {
		ctl, _, _ := strings.Cut(f.control, ":")
		return d + " " + ctl
	}
	rm, im := f.layers.Reliable, f.layers.Instant
	peer := rm.Receiver
	if f.dir == "in" {
		peer = rm.Sender
	}
	switch {
	case peer.Type() == dimp.Station || peer.SameAs(dimp.AnyStation):
		d += " station"
	case rm.Receiver.IsBroadcast():
		d += " everyone"
	case peer.Name() == "echo":
		d += " bot"
	default:
		d += " user"
	}
	if im == nil {
		return d + " (not opened)"
	}
	switch c := im.Content.(type) {
	case *dimp.HandshakeCommand:
		return d + " " + c.Title
	case *dimp.ReceiptCommand:
		return d + " " + c.Text + " about " + c.Origin.Type
	case dimp.Command:
		return d + " " + c.CommandName()
	case *dimp.TextContent:
		return d + " text"
	}
	return d + " " + im.Content.Header().Type.String()
}

// TestClassifyRecordedSession classifies every frame of a real two-user
// demo session (alice and bob chat, alice talks to the echo bot, asks
// who is online and searches), as the /export of `dimtui demo` recorded
// it: each sort of frame in it has its row.
func TestClassifyRecordedSession(t *testing.T) {
	H, D, M := client.Housekeeping, client.Detail, client.Milestone
	want := map[string]client.Role{
		// The handshake: each step is a milestone.
		"out handshake station Hello world!": M,
		"in handshake station DIM?":          M,
		"in handshake station DIM!":          M,
		// Keep-alive and acknowledgements.
		"out ping PING": H,
		"in ping PONG":  H,
		"out ack ACK":   H,
		// Announcements after the handshake, and the station's answers.
		"out command everyone document":                      H,
		"out command everyone login":                         H,
		"in receipt station Document not changed. about 136": H,
		"in receipt station Login received. about 136":       H,
		"in command everyone document":                       H,
		"in command everyone login":                          H,
		"in command everyone (not opened)":                   H, // a login forwarded inside another
		"in other station forward":                           H, // the station forwarding it
		"out command station document":                       H, // a visa query
		"in command station document":                        H, // its answer
		"out text station text":                              H, // "active users"
		"in text station text":                               H, // its answer
		"out command everyone search":                        H,
		"in command station search":                          H,
		"in receipt station Message delivered. about 136":    H, // a receipt of a receipt
		"out text user text":                                 M,
		"in text user text":                                  M,
		"out text bot text":                                  M,
		"in text bot text":                                   M,
		"in receipt station Message delivered. about 1":      D,
		"out receipt user Message received. about 1":         D,
		"in receipt user Message received. about 1":          D,
		"out receipt user Message read. about 1":             D,
		"in receipt user Message read. about 1":              D,
		"in receipt bot Message received. about 1":           D,
		"out receipt bot Message received. about 1":          D,
		"out receipt bot Message read. about 1":              D,
	}
	seen := map[string]bool{}
	frames := recordedFrames(t, "testdata/demo-two-users.jsonl")
	if len(frames) < 100 {
		t.Fatalf("%d frames in the recording", len(frames))
	}
	for _, f := range frames {
		d := f.describe()
		w, ok := want[d]
		if !ok {
			t.Errorf("no row for %q", d)
			continue
		}
		seen[d] = true
		if got := client.Classify(f.kind, f.layers); got != w {
			t.Errorf("%s: %v, want %v", d, got, w)
		}
		if got := w.Stop(); got != (w != H) {
			t.Errorf("%s: Stop() = %v", d, got)
		}
	}
	for d := range want {
		if !seen[d] {
			t.Errorf("row %q matched no frame of the recording", d)
		}
	}
}

// TestClassifyReferenceMessages classifies the messages of the reference
// implementation's vectors (dimchat's own serialization): contents a
// lesson is about, and broadcasts.
func TestClassifyReferenceMessages(t *testing.T) {
	raw, err := os.ReadFile("../dimp/testdata/vectors/messages.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Pipelines []struct {
			Name    string          `json:"name"`
			Variant string          `json:"variant"`
			Instant json.RawMessage `json:"instant_message"`
			Wire    string          `json:"wire_json"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	want := map[string]client.Role{
		"text":                    client.Milestone,
		"customized":              client.Milestone,
		"application":             client.Milestone,
		"handshake_hello":         client.Milestone,
		"handshake_hello_session": client.Milestone,
		"handshake_ask":           client.Milestone,
		"handshake_accepted":      client.Milestone,
		"broadcast_anyone":        client.Milestone, // a handshake to anyone@anywhere
		"broadcast_everyone":      client.Milestone, // a text to everyone
		"group_text":              client.Milestone,
		"text_from_ecc_sender":    client.Milestone,
	}
	for _, p := range v.Pipelines {
		im, err := dimp.ParseInstantMessage(p.Instant)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		layers := &client.Layers{Instant: im}
		if p.Wire != "" {
			if layers.Reliable, err = dimp.ParseReliableMessage([]byte(p.Wire)); err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
		}
		kind := client.KindText
		switch im.Content.(type) {
		case *dimp.HandshakeCommand:
			kind = client.KindHandshake
		case *dimp.AppContent:
			kind = client.KindApp
		}
		if got := client.Classify(kind, layers); got != want[p.Name] {
			t.Errorf("%s (%s): %v, want %v", p.Name, p.Variant, got, want[p.Name])
		}
		// Seen only by its envelope (not decrypted yet), a message is a
		// milestone too, unless it is the station's.
		if got := client.Classify(client.KindMessage, &client.Layers{Reliable: layers.Reliable}); layers.Reliable != nil && got != client.Milestone {
			t.Errorf("%s not opened: %v", p.Name, got)
		}
	}
}

// A group command is a step of a group lesson, whether it is opened or
// seen only by its type hint (a history command); other commands are
// housekeeping.
func TestClassifyGroupCommands(t *testing.T) {
	alice := dimp.MustParseID("alice@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB")
	bob := dimp.MustParseID("bob@1KTtckknLw3AxD1WK4oLYpVN7RkQevC8wK")
	group := dimp.MustParseID("group-alice@hz519K77dgxczwCDEgBhokWzdgbhFRSDg")
	invite := dimp.NewInstantMessage(alice, bob, dimp.NewGroupCommand(dimp.CmdInvite, group, []dimp.ID{bob}))
	if got := client.Classify(client.KindCommand, &client.Layers{Instant: invite}); got != client.Milestone {
		t.Errorf("an invite: %v, want a milestone", got)
	}
	hinted := &dimp.ReliableMessage{}
	hinted.Envelope = dimp.Envelope{Sender: alice, Receiver: bob, HasType: true, Type: dimp.ContentHistory}
	if got := client.Classify(client.KindCommand, &client.Layers{Reliable: hinted}); got != client.Milestone {
		t.Errorf("a history command not opened yet: %v, want a milestone", got)
	}
	report := dimp.NewInstantMessage(alice, bob, &dimp.GenericCommand{CommandHead: dimp.CommandHead{Head: dimp.NewHead(dimp.ContentCommand), Name: "report"}})
	if got := client.Classify(client.KindCommand, &client.Layers{Instant: report}); got != client.Housekeeping {
		t.Errorf("a report: %v, want housekeeping", got)
	}
}

// stepThrough releases p's held frames one at a time as they come, as a
// presenter pressing f8 would, until done holds; it returns the frames
// that were held, in order.
func (p *peer) stepThrough(what string, done func() bool) []client.HeldEvent {
	p.t.Helper()
	var asked uint64
	deadline := time.Now().Add(15 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: timed out stepping to %s; status %+v", p.c.Me(), what, p.c.Status())
		}
		p.mu.Lock()
		list, _ := held(p.events)
		p.mu.Unlock()
		if len(list) > 0 && list[len(list)-1].Seq > asked {
			asked++
			if err := p.c.Release(context.Background(), 1); err != nil {
				p.t.Fatal(err)
			}
			continue
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	list, _ := held(p.events)
	return list
}

// heldNames names held frames as "out handshake Hello world!".
func heldNames(list []client.HeldEvent) []string {
	var out []string
	for _, h := range list {
		name := h.Dir.String() + " " + string(h.Kind)
		if h.Layers != nil && h.Layers.Instant != nil {
			switch c := h.Layers.Instant.Content.(type) {
			case *dimp.HandshakeCommand:
				name += " " + c.Title
			case *dimp.ReceiptCommand:
				name += " " + c.Text
			case *dimp.TextContent:
				name += " " + c.Text
			}
		}
		out = append(out, name)
	}
	return out
}

// TestStepLessonHoldsOnlyStops connects alice with lesson stepping: the
// handshake stops at each of its four steps, and nothing else is held
// while the session starts (the visa and login broadcasts, the station's
// receipts of them, ACKs and the keep-alive go through); a chat message
// stops at each side, and so do its receipts.
func TestStepLessonHoldsOnlyStops(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	ctx := context.Background()
	c, err := client.New(client.Config{URL: st.url, Identity: newUser(t, "alice"), EventBuffer: 1 << 16,
		PingInterval: 50 * time.Millisecond, Step: client.StepLesson})
	if err != nil {
		t.Fatal(err)
	}
	alice := watch(t, c)
	bob := connect(t, st.url, newUser(t, "bob"))
	bob.waitRunning()

	list := alice.stepThrough("the session", func() bool { return alice.c.Status().State == client.Running })
	want := "[out handshake Hello world! in handshake DIM? out handshake Hello world! in handshake DIM!]"
	if got := fmt.Sprint(heldNames(list)); got != want {
		t.Fatalf("held while connecting: %s\nwant %s", got, want)
	}
	// The announcements and their receipts, the visa broadcasts of the
	// others, PINGs and PONGs: all through, none held.
	alice.waitFor("the login's receipt and PONGs", 10*time.Second, func(evs []client.Event) bool {
		login := false
		for _, ev := range evs {
			if r, ok := ev.(client.ReceiptEvent); ok && r.Receipt.Text == "Login received." {
				login = true
			}
		}
		return login && count(evs, isFrame(client.In, client.KindPing)) >= 3 && count(evs, isFrame(client.Out, client.KindAck)) >= 2
	})
	if err := alice.c.ActiveUsers(ctx); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("who is online", 10*time.Second, func(evs []client.Event) bool {
		return count(evs, func(ev client.Event) bool { _, ok := ev.(client.UsersEvent); return ok }) > 0
	})

	// bob writes: alice stops at the message, then at her receipt.
	if _, err := bob.c.SendText(ctx, alice.c.Me(), "hello alice"); err != nil {
		t.Fatal(err)
	}
	alice.stepThrough("bob's message", func() bool {
		bob.mu.Lock()
		defer bob.mu.Unlock()
		for _, ev := range bob.events {
			if r, ok := ev.(client.ReceiptEvent); ok && r.From.SameAs(alice.c.Me()) {
				return true
			}
		}
		return false
	})
	// alice writes back: her message, the station's receipt, bob's.
	id, err := alice.c.SendText(ctx, bob.c.Me(), "hello bob")
	if err != nil {
		t.Fatal(err)
	}
	list = alice.stepThrough("bob's receipt", func() bool {
		alice.mu.Lock()
		defer alice.mu.Unlock()
		d, _ := delivery(alice.events, id)
		return d >= client.Delivered
	})
	// The station's receipt and bob's come in either order.
	names := heldNames(list)
	slices.Sort(names[len(names)-2:])
	want = want[:len(want)-1] + " in text hello alice out receipt Message received." +
		" out text hello bob in receipt Message delivered. in receipt Message received.]"
	if got := fmt.Sprint(names); got != want {
		t.Errorf("held: %s\nwant %s", got, want)
	}
	for _, h := range list {
		if h.Kind == client.KindPing || h.Kind == client.KindAck {
			t.Errorf("control frame %s held in lesson mode", h.Raw)
		}
	}
}

// TestStepLessonLetsHeldHousekeepingGo: turning lesson stepping on while
// every frame is held lets the housekeeping at the head of the queue go.
func TestStepLessonLetsHeldHousekeepingGo(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	ctx := context.Background()
	alice := connect(t, st.url, newUser(t, "alice"))
	alice.waitRunning()
	if err := alice.c.SetStep(ctx, client.StepAll); err != nil {
		t.Fatal(err)
	}
	if err := alice.c.ActiveUsers(ctx); err != nil {
		t.Fatal(err)
	}
	var q client.HeldEvent
	alice.waitFor("the question held", 10*time.Second, func(evs []client.Event) bool {
		list, _ := held(evs)
		for _, h := range list {
			if h.Kind == client.KindText {
				q = h
				return true
			}
		}
		return false
	})
	if err := alice.c.SetStep(ctx, client.StepLesson); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the question released and answered", 10*time.Second, func(evs []client.Event) bool {
		_, rel := held(evs)
		_, released := rel[q.Seq]
		return released && count(evs, func(ev client.Event) bool { _, ok := ev.(client.UsersEvent); return ok }) > 0
	})
}
