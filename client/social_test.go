package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/mockstation"
)

// lockedBuffer is a log the station writes while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startStationWith runs a station made from cfg (its data in dir).
func startStationWith(t *testing.T, dir string, cfg mockstation.Config) *station {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg.DataDir, cfg.RateLimit = dir, -1
	srv, err := mockstation.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	st := &station{srv: srv, url: "ws://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { st.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(st.stop)
	return st
}

func lastOf[E client.Event](evs []client.Event) (E, bool) {
	for i := len(evs) - 1; i >= 0; i-- {
		if e, ok := evs[i].(E); ok {
			return e, true
		}
	}
	var zero E
	return zero, false
}

func receiptSeen(text string) func([]client.Event) bool {
	return func(evs []client.Event) bool {
		for _, ev := range evs {
			if r, ok := ev.(client.ReceiptEvent); ok && r.Receipt.Text == text {
				return true
			}
		}
		return false
	}
}

func activeUsers(t *testing.T, p *peer) []dimp.ID {
	t.Helper()
	p.mu.Lock()
	n := len(p.events)
	p.mu.Unlock()
	if err := p.c.ActiveUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	var users []dimp.ID
	p.waitFor("active users", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs[n:] {
			if u, ok := ev.(client.UsersEvent); ok {
				users = u.Users
				return true
			}
		}
		return false
	})
	return users
}

func listed(ids []dimp.ID, id dimp.ID) bool {
	for _, x := range ids {
		if x.SameAs(id) {
			return true
		}
	}
	return false
}

func TestPresenceReports(t *testing.T) {
	log := &lockedBuffer{}
	st := startStationWith(t, t.TempDir(), mockstation.Config{
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	alice := connect(t, st.url, newUser(t, "alice"))
	bob := connect(t, st.url, newUser(t, "bob"))
	alice.waitRunning()
	bob.waitRunning()
	// After the handshake: report online, answered "Online received.".
	alice.waitFor("Online received.", 10*time.Second, receiptSeen("Online received."))
	if !listed(activeUsers(t, bob), alice.c.Me()) {
		t.Fatal("alice not listed online")
	}
	// Offline while connected: the station's picture follows.
	if err := alice.c.SetPresence(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for listed(activeUsers(t, bob), alice.c.Me()) {
		if time.Now().After(deadline) {
			t.Fatal("alice still listed after reporting offline")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := alice.c.SetPresence(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	for !listed(activeUsers(t, bob), alice.c.Me()) {
		if time.Now().After(deadline) {
			t.Fatal("alice not listed after reporting online again")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Stopping cleanly reports offline before the connection closes.
	before := strings.Count(log.String(), "title=offline")
	alice.stop()
	for strings.Count(log.String(), "title=offline") == before {
		if time.Now().After(deadline) {
			t.Fatalf("no offline report when the client stopped:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBlockThroughTheStation(t *testing.T) {
	dir := t.TempDir()
	st := startStation(t, dir, "")
	aliceID, bobID := newUser(t, "alice"), newUser(t, "bob")
	alice := connect(t, st.url, aliceID)
	bob := connect(t, st.url, bobID)
	alice.waitRunning()
	bob.waitRunning()
	ctx := context.Background()
	bob.waitFor("lists loaded", 10*time.Second, func(evs []client.Event) bool {
		e, ok := lastOf[client.ListsEvent](evs)
		return ok && e.Loaded && len(e.Block) == 0
	})
	if err := bob.c.Block(ctx, []dimp.ID{alice.c.Me()}); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("Block received.", 10*time.Second, receiptSeen("Block received."))

	id, err := alice.c.SendText(ctx, bob.c.Me(), "let me in")
	if err != nil {
		t.Fatal(err)
	}
	var refusal client.DeliveryEvent
	alice.waitFor("refused", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if d, ok := ev.(client.DeliveryEvent); ok && d.ID == id && d.State == client.Failed {
				refusal = d
				return true
			}
		}
		return false
	})
	if !refusal.Refused || refusal.Detail != `Message is blocked by "Bob"` {
		t.Errorf("refusal %+v", refusal)
	}

	// The list lives at the station: a new client of bob's finds it.
	bob.stop()
	bob2 := connect(t, st.url, bobID)
	bob2.waitRunning()
	bob2.waitFor("stored block list", 10*time.Second, func(evs []client.Event) bool {
		e, ok := lastOf[client.ListsEvent](evs)
		return ok && e.Loaded && len(e.Block) == 1 && e.Block[0].SameAs(alice.c.Me())
	})
	if ids, loaded, err := bob2.c.BlockList(ctx); err != nil || !loaded || len(ids) != 1 {
		t.Errorf("BlockList %v %v %v", ids, loaded, err)
	}

	if err := bob2.c.Unblock(ctx, []dimp.ID{alice.c.Me()}); err != nil {
		t.Fatal(err)
	}
	bob2.waitFor("Block received.", 10*time.Second, receiptSeen("Block received."))
	if _, err := alice.c.SendText(ctx, bob2.c.Me(), "friends again"); err != nil {
		t.Fatal(err)
	}
	bob2.waitFor("alice's text", 10*time.Second, func(evs []client.Event) bool {
		return received(evs, func(c dimp.Content) bool { tc, ok := c.(*dimp.TextContent); return ok && tc.Text == "friends again" }) != nil
	})
	if err := bob2.c.Block(ctx, nil); !errors.Is(err, client.ErrBadList) {
		t.Errorf("empty block: %v", err)
	}
}

// A message from a blocked user that reaches the client anyway (stored
// before the block) is acknowledged, counted and not shown.
func TestBlockedSenderNeverShown(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	aliceID, bobID := newUser(t, "alice"), newUser(t, "bob")
	alice := connect(t, st.url, aliceID)
	bob := connect(t, st.url, bobID)
	alice.waitRunning()
	bob.waitRunning()
	ctx := context.Background()
	// bob meets alice, then goes away; alice writes; bob blocks her before
	// the stored message reaches him.
	if _, err := alice.c.SendText(ctx, bob.c.Me(), "hi"); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("hi", 10*time.Second, func(evs []client.Event) bool {
		return received(evs, func(c dimp.Content) bool { tc, ok := c.(*dimp.TextContent); return ok && tc.Text == "hi" }) != nil
	})
	bob.stop()
	id, err := alice.c.SendText(ctx, bobID.ID, "stored before the block")
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("cached", 10*time.Second, func(evs []client.Event) bool {
		d, _ := delivery(evs, id)
		return d == client.AtStation
	})
	// bob's next client blocks alice before its handshake: the change
	// waits for the station's list, then goes with it.
	c, err := client.New(client.Config{URL: st.url, Identity: bobID, MinBackoff: 50 * time.Millisecond, EventBuffer: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	blockErr := make(chan error, 1)
	go func() { blockErr <- c.Block(ctx, []dimp.ID{aliceID.ID}) }()
	bob2 := watch(t, c)
	if err := <-blockErr; err != nil {
		t.Fatal(err)
	}
	bob2.waitRunning()
	bob2.waitFor("dropped", 10*time.Second, func(evs []client.Event) bool {
		e, ok := lastOf[client.ListsEvent](evs)
		return ok && e.Dropped >= 1 // "hi" too, when the station offers it again
	})
	bob2.mu.Lock()
	defer bob2.mu.Unlock()
	if bob2.messages["stored before the block"] != 0 {
		t.Error("a blocked user's message was shown")
	}
	e, _ := lastOf[client.ListsEvent](bob2.events)
	if len(e.Block) != 1 || !e.Block[0].SameAs(aliceID.ID) {
		t.Errorf("block list %v", e.Block)
	}
}

func TestResolveName(t *testing.T) {
	st := startStationWith(t, t.TempDir(), mockstation.Config{})
	alice := connect(t, st.url, newUser(t, "alice"))
	t1, t2 := newUser(t, "twin"), newUser(t, "twin")
	for _, u := range []*dimp.Identity{t1, t2} {
		p := connect(t, st.url, u)
		p.waitRunning()
		p.stop()
	}
	alice.waitRunning()
	ctx := context.Background()
	ids, err := alice.c.ResolveName(ctx, "station")
	if err != nil || len(ids) != 1 || !ids[0].SameAs(st.srv.ID()) {
		t.Errorf("station: %v %v", ids, err)
	}
	ids, err = alice.c.ResolveName(ctx, "Alice")
	if err != nil || len(ids) != 1 || !ids[0].SameAs(alice.c.Me()) {
		t.Errorf("alice: %v %v", ids, err)
	}
	ids, err = alice.c.ResolveName(ctx, "twin")
	var amb *client.AmbiguousNameError
	if !errors.Is(err, client.ErrNameAmbiguous) || !errors.As(err, &amb) || len(amb.IDs) != 2 || len(ids) != 2 {
		t.Errorf("twin: %v %v", ids, err)
	}
	if _, err := alice.c.ResolveName(ctx, "nobody"); !errors.Is(err, client.ErrNameUnknown) {
		t.Errorf("nobody: %v", err)
	}
	for _, bad := range []string{"", "two words", strings.Repeat("x", 200)} {
		if _, err := alice.c.ResolveName(ctx, bad); !errors.Is(err, client.ErrNameInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestSetProfile(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	aliceID, bobID := newUser(t, "alice"), newUser(t, "bob")
	var saved *dimp.Identity
	alice := connect(t, st.url, aliceID)
	bob := connectWith(t, client.Config{URL: st.url, Identity: bobID,
		SaveIdentity: func(u *dimp.Identity) error { saved = u; return nil }})
	alice.waitRunning()
	bob.waitRunning()
	ctx := context.Background()
	// They talk, so that alice is bob's contact.
	if _, err := bob.c.SendText(ctx, alice.c.Me(), "hello"); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("hello", 10*time.Second, func(evs []client.Event) bool {
		return received(evs, func(c dimp.Content) bool { _, ok := c.(*dimp.TextContent); return ok }) != nil
	})
	for _, bad := range []struct{ name, avatar string }{
		{"", ""}, {strings.Repeat("é", 65), ""}, {"a\x07b", ""}, {"Bobby", "ftp://x/y.png"}, {"Bobby", "javascript:alert(1)"},
	} {
		if err := bob.c.SetProfile(ctx, bad.name, bad.avatar); err == nil {
			t.Errorf("%q %q accepted", bad.name, bad.avatar)
		}
	}
	if err := bob.c.SetProfile(ctx, "  Bobby  ", "https://example.com/bob.png"); err != nil {
		t.Fatal(err)
	}
	if saved == nil || saved.Visa.Name() != "Bobby" || saved.Visa.Verify(saved.Meta.Key) != nil {
		t.Fatalf("saved identity %+v", saved)
	}
	if k, _ := saved.Visa.VisaKey(); k == nil {
		t.Error("the new visa lost its key")
	}
	// The station has it: from the visa the messages now attach, or from
	// the documents command ("Document received." or "not changed.").
	alice.waitFor("bob's new name", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if p, ok := ev.(client.ProfileEvent); ok && p.ID.SameAs(bobID.ID) && p.Update && p.Name == "Bobby" &&
				p.Old == "Bob" && p.Avatar == "https://example.com/bob.png" {
				return true
			}
		}
		return false
	})
	// A newcomer asks the station: it has the new visa.
	carol := connect(t, st.url, newUser(t, "carol"))
	carol.waitRunning()
	ids, err := carol.c.ResolveName(ctx, "bobby")
	if err != nil || len(ids) != 1 || !ids[0].SameAs(bobID.ID) {
		t.Errorf("bobby: %v %v", ids, err)
	}
}

// A visa whose name is 60 KB (a dimtui station takes a document of 64 KiB
// at most; others take more, and a visa of many megabytes would not fit
// a frame anyway): the peer is usable, its name is shown cut and reported
// as oversized.
func TestOversizedVisaName(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	alice := connect(t, st.url, newUser(t, "alice"))
	bobID := newUser(t, "bob")
	visa := dimp.NewDocument(bobID.ID, dimp.DocVisa)
	for _, p := range bobID.Visa.PropertyNames() {
		var v any
		_ = json.Unmarshal(bobID.Visa.Property(p), &v)
		_ = visa.Set(p, v)
	}
	_ = visa.Set("name", strings.Repeat("B", 60<<10))
	if err := visa.Sign(bobID.SignKey); err != nil {
		t.Fatal(err)
	}
	big := *bobID
	big.Visa = visa
	bob := connect(t, st.url, &big)
	alice.waitRunning()
	bob.waitRunning()
	ctx := context.Background()
	if _, err := bob.c.SendText(ctx, alice.c.Me(), "from a long name"); err != nil {
		t.Fatal(err)
	}
	var pe client.ProfileEvent
	alice.waitFor("oversized profile", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if p, ok := ev.(client.ProfileEvent); ok && p.ID.SameAs(bobID.ID) {
				pe = p
				return true
			}
		}
		return false
	})
	if !pe.Oversized || len([]rune(pe.Name)) != client.MaxNameRunes+1 {
		t.Errorf("name of %d runes, oversized %v", len([]rune(pe.Name)), pe.Oversized)
	}
	alice.waitFor("error event", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if e, ok := ev.(client.ErrorEvent); ok && errors.Is(e.Err, client.ErrOversizedName) {
				return len(e.Err.Error()) < 1000
			}
		}
		return false
	})
	alice.waitFor("the message", 10*time.Second, func(evs []client.Event) bool {
		return received(evs, func(c dimp.Content) bool { tc, ok := c.(*dimp.TextContent); return ok && tc.Text == "from a long name" }) != nil
	})
}
