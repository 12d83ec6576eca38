package mockstation_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/mockstation"
)

// idle is a connection that never handshakes: it says nothing, sends only
// "DIM" (an MTP stream that stops there), or upgrades to WebSocket and
// stops.
type idle struct {
	kind string
	nc   net.Conn        // raw TCP, for "silent" and "dim"
	ws   *websocket.Conn // for "ws"
	done chan error      // how the station ended it
}

var idleKinds = []string{"silent", "dim", "ws"}

func openIdle(t *testing.T, st *station, kind string) *idle {
	t.Helper()
	c := &idle{kind: kind, done: make(chan error, 1)}
	if kind == "ws" {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, st.url, nil)
		if err != nil {
			t.Fatalf("idle WebSocket: %v", err)
		}
		c.ws = ws
		t.Cleanup(func() { ws.CloseNow() })
		go func() {
			_, _, err := ws.Read(context.Background())
			c.done <- err
		}()
		return c
	}
	nc, err := net.DialTimeout("tcp", st.addr, waitFor)
	if err != nil {
		t.Fatalf("idle %s: %v", kind, err)
	}
	c.nc = nc
	t.Cleanup(func() { nc.Close() })
	if kind == "dim" {
		if _, err := nc.Write([]byte("DIM")); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		_, err := io.Copy(io.Discard, nc) // nil at EOF
		if err == nil {
			err = io.EOF
		}
		c.done <- err
	}()
	return c
}

// closed waits up to d for the station to end the connection and returns
// how it ended; nil when it is still open.
func (c *idle) closed(d time.Duration) error {
	select {
	case err := <-c.done:
		c.done <- err
		return err
	case <-time.After(d):
		return nil
	}
}

// wantClosed fails unless the station ended c: a raw connection with EOF
// (or a reset), a WebSocket with code and a reason containing reason.
func (c *idle) wantClosed(t *testing.T, code websocket.StatusCode, reason string) {
	t.Helper()
	err := c.closed(waitFor)
	switch {
	case err == nil:
		t.Errorf("idle %s connection still open", c.kind)
	case c.kind == "ws":
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code || !strings.Contains(ce.Reason, reason) {
			t.Errorf("idle WebSocket closed with %v, want %d %q", err, code, reason)
		}
	case !errors.Is(err, io.EOF) && !isReset(err):
		t.Errorf("idle %s connection ended with %v, want EOF", c.kind, err)
	}
}

// wantHTTPAnswer reads the HTTP response on nc and fails unless it has
// status and a body containing text.
func wantHTTPAnswer(t *testing.T, what string, nc net.Conn, status int, text string) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(waitFor))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || !strings.Contains(string(body), text) {
		t.Errorf("%s answered %s %q, want %d %q", what, resp.Status, body, status, text)
	}
}

// openIdles opens n idle connections, the kinds in turn.
func openIdles(t *testing.T, st *station, n int) []*idle {
	t.Helper()
	out := make([]*idle, n)
	for i := range out {
		out[i] = openIdle(t, st, idleKinds[i%len(idleKinds)])
	}
	return out
}

// chat has alice and bob, both online, exchange a message through st.
func chat(t *testing.T, st *station) (a, b *client) {
	t.Helper()
	alice, bob := user(t, "alice"), user(t, "bob")
	a, b = connect(t, st.url, alice), connect(t, st.url, bob)
	a.know(bob)
	b.know(alice)
	a.send(bob.ID, dimp.NewText("still room for us"))
	if got := b.fromPeer(alice); got.im.Content.(*dimp.TextContent).Text != "still room for us" {
		t.Errorf("bob got %s", dimp.MarshalContent(got.im.Content))
	}
	a.receipt(dimp.ReceiptDelivered)
	return a, b
}

// TestConnectionCap: more idle connections than the cap (silent, "DIM"
// only, WebSocket without Hello) do not lock real users out: each new
// connection evicts the oldest one that has not handshaken, a WebSocket
// with a close reason; real clients handshake and chat, and /status
// answers and counts what happened.
func TestConnectionCap(t *testing.T) {
	const maxConns = 12
	var log logBuffer
	st := startServed(t, mockstation.Config{MaxConnections: maxConns, HandshakeTimeout: time.Minute,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	idles := openIdles(t, st, 18)
	// The 18 came one after the other: the first 6 made room for the
	// last 6, and the newest 12 are held.
	for _, c := range idles[:6] {
		c.wantClosed(t, websocket.StatusTryAgainLater, "station full")
	}
	for _, c := range idles[len(idles)-maxConns+2:] { // two more slots go to alice and bob
		if err := c.closed(10 * time.Millisecond); err != nil {
			t.Errorf("a newer idle %s connection was closed: %v", c.kind, err)
		}
	}

	a, b := chat(t, st)
	s := st.status(t)
	if s.Sessions != 2 || s.Limits.MaxConnections != maxConns {
		t.Errorf("status: %+v", s)
	}
	// 18 idle, 2 clients and this request came; 12 slots.
	if l := s.Limits; l.Open > maxConns || l.Evicted < 18+2+1-maxConns || l.Handshaking != l.Open-2 {
		t.Errorf("limits: %+v", l)
	}
	// Sessions are never evicted: a new idle flood leaves alice and bob
	// online.
	openIdles(t, st, 2*maxConns)
	a.send(b.me.ID, dimp.NewText("after the second flood"))
	if got := b.fromPeer(a.me); got.im.Content.(*dimp.TextContent).Text != "after the second flood" {
		t.Errorf("bob got %s", dimp.MarshalContent(got.im.Content))
	}

	// The log sums the evictions up instead of a line for each.
	evicted := st.status(t).Limits.Evicted
	st.stop()
	var summed int64
	lines := 0
	for _, line := range strings.Split(log.String(), "\n") {
		i := strings.Index(line, " evicted=")
		if !strings.Contains(line, "limits") || i < 0 {
			continue
		}
		lines++
		var n int64
		fmt.Sscan(line[i+len(" evicted="):], &n)
		summed += n
	}
	if lines > 3 {
		t.Errorf("%d lines about the limits", lines)
	}
	if summed != evicted {
		t.Errorf("log sums up %d evictions, /status says %d:\n%s", summed, evicted, log.String())
	}
}

// logBuffer collects a station's log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestHandshakeDeadline: a connection that has not handshaken by the
// deadline is closed, counted from its accept: one that says nothing, an
// MTP stream that stops after "DIM", a WebSocket that never says Hello
// (close reason), an HTTP request that never ends its headers (408). A
// handshaken session is not.
func TestHandshakeDeadline(t *testing.T) {
	const deadline = 300 * time.Millisecond
	st := startServed(t, mockstation.Config{HandshakeTimeout: deadline})
	a := connect(t, st.url, user(t, "alice"))
	idles := openIdles(t, st, 3)
	slow, err := net.DialTimeout("tcp", st.addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := slow.Write([]byte("GET /status HTTP/1.1\r\nHost: station\r\n")); err != nil {
		t.Fatal(err)
	}

	for _, c := range idles {
		c.wantClosed(t, websocket.StatusPolicyViolation, "no handshake in "+deadline.String())
	}
	wantHTTPAnswer(t, "unfinished request", slow, http.StatusRequestTimeout, "no handshake in")

	// alice handshook before the deadline: still served.
	a.send(st.srv.ID(), dimp.NewText("active users"))
	a.next()
	if l := st.status(t).Limits; l.TimedOut != 4 || l.Evicted != 0 || l.Refused != 0 {
		t.Errorf("limits: %+v", l)
	}
}

// TestHandshakingPerAddress: one address may have only so many
// connections handshaking at once; past that its oldest is evicted. Its
// sessions do not count: more users than the cap, behind one address
// (here loopback), are online together.
func TestHandshakingPerAddress(t *testing.T) {
	const perAddr = 3
	st := startServed(t, mockstation.Config{MaxHandshakingPerAddress: perAddr, HandshakeTimeout: time.Minute})
	idles := openIdles(t, st, 9)
	for _, c := range idles[:9-perAddr] {
		c.wantClosed(t, websocket.StatusTryAgainLater, "too many connections from your address")
	}
	var clients []*client
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin"} {
		clients = append(clients, connect(t, st.url, user(t, name)))
	}
	s := st.status(t)
	if s.Sessions != len(clients) || s.Limits.Handshaking > perAddr || s.Limits.Evicted < 9-perAddr {
		t.Errorf("status: sessions %d, limits %+v", s.Sessions, s.Limits)
	}
	for _, c := range clients {
		c.send(st.srv.ID(), dimp.NewText("active users"))
		c.next()
	}
}

// TestRefusedWhenFull: when every slot holds a session, nothing is
// evicted: a WebSocket upgrade is refused with 503 and a line saying why,
// an MTP stream is closed, and /status still answers.
func TestRefusedWhenFull(t *testing.T) {
	st := startServed(t, mockstation.Config{MaxConnections: 2})
	a, b := chat(t, st)

	nc, err := net.DialTimeout("tcp", st.addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("GET / HTTP/1.1\r\nHost: station\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"))
	wantHTTPAnswer(t, "upgrade over the cap", nc, http.StatusServiceUnavailable, "station full")

	m := openIdle(t, st, "dim")
	m.wantClosed(t, 0, "")

	s := st.status(t)
	if l := s.Limits; s.Sessions != 2 || l.Open != 2 || l.Refused != 2 || l.Evicted != 0 {
		t.Errorf("status: sessions %d, limits %+v", s.Sessions, l)
	}
	a.send(b.me.ID, dimp.NewText("still here"))
	b.fromPeer(a.me)
}

// TestServeWarnsOffLoopback: a station that listens on all interfaces
// says so in its log, with a URL a person can use; one on loopback says
// nothing of the kind.
func TestServeWarnsOffLoopback(t *testing.T) {
	for _, tc := range []struct {
		listen string
		warn   bool
	}{{"127.0.0.1:0", false}, {"0.0.0.0:0", true}} {
		var buf logBuffer
		s, err := mockstation.New(t.Context(), mockstation.Config{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", tc.listen)
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx, ln) }()
		for !strings.Contains(buf.String(), "station listening") {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		<-done
		s.Close()
		log := buf.String()
		warned := strings.Contains(log, "level=WARN") &&
			strings.Contains(log, "anyone who can reach this machine on port "+port+" can connect")
		if warned != tc.warn || tc.warn && !strings.Contains(log, "url=ws://localhost:"+port+"/") {
			t.Errorf("listening on %s, the log says:\n%s", tc.listen, log)
		}
	}
}
