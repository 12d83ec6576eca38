package demo

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/workshop"
)

// waitRunning waits until every client of the session runs.
func waitRunning(t *testing.T, clients []*client.Client) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for _, c := range clients {
		for c.Status().State != client.Running {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v", c.Me(), c.Status())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// drain reads the clients' events, as the UI would, until the test ends.
func drain(t *testing.T, clients []*client.Client) {
	for _, c := range clients {
		go func() {
			for range c.Events() {
			}
		}()
	}
}

// nextNotice returns the session's next notice of kind, passing the others.
func nextNotice(t *testing.T, session *workshopSession, kind workshop.NoticeKind) workshop.StationNotice {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case n := <-session.Notices():
			if n.Kind == kind {
				return n
			}
		case <-timeout:
			t.Fatalf("no notice of kind %d", kind)
		}
	}
}

// TestWorkshopSession runs the demo behind the UI: two fresh users, a
// station expired and restarted under them, and a reset to new ones.
func TestWorkshopSession(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Fresh directories from the start, as Config.Fresh gives; the config
	// itself says nothing of it, so that a reset changing it would show.
	session := newWorkshopSession(ctx, Config{Users: []string{"alice", "bob"}, Listen: "127.0.0.1:0",
		Drop: []FaultTarget{{User: "alice"}}}, slog.New(slog.DiscardHandler))
	if err := session.start(ctx, true); err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	if err := session.armFaults(); err != nil {
		t.Fatal(err)
	}
	inst, _, _ := session.current()
	drain(t, inst.Clients)
	waitRunning(t, inst.Clients)
	specs := session.specs()
	if len(specs) != 2 || !specs[0].Options.Peer.SameAs(inst.Clients[1].Me()) || !specs[1].Options.Peer.SameAs(inst.Clients[0].Me()) {
		t.Fatalf("alice and bob do not talk to each other: %+v", specs)
	}
	firstDirs := append([]string(nil), session.tmp...)
	for _, name := range []string{"alice", "bob"} { // beside the fresh identities
		if _, err := os.Stat(filepath.Join(firstDirs[1], name+".history.db")); err != nil {
			t.Errorf("%s's history: %v", name, err)
		}
	}

	// The station forgets alice, then restarts: both clients come back.
	if err := session.Expire(inst.Clients[0].Me()); err != nil {
		t.Fatal(err)
	}
	// Without --step the station holds the new handshake a moment, and
	// says so, so that the room sees the messages held.
	if n := nextNotice(t, session, workshop.NoticeExpire); !strings.Contains(n.Text, "expired alice's session") ||
		!strings.Contains(n.Text, "its DIM! waits 1.5s") {
		t.Errorf("notice %q", n.Text)
	}
	waitRunning(t, inst.Clients)
	if err := session.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for inst.Clients[0].Status().Attempt == 0 && inst.Clients[0].Status().State == client.Running {
		if time.Now().After(deadline) {
			t.Fatal("alice never noticed the restart")
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitRunning(t, inst.Clients)
	if err := session.SetDelay(inst.Clients[1].Me(), 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := nextNotice(t, session, workshop.NoticeDelay); !n.User.SameAs(inst.Clients[1].Me()) || n.Delay != 10*time.Millisecond {
		t.Errorf("the delay's notice is for %s, %s; want bob, 10ms", n.User, n.Delay)
	}

	// A reset: new identities, a new station, the old directories gone.
	old := inst.Clients[0].Me()
	specs, err := session.Reset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inst2, _, _ := session.current()
	drain(t, inst2.Clients)
	waitRunning(t, inst2.Clients)
	if len(specs) != 2 || inst2.Clients[0].Me().SameAs(old) || inst2.Clients[0].Me().Name() != "alice" {
		t.Errorf("after the reset alice is %s (was %s)", inst2.Clients[0].Me(), old)
	}
	if session.cfg.Fresh {
		t.Error("the reset changed the session's config")
	}
	for _, dir := range firstDirs {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s still there after the reset: %v", dir, err)
		}
	}

	// A reset its caller has given up on does not start.
	gaveUp, giveUp := context.WithCancel(ctx)
	giveUp()
	if _, err := session.Reset(gaveUp); !errors.Is(err, context.Canceled) {
		t.Errorf("reset on a canceled context: %v", err)
	}
}
