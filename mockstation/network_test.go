package mockstation_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dimclient "dimtui/client"
	"dimtui/dimp"
	"dimtui/mockstation"
)

// netStation is one station of a test network.
type netStation struct {
	srv    *mockstation.Server
	url    string
	dir    string
	ln     net.Listener
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	notices []mockstation.Notice
}

// startNetwork starts n stations; links[i] lists the stations station i
// dials (its --neighbor).
func startNetwork(t *testing.T, n int, links map[int][]int) []*netStation {
	t.Helper()
	sts := make([]*netStation, n)
	for i := range sts {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		sts[i] = &netStation{ln: ln, url: "ws://" + ln.Addr().String() + "/", dir: t.TempDir()}
	}
	for i, st := range sts {
		var neighbors []string
		for _, j := range links[i] {
			neighbors = append(neighbors, sts[j].url)
		}
		st.start(t, neighbors, false)
	}
	return sts
}

// start serves the station on its listener (a new one on the same
// address after a stop).
func (st *netStation) start(t *testing.T, neighbors []string, relisten bool) {
	t.Helper()
	if relisten {
		var err error
		addr := strings.TrimSuffix(strings.TrimPrefix(st.url, "ws://"), "/")
		for range 50 {
			if st.ln, err = net.Listen("tcp", addr); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logger *slog.Logger
	if os.Getenv("NETLOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("station", st.url)
	}
	srv, err := mockstation.New(ctx, mockstation.Config{DataDir: st.dir, RateLimit: -1, Neighbors: neighbors, Logger: logger,
		OnNotice: func(n mockstation.Notice) {
			st.mu.Lock()
			st.notices = append(st.notices, n)
			st.mu.Unlock()
		}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	st.srv, st.cancel, st.done = srv, cancel, make(chan struct{})
	go func() {
		defer close(st.done)
		srv.Serve(ctx, st.ln)
		srv.Close()
	}()
	t.Cleanup(st.stop)
}

func (st *netStation) stop() {
	st.cancel()
	<-st.done
}

// waitFor polls cond until it holds, failing the test after d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// knowsElsewhere reports whether the station knows user to be at station.
func (st *netStation) knowsElsewhere(user, station dimp.ID) bool {
	s, err := st.srv.Status(context.Background())
	if err != nil {
		return false
	}
	return slices.ContainsFunc(s.Elsewhere, func(u mockstation.UserLocation) bool {
		return u.User == user.String() && u.Station == station.String() && u.Route != ""
	})
}

// netUser is a client of the real client package with its events
// gathered.
type netUser struct {
	id     *dimp.Identity
	c      *dimclient.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	texts   []string // texts received, in order
	details map[dimclient.MessageID][]string
	state   map[dimclient.MessageID]dimclient.Delivery
	running bool
}

func joinUser(t *testing.T, url string, id *dimp.Identity) *netUser {
	t.Helper()
	c, err := dimclient.New(dimclient.Config{URL: url, Identity: id, EventBuffer: 1 << 12})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &netUser{id: id, c: c, cancel: cancel, done: make(chan struct{}),
		details: make(map[dimclient.MessageID][]string), state: make(map[dimclient.MessageID]dimclient.Delivery)}
	go c.Run(ctx)
	go u.gather()
	t.Cleanup(u.quit)
	return u
}

func (u *netUser) quit() {
	u.cancel()
	<-u.done
}

func (u *netUser) gather() {
	defer close(u.done)
	for ev := range u.c.Events() {
		u.mu.Lock()
		switch e := ev.(type) {
		case dimclient.StatusEvent:
			u.running = e.Status.State == dimclient.Running
		case dimclient.MessageEvent:
			if tc, ok := e.Message.Content.(*dimp.TextContent); ok {
				u.texts = append(u.texts, tc.Text)
			}
		case dimclient.DeliveryEvent:
			u.details[e.ID] = append(u.details[e.ID], e.Detail)
			if e.State > u.state[e.ID] {
				u.state[e.ID] = e.State
			}
		}
		u.mu.Unlock()
	}
}

func (u *netUser) isRunning() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.running
}

func (u *netUser) received() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.texts)
}

func (u *netUser) delivery(id dimclient.MessageID) (dimclient.Delivery, []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.state[id], slices.Clone(u.details[id])
}

func (u *netUser) send(t *testing.T, to *netUser, text string) dimclient.MessageID {
	t.Helper()
	id, err := u.c.SendText(context.Background(), to.id.ID, text)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// hasTexts reports whether u received every text of want, each once.
func (u *netUser) hasTexts(want ...string) bool {
	got := u.received()
	for _, w := range want {
		if n := countOf(got, w); n != 1 {
			return false
		}
	}
	return true
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// Three stations in a line, A — B — C: a user at each end writes to the
// other; each message crosses two links, each is shown once, and its
// sender hears where it went: passed on by its own station, pushed to the
// receiver by the far one, and received by the receiver's dimclient.
func TestNetworkLine(t *testing.T) {
	sts := startNetwork(t, 3, map[int][]int{0: {1}, 1: {2}})
	a, c := sts[0], sts[2]
	alice, carol := joinUser(t, a.url, user(t, "alice")), joinUser(t, c.url, user(t, "carol"))
	eventually(t, 10*time.Second, "both users running", func() bool { return alice.isRunning() && carol.isRunning() })
	eventually(t, 10*time.Second, "station A knows carol at C and C knows alice at A", func() bool {
		return a.knowsElsewhere(carol.id.ID, c.srv.ID()) && c.knowsElsewhere(alice.id.ID, a.srv.ID())
	})

	toCarol := alice.send(t, carol, "hello carol, from A")
	toAlice := carol.send(t, alice, "hello alice, from C")
	eventually(t, 10*time.Second, "each text arrives", func() bool {
		return carol.hasTexts("hello carol, from A") && alice.hasTexts("hello alice, from C")
	})
	for _, tc := range []struct {
		who *netUser
		id  dimclient.MessageID
	}{{alice, toCarol}, {carol, toAlice}} {
		eventually(t, 10*time.Second, "delivered to the receiver's client", func() bool {
			d, _ := tc.who.delivery(tc.id)
			return d >= dimclient.Delivered
		})
		_, details := tc.who.delivery(tc.id)
		for _, want := range []string{"Message redirected.", "Message delivered."} {
			if !slices.Contains(details, want) {
				t.Errorf("%s's message: receipts %q, want %q among them", tc.who.id.ID.Name(), details, want)
			}
		}
	}
	time.Sleep(200 * time.Millisecond)
	if got := carol.received(); countOf(got, "hello carol, from A") != 1 {
		t.Errorf("carol received %q", got)
	}
	noneStored(t, sts...)
}

// noneStored waits until no station holds a message: each was
// acknowledged by the next station or by its receiver.
func noneStored(t *testing.T, sts ...*netStation) {
	t.Helper()
	var counts []int64
	defer func() {
		if t.Failed() {
			t.Logf("stored per station: %v", counts)
		}
	}()
	eventually(t, 5*time.Second, "nothing left stored", func() bool {
		counts = counts[:0]
		for _, st := range sts {
			s, _ := st.srv.Status(context.Background())
			counts = append(counts, s.StoredMessages)
		}
		return !slices.ContainsFunc(counts, func(n int64) bool { return n != 0 })
	})
}

// Three stations in a ring, A → B → C → A: messages between users at
// every pair arrive once each, and a broadcast to everyone@everywhere
// reaches every user once, though every station has two ways to pass it
// on.
func TestNetworkRing(t *testing.T) {
	sts := startNetwork(t, 3, map[int][]int{0: {1}, 1: {2}, 2: {0}})
	names := []string{"alice", "bob", "carol"}
	users := make([]*netUser, 3)
	for i, st := range sts {
		users[i] = joinUser(t, st.url, user(t, names[i]))
	}
	everyoneKnown(t, sts, users)

	for i, from := range users {
		for j, to := range users {
			if i != j {
				from.send(t, to, names[i]+" to "+names[j])
			}
		}
	}
	if _, err := users[0].c.SendText(context.Background(), dimp.Everyone, "alice to everyone"); err != nil {
		t.Fatal(err)
	}
	for j, to := range users {
		var want []string
		for i := range users {
			if i != j {
				want = append(want, names[i]+" to "+names[j])
			}
		}
		if j != 0 {
			want = append(want, "alice to everyone")
		}
		eventually(t, 10*time.Second, names[j]+" receives each message once", func() bool { return to.hasTexts(want...) })
	}
	time.Sleep(300 * time.Millisecond) // time for a copy going around the ring
	for j, u := range users {
		got := u.received()
		if n := countOf(got, "alice to everyone"); (j == 0 && n != 0) || (j != 0 && n != 1) {
			t.Errorf("%s got the broadcast %d times: %q", names[j], n, got)
		}
		if len(got) != len(slices.Compact(slices.Sorted(slices.Values(got)))) {
			t.Errorf("%s got a message twice: %q", names[j], got)
		}
	}
	noneStored(t, sts...)
}

// everyoneKnown waits until every station knows where every user of
// another station is, with a route there.
func everyoneKnown(t *testing.T, sts []*netStation, users []*netUser) {
	t.Helper()
	eventually(t, 10*time.Second, "every station knows every user elsewhere", func() bool {
		for i, st := range sts {
			for j, u := range users {
				if i != j && !st.knowsElsewhere(u.id.ID, sts[j].srv.ID()) {
					return false
				}
			}
		}
		return true
	})
}

// A user who is offline at one station gets what was sent meanwhile when
// coming back there; one who moves to another station gets it there:
// what waited follows the user's newest login.
func TestNetworkOfflineAndMoving(t *testing.T) {
	sts := startNetwork(t, 3, map[int][]int{0: {1}, 1: {2}})
	a, c := sts[0], sts[2]
	aliceID, carolID := user(t, "alice"), user(t, "carol")
	alice, carol := joinUser(t, a.url, aliceID), joinUser(t, c.url, carolID)
	everyoneKnown(t, []*netStation{a, c}, []*netUser{alice, carol})

	// Offline at C: the message waits at C, and is there when carol is.
	carol.quit()
	alice.send(t, carol, "while you were out")
	eventually(t, 10*time.Second, "the message waits at C", func() bool {
		s, _ := c.srv.Status(context.Background())
		return s.StoredMessages == 1
	})
	carol = joinUser(t, c.url, carolID)
	eventually(t, 10*time.Second, "carol gets it at C", func() bool { return carol.hasTexts("while you were out") })

	// Moving: carol leaves C (once she has acknowledged what she got);
	// two messages wait there; she logs in at A.
	eventually(t, 10*time.Second, "carol acknowledged it", func() bool {
		s, _ := c.srv.Status(context.Background())
		return s.StoredMessages == 0
	})
	carol.quit()
	alice.send(t, carol, "first, sent to C")
	alice.send(t, carol, "second, sent to C")
	var stored int64
	defer func() {
		if t.Failed() {
			t.Logf("stored at C: %d", stored)
		}
	}()
	eventually(t, 10*time.Second, "both wait at C", func() bool {
		s, _ := c.srv.Status(context.Background())
		stored = s.StoredMessages
		return stored == 2
	})

	carol = joinUser(t, a.url, carolID)
	eventually(t, 10*time.Second, "what waited at C follows carol to A", func() bool {
		return carol.hasTexts("first, sent to C", "second, sent to C")
	})
	eventually(t, 10*time.Second, "C knows carol is at A", func() bool { return c.knowsElsewhere(carolID.ID, a.srv.ID()) })
	noneStored(t, sts...)
}
