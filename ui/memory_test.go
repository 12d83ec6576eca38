package ui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/coder/websocket"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/dimptest"
	"dimtui/mockstation"
)

// The memory tests run the terminal client as `dimtui chat` runs it — a
// real client in a Bubble Tea program, in workshop mode — against a real
// station and a real peer. The station and the peer run in a helper
// process (this test binary started again), so that the heap measured is
// the client's and its UI's alone. Between the client and the station the
// helper puts a relay that can play a hostile station: it sends garbage
// frames and PINGs of its own.

// memHelperEnv starts the helper process instead of a test.
const memHelperEnv = "DIMTUI_MEMORY_HELPER"

// heapBudget is the most the client and its UI may keep after a flood.
const heapBudget = 150 << 20

// TestMemoryPeerFlood: 400 messages of 700 KB from a peer, through an
// honest station. Afterwards the client's heap stays under heapBudget, it
// answers PING, and a new message shows.
func TestMemoryPeerFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of 280 MB: not in -short")
	}
	s := startMemorySession(t)
	s.helper.do(t, fmt.Sprintf("flood %s 400 %d", s.me, 700<<10), "flooded")
	s.afterFlood(t, "400 messages of 700 KB")
}

// TestMemoryGarbageFlood: 800 garbage frames of 900 KB from the station.
// Afterwards the client's heap stays under heapBudget, it answers PING,
// and a new message shows.
func TestMemoryGarbageFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of 720 MB: not in -short")
	}
	s := startMemorySession(t)
	s.helper.do(t, fmt.Sprintf("garbage 800 %d", 900<<10), "garbaged")
	s.afterFlood(t, "800 garbage frames of 900 KB")
}

// memorySession is the client under test, in its UI, with the helper.
type memorySession struct {
	helper *memHelper
	me     dimp.ID
	tm     *teatest.TestModel
	base   uint64 // heap in use once connected
}

func startMemorySession(t *testing.T) *memorySession {
	h := startMemHelper(t)
	me := dimptest.NewIdentity(t, dimp.User, "alice")
	ctx, cancel := context.WithCancel(context.Background())
	c, err := client.New(client.Config{URL: h.url, Identity: me})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	// As runClientUI and runUI make it, with the conversation with the
	// peer open (the user typed /to bob).
	app := NewSplit([]PaneSpec{{Backend: c, Options: Options{Context: ctx, Peer: h.peer}}},
		WithWorkshop(WorkshopOptions{}), WithTheme(true))
	box := &appBox{app}
	tm := teatest.NewTestModel(t, probed{box}, teatest.WithInitialTermSize(120, 40))
	// The program's output is read away as a terminal would.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for ctx.Err() == nil {
			_, _ = io.Copy(io.Discard, tm.Output())
			time.Sleep(20 * time.Millisecond)
		}
	}()
	t.Cleanup(func() {
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
		cancel()
		<-done
		<-drained
		// teatest keeps the program for the rest of the process (it waits
		// for a SIGINT); the next test measures a heap without this one.
		box.app = nil
	})
	s := &memorySession{helper: h, me: me.ID, tm: tm}
	s.waitUI(t, "the handshake", 20*time.Second, func(a *App) bool { return a.panes[0].chat.status.State == client.Running })
	s.base, _ = heapInUse()
	return s
}

// afterFlood checks the client once a flood was sent: a message sent
// after it shows, the heap is under budget, PING is answered.
func (s *memorySession) afterFlood(t *testing.T, what string) {
	text := "after the flood " + strconv.FormatInt(time.Now().UnixNano(), 36)
	s.helper.do(t, "say "+s.me.String()+" "+text, "said")
	s.waitUI(t, "the message sent after the flood", 5*time.Minute, func(a *App) bool {
		return strings.Contains(screenText(a), text)
	})
	inuse, alloc := heapInUse()
	t.Logf("after %s: heap in use %.1f MB (%.1f MB allocated); %.1f MB once connected",
		what, mb(inuse), mb(alloc), mb(s.base))
	if inuse > heapBudget {
		t.Errorf("heap in use %.1f MB after %s, want under %.0f MB", mb(inuse), what, mb(heapBudget))
	}
	s.helper.do(t, "ping", "pong")
	again := "and one more " + strconv.FormatInt(time.Now().UnixNano(), 36)
	s.helper.do(t, "say "+s.me.String()+" "+again, "said")
	s.waitUI(t, "a message after the PING", 30*time.Second, func(a *App) bool {
		return strings.Contains(screenText(a), again)
	})
}

// waitUI waits until cond, run in the program's goroutine, holds.
func (s *memorySession) waitUI(t *testing.T, what string, timeout time.Duration, cond func(*App) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok := make(chan bool, 1)
		s.tm.Send(probe(func(a *App) { ok <- cond(a) }))
		select {
		case v := <-ok:
			if v {
				return
			}
		case <-time.After(time.Until(deadline)):
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// probe runs in the program's goroutine, between two messages.
type probe func(*App)

// probed is the App, answering probes.
type probed struct{ box *appBox }

type appBox struct{ app *App }

func (p probed) Init() tea.Cmd  { return p.box.app.Init() }
func (p probed) View() tea.View { return p.box.app.View() }

func (p probed) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if f, ok := msg.(probe); ok {
		f(p.box.app)
		return p, nil
	}
	_, cmd := p.box.app.Update(msg)
	return p, cmd
}

// heapInUse collects the garbage and returns the heap in use and allocated.
func heapInUse() (inuse, alloc uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.HeapAlloc
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// memHelper is the helper process: a station, a peer (bob) and a relay.
type memHelper struct {
	url   string // the relay, which the client under test dials
	peer  dimp.ID
	in    io.Writer
	lines chan string
}

func startMemHelper(t *testing.T) *memHelper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryHelperProcess$")
	cmd.Env = append(os.Environ(), memHelperEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &memHelper{in: in, lines: make(chan string, 16)}
	go func() {
		defer close(h.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		in.Close() // the helper ends when its input does
		_ = cmd.Wait()
	})
	h.url = strings.TrimPrefix(h.expect(t, "relay ", time.Minute), "relay ")
	peer, err := dimp.ParseID(strings.TrimPrefix(h.expect(t, "peer ", time.Minute), "peer "))
	if err != nil {
		t.Fatal(err)
	}
	h.peer = peer
	return h
}

// expect waits for a line of the helper starting with prefix.
func (h *memHelper) expect(t *testing.T, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-h.lines:
			if !ok {
				t.Fatalf("the helper process ended before %q", prefix)
			}
			if strings.HasPrefix(line, "error ") {
				t.Fatalf("helper: %s", line)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-deadline:
			t.Fatalf("the helper did not say %q in %s", prefix, timeout)
		}
	}
}

// do sends the helper a command and waits for its answer.
func (h *memHelper) do(t *testing.T, command, answer string) {
	t.Helper()
	if _, err := fmt.Fprintln(h.in, command); err != nil {
		t.Fatal(err)
	}
	h.expect(t, answer, 5*time.Minute)
}

// TestMemoryHelperProcess is the helper process of the memory tests.
func TestMemoryHelperProcess(t *testing.T) {
	if os.Getenv(memHelperEnv) != "1" {
		t.Skip("the station and peer of the memory tests; they start it")
	}
	if err := runMemHelper(t, os.Stdin, os.Stdout); err != nil {
		fmt.Println("error " + err.Error())
	}
}

// runMemHelper runs a station, a relay in front of it and bob, and obeys
// the commands read from in, one a line:
//
//	flood ID N SIZE   bob sends N texts of SIZE bytes to ID; answers "flooded"
//	say ID TEXT       bob sends TEXT to ID; answers "said"
//	garbage N SIZE    the relay sends N garbage frames of SIZE bytes to every client; "garbaged"
//	ping              the relay sends PING to every client and waits for PONG; "pong"
func runMemHelper(t *testing.T, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// No rate limit and no quotas: the flood is bigger than a sender may
	// keep stored, and how fast the client acknowledges it depends on
	// the machine's load; what is measured is the client, not the station.
	srv, err := mockstation.New(ctx, mockstation.Config{DataDir: t.TempDir(), RateLimit: -1,
		QuotaSenderMessages: -1, QuotaSenderBytes: -1, QuotaReceiverMessages: -1, QuotaReceiverBytes: -1})
	if err != nil {
		return err
	}
	defer srv.Close()
	go func() { _ = srv.Serve(ctx, ln) }()
	stationURL := "ws://" + ln.Addr().String()

	r := &relay{station: stationURL, pong: make(chan struct{}, 1)}
	rln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(rln, r) }()
	defer rln.Close()

	bob := dimptest.NewIdentity(t, dimp.User, "bob")
	c, err := client.New(client.Config{URL: stationURL, Identity: bob, EventBuffer: 1 << 16})
	if err != nil {
		return err
	}
	go func() { _ = c.Run(ctx) }()
	settled := make(chan client.DeliveryEvent, 1<<16)
	go func() {
		for ev := range c.Events() {
			if d, ok := ev.(client.DeliveryEvent); ok && d.State != client.Sending {
				settled <- d
			}
		}
	}()
	for c.Status().State != client.Running {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Fprintln(out, "relay ws://"+rln.Addr().String())
	fmt.Fprintln(out, "peer "+bob.ID.String())

	// send sends texts to a user and waits until the station has them all.
	send := func(to string, texts func(i int) string, n int) error {
		id, err := dimp.ParseID(to)
		if err != nil {
			return err
		}
		want := map[client.MessageID]bool{}
		for i := range n {
			mid, err := c.SendText(ctx, id, texts(i))
			if err != nil {
				return err
			}
			want[mid] = true
		}
		for len(want) > 0 {
			select {
			case d := <-settled:
				if want[d.ID] && d.State == client.Failed {
					return fmt.Errorf("message %s failed: %s", d.ID, d.Detail)
				}
				delete(want, d.ID)
			case <-time.After(2 * time.Minute):
				return fmt.Errorf("%d messages not at the station after 2 minutes", len(want))
			}
		}
		return nil
	}

	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		var err error
		answer := ""
		switch f[0] {
		case "flood":
			n, _ := strconv.Atoi(f[2])
			size, _ := strconv.Atoi(f[3])
			filler := strings.Repeat("lorem ipsum dolor sit amet ", size/27+1)[:size]
			err = send(f[1], func(i int) string { return fmt.Sprintf("%04d ", i) + filler[5:] }, n)
			answer = "flooded"
		case "say":
			text := strings.Join(f[2:], " ")
			err = send(f[1], func(int) string { return text }, 1)
			answer = "said"
		case "garbage":
			n, _ := strconv.Atoi(f[1])
			size, _ := strconv.Atoi(f[2])
			err = r.garbage(ctx, n, size)
			answer = "garbaged"
		case "ping":
			err = r.ping(ctx)
			answer = "pong"
		default:
			err = fmt.Errorf("unknown command %q", f[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(out, answer)
	}
	return nil
}

// relay passes WebSocket messages between clients and the station, and
// can send the clients frames of its own.
type relay struct {
	station string
	pong    chan struct{}

	mu      sync.Mutex
	clients []*websocket.Conn
}

func (r *relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	cc, err := websocket.Accept(w, req, nil)
	if err != nil {
		return
	}
	defer cc.CloseNow()
	cc.SetReadLimit(8 << 20)
	ctx := req.Context()
	sc, _, err := websocket.Dial(ctx, r.station, nil)
	if err != nil {
		return
	}
	defer sc.CloseNow()
	sc.SetReadLimit(8 << 20)
	r.mu.Lock()
	r.clients = append(r.clients, cc)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.clients = slices.DeleteFunc(r.clients, func(c *websocket.Conn) bool { return c == cc })
		r.mu.Unlock()
	}()
	go func() {
		for {
			typ, b, err := sc.Read(ctx)
			if err != nil || cc.Write(ctx, typ, b) != nil {
				cc.CloseNow()
				return
			}
		}
	}()
	for {
		typ, b, err := cc.Read(ctx)
		if err != nil {
			return
		}
		if string(b) == "PONG" {
			select {
			case r.pong <- struct{}{}:
			default:
			}
			continue // the answer to the relay's PING
		}
		if sc.Write(ctx, typ, b) != nil {
			return
		}
	}
}

func (r *relay) each(fn func(c *websocket.Conn) error) error {
	r.mu.Lock()
	clients := append([]*websocket.Conn(nil), r.clients...)
	r.mu.Unlock()
	for _, c := range clients {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// garbage sends n frames of size bytes that are no DIM message: in turn
// random bytes, a JSON object with a huge field, and text.
func (r *relay) garbage(ctx context.Context, n, size int) error {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, size)
	return r.each(func(c *websocket.Conn) error {
		for i := range n {
			switch i % 3 {
			case 0:
				for j := range buf {
					buf[j] = byte(rng.UintN(256))
				}
			case 1:
				head := fmt.Sprintf(`{"sender":"mallory%d","junk":"`, i)
				copy(buf, head)
				for j := len(head); j < size-2; j++ {
					buf[j] = 'A' + byte(rng.UintN(26))
				}
				copy(buf[size-2:], `"}`)
			default:
				for j := range buf {
					buf[j] = 'a' + byte(rng.UintN(26))
				}
			}
			if err := c.Write(ctx, websocket.MessageText, buf); err != nil {
				return err
			}
		}
		return nil
	})
}

// ping sends PING to the clients and waits for a PONG.
func (r *relay) ping(ctx context.Context) error {
	if err := r.each(func(c *websocket.Conn) error { return c.Write(ctx, websocket.MessageText, []byte("PING")) }); err != nil {
		return err
	}
	select {
	case <-r.pong:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("no PONG from the client in 30 s")
	}
}
