package client_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/crypto"
	"dimtui/mockstation"
)

// newUser makes a user with an ECC meta key and an RSA-1024 visa key.
func newUser(t testing.TB, name string) *dimp.Identity {
	t.Helper()
	sign, err := crypto.GenerateECC()
	if err != nil {
		t.Fatal(err)
	}
	visa, err := crypto.GenerateRSA(1024)
	if err != nil {
		t.Fatal(err)
	}
	u, err := dimp.NewIdentity(dimp.User, dimp.MetaMKM, name, strings.ToUpper(name[:1])+name[1:], sign, visa)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// station runs a station on a loopback port with its data in dir.
type station struct {
	srv    *mockstation.Server
	url    string
	cancel context.CancelFunc
	done   chan error
}

func startStation(t testing.TB, dir, addr string) *station {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := mockstation.New(ctx, mockstation.Config{DataDir: dir, RateLimit: -1})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	st := &station{srv: srv, url: "ws://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { st.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(st.stop)
	return st
}

func (s *station) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	_ = s.srv.Close()
	s.cancel = nil
}

// peer is a running client whose events a test watches.
type peer struct {
	t      testing.TB
	c      *client.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	events   []client.Event
	changed  chan struct{}
	messages map[string]int // texts received, with their count
}

func connect(t testing.TB, url string, u *dimp.Identity) *peer {
	t.Helper()
	return connectWith(t, client.Config{URL: url, Identity: u})
}

// connectWith runs a client made from cfg, with the tests' quick backoff
// and a large event buffer unless cfg sets them.
func connectWith(t testing.TB, cfg client.Config) *peer {
	t.Helper()
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 50*time.Millisecond, 500*time.Millisecond
	}
	if cfg.EventBuffer == 0 {
		cfg.EventBuffer = 1 << 16
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return watch(t, c)
}

// watch runs a client and records its events.
func watch(t testing.TB, c *client.Client) *peer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &peer{t: t, c: c, cancel: cancel, done: make(chan struct{}), changed: make(chan struct{}, 1), messages: map[string]int{}}
	go func() { _ = c.Run(ctx) }()
	go func() {
		// Until Run returns and closes the channel: what the client
		// handed over before it stopped is seen, as a UI would show it.
		defer close(p.done)
		for ev := range c.Events() {
			p.mu.Lock()
			p.events = append(p.events, ev)
			if m, ok := ev.(client.MessageEvent); ok {
				if tc, ok := m.Message.Content.(*dimp.TextContent); ok {
					p.messages[tc.Text]++
				}
			}
			p.mu.Unlock()
			select {
			case p.changed <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(p.stop)
	return p
}

// shown is how many different texts p has shown, read while its events
// may still be coming.
func (p *peer) shown() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.messages)
}

func (p *peer) stop() {
	p.cancel()
	<-p.done
}

// waitFor waits until cond holds over the events seen so far.
func (p *peer) waitFor(what string, timeout time.Duration, cond func(evs []client.Event) bool) {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		ok := cond(p.events)
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-p.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			p.t.Fatalf("%s: timed out waiting for %s; status %+v", p.c.Me(), what, p.c.Status())
		}
	}
}

func (p *peer) waitRunning() {
	p.t.Helper()
	// The client's state turns Running before its status event reaches
	// the test's list: wait for both, so that what a test reads is there.
	p.waitFor("Running", 10*time.Second, func(evs []client.Event) bool {
		if p.c.Status().State != client.Running {
			return false
		}
		for i := len(evs) - 1; i >= 0; i-- {
			if s, ok := evs[i].(client.StatusEvent); ok {
				return s.Status.State == client.Running
			}
		}
		return false
	})
}

// delivery returns the last delivery state reported for id.
func delivery(evs []client.Event, id client.MessageID) (client.Delivery, bool) {
	var d client.Delivery
	found := false
	for _, ev := range evs {
		if de, ok := ev.(client.DeliveryEvent); ok && de.ID == id {
			d, found = de.State, true
		}
	}
	return d, found
}

func received(evs []client.Event, match func(dimp.Content) bool) *client.MessageEvent {
	for _, ev := range evs {
		if m, ok := ev.(client.MessageEvent); ok && match(m.Message.Content) {
			return &m
		}
	}
	return nil
}

func TestHandshakeStates(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	alice := connect(t, st.url, newUser(t, "alice"))
	alice.waitRunning()
	var steps []dimp.HandshakeState
	alice.mu.Lock()
	for _, ev := range alice.events {
		if s, ok := ev.(client.StatusEvent); ok && s.Status.State >= client.Handshaking {
			if len(steps) == 0 || steps[len(steps)-1] != s.Status.Handshake {
				steps = append(steps, s.Status.Handshake)
			}
		}
	}
	alice.mu.Unlock()
	want := []dimp.HandshakeState{dimp.HandshakeStart, dimp.HandshakeAgain, dimp.HandshakeRestart, dimp.HandshakeSuccess}
	if fmt.Sprint(steps) != fmt.Sprint(want) {
		t.Errorf("handshake steps %v, want %v", steps, want)
	}
	s := alice.c.Status()
	if !s.Station.SameAs(st.srv.ID()) || len(s.Session) != 64 {
		t.Errorf("station %s session %q", s.Station, s.Session)
	}
}

func TestTwoClientsChat(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	alice := connect(t, st.url, newUser(t, "alice"))
	bob := connect(t, st.url, newUser(t, "bob"))
	alice.waitRunning()
	bob.waitRunning()
	ctx := context.Background()

	id, err := alice.c.SendText(ctx, bob.c.Me(), "hello bob")
	if err != nil {
		t.Fatal(err)
	}
	bob.waitFor("alice's text", 10*time.Second, func(evs []client.Event) bool {
		return received(evs, func(c dimp.Content) bool { tc, ok := c.(*dimp.TextContent); return ok && tc.Text == "hello bob" }) != nil
	})
	alice.waitFor("delivered", 10*time.Second, func(evs []client.Event) bool {
		d, _ := delivery(evs, id)
		return d == client.Delivered
	})
	bob.mu.Lock()
	msg := received(bob.events, func(c dimp.Content) bool { _, ok := c.(*dimp.TextContent); return ok })
	bob.mu.Unlock()
	if err := bob.c.MarkRead(ctx, msg.ID); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("read", 10*time.Second, func(evs []client.Event) bool {
		d, _ := delivery(evs, id)
		return d == client.Read
	})
	var states []client.Delivery
	alice.mu.Lock()
	for _, ev := range alice.events {
		if de, ok := ev.(client.DeliveryEvent); ok && de.ID == id {
			states = append(states, de.State)
		}
	}
	alice.mu.Unlock()
	// Every state was reported in order. The station pushes the message
	// before it signs its own receipt, so bob's receipt may overtake the
	// station's: AtStation may then be skipped, never reported late.
	want := fmt.Sprint([]client.Delivery{client.Sending, client.AtStation, client.Delivered, client.Read})
	overtaken := fmt.Sprint([]client.Delivery{client.Sending, client.Delivered, client.Read})
	if got := fmt.Sprint(states); got != want && got != overtaken {
		t.Errorf("delivery states %v, want %v (or %v)", states, want, overtaken)
	}

	// Application content the other way, extra fields kept.
	extra := dimp.Fields{}
	_ = extra.Set("score", 42)
	_ = extra.Set("board", []string{"x", "o"})
	app := dimp.NewAppContent(dimp.ContentApplication, "chat.dim.demo", "game", "move", extra)
	if _, err := bob.c.Send(ctx, alice.c.Me(), app); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("bob's app content", 10*time.Second, func(evs []client.Event) bool {
		m := received(evs, func(c dimp.Content) bool { a, ok := c.(*dimp.AppContent); return ok && a.Act == "move" })
		if m == nil {
			return false
		}
		a := m.Message.Content.(*dimp.AppContent)
		return a.Type == dimp.ContentApplication && string(a.Extra["score"]) == "42" && string(a.Extra["board"]) == `["x","o"]`
	})

	// And each kind the other way: text from bob, customized content from alice.
	back, err := bob.c.SendText(ctx, alice.c.Me(), "hello alice")
	if err != nil {
		t.Fatal(err)
	}
	custom := dimp.NewAppContent(dimp.ContentCustomized, "chat.dim.demo", "game", "resign", nil)
	customID, err := alice.c.Send(ctx, bob.c.Me(), custom)
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("bob's text", 10*time.Second, func(evs []client.Event) bool {
		return received(evs, func(c dimp.Content) bool { tc, ok := c.(*dimp.TextContent); return ok && tc.Text == "hello alice" }) != nil
	})
	bob.waitFor("alice's customized content", 10*time.Second, func(evs []client.Event) bool {
		return received(evs, func(c dimp.Content) bool {
			a, ok := c.(*dimp.AppContent)
			return ok && a.Type == dimp.ContentCustomized && a.Act == "resign"
		}) != nil
	})
	bob.waitFor("the receipt for bob's text", 10*time.Second, func(evs []client.Event) bool {
		d, _ := delivery(evs, back)
		return d == client.Delivered
	})
	alice.waitFor("the receipt for the customized content", 10*time.Second, func(evs []client.Event) bool {
		d, _ := delivery(evs, customID)
		return d == client.Delivered
	})
}

// TestFirstContactAsksForTheKey: a broadcast from a user bob has never
// met comes without a meta; bob asks the station for it and checks the
// broadcast once it comes. The frame says so (KeyAsked), and says that it
// verified, with no error left from the wait.
func TestFirstContactAsksForTheKey(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	bob := connect(t, st.url, newUser(t, "bob"))
	bob.waitRunning()
	alice := connect(t, st.url, newUser(t, "alice"))
	alice.waitRunning()
	aliceID := alice.c.Me()
	var visa *client.FrameEvent
	bob.waitFor("alice's visa broadcast", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			f, ok := ev.(client.FrameEvent)
			if !ok || f.Dir != client.In || f.Layers == nil || f.Layers.Instant == nil {
				continue
			}
			if d, ok := f.Layers.Instant.Content.(*dimp.DocumentCommand); ok && !d.IsQuery() &&
				d.ID.SameAs(aliceID) && f.Layers.Reliable.Receiver.IsBroadcast() {
				visa = &f
				return true
			}
		}
		return false
	})
	if l := visa.Layers; !l.KeyAsked || !l.Verified || l.VerifyErr != nil {
		t.Errorf("alice's visa broadcast at bob: asked %v, verified %v, error %v; want asked and verified, no error",
			l.KeyAsked, l.Verified, l.VerifyErr)
	}
}

func TestActiveUsers(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	alice := connect(t, st.url, newUser(t, "alice"))
	bob := connect(t, st.url, newUser(t, "bob"))
	alice.waitRunning()
	bob.waitRunning()
	if err := alice.c.ActiveUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("users", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if u, ok := ev.(client.UsersEvent); ok {
				return fmt.Sprint(u.Users) != "" && strings.Contains(fmt.Sprint(u.Users), bob.c.Me().String())
			}
		}
		return false
	})
}

func TestOfflineDeliveryAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	st := startStation(t, dir, "")
	bobID := newUser(t, "bob")
	bob := connect(t, st.url, bobID)
	bob.waitRunning() // bob's visa is now at the station
	bob.stop()
	alice := connect(t, st.url, newUser(t, "alice"))
	alice.waitRunning()
	ctx := context.Background()
	var ids []client.MessageID
	for i := 0; i < 3; i++ {
		id, err := alice.c.SendText(ctx, bobID.ID, fmt.Sprintf("while you were away %d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	alice.waitFor("cached", 10*time.Second, func(evs []client.Event) bool {
		for _, id := range ids {
			if d, _ := delivery(evs, id); d != client.AtStation {
				return false
			}
		}
		return true
	})
	// The station goes down and comes back on the same data directory.
	addr := strings.TrimPrefix(st.url, "ws://")
	st.stop()
	st2 := startStation(t, dir, addr)
	bob2 := connect(t, st2.url, bobID)
	bob2.waitFor("the three messages", 15*time.Second, func([]client.Event) bool {
		return len(bob2.messages) == 3
	})
	bob2.mu.Lock()
	defer bob2.mu.Unlock()
	var order []string
	for _, ev := range bob2.events {
		if m, ok := ev.(client.MessageEvent); ok {
			order = append(order, m.Message.Content.(*dimp.TextContent).Text)
		}
	}
	for i, text := range order {
		if want := fmt.Sprintf("while you were away %d", i); text != want {
			t.Errorf("message %d = %q, want %q (oldest first)", i, text, want)
		}
	}
}
