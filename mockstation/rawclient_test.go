package mockstation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/mockstation"
)

// This file plays a DIM client by hand, with nothing but dimp and the
// WebSocket library, following spec/station.md: it checks the station
// against the spec independently of the client package.

const waitFor = 5 * time.Second

// identities hands out test users; RSA key generation is the slow part of
// a test, so each name is made once per test binary.
var identities = struct {
	sync.Mutex
	m map[string]*dimp.Identity
}{m: map[string]*dimp.Identity{}}

// user returns the identity named name: an MKM meta on a secp256k1 key and
// a visa with an RSA-1024 key, as dimchat's clients make them.
func user(t testing.TB, name string) *dimp.Identity {
	t.Helper()
	identities.Lock()
	defer identities.Unlock()
	if id := identities.m[name]; id != nil {
		return id
	}
	id := mockstation.NewUser(t, name)
	identities.m[name] = id
	return id
}

// nicknamed makes a user whose visa name may differ from its ID's name.
func nicknamed(t testing.TB, name, nickname string) *dimp.Identity {
	t.Helper()
	return mockstation.NewNicknamed(t, name, nickname)
}

// station is a server under test, on an httptest server (its Handler)
// or, from startServed, on a listener of its own (Serve).
type station struct {
	srv       *mockstation.Server
	ts        *httptest.Server
	url       string // ws://…/
	base      string // http://…
	addr      string // host:port
	dir       string
	stopServe func()
}

// newServer makes a station (data in a temporary directory unless cfg
// names one) without serving it.
func newServer(t testing.TB, cfg *mockstation.Config) *mockstation.Server {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	srv, err := mockstation.New(t.Context(), *cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func startStation(t testing.TB, cfg mockstation.Config) *station {
	t.Helper()
	srv := newServer(t, &cfg)
	ts := httptest.NewServer(srv.Handler())
	st := &station{srv: srv, ts: ts, url: "ws" + strings.TrimPrefix(ts.URL, "http"), base: ts.URL,
		addr: ts.Listener.Addr().String(), dir: cfg.DataDir}
	t.Cleanup(st.stop)
	return st
}

// startServed starts a station with Serve on a port of its own, where it
// takes WebSocket, HTTP and MTP alike.
func startServed(t testing.TB, cfg mockstation.Config) *station {
	t.Helper()
	srv := newServer(t, &cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	addr := ln.Addr().String()
	st := &station{srv: srv, url: "ws://" + addr + "/", base: "http://" + addr, addr: addr, dir: cfg.DataDir,
		stopServe: func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
		}}
	t.Cleanup(st.stop)
	return st
}

func (st *station) stop() {
	if st.stopServe != nil {
		st.stopServe()
		st.stopServe = nil
	}
	st.srv.Close()
	if st.ts != nil {
		st.ts.Close()
	}
}

func (st *station) status(t *testing.T) mockstation.Status {
	t.Helper()
	resp, err := http.Get(st.base + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /status: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	var s mockstation.Status
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// client is one raw DIM client connection.
type client struct {
	t       testing.TB
	me      *dimp.Identity
	packer  *dimp.Packer
	ws      *websocket.Conn
	mtp     *mtpConn    // instead of ws: MTP over TCP (mtpclient_test.go)
	frames  chan []byte // every frame the station sent, in order
	readErr chan error  // how the connection ended
	station *dimp.Profile
	session string
	peers   map[string]*dimp.Profile
	linkAck bool // a station that says, in its handshake, that it acknowledges what it stores
}

// dial connects me to the station without handshaking.
func dial(t testing.TB, url string, me *dimp.Identity) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(8 << 20)
	c := &client{t: t, me: me, packer: dimp.NewPacker(me), ws: ws, frames: make(chan []byte, 1024),
		readErr: make(chan error, 1), peers: map[string]*dimp.Profile{}}
	go func() {
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				c.readErr <- err
				close(c.frames)
				return
			}
			c.frames <- data
		}
	}()
	t.Cleanup(func() { ws.CloseNow() })
	return c
}

// connect dials and handshakes.
func connect(t testing.TB, url string, me *dimp.Identity) *client {
	t.Helper()
	c := dial(t, url, me)
	c.handshake()
	return c
}

func (c *client) close() {
	if c.mtp != nil {
		c.mtp.nc.Close()
		return
	}
	c.ws.Close(websocket.StatusNormalClosure, "bye")
}

// disconnect closes c and waits until the station has dropped its session,
// so that what the test sends next finds the user offline.
func (st *station) disconnect(t testing.TB, c *client) {
	t.Helper()
	c.close()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		s, err := st.srv.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(s.Users, c.me.ID.String()) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s still online after closing", c.me.ID)
}

func (c *client) writeFrame(typ websocket.MessageType, data []byte) {
	c.t.Helper()
	if c.mtp != nil {
		c.mtp.sendMessage(c.t, data)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := c.ws.Write(ctx, typ, data); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// sendRM writes one reliable message as a binary frame, as dimchat's
// browser client does.
func (c *client) sendRM(rm *dimp.ReliableMessage) {
	c.t.Helper()
	raw, err := rm.MarshalJSON()
	if err != nil {
		c.t.Fatal(err)
	}
	c.writeFrame(websocket.MessageBinary, raw)
}

// seal packs content for to: a broadcast when to is a broadcast ID, else
// encrypted to the receiver's profile (the station's when to is the
// station).
func (c *client) seal(to dimp.ID, content dimp.Content, attach bool) *dimp.ReliableMessage {
	c.t.Helper()
	im := dimp.NewInstantMessage(c.me.ID, to, content)
	var profiles []*dimp.Profile
	if !to.IsBroadcast() {
		p := c.profileOf(to)
		if p == nil {
			c.t.Fatalf("no profile of %s", to)
		}
		profiles = []*dimp.Profile{p}
	}
	rm, err := c.packer.Seal(im, profiles, dimp.SealOptions{Attach: attach})
	if err != nil {
		c.t.Fatal(err)
	}
	return rm
}

// send seals and writes content for to.
func (c *client) send(to dimp.ID, content dimp.Content) *dimp.ReliableMessage {
	c.t.Helper()
	rm := c.seal(to, content, false)
	c.sendRM(rm)
	return rm
}

func (c *client) profileOf(id dimp.ID) *dimp.Profile {
	if c.station != nil && id.SameAs(c.station.ID) {
		return c.station
	}
	return c.peers[id.WithoutTerminal().String()]
}

// know lets the client verify and encrypt for a peer.
func (c *client) know(ids ...*dimp.Identity) {
	for _, id := range ids {
		c.peers[id.ID.String()] = id.Profile()
	}
}

// nextFrame returns the next frame from the station, failing after waitFor.
func (c *client) nextFrame() []byte {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatalf("%s: connection closed: %v", c.me.ID.Name(), c.closeErr())
		}
		return f
	case <-time.After(waitFor):
		c.t.Fatalf("%s: no frame from the station in %s", c.me.ID.Name(), waitFor)
	}
	return nil
}

// quiet asserts that nothing arrives for a moment.
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if ok {
			c.t.Fatalf("%s: unexpected frame: %.300s", c.me.ID.Name(), f)
		}
	case <-time.After(d):
	}
}

// closeErr waits for the connection to end and returns why.
func (c *client) closeErr() error {
	select {
	case err := <-c.readErr:
		c.readErr <- err
		return err
	case <-time.After(waitFor):
		return errors.New("still open")
	}
}

// received is one message from the station, opened.
type received struct {
	rm  *dimp.ReliableMessage
	im  *dimp.InstantMessage
	raw []byte
}

// next reads, verifies and decrypts the next message: from the station with
// its profile, from a peer with the peer's.
func (c *client) next() received {
	c.t.Helper()
	raw := c.nextFrame()
	rm, err := dimp.ParseReliableMessage(raw)
	if err != nil {
		c.t.Fatalf("%s: station sent a frame that is no message: %v: %.300s", c.me.ID.Name(), err, raw)
	}
	p := c.profileOf(rm.Sender)
	if p == nil && rm.Meta != nil {
		if p, err = dimp.ProfileFromMessage(rm); err != nil {
			c.t.Fatalf("attached profile: %v", err)
		}
	}
	if p == nil {
		c.t.Fatalf("%s: message from unknown %s", c.me.ID.Name(), rm.Sender)
	}
	im, err := c.packer.Open(rm, p)
	if err != nil {
		c.t.Fatalf("%s: open message from %s: %v", c.me.ID.Name(), rm.Sender, err)
	}
	return received{rm: rm, im: im, raw: raw}
}

// receipt reads the next message, which must be a receipt from the station
// with text, and returns it.
func (c *client) receipt(text string) *dimp.ReceiptCommand {
	c.t.Helper()
	got := c.next()
	r, ok := got.im.Content.(*dimp.ReceiptCommand)
	if !ok {
		c.t.Fatalf("%s: got %T %s, want receipt %q", c.me.ID.Name(), got.im.Content, dimp.MarshalContent(got.im.Content), text)
	}
	if !got.rm.Sender.Equal(c.station.ID) {
		c.t.Fatalf("receipt from %s, not the station", got.rm.Sender)
	}
	if r.Text != text {
		c.t.Fatalf("%s: receipt %q (%s), want %q", c.me.ID.Name(), r.Text, dimp.MarshalContent(r), text)
	}
	return r
}

// handshake runs spec/station.md §2 by hand and checks every step; it
// returns the handshake states it went through.
func (c *client) handshake() []dimp.HandshakeState {
	c.t.Helper()
	var states []dimp.HandshakeState
	// Start: Hello world! to station@anywhere, as a broadcast (group
	// stations@everywhere), meta and visa attached.
	hello := dimp.NewHandshake(dimp.HandshakeHello, "")
	hello.Group = dimp.EveryStations
	im := dimp.NewInstantMessage(c.me.ID, dimp.AnyStation, hello)
	im.Group = dimp.EveryStations
	rm, err := c.packer.Seal(im, nil, dimp.SealOptions{Attach: true})
	if err != nil {
		c.t.Fatal(err)
	}
	states = append(states, hello.State())
	c.sendRM(rm)

	// Again: DIM? from the real station, encrypted to us, its meta and visa
	// attached.
	raw := c.nextFrame()
	ask, err := dimp.ParseReliableMessage(raw)
	if err != nil {
		c.t.Fatal(err)
	}
	if ask.Sender.Type() != dimp.Station || ask.Meta == nil || ask.Visa == nil {
		c.t.Fatalf("DIM? from %s (type %s), meta %v, visa %v: want a station with meta and visa attached",
			ask.Sender, ask.Sender.Type(), ask.Meta != nil, ask.Visa != nil)
	}
	if ask.IsBroadcast() || len(ask.KeysFor(c.me.ID)) == 0 {
		c.t.Fatalf("DIM? not encrypted to %s: %.300s", c.me.ID, raw)
	}
	c.station, err = dimp.ProfileFromMessage(ask)
	if err != nil {
		c.t.Fatal(err)
	}
	opened, err := c.packer.Open(ask, c.station)
	if err != nil {
		c.t.Fatal(err)
	}
	again, ok := opened.Content.(*dimp.HandshakeCommand)
	if !ok || again.State() != dimp.HandshakeAgain || len(again.Session) != 64 {
		c.t.Fatalf("want DIM? with a 64-hex session key, got %s", dimp.MarshalContent(opened.Content))
	}
	if again.Header().Extra["remote_address"] == nil {
		c.t.Errorf("DIM? without remote_address: %s", dimp.MarshalContent(again))
	}
	states = append(states, again.State())

	// Restart: Hello world! with the key, to the station's own ID, encrypted.
	restart := dimp.NewHandshake(dimp.HandshakeHello, again.Session)
	if c.me.ID.Type() == dimp.Station && c.linkAck {
		// A dimtui station says it acknowledges what it stores.
		restart.Extra = dimp.Fields{}
		_ = restart.Extra.Set("link_ack", true)
	}
	states = append(states, restart.State())
	c.send(c.station.ID, restart)

	got := c.next()
	ok2, isHS := got.im.Content.(*dimp.HandshakeCommand)
	if !isHS || ok2.State() != dimp.HandshakeSuccess || ok2.Session != again.Session {
		c.t.Fatalf("want DIM! with the session, got %s", dimp.MarshalContent(got.im.Content))
	}
	states = append(states, ok2.State())
	c.session = again.Session
	return states
}

// ack acknowledges a message as dimchat's browser client does.
func (c *client) ack(rm *dimp.ReliableMessage) {
	c.t.Helper()
	c.writeFrame(websocket.MessageText, fmt.Appendf(nil, `ACK:{"time":%v,"signature":%q}`, rm.Time, rm.SignatureText()))
}

// fromPeer reads the next message, which must come from peer, and returns
// its content.
func (c *client) fromPeer(peer *dimp.Identity) received {
	c.t.Helper()
	got := c.next()
	if !got.rm.Sender.Equal(peer.ID) {
		c.t.Fatalf("%s: message from %s (%s), want one from %s", c.me.ID.Name(), got.rm.Sender,
			dimp.MarshalContent(got.im.Content), peer.ID)
	}
	return got
}
