package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/crypto"
	"dimtui/workshop"
)

// vectorUser loads a user of the reference vectors with its private key:
// its signatures (RSA, PKCS#1 v1.5) are the same on every run, so frames
// it seals for broadcasts are too.
func vectorUser(t testing.TB, name string) *dimp.Identity {
	t.Helper()
	raw, err := os.ReadFile("../dimp/testdata/vectors/messages.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Users map[string]struct {
			ID         string          `json:"id"`
			Meta       json.RawMessage `json:"meta"`
			Visa       json.RawMessage `json:"visa"`
			PrivateKey json.RawMessage `json:"private_key"`
			MetaKey    json.RawMessage `json:"private_key_meta"`
		} `json:"users"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	u := v.Users[name]
	id, err := dimp.ParseID(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := dimp.ParseMeta(u.Meta)
	if err != nil {
		t.Fatal(err)
	}
	visa, err := dimp.ParseDocument(u.Visa)
	if err != nil {
		t.Fatal(err)
	}
	if u.PrivateKey == nil {
		u.PrivateKey = u.MetaKey
	}
	priv, err := crypto.ParsePrivateKey(u.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dk, _ := priv.(crypto.DecryptKey)
	return &dimp.Identity{ID: id, Meta: meta, Visa: visa, SignKey: priv, Decrypt: []crypto.DecryptKey{dk}}
}

// heldHello is u's first Hello world!, held: the same bytes on every run.
func heldHello(t testing.TB, u *dimp.Identity, seq uint64) client.HeldEvent {
	t.Helper()
	hc := dimp.NewHandshake(dimp.HandshakeHello, "")
	hc.Group = dimp.EveryStations
	hc.SN, hc.Time = 4242, float64(testTime(0).Unix())
	im := dimp.NewInstantMessage(u.ID, dimp.AnyStation, hc)
	im.Time = float64(testTime(0).Unix())
	rm, err := dimp.NewPacker(u).Seal(im, nil, dimp.SealOptions{Attach: true})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rm.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return client.HeldEvent{Time: testTime(1), Seq: seq, Dir: client.Out, Raw: raw, Kind: client.KindHandshake,
		Layers: &client.Layers{Reliable: rm, Verified: true, Instant: im}}
}

// fakeStation records the faults asked for.
type fakeStation struct {
	mu      sync.Mutex
	calls   []string
	notices chan workshop.StationNotice
}

func newFakeStation() *fakeStation {
	return &fakeStation{notices: make(chan workshop.StationNotice, 8)}
}

func (s *fakeStation) record(format string, args ...any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf(format, args...))
	return nil
}

func (s *fakeStation) DropNext(u dimp.ID, in bool) error { return s.record("drop %s %v", u.Name(), in) }
func (s *fakeStation) CorruptNext(u dimp.ID, in bool) error {
	return s.record("corrupt %s %v", u.Name(), in)
}
func (s *fakeStation) SetDelay(u dimp.ID, d time.Duration) error {
	return s.record("delay %s %s", u.Name(), d)
}
func (s *fakeStation) Expire(u dimp.ID) error                 { return s.record("expire %s", u.Name()) }
func (s *fakeStation) Restart(context.Context) error          { return s.record("restart") }
func (s *fakeStation) Notices() <-chan workshop.StationNotice { return s.notices }
func (s *fakeStation) Partition(cut bool) error               { return s.record("partition %v", cut) }
func (s *fakeStation) StationStatus(u dimp.ID) ([]string, error) {
	return []string{"station of " + u.Name()}, s.record("status %s", u.Name())
}

func (s *fakeStation) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// newWorkshopApp returns a workshop app with one pane per fake, sized w×h.
func newWorkshopApp(w, h int, opt WorkshopOptions, fakes ...*fakeBackend) *App {
	var specs []PaneSpec
	for i, f := range fakes {
		peer := testEcho()
		if len(fakes) > 1 {
			peer = fakes[(i+1)%len(fakes)].me
		}
		specs = append(specs, PaneSpec{Backend: f, Options: Options{Peer: peer, Bots: []dimp.ID{testEcho()}, UsersEvery: -1, tick: testTick}})
	}
	a := NewSplit(specs, WithTheme(true), WithWorkshop(opt))
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return a
}

// deliver hands events of one pane to the app, running what they ask for.
func deliver(a *App, pane int, evs ...client.Event) {
	for _, ev := range evs {
		a.Update(EventMsg{Pane: PaneID(pane), Event: ev, Replayed: true})
	}
}

// runAll passes a message and runs the commands it returns, feeding their
// results back (without the fakes' events).
func runAll(t testing.TB, a *App, msg tea.Msg) {
	t.Helper()
	queue := []tea.Msg{msg}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		_, cmd := a.Update(m)
		queue = append(queue, run(t, cmd)...)
	}
}

func TestStepReleasesInOrderAcrossPanes(t *testing.T) {
	fa, fb := newFake(alice), newFake(bob)
	var mu sync.Mutex
	var order []string
	fa.onRelease = func(int) { mu.Lock(); order = append(order, "alice"); mu.Unlock() }
	fb.onRelease = func(int) { mu.Lock(); order = append(order, "bob"); mu.Unlock() }
	a := newWorkshopApp(200, 40, WorkshopOptions{Step: client.StepAll}, fa, fb)

	deliver(a, 0, client.HeldEvent{Time: testTime(1), Seq: 1, Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing})
	deliver(a, 1, client.HeldEvent{Time: testTime(1), Seq: 1, Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing})
	deliver(a, 0, client.HeldEvent{Time: testTime(2), Seq: 2, Dir: client.In, Raw: []byte("PONG"), Kind: client.KindPing})
	if got := a.ws.waiting(); got != 3 {
		t.Fatalf("%d frames waiting, want 3", got)
	}
	f8 := tea.KeyPressMsg{Code: tea.KeyF8}
	runAll(t, a, f8)
	runAll(t, a, f8)
	// The frames asked for stay listed until their client says it let
	// them go; a third press takes the third frame, not the first again.
	runAll(t, a, f8)
	runAll(t, a, f8) // nothing left to ask for
	mu.Lock()
	got := fmt.Sprint(order)
	mu.Unlock()
	if got != "[alice bob alice]" {
		t.Errorf("releases went to %s, want [alice bob alice]", got)
	}
	deliver(a, 0, client.ReleasedEvent{Seq: 1}, client.ReleasedEvent{Seq: 2})
	deliver(a, 1, client.ReleasedEvent{Seq: 1})
	if len(a.ws.queue) != 0 {
		t.Errorf("%d frames still listed after their release", len(a.ws.queue))
	}
}

func TestStepToggleAndEnter(t *testing.T) {
	fa, fb := newFake(alice), newFake(bob)
	a := newWorkshopApp(200, 40, WorkshopOptions{}, fa, fb)
	if a.panelRect().w != 0 {
		t.Fatal("the step panel shows while stepping is off")
	}
	runAll(t, a, tea.KeyPressMsg{Code: tea.KeyF7})
	for _, f := range []*fakeBackend{fa, fb} {
		if steps, _ := f.stepCalls(); !reflect.DeepEqual(steps, []client.StepMode{client.StepLesson}) {
			t.Errorf("%s: SetStep calls %v, want [lesson]", f.me.Name(), steps)
		}
	}
	if a.panelRect().w == 0 {
		t.Fatal("no step panel while stepping")
	}
	// Panes make room for the panel.
	if r := a.paneRects(); r[0].w+a.panelRect().w > 200 {
		t.Errorf("panes %v overlap the panel %v", r, a.panelRect())
	}

	// Enter on an empty line releases the next held frame; with text, it sends.
	deliver(a, 0, heldHello(t, vectorUser(t, "alice"), 1))
	runAll(t, a, keyEnter)
	if _, rel := fa.stepCalls(); !reflect.DeepEqual(rel, []int{1}) {
		t.Errorf("Release calls %v after Enter on an empty line, want [1]", rel)
	}
	for _, r := range "hi" {
		runAll(t, a, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	runAll(t, a, keyEnter)
	if calls := fa.sentCalls(); len(calls) != 1 {
		t.Errorf("Enter with text sent %d messages, want 1", len(calls))
	}
	if _, rel := fa.stepCalls(); len(rel) != 1 {
		t.Errorf("Enter with text released a frame")
	}

	// /step off turns it off everywhere.
	for _, r := range "/step off" {
		runAll(t, a, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	runAll(t, a, keyEnter)
	if steps, _ := fb.stepCalls(); len(steps) != 2 || steps[1] != client.StepOff {
		t.Errorf("bob's SetStep calls %v, want [lesson off]", steps)
	}
}

func TestFaultCommands(t *testing.T) {
	f := newFake(alice)
	st := newFakeStation()
	a := newWorkshopApp(120, 40, WorkshopOptions{Station: st}, f)
	for _, line := range []string{"/drop", "/drop in", "/corrupt", "/corrupt in", "/delay 1500ms", "/delay off",
		"/expire", "/restart", "/delay forever", "/drop sideways"} {
		for _, r := range line {
			runAll(t, a, tea.KeyPressMsg{Code: r, Text: string(r)})
		}
		runAll(t, a, keyEnter)
	}
	want := []string{"drop alice false", "drop alice true", "corrupt alice false", "corrupt alice true",
		"delay alice 1.5s", "delay alice 0s", "expire alice", "restart"}
	if got := st.log(); !reflect.DeepEqual(got, want) {
		t.Errorf("station calls\n%v\nwant\n%v", got, want)
	}
	if !strings.Contains(pane(a).flash, "/drop [in|out]") {
		t.Errorf("a bad argument is not explained: flash %q", pane(a).flash)
	}

	// What the station did shows in the pane of the user it concerns.
	a.Update(stationNoticeMsg{n: workshop.StationNotice{Time: testTime(9), User: alice, Text: "dropped alice's message to bob"}, ok: true})
	if !strings.Contains(screenText(a), "▲ station: dropped alice's message to bob") {
		t.Errorf("the station's notice is not shown:\n%s", screenText(a))
	}

	// Without a station in the process the commands say so.
	b := newWorkshopApp(120, 40, WorkshopOptions{}, newFake(alice))
	for _, r := range "/expire" {
		runAll(t, b, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	runAll(t, b, keyEnter)
	if !strings.Contains(pane(b).flash, "needs the station in this process") {
		t.Errorf("flash %q", pane(b).flash)
	}
}

// sessionEvents is a short session of alice: a handshake with its frames,
// a text to the echo bot, its receipts, the echo.
func sessionEvents(t testing.TB) []client.Event {
	u := vectorUser(t, "alice")
	hello := heldHello(t, u, 1)
	evs := handshakeEvents("ws://127.0.0.1:9394")
	out := []client.Event{evs[0], evs[1], evs[2],
		client.FrameEvent{Time: testTime(0), Dir: client.Out, Raw: hello.Raw, Kind: hello.Kind, Layers: hello.Layers}}
	out = append(out, evs[3:]...)
	out = append(out, vectorFrame(t),
		client.FrameEvent{Time: testTime(6), Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing})
	out = append(out, chatEvents(alice)[:7]...)
	return out
}

func TestExportAndReplay(t *testing.T) {
	f := newFake(alice)
	st := newFakeStation()
	dir := t.TempDir()
	a := newWorkshopApp(120, 40, WorkshopOptions{Station: st, ExportDir: dir, Now: func() time.Time { return testTime(0) }}, f)
	evs := sessionEvents(t)
	deliver(a, 0, evs...)
	a.Update(stationNoticeMsg{n: workshop.StationNotice{Time: testTime(70), User: alice, Text: "expired alice's session"}, ok: true})
	for _, r := range "/export talk" {
		runAll(t, a, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	runAll(t, a, keyEnter)
	if !strings.Contains(pane(a).flash, "wrote") || !strings.Contains(pane(a).flash, "3 frames") {
		t.Fatalf("flash after /export: %q", pane(a).flash)
	}

	// JSON Lines: a header, then every event; each frame with its time,
	// direction, pane and raw JSON.
	raw, err := os.ReadFile(filepath.Join(dir, "talk.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != len(evs)+2 {
		t.Errorf("%d lines, want a header, %d events and a notice", len(lines), len(evs))
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[4]), &first); err != nil {
		t.Fatal(err)
	}
	if first["event"] != "frame" || first["dir"] != "out" || first["pane"] != 0.0 || first["user"] != alice.String() {
		t.Errorf("the Hello's record: %v", first)
	}
	if rawFrame, ok := first["raw"].(map[string]any); !ok || rawFrame["sender"] != alice.String() {
		t.Errorf("the Hello's raw JSON is not the frame: %v", first["raw"])
	}

	// Markdown: the steps, explained.
	md, err := os.ReadFile(filepath.Join(dir, "talk.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# dimtui transcript", "alice → station@anywhere: Hello world!", "*handshake Start*",
		"**Signed:**", "**Station:**", "PING (keep-alive)", "**alice** is Running, handshake Success",
		"▲ the station expired alice's session", "dimtui replay"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the Markdown lacks %q", want)
		}
	}

	// Read back, the records turn into the same events.
	tr, err := workshop.ReadTranscript(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Panes) != 1 || tr.Panes[0].User != alice.String() || len(tr.Records) != len(evs)+1 {
		t.Fatalf("transcript: %d panes, %d records", len(tr.Panes), len(tr.Records))
	}
	for i, rec := range tr.Records {
		if rec.Event == "notice" {
			continue
		}
		ev, err := rec.ClientEvent()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if reflect.TypeOf(ev) != reflect.TypeOf(evs[i]) {
			t.Errorf("record %d is a %T, want %T", i, ev, evs[i])
		}
	}
	hello, _ := tr.Records[3].ClientEvent()
	if f := hello.(client.FrameEvent); string(f.Raw) != string(evs[3].(client.FrameEvent).Raw) ||
		f.Layers.Instant == nil || f.Layers.Reliable == nil {
		t.Errorf("the Hello frame did not come back whole")
	}

	// The replay holds each frame until it is released.
	rp := workshop.NewReplay(tr, workshop.ReplayOptions{Step: client.StepAll})
	panes := rp.Panes()
	if len(panes) != 1 || !panes[0].Peer.SameAs(testEcho()) {
		t.Fatalf("replay panes %+v", panes)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = rp.Run(ctx) }()
	var b Backend = panes[0].Client
	next := func() client.Event {
		select {
		case ev := <-b.Events():
			return ev
		case <-time.After(2 * time.Second):
			t.Fatal("the replay stalled")
			return nil
		}
	}
	for range 3 {
		if _, ok := next().(client.StatusEvent); !ok {
			t.Fatal("the replay does not start with the statuses")
		}
	}
	h, ok := next().(client.HeldEvent)
	if !ok || h.Dir != client.Out || h.Kind != client.KindHandshake {
		t.Fatalf("the Hello is not held: %#v", h)
	}
	select {
	case ev := <-b.Events():
		t.Fatalf("%T came while the Hello is held", ev)
	case <-time.After(100 * time.Millisecond):
	}
	if err := b.(Stepper).Release(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if r, ok := next().(client.ReleasedEvent); !ok || r.Seq != h.Seq {
		t.Fatalf("no release of the Hello")
	}
	if f, ok := next().(client.FrameEvent); !ok || string(f.Raw) != string(h.Raw) {
		t.Fatalf("the released Hello did not come")
	}
	// Stepping off plays the rest to the end.
	if err := b.(Stepper).SetStep(ctx, client.StepOff); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case <-b.Events():
			continue
		case <-rp.Finished():
		case <-time.After(5 * time.Second):
			t.Fatal("the replay did not finish")
		}
		break
	}
	if _, err := b.Send(ctx, bob, dimp.NewText("x")); err == nil {
		t.Error("a replay sent a message")
	}
}

// workshopSession runs a workshop App with several fakes in teatest.
type workshopSession struct {
	t     *testing.T
	tm    *teatest.TestModel
	n     *atomic.Int64
	sent  int64
	fakes []*fakeBackend
}

func newWorkshopSession(t *testing.T, w, h int, opt WorkshopOptions, fakes ...*fakeBackend) *workshopSession {
	t.Helper()
	var specs []PaneSpec
	for i, f := range fakes {
		peer := testEcho()
		if len(fakes) > 1 {
			peer = fakes[(i+1)%len(fakes)].me
		}
		specs = append(specs, PaneSpec{Backend: f, Options: Options{Peer: peer, Bots: []dimp.ID{testEcho()}, UsersEvery: -1}})
	}
	app := NewSplit(specs, WithTheme(true), WithWorkshop(opt))
	n := &atomic.Int64{}
	tm := teatest.NewTestModel(t, counted{app, n}, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.ANSI256)))
	t.Cleanup(func() { _ = tm.Quit() })
	return &workshopSession{t: t, tm: tm, n: n, fakes: fakes}
}

func (s *workshopSession) events(f *fakeBackend, evs ...client.Event) {
	s.t.Helper()
	for _, ev := range evs {
		f.events <- ev
	}
	s.sent += int64(len(evs))
	deadline := time.Now().Add(5 * time.Second)
	for s.n.Load() < s.sent {
		if time.Now().After(deadline) {
			s.t.Fatalf("the UI handled %d events, want %d", s.n.Load(), s.sent)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
}

func (s *workshopSession) keys(keys ...tea.Msg) {
	for _, k := range keys {
		s.tm.Send(k)
	}
	time.Sleep(60 * time.Millisecond)
}

func (s *workshopSession) screen() []byte {
	s.t.Helper()
	if err := s.tm.Quit(); err != nil {
		s.t.Fatal(err)
	}
	m := s.tm.FinalModel(s.t, teatest.WithFinalTimeout(5*time.Second)).(counted)
	return downsample(m.App.Render())
}

func TestGoldenStepThrough(t *testing.T) {
	f := newFake(alice)
	s := newWorkshopSession(t, 120, 34, WorkshopOptions{Step: client.StepAll}, f)
	evs := handshakeEvents("ws://127.0.0.1:9394")
	s.events(f, evs[0], evs[1], evs[2])
	s.events(f, heldHello(t, vectorUser(t, "alice"), 1),
		client.HeldEvent{Time: testTime(1), Seq: 2, Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing})
	checkScreen(t, s.screen(), 120, 34)
}

func TestGoldenSplit(t *testing.T) {
	fa, fb := newFake(alice), newFake(bob)
	s := newWorkshopSession(t, 200, 32, WorkshopOptions{}, fa, fb)
	s.events(fa, handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(fb, handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(fa, splitChat(alice, bob, 0)...)
	s.events(fb, splitChat(bob, alice, 1)...)
	s.keys(tea.KeyPressMsg{Code: tea.KeyF6})
	checkScreen(t, s.screen(), 200, 32)
}

func TestGoldenSplitStackedWithStep(t *testing.T) {
	fa, fb := newFake(alice), newFake(bob)
	s := newWorkshopSession(t, 100, 40, WorkshopOptions{Step: client.StepMessages}, fa, fb)
	s.events(fa, handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(fb, handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(fa, splitChat(alice, bob, 0)...)
	s.events(fb, heldHello(t, vectorUser(t, "bob"), 7))
	checkScreen(t, s.screen(), 100, 40)
}

func TestGoldenPresenter(t *testing.T) {
	f := newFake(alice)
	s := newWorkshopSession(t, 100, 30, WorkshopOptions{Presenter: true}, f)
	s.events(f, handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(f, chatEvents(alice)[:7]...)
	checkScreen(t, s.screen(), 100, 30)
}

// splitChat is one side of a chat between me and peer: a text each way,
// with deliveries and receipts; side 1 has the other's message first.
func splitChat(me, peer dimp.ID, side int) []client.Event {
	mine := client.MessageID(me.String() + "#1")
	theirs := client.MessageID(peer.String() + "#1")
	sent := []client.Event{
		client.SentEvent{Time: testTime(60 + side), ID: mine, Message: dimp.NewInstantMessage(me, peer, dimp.NewText("hello from "+me.Name()))},
		client.DeliveryEvent{Time: testTime(60 + side), ID: mine, State: client.Sending},
		client.DeliveryEvent{Time: testTime(60 + side), ID: mine, State: client.AtStation, Detail: "Message delivered."},
		client.ReceiptEvent{Time: testTime(60 + side), From: testStation(), For: mine, Receipt: dimp.NewReceipt(dimp.ReceiptDelivered, nil)},
		client.DeliveryEvent{Time: testTime(61 + side), ID: mine, State: client.Delivered, Detail: "Message received."},
	}
	got := []client.Event{
		client.MessageEvent{Time: testTime(61 - side), ID: theirs, Message: dimp.NewInstantMessage(peer, me, dimp.NewText("hello from "+peer.Name()))},
	}
	if side == 0 {
		return append(sent, got...)
	}
	return append(got, sent...)
}

func TestResetReplacesPanes(t *testing.T) {
	fa := newFake(alice)
	fresh := newFake(bob)
	reset := func(context.Context) ([]PaneSpec, error) {
		return []PaneSpec{{Backend: fresh, Options: Options{UsersEvery: -1, tick: testTick}}}, nil
	}
	a := newWorkshopApp(120, 40, WorkshopOptions{Reset: reset, Step: client.StepAll}, fa)
	deliver(a, 0, heldHello(t, vectorUser(t, "alice"), 1))
	for _, r := range "/reset" {
		runAll(t, a, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	// The new client's first event, which the new pane's listener reads.
	fresh.events <- client.StatusEvent{Time: testTime(0), Status: fresh.Status()}
	// The reset runs in a command; its result brings the new panes.
	_, cmd := a.Update(keyEnter)
	for _, m := range run(t, cmd) {
		if w, ok := m.(workshopCommandMsg); ok {
			_, cmd := a.Update(w)
			for _, m := range run(t, cmd) {
				if _, ok := m.(resetDoneMsg); ok {
					_, cmd := a.Update(m)
					run(t, cmd) // follows the new client
				}
			}
		}
	}
	if len(a.panes) != 1 || !a.panes[0].me.Equal(bob) || a.panes[0].id == 0 {
		t.Fatalf("after the reset: %d panes, the first %s #%d", len(a.panes), a.panes[0].me, a.panes[0].id)
	}
	listens := false
	select {
	case ev := <-a.events.ch: // the App's queue of every pane's events
		listens = ev.Pane == a.panes[0].id
	case <-time.After(2 * time.Second):
	}
	if !listens {
		t.Error("the new pane does not listen to its client")
	}
	if len(a.ws.queue) != 0 {
		t.Error("frames of the old clients are still listed")
	}
	// The new client is put in the same step mode; events of the old ones
	// find no pane.
	if steps, _ := fresh.stepCalls(); len(steps) == 0 || steps[len(steps)-1] != client.StepAll {
		t.Errorf("the new client's step calls: %v", steps)
	}
	deliver(a, 0, client.ErrorEvent{Time: testTime(1), Err: fmt.Errorf("from the old client")})
	if strings.Contains(screenText(a), "from the old client") {
		t.Error("an event of a client gone reached the new pane")
	}
}

// The network commands: /partition and /heal cut and restore the links,
// /status shows the user's station in the pane, and a notice from one of
// several stations names it.
func TestNetworkCommands(t *testing.T) {
	st := newFakeStation()
	a := newWorkshopApp(140, 40, WorkshopOptions{Station: st}, newFake(alice))
	for _, line := range []string{"/partition", "/heal", "/status"} {
		for _, r := range line {
			runAll(t, a, tea.KeyPressMsg{Code: r, Text: string(r)})
		}
		runAll(t, a, keyEnter)
	}
	if got, want := st.log(), []string{"partition true", "partition false", "status alice"}; !reflect.DeepEqual(got, want) {
		t.Errorf("station calls %v, want %v", got, want)
	}
	if !strings.Contains(screenText(a), "station of alice") {
		t.Errorf("/status is not shown:\n%s", screenText(a))
	}
	a.Update(stationNoticeMsg{n: workshop.StationNotice{Time: testTime(9), User: alice, Station: "B", Kind: workshop.NoticeNetwork,
		Text: "took bob's message for alice from station A and stored it"}, ok: true})
	if !strings.Contains(screenText(a), "▲ station B: took bob's message for alice from station A") {
		t.Errorf("the network notice is not shown:\n%s", screenText(a))
	}
}
