package client_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/mockstation"
)

// These tests break the station on purpose (mockstation.Faults, what
// `dimtui demo` does at a workshop) and check that the client reacts as
// the protocol says: a new handshake, a resend, a refusal, a late receipt.

// faultStation runs a station with faults, and records its reports.
type faultStation struct {
	*station
	faults *mockstation.Faults

	mu      sync.Mutex
	reports []string
}

func startFaultStation(t *testing.T) *faultStation {
	t.Helper()
	fs := &faultStation{}
	fs.faults = mockstation.NewFaults(func(r mockstation.FaultReport) {
		fs.mu.Lock()
		fs.reports = append(fs.reports, r.Text)
		fs.mu.Unlock()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := mockstation.New(ctx, mockstation.Config{DataDir: t.TempDir(), RateLimit: -1, Faults: fs.faults})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	st := &station{srv: srv, url: "ws://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { st.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(st.stop)
	fs.station = st
	return fs
}

func (fs *faultStation) reported(sub string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, r := range fs.reports {
		if strings.Contains(r, sub) {
			return true
		}
	}
	return false
}

// pair connects alice and bob, each knowing the other's visa.
func pair(t *testing.T, url string) (alice, bob *peer) {
	alice = connect(t, url, newUser(t, "alice"))
	bob = connect(t, url, newUser(t, "bob"))
	alice.waitRunning()
	bob.waitRunning()
	introduce(t, alice, bob)
	introduce(t, bob, alice)
	return alice, bob
}

func deliveryOf(p *peer, id client.MessageID) client.Delivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, _ := delivery(p.events, id)
	return d
}

func TestExpiredSessionHandshakesAgain(t *testing.T) {
	fs := startFaultStation(t)
	alice, bob := pair(t, fs.url)
	ctx := context.Background()
	before := alice.count(func(ev client.Event) bool { _, ok := ev.(client.StatusEvent); return ok })

	n, err := fs.srv.Expire(alice.c.Me())
	if err != nil || n != 1 {
		t.Fatalf("Expire: %d sessions, %v", n, err)
	}
	// alice is asked DIM? while running: Again, Restart, Success again.
	alice.waitFor("a new handshake", 10*time.Second, func(evs []client.Event) bool {
		var steps []dimp.HandshakeState
		for _, ev := range evs[before:] {
			if s, ok := ev.(client.StatusEvent); ok && (len(steps) == 0 || steps[len(steps)-1] != s.Status.Handshake) {
				steps = append(steps, s.Status.Handshake)
			}
		}
		return len(steps) >= 3 && steps[len(steps)-3] == dimp.HandshakeAgain &&
			steps[len(steps)-2] == dimp.HandshakeRestart && steps[len(steps)-1] == dimp.HandshakeSuccess
	})
	alice.waitRunning()
	if !fs.reported("expired alice's session") {
		t.Errorf("reports %v", fs.reports)
	}
	// The session works again both ways.
	id, err := bob.c.SendText(ctx, alice.c.Me(), "still there?")
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("bob's text", 10*time.Second, func([]client.Event) bool { return alice.messages["still there?"] == 1 })
	bob.waitFor("delivered", 10*time.Second, func(evs []client.Event) bool { d, _ := delivery(evs, id); return d >= client.Delivered })
}

func TestDroppedMessageIsResentAfterANewHandshake(t *testing.T) {
	fs := startFaultStation(t)
	alice, bob := pair(t, fs.url)
	ctx := context.Background()

	fs.faults.DropNext(alice.c.Me(), false)
	id, err := alice.c.SendText(ctx, bob.c.Me(), "lost on the way")
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the drop", 5*time.Second, func([]client.Event) bool { return fs.reported("dropped alice's message to bob") })
	time.Sleep(300 * time.Millisecond)
	if d := deliveryOf(alice, id); d != client.Sending {
		t.Fatalf("a dropped message is %v", d)
	}
	// The next handshake resends what the station never acknowledged.
	if _, err := fs.srv.Expire(alice.c.Me()); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the resent text", 10*time.Second, func([]client.Event) bool { return bob.messages["lost on the way"] == 1 })
	alice.waitFor("delivered at last", 10*time.Second, func(evs []client.Event) bool { d, _ := delivery(evs, id); return d >= client.Delivered })
	if n := alice.count(func(ev client.Event) bool { r, ok := ev.(client.ResentEvent); return ok && r.ID == id }); n != 1 {
		t.Errorf("%d ResentEvents, want 1", n)
	}
}

func TestCorruptedSignatures(t *testing.T) {
	fs := startFaultStation(t)
	alice, bob := pair(t, fs.url)
	ctx := context.Background()

	// On the way in: the station refuses it, and says why.
	fs.faults.CorruptNext(alice.c.Me(), false)
	id, err := alice.c.SendText(ctx, bob.c.Me(), "tampered with")
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the refusal", 10*time.Second, func(evs []client.Event) bool { d, _ := delivery(evs, id); return d == client.Failed })
	alice.mu.Lock()
	var failed client.DeliveryEvent
	for _, ev := range alice.events {
		if de, ok := ev.(client.DeliveryEvent); ok && de.ID == id && de.State == client.Failed {
			failed = de
		}
	}
	alice.mu.Unlock()
	// It was sent, and the station refused it: not a message that could
	// not be sent.
	if failed.Detail != "Signature not verified." || !failed.Refused {
		t.Errorf("refused with %q, Refused %v; want the station's words and Refused", failed.Detail, failed.Refused)
	}
	// The next one goes through.
	id2, _ := alice.c.SendText(ctx, bob.c.Me(), "untouched")
	alice.waitFor("delivered", 10*time.Second, func(evs []client.Event) bool { d, _ := delivery(evs, id2); return d >= client.Delivered })

	// On the way out: alice's client refuses bob's message.
	fs.faults.CorruptNext(alice.c.Me(), true)
	if _, err := bob.c.SendText(ctx, alice.c.Me(), "forged on the way"); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("a verification error", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if e, ok := ev.(client.ErrorEvent); ok && errors.Is(e.Err, dimp.ErrSignature) {
				return true
			}
		}
		return false
	})
	if alice.messages["forged on the way"] != 0 {
		t.Error("alice showed a message whose signature does not verify")
	}
	// Alice did not acknowledge it, so the station kept its intact copy:
	// the next session gets it, once.
	if err := alice.c.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the intact copy", 10*time.Second, func([]client.Event) bool { return alice.messages["forged on the way"] == 1 })
}

func TestPushDroppedComesAtTheNextSession(t *testing.T) {
	fs := startFaultStation(t)
	alice, bob := pair(t, fs.url)
	ctx := context.Background()

	fs.faults.DropNext(alice.c.Me(), true)
	id, err := bob.c.SendText(ctx, alice.c.Me(), "pushed into the void")
	if err != nil {
		t.Fatal(err)
	}
	bob.waitFor("at station", 10*time.Second, func(evs []client.Event) bool { d, _ := delivery(evs, id); return d == client.AtStation })
	time.Sleep(300 * time.Millisecond)
	if alice.messages["pushed into the void"] != 0 || deliveryOf(bob, id) != client.AtStation {
		t.Fatal("the dropped push arrived")
	}
	// Not acknowledged, it is still stored: the next session gets it.
	if err := alice.c.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the stored copy", 10*time.Second, func([]client.Event) bool { return alice.messages["pushed into the void"] == 1 })
	bob.waitFor("delivered", 10*time.Second, func(evs []client.Event) bool { d, _ := delivery(evs, id); return d >= client.Delivered })
}

func TestDelayedDelivery(t *testing.T) {
	fs := startFaultStation(t)
	alice, bob := pair(t, fs.url)
	ctx := context.Background()
	const delay = 400 * time.Millisecond
	fs.faults.SetDelay(alice.c.Me(), delay)
	start := time.Now()
	id, err := bob.c.SendText(ctx, alice.c.Me(), "slowly")
	if err != nil {
		t.Fatal(err)
	}
	bob.waitFor("at station", 10*time.Second, func(evs []client.Event) bool { d, _ := delivery(evs, id); return d >= client.AtStation })
	atStation := time.Since(start)
	alice.waitFor("the text", 10*time.Second, func([]client.Event) bool { return alice.messages["slowly"] == 1 })
	if got := time.Since(start); got < delay || atStation >= delay {
		t.Errorf("at the station after %s, at alice after %s; want the station at once and alice after %s", atStation, got, delay)
	}
	fs.faults.SetDelay(alice.c.Me(), 0)
}

// A delay on the sender holds what others send it (the receiver's
// receipts), not the station's own answers: its ✓ comes at once, its ✓✓
// late.
func TestDelayOnTheSenderKeepsTheStationsReceiptAtOnce(t *testing.T) {
	fs := startFaultStation(t)
	alice, bob := pair(t, fs.url)
	ctx := context.Background()
	const delay = 1500 * time.Millisecond
	fs.faults.SetDelay(alice.c.Me(), delay)
	if !fs.reported("holds every message to alice for 1.5s") {
		t.Errorf("the delay was not reported: %v", fs.reports)
	}
	start := time.Now()
	id, err := alice.c.SendText(ctx, bob.c.Me(), "slow receipts")
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("at station", 10*time.Second, func(evs []client.Event) bool { d, _ := delivery(evs, id); return d >= client.AtStation })
	atStation := time.Since(start)
	alice.waitFor("delivered", 10*time.Second, func(evs []client.Event) bool { d, _ := delivery(evs, id); return d >= client.Delivered })
	if delivered := time.Since(start); atStation >= delay || delivered < delay {
		t.Errorf("✓ after %s, ✓✓ after %s; want ✓ at once and ✓✓ after %s", atStation, delivered, delay)
	}
	fs.faults.SetDelay(alice.c.Me(), 0)
	if !fs.reported("no longer delays the messages to alice") {
		t.Errorf("lifting the delay was not reported: %v", fs.reports)
	}
}

// A user's own /delay off wins over a delay for everyone.
func TestDelayOffForOneUserOverridesEveryone(t *testing.T) {
	fs := startFaultStation(t)
	alice, bob := pair(t, fs.url)
	ctx := context.Background()
	fs.faults.SetDelay(dimp.ID{}, time.Minute)
	fs.faults.SetDelay(alice.c.Me(), 0)
	if _, err := bob.c.SendText(ctx, alice.c.Me(), "not held"); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the text", 5*time.Second, func([]client.Event) bool { return alice.messages["not held"] == 1 })
}

// With ResumeAfter the expired session stays in its held phase for a
// while: the handshake waits at Restart, and what alice sends meanwhile
// is not at the station before DIM!.
func TestResumeAfterHoldsTheRehandshake(t *testing.T) {
	fs := startFaultStation(t)
	alice, bob := pair(t, fs.url)
	ctx := context.Background()
	const pause = 700 * time.Millisecond
	fs.faults.ResumeAfter(pause)
	before := alice.count(func(client.Event) bool { return true })
	if _, err := fs.srv.Expire(alice.c.Me()); err != nil {
		t.Fatal(err)
	}
	restartAt := func(evs []client.Event) (time.Time, bool) {
		for _, ev := range evs[before:] {
			if s, ok := ev.(client.StatusEvent); ok && s.Status.Handshake == dimp.HandshakeRestart {
				return s.Time, true
			}
		}
		return time.Time{}, false
	}
	alice.waitFor("Restart", 5*time.Second, func(evs []client.Event) bool { _, ok := restartAt(evs); return ok })
	id, err := alice.c.SendText(ctx, bob.c.Me(), "held meanwhile")
	if err != nil {
		t.Fatal(err)
	}
	// The client's state is Running before its Success event reaches the
	// test's list: wait for the event, which the test reads.
	alice.waitFor("Success", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs[before:] {
			if s, ok := ev.(client.StatusEvent); ok && s.Status.Handshake == dimp.HandshakeSuccess {
				return true
			}
		}
		return false
	})
	alice.mu.Lock()
	restart, _ := restartAt(alice.events)
	var success time.Time
	var d client.Delivery // the message's state when DIM! came
	for i, ev := range alice.events[before:] {
		if s, ok := ev.(client.StatusEvent); ok && s.Status.Handshake == dimp.HandshakeSuccess {
			success = s.Time
			d, _ = delivery(alice.events[:before+i], id)
			break
		}
	}
	alice.mu.Unlock()
	if got := success.Sub(restart); got < pause-50*time.Millisecond {
		t.Errorf("DIM! came %s after the Restart Hello, want about %s", got, pause)
	}
	if d != client.Sending {
		t.Errorf("a message sent while the session was held is %v at DIM!", d)
	}
	bob.waitFor("the held text", 10*time.Second, func([]client.Event) bool { return bob.messages["held meanwhile"] == 1 })
}

// A reconnect the user asked for says so, and does not wait a backoff.
func TestReconnectAskedIsNotAFailure(t *testing.T) {
	fs := startFaultStation(t)
	alice := connectWith(t, client.Config{URL: fs.url, Identity: newUser(t, "alice"), MinBackoff: time.Minute, MaxBackoff: time.Minute})
	alice.waitRunning()
	before := alice.count(func(client.Event) bool { return true })
	if err := alice.c.Reconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("connected again", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs[before:] {
			if s, ok := ev.(client.StatusEvent); ok && s.Status.State == client.Running {
				return true
			}
		}
		return false
	})
	alice.mu.Lock()
	defer alice.mu.Unlock()
	for _, ev := range alice.events[before:] {
		if s, ok := ev.(client.StatusEvent); ok && s.Status.State == client.Error && !errors.Is(s.Status.Err, client.ErrReconnectAsked) {
			t.Errorf("the reconnect's error is %v, want ErrReconnectAsked", s.Status.Err)
		}
	}
}

// A station that shuts down says it goes away; the client keeps the words
// and the status, not the WebSocket library's message.
func TestStationGoingAwayIsAClosedError(t *testing.T) {
	fs := startFaultStation(t)
	alice := connect(t, fs.url, newUser(t, "alice"))
	alice.waitRunning()
	fs.stop()
	var got error
	alice.waitFor("the close", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if s, ok := ev.(client.StatusEvent); ok && s.Status.State == client.Error {
				got = s.Status.Err
				return true
			}
		}
		return false
	})
	var ce *client.ClosedError
	if !errors.As(got, &ce) || !ce.GoingAway() {
		t.Fatalf("the station's shutdown ended the connection with %v, want a ClosedError going away", got)
	}
	if msg := got.Error(); strings.Contains(msg, "failed to get reader") || !strings.Contains(msg, "going away") {
		t.Errorf("the error says %q", msg)
	}
}
