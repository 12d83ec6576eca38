package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"dimtui/client"
	"dimtui/dimp"
)

// floodProxy stands between a client and a real station, as a station
// under load would: everything it sends the client goes through one
// queue, in order, and its first connection can be flooded with frames
// the client must verify. It answers the client's PINGs itself, behind
// whatever is queued, and records what the client sends in the order it
// arrives.
type floodProxy struct {
	t       *testing.T
	station string // the real station's URL
	url     string // the proxy's URL
	drop    []byte // client frames that contain it are not forwarded

	mu    sync.Mutex
	conns int
	down  chan []byte // the first connection's queue to the client
	pings int         // PINGs the proxy sent
	ups   []string    // what the client sent: "PONG", "PING", "ACK <signature>"
}

func startFloodProxy(t *testing.T, stationURL string, drop []byte) *floodProxy {
	p := &floodProxy{t: t, station: stationURL, drop: drop}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return p
}

func (p *floodProxy) serve(w http.ResponseWriter, r *http.Request) {
	cws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer cws.CloseNow()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	sws, _, err := websocket.Dial(ctx, p.station, nil)
	if err != nil {
		return
	}
	defer sws.CloseNow()
	down := make(chan []byte, 1<<16)
	p.mu.Lock()
	p.conns++
	if p.conns == 1 {
		p.down = down
	}
	p.mu.Unlock()
	go func() { // station → queue
		defer cancel()
		for {
			_, b, err := sws.Read(ctx)
			if err != nil {
				return
			}
			down <- b
		}
	}()
	go func() { // queue → client, in order
		defer cancel()
		for {
			select {
			case b := <-down:
				if cws.Write(ctx, websocket.MessageText, b) != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	for { // client → station, the control frames kept here
		_, b, err := cws.Read(ctx)
		if err != nil {
			return
		}
		s := string(b)
		switch {
		case s == "PING":
			p.record("PING")
			down <- []byte("PONG")
		case s == "PONG":
			p.record("PONG")
		case strings.HasPrefix(s, "ACK:"):
			var ack struct{ Signature string }
			if json.Unmarshal([]byte(s[4:]), &ack) == nil {
				p.record("ACK " + ack.Signature)
			}
		case bytes.Contains(b, p.drop):
		default:
			if sws.Write(ctx, websocket.MessageText, b) != nil {
				return
			}
		}
	}
}

func (p *floodProxy) record(s string) {
	p.mu.Lock()
	p.ups = append(p.ups, s)
	p.mu.Unlock()
}

// flood queues frames for the client, a PING after every pingEvery of
// them; after[k] is how many frames went before the k-th PING.
func (p *floodProxy) flood(frames [][]byte, pingEvery int) (after []int) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	for i, f := range frames {
		down <- f
		if (i+1)%pingEvery == 0 {
			down <- []byte("PING")
			after = append(after, i+1)
		}
	}
	p.mu.Lock()
	p.pings = len(after)
	p.mu.Unlock()
	return after
}

// sealFlood makes n real messages from sender to receiver, each with the
// sender's meta and visa attached: each costs the receiver the checks of
// a first contact, a signature and a decryption.
func sealFlood(t *testing.T, sender *dimp.Identity, receiver *dimp.Profile, n int) (frames [][]byte, sigs map[string]int) {
	t.Helper()
	packer := dimp.NewPacker(sender)
	sigs = map[string]int{}
	for i := range n {
		im := dimp.NewInstantMessage(sender.ID, receiver.ID, dimp.NewText(fmt.Sprintf("flood %d", i)))
		rm, err := packer.Seal(im, []*dimp.Profile{receiver}, dimp.SealOptions{Attach: true})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := rm.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, raw)
		sigs[rm.SignatureText()] = i
	}
	return frames, sigs
}

// TestFloodKeepsTheConnection floods a client with more real messages than
// it can verify within its keep-alive time-out, with the station's PINGs
// among them and its PONGs behind them. The connection must stay up: the
// client answers each PING before it has worked through the frames that
// came before it, takes a station that keeps sending for one that is
// there, and shows a message sent after the flood.
func TestFloodKeepsTheConnection(t *testing.T) {
	// About a thousand frames a second at best: a thousand is more than
	// the client can process in the keep-alive time-out below.
	const n = 1000
	st := startStation(t, t.TempDir(), "")
	mallory := newUser(t, "mallory")
	proxy := startFloodProxy(t, st.url, []byte(`"receiver":"`+mallory.ID.String()+`"`))
	aliceID := newUser(t, "alice")
	alice := connectWith(t, client.Config{URL: proxy.url, Identity: aliceID, PingInterval: 100 * time.Millisecond, PongTimeout: time.Second})
	bob := connect(t, st.url, newUser(t, "bob"))
	alice.waitRunning()
	bob.waitRunning()
	introduce(t, bob, alice)

	frames, sigs := sealFlood(t, mallory, aliceID.Profile(), n)
	after := proxy.flood(frames, 50)
	if _, err := bob.c.SendText(context.Background(), aliceID.ID, "after the flood"); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the message sent after the flood", 120*time.Second, func([]client.Event) bool {
		return alice.messages["after the flood"] == 1
	})
	alice.mu.Lock()
	shown := len(alice.messages)
	for _, ev := range alice.events {
		if s, ok := ev.(client.StatusEvent); ok && (s.Status.Attempt > 0 || s.Status.State == client.Error) {
			t.Errorf("the client gave the connection up: %v", s.Status.Err)
			break
		}
	}
	alice.mu.Unlock()
	if shown != n+1 {
		t.Errorf("%d messages shown, want the %d of the flood and bob's", shown, n)
	}

	// Every PING was answered, each before the ACK of the frame that came
	// just before it: ahead of the frames still waiting to be processed.
	deadline := time.Now().Add(30 * time.Second)
	for {
		proxy.mu.Lock()
		pongs, acks := 0, 0
		for _, u := range proxy.ups {
			if u == "PONG" {
				pongs++
			} else if _, ok := sigs[strings.TrimPrefix(u, "ACK ")]; ok {
				acks++
			}
		}
		ups, conns := append([]string(nil), proxy.ups...), proxy.conns
		proxy.mu.Unlock()
		if pongs == len(after) && acks == n {
			checkPongsAhead(t, ups, after, sigs)
			if conns != 1 {
				t.Errorf("the client connected %d times, want once", conns)
			}
			return
		}
		if conns > 1 || time.Now().After(deadline) {
			t.Fatalf("%d PONGs for %d PINGs, %d ACKs for %d messages", pongs, len(after), acks, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkPongsAhead checks, over what the client sent in order, that the
// k-th PONG came before the ACK of frame after[k]-1.
func checkPongsAhead(t *testing.T, ups []string, after []int, sigs map[string]int) {
	t.Helper()
	acked := -1 // the highest flood frame acknowledged so far
	k := 0
	var late []string
	for _, u := range ups {
		switch {
		case u == "PONG":
			if last := after[k] - 1; acked >= last {
				late = append(late, fmt.Sprintf("PING %d (after frame %d) answered after the ACK of frame %d", k, last, acked))
			}
			k++
		case strings.HasPrefix(u, "ACK "):
			if i, ok := sigs[strings.TrimPrefix(u, "ACK ")]; ok && i > acked {
				acked = i
			}
		}
	}
	if len(late) > 0 {
		t.Errorf("%d of %d PINGs waited behind the frames before them, e.g. %s", len(late), len(after), late[0])
	}
	if acked != len(sigs)-1 {
		t.Errorf("the last flood frame acknowledged is %d, want %d", acked, len(sigs)-1)
	}
}

// push queues one frame for the client on the first connection.
func (p *floodProxy) push(b []byte) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	down <- b
}

// count returns how many times the client sent s.
func (p *floodProxy) count(s string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, u := range p.ups {
		if u == s {
			n++
		}
	}
	return n
}

// The station's PING is answered by the client's reader only while
// step-through lets control frames pass: with every frame held, a PING
// waits for the presenter like any frame, and its PONG goes when it is
// released.
func TestStepAllHoldsTheStationsPing(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	proxy := startFloodProxy(t, st.url, []byte("\x00"))
	alice := connect(t, proxy.url, newUser(t, "alice"))
	alice.waitRunning()
	ctx := context.Background()
	pingIn := func(ev client.Event) bool {
		f, ok := ev.(client.FrameEvent)
		return ok && f.Dir == client.In && string(f.Raw) == "PING"
	}
	pongOut := func(ev client.Event) bool {
		f, ok := ev.(client.FrameEvent)
		return ok && f.Dir == client.Out && string(f.Raw) == "PONG"
	}

	if err := alice.c.SetStep(ctx, client.StepAll); err != nil {
		t.Fatal(err)
	}
	proxy.push([]byte("PING"))
	var seq uint64
	var before int // frames held ahead of it (the client's own PING, say)
	alice.waitFor("the station's PING held", 10*time.Second, func(evs []client.Event) bool {
		list, released := held(evs)
		before = 0
		for _, h := range list {
			if h.Dir == client.In && string(h.Raw) == "PING" {
				seq = h.Seq
				return true
			}
			if _, gone := released[h.Seq]; !gone {
				before++
			}
		}
		return false
	})
	if n := alice.count(pongOut); n != 0 {
		t.Fatalf("a held PING was answered %d times", n)
	}
	if err := alice.c.Release(ctx, before+1); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the PONG held in turn", 10*time.Second, func(evs []client.Event) bool {
		list, _ := held(evs)
		return len(list) > 0 && list[len(list)-1].Seq > seq && string(list[len(list)-1].Raw) == "PONG"
	})
	if proxy.count("PONG") != 0 {
		t.Fatal("the PONG went out while held")
	}
	if err := alice.c.Release(ctx, 0); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the PONG written", 10*time.Second, func([]client.Event) bool { return proxy.count("PONG") == 1 })

	// With only messages held, the PING is answered at once.
	if err := alice.c.SetStep(ctx, client.StepMessages); err != nil {
		t.Fatal(err)
	}
	proxy.push([]byte("PING"))
	alice.waitFor("the second PING answered", 10*time.Second, func(evs []client.Event) bool {
		return proxy.count("PONG") == 2 && count(evs, pingIn) == 2 && count(evs, pongOut) == 2
	})
}
