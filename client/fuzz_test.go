package client

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// The client's frame handling is fuzzed on a loop built without a network:
// what it does with one payload from the station (PING, PONG, ACK, one
// message or several in JSON lines), in each step mode. The local user is
// bob of the reference vectors, who knows alice and moky, so that the
// vectors' messages open; the station has fixed keys too, so that saved
// inputs stay meaningful from one run to the next.

// fuzzWorld is what every fuzzed loop starts from.
type fuzzWorld struct {
	me      *dimp.Identity
	peers   []*dimp.Profile // alice, moky and the station
	station *dimp.Identity
}

// fuzzVectors reads the users and the wire messages of the reference
// vectors.
func fuzzVectors(f testing.TB) (users map[string]map[string]json.RawMessage, wires [][]byte) {
	f.Helper()
	raw, err := os.ReadFile("../dimp/testdata/vectors/messages.json")
	if err != nil {
		f.Fatal(err)
	}
	var v struct {
		Users     map[string]map[string]json.RawMessage `json:"users"`
		Pipelines []struct {
			Reliable json.RawMessage `json:"reliable_message"`
		} `json:"pipelines"`
		Tampered []struct {
			Reliable json.RawMessage `json:"reliable_message"`
		} `json:"tampered"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		f.Fatal(err)
	}
	// One message a frame, on one line, as a station sends them.
	add := func(raw json.RawMessage) {
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			f.Fatal(err)
		}
		wires = append(wires, b.Bytes())
	}
	for _, p := range v.Pipelines {
		add(p.Reliable)
	}
	for _, p := range v.Tampered {
		add(p.Reliable)
	}
	return v.Users, wires
}

// vectorProfile reads a user of the vectors; with keys, as an identity.
func vectorProfile(f testing.TB, u map[string]json.RawMessage, keys bool) (*dimp.Profile, *dimp.Identity) {
	f.Helper()
	var idText string
	if err := json.Unmarshal(u["id"], &idText); err != nil {
		f.Fatal(err)
	}
	id := dimp.MustParseID(idText)
	meta, err := dimp.ParseMeta(u["meta"])
	if err != nil {
		f.Fatal(err)
	}
	var docs []*dimp.Document
	if u["visa"] != nil { // moky has none: an ECC meta key verifies
		visa, err := dimp.ParseDocument(u["visa"])
		if err != nil {
			f.Fatal(err)
		}
		docs = append(docs, visa)
	}
	p, err := dimp.NewProfile(id, meta, docs...)
	if err != nil {
		f.Fatal(err)
	}
	if !keys {
		return p, nil
	}
	me := &dimp.Identity{ID: id, Meta: meta, Visa: docs[0]}
	for _, name := range []string{"private_key_visa", "private_key_meta"} {
		k, err := crypto.ParsePrivateKey(u[name])
		if err != nil {
			f.Fatal(err)
		}
		if name == "private_key_meta" {
			me.SignKey = k
		}
		if dk, ok := k.(crypto.DecryptKey); ok {
			me.Decrypt = append(me.Decrypt, dk)
		}
	}
	return p, me
}

// fixedStation is a station whose keys are the same on every run: an ECC
// meta key from fixed bytes, and bob's visa key (keys need not differ).
func fixedStation(f testing.TB, visaKey crypto.DecryptKey) *dimp.Identity {
	f.Helper()
	sign, err := crypto.ParsePrivateKey([]byte(`{"algorithm":"ECC","data":"` + strings.Repeat("5a", 32) + `"}`))
	if err != nil {
		f.Fatal(err)
	}
	st, err := dimp.NewIdentity(dimp.Station, dimp.MetaMKM, "fuzz-station", "", sign, visaKey)
	if err != nil {
		f.Fatal(err)
	}
	return st
}

// stationSeeds are the station's side of a session, sealed for me: the
// handshake answers, a forwarded message, the list of users, a receipt.
func stationSeeds(f testing.TB, st *dimp.Identity, me *dimp.Profile, forward []byte) [][]byte {
	f.Helper()
	packer := dimp.NewPacker(st)
	inner, err := dimp.ParseReliableMessage(forward)
	if err != nil {
		f.Fatal(err)
	}
	users := dimp.NewText("2 users")
	users.Extra = dimp.Fields{}
	_ = users.Extra.Set("users", []string{me.ID.String(), st.ID.String()})
	contents := []dimp.Content{
		dimp.NewHandshake(dimp.HandshakeAsk, strings.Repeat("ab", 32)),
		dimp.NewHandshake(dimp.HandshakeOK, ""),
		&dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward), Secrets: []*dimp.ReliableMessage{inner}},
		users,
		dimp.NewReceipt(dimp.ReceiptDelivered, &dimp.Origin{Sender: me.ID, Receiver: st.ID, SN: 1}),
	}
	var out [][]byte
	for i, c := range contents {
		rm, err := packer.Seal(dimp.NewInstantMessage(st.ID, me.ID, c), []*dimp.Profile{me}, dimp.SealOptions{Attach: i == 0})
		if err != nil {
			f.Fatal(err)
		}
		raw, _ := rm.MarshalJSON()
		out = append(out, raw)
	}
	return out
}

func loadFuzzWorld(f testing.TB) (*fuzzWorld, [][]byte) {
	users, wires := fuzzVectors(f)
	_, me := vectorProfile(f, users["bob"], true)
	alice, _ := vectorProfile(f, users["alice"], false)
	moky, _ := vectorProfile(f, users["moky"], false)
	st := fixedStation(f, me.Decrypt[0])
	w := &fuzzWorld{me: me, peers: []*dimp.Profile{alice, moky, st.Profile()}, station: st}
	return w, append(wires, stationSeeds(f, st, me.Profile(), wires[0])...)
}

// fuzzMark goes through the event channel behind what a payload caused.
type fuzzMark struct{ Event }

// fuzzLoop is a loop whose events are gathered as a UI would read them.
type fuzzLoop struct {
	*loop
	mu    sync.Mutex
	evs   []Event
	marks chan struct{}
}

func (w *fuzzWorld) newLoop(t testing.TB, mode StepMode) *fuzzLoop {
	c, err := New(Config{URL: "ws://127.0.0.1:1", Identity: w.me, EventBuffer: 64, Step: mode})
	if err != nil {
		t.Fatal(err)
	}
	l := newLoop(c)
	l.ctx = t.Context()
	l.station, l.state, l.hs = w.station.ID, Running, dimp.HandshakeSuccess
	for _, p := range w.peers {
		l.peers[IDKey(p.ID)] = p
	}
	l.stationProfile = w.station.Profile()
	fl := &fuzzLoop{loop: l, marks: make(chan struct{})}
	go func() {
		for ev := range c.events {
			if _, ok := ev.(fuzzMark); ok {
				fl.marks <- struct{}{}
				continue
			}
			fl.mu.Lock()
			fl.evs = append(fl.evs, ev)
			fl.mu.Unlock()
		}
	}()
	t.Cleanup(func() { close(c.events) })
	return fl
}

// feed hands the loop one payload as the reader would, lets every frame
// step-through held go, and returns the events it caused.
func (fl *fuzzLoop) feed(payload []byte) []Event {
	fl.arrive(inFrame{payload: payload})
	fl.release(0)
	fl.c.events <- fuzzMark{}
	<-fl.marks
	fl.mu.Lock()
	defer fl.mu.Unlock()
	evs := fl.evs
	fl.evs = nil
	return evs
}

// FuzzFrame checks what the client does with one payload from the station:
// no panic; a control frame shows nothing and is no error; a message shown
// is from a peer whose key the client knows (it cannot be forged); and
// the same payload again shows nothing, however it is split or held.
func FuzzFrame(f *testing.F) {
	w, seeds := loadFuzzWorld(f)
	for _, s := range []string{"PING", "PONG", "NOOP", "OK", `ACK:{"time":1,"signature":"c2ln"}`, "", "{", "{\n}\n{", "DIM", "\x00\xff"} {
		f.Add([]byte(s), byte(0))
	}
	for i, s := range seeds {
		f.Add(s, byte(i%3))
	}
	f.Add(append(append(append([]byte(nil), seeds[0]...), '\n'), seeds[len(seeds)-1]...), byte(0))
	known := map[string]bool{}
	for _, p := range w.peers {
		known[IDKey(p.ID)] = true
	}
	f.Fuzz(func(t *testing.T, payload []byte, mode byte) { checkFrame(t, w, known, payload, mode) })
}

func checkFrame(t testing.TB, w *fuzzWorld, known map[string]bool, payload []byte, mode byte) {
	fl := w.newLoop(t, StepMode(mode%3))
	first := fl.feed(payload)
	_, control := controlKind(payload)
	for _, ev := range first {
		switch ev := ev.(type) {
		case MessageEvent:
			if control {
				t.Errorf("control frame %q shown as a message", payload)
			}
			if !known[IDKey(ev.Message.Sender)] {
				t.Errorf("message shown from %s, whose key the client did not know", ev.Message.Sender)
			}
		case ErrorEvent:
			if control {
				t.Errorf("control frame %q is an error: %v", payload, ev.Err)
			}
		}
	}
	for _, ev := range fl.feed(payload) {
		if m, ok := ev.(MessageEvent); ok {
			t.Errorf("the same payload again showed %s once more", m.ID)
		}
	}
}
