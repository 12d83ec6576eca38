package ui

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/dimptest"
	"dimtui/mockstation"
	"dimtui/workshop"
)

// These tests run a real workshop session: alice and bob, two real
// clients of a real station in this process, in a workshop App whose
// events the test hands over one at a time as the program would. A
// presenter steps through every frame, alice writes to bob, and the
// session is exported and replayed: what the explanations say is checked
// against what the clients really did, and the frame numbers against each
// other everywhere they show.

// liveSession is a workshop App fed by its backends' events.
type liveSession struct {
	t      *testing.T
	app    *App
	events chan EventMsg
	// held lists every frame the step-through panel showed next, with
	// what it said of it.
	held []shownHeld
}

// shownHeld is a frame as the step-through panel showed it, held.
type shownHeld struct {
	pane  PaneID
	ev    client.HeldEvent
	expl  workshop.Explanation
	panel string
}

// listen hands a backend's events to the session as pane id's.
func (s *liveSession) listen(id PaneID, b Backend) {
	go func() {
		for ev := range b.Events() {
			s.events <- EventMsg{Pane: id, Event: ev, Replayed: true}
		}
	}()
}

// startLive starts a station, alice's and bob's clients with step-through
// on, and a workshop App showing them side by side.
func startLive(t *testing.T) *liveSession {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mockstation.New(ctx, mockstation.Config{DataDir: t.TempDir(), RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done; _ = srv.Close() })

	s := &liveSession{t: t, events: make(chan EventMsg, 1<<14)}
	var clients []*client.Client
	for _, name := range []string{"alice", "bob"} {
		c, err := client.New(client.Config{URL: "ws://" + ln.Addr().String(), Identity: dimptest.NewIdentity(t, dimp.User, name),
			Step: client.StepAll, EventBuffer: 1 << 12, PingInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = c.Run(ctx) }()
		clients = append(clients, c)
	}
	var specs []PaneSpec
	for i, c := range clients {
		specs = append(specs, PaneSpec{Backend: c, Options: Options{Context: ctx, Peer: clients[1-i].Me(), UsersEvery: -1, tick: testTick}})
	}
	s.app = NewSplit(specs, WithTheme(true), WithWorkshop(WorkshopOptions{Step: client.StepAll, ExportDir: t.TempDir()}))
	s.app.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	for i, c := range clients {
		s.listen(s.app.panes[i].id, c)
	}
	return s
}

// settle hands over the events that come until none has for a while.
func (s *liveSession) settle() {
	for {
		select {
		case msg := <-s.events:
			runAll(s.t, s.app, msg)
		case <-time.After(80 * time.Millisecond):
			return
		}
	}
}

// step releases held frames one at a time, as a presenter pressing f8,
// until done holds; it notes what the panel showed of each.
func (s *liveSession) step(what string, done func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.settle()
		if done() {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: not done after 30 s", what)
		}
		if s.app.ws.waiting() == 0 {
			continue
		}
		panel := s.app.ws.panelView(s.app, s.app.panelRect())
		for _, h := range s.app.ws.queue {
			if !h.asked && h.expl != nil {
				s.held = append(s.held, shownHeld{pane: h.pane, ev: h.ev, expl: *h.expl, panel: panel})
				break
			}
		}
		runAll(s.t, s.app, tea.KeyPressMsg{Code: tea.KeyF8})
	}
}

// typeIn types text and Enter in the focused pane.
func (s *liveSession) typeIn(text string) {
	for _, r := range text {
		runAll(s.t, s.app, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	runAll(s.t, s.app, keyEnter)
}

// running reports whether every pane's client runs.
func (s *liveSession) running() bool {
	for _, p := range s.app.panes {
		if p.chat.status.State != client.Running {
			return false
		}
	}
	return true
}

// sentText returns the delivery of a text the pane's user sent.
func sentText(p *Pane, text string) (client.Delivery, bool) {
	for _, c := range p.chat.convs {
		for _, e := range c.entries {
			if e.out && e.text == text {
				return e.delivery, true
			}
		}
	}
	return 0, false
}

// numbered is a frame as a place shows it: its pane, number, direction
// and bytes.
type numbered struct {
	pane int
	n    int
	dir  client.Direction
	raw  string
}

// inspected lists the frames of every pane's inspector.
func inspected(a *App) []numbered {
	var out []numbered
	for _, p := range a.panes {
		for _, f := range p.inspector.frames {
			out = append(out, numbered{pane: int(p.id), n: f.seq, dir: f.dir, raw: string(f.raw)})
		}
	}
	return out
}

// TestLiveSessionNumbersAndExplanations is points 3 and 4 of a workshop
// as a presenter gives it, through a real station.
func TestLiveSessionNumbersAndExplanations(t *testing.T) {
	if testing.Short() {
		t.Skip("a real session stepped frame by frame")
	}
	s := startLive(t)
	s.step("the handshakes", s.running)
	alice, bob := s.app.panes[0], s.app.panes[1]
	s.typeIn("hi bob")
	s.step("hi bob read", func() bool { d, _ := sentText(alice, "hi bob"); return d == client.Read })

	// Every frame has one number: the inspectors and the frames held now
	// share 1…N, each number once.
	live := inspected(s.app)
	seen := map[int]numbered{}
	for _, f := range live {
		if old, dup := seen[f.n]; dup {
			t.Errorf("frame #%d twice: pane %d and pane %d", f.n, old.pane, f.pane)
		}
		seen[f.n] = f
	}
	for _, h := range s.app.ws.queue {
		seen[h.ev.Number] = numbered{}
	}
	for n := 1; n <= len(seen); n++ {
		if _, ok := seen[n]; !ok {
			t.Errorf("no frame #%d among %d", n, len(seen))
		}
	}
	// A held frame keeps its number once processed.
	for _, h := range s.held {
		f, ok := seen[h.ev.Number]
		if !ok || f.raw == "" {
			continue // still held, or a payload of several messages
		}
		if f.pane != int(h.pane) || f.dir != h.ev.Dir || f.raw != string(h.ev.Raw) && !strings.Contains(string(h.ev.Raw), f.raw) {
			t.Errorf("frame #%d held in pane %d is another frame once processed (pane %d)", h.ev.Number, h.pane, f.pane)
		}
		if !strings.Contains(h.panel, "next #"+strconv.Itoa(h.ev.Number)+" ") {
			t.Errorf("the panel does not show frame #%d as next:\n%s", h.ev.Number, h.panel)
		}
	}

	s.checkHeldExplanations()
	for _, p := range []*Pane{alice, bob} {
		for _, c := range p.chat.convs {
			for _, e := range c.entries {
				if e.kind == entryNotice && strings.Contains(e.text, "held until") {
					t.Errorf("%s: a handshake notice still says held after its frame went: %q", p.me.Name(), e.text)
				}
			}
		}
	}

	// The export, and its replay, number every frame as the panes did.
	runAll(t, s.app, tea.KeyPressMsg{Code: tea.KeyF7}) // stepping off: what is held goes
	s.settle()
	live = inspected(s.app)
	s.typeIn("/export live")
	base := filepath.Join(s.app.ws.opt.ExportDir, "live")
	jl, err := os.ReadFile(base + ".jsonl")
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(base + ".md")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := workshop.ReadTranscript(strings.NewReader(string(jl)))
	if err != nil {
		t.Fatal(err)
	}
	var exported []numbered
	for _, rec := range tr.Records {
		if ev, err := rec.ClientEvent(); err == nil {
			if f, ok := ev.(client.FrameEvent); ok {
				exported = append(exported, numbered{pane: rec.Pane, n: rec.Number, dir: f.Dir, raw: string(f.Raw)})
			}
		}
	}
	sameFrames(t, "the JSON Lines", exported, live)
	var mdNumbers []int
	for _, m := range regexp.MustCompile(`(?m)^(?:### (\d+)\. |- \S+ · #(\d+) )`).FindAllStringSubmatch(string(md), -1) {
		n, _ := strconv.Atoi(m[1] + m[2])
		mdNumbers = append(mdNumbers, n)
	}
	if len(mdNumbers) != len(exported) {
		t.Errorf("the Markdown numbers %d frames, the JSON Lines has %d", len(mdNumbers), len(exported))
	}
	for i := range min(len(mdNumbers), len(exported)) {
		if mdNumbers[i] != exported[i].n {
			t.Errorf("the Markdown's frame %d is #%d, the JSON Lines' #%d", i+1, mdNumbers[i], exported[i].n)
			break
		}
	}
	checkExportedAnswers(t, tr, string(md))

	replayed := replayStepped(t, tr)
	sameFrames(t, "the replay", replayed, live)
}

// sameFrames checks that a place shows the same frames with the same
// numbers as the live panes.
func sameFrames(t *testing.T, where string, got, live []numbered) {
	t.Helper()
	byNumber := map[int]numbered{}
	for _, f := range live {
		byNumber[f.n] = f
	}
	if len(got) != len(live) {
		t.Errorf("%s has %d frames, the panes %d", where, len(got), len(live))
	}
	for _, f := range got {
		l, ok := byNumber[f.n]
		if !ok || l.dir != f.dir || l.raw != f.raw {
			t.Errorf("%s: frame #%d (%s, %.40q) is not the panes' frame #%d (%s, %.40q)", where, f.n, f.dir, f.raw, f.n, l.dir, l.raw)
		}
	}
}

// checkHeldExplanations checks what the panel said of each frame while it
// was held: nothing verified yet, nothing wrong in a normal session, a
// broadcast called one, no answer of the station predicted as the only one.
func (s *liveSession) checkHeldExplanations() {
	t := s.t
	var askedKey, broadcastsIn int
	for _, h := range s.held {
		e := h.expl
		all := e.Title + " " + e.Step + " " + e.Signed + " " + e.Encrypted + " " + e.Station + " " + e.Next
		if strings.Contains(all, "✗") {
			t.Errorf("#%d %s: a normal session explained with ✗: %+v", h.ev.Number, e.Title, e)
		}
		l := h.ev.Layers
		if h.ev.Dir == client.In && l != nil && l.Reliable != nil {
			if strings.Contains(e.Signed, "✓") || !strings.Contains(e.Signed, "Not checked yet") {
				t.Errorf("#%d %s, held, not processed: Signed = %q", h.ev.Number, e.Title, e.Signed)
			}
			if l.KeyAsked {
				askedKey++
				if !strings.Contains(e.Signed, "does not know") || !strings.Contains(e.Next, "meta and visa") {
					t.Errorf("#%d %s: the sender's key is asked for, and the panel says %q / %q", h.ev.Number, e.Title, e.Signed, e.Next)
				}
			}
			if rcv := l.Reliable.Receiver; rcv.IsBroadcast() {
				broadcastsIn++
				if !strings.Contains(e.Title, rcv.String()) || !strings.Contains(e.Step, "broadcast") {
					t.Errorf("#%d: a broadcast labelled %q (%s)", h.ev.Number, e.Title, e.Step)
				}
				if sum := heldSummary(h.ev); l.Instant == nil && !strings.Contains(sum, "broadcast") {
					t.Errorf("#%d: a broadcast listed held as %q", h.ev.Number, sum)
				}
			}
		}
		if h.ev.Dir == client.Out && strings.Contains(e.Step, "visa broadcast") &&
			(!strings.Contains(e.Station, "Document received.") || !strings.Contains(e.Station, "Document not changed.")) {
			t.Errorf("#%d: the visa broadcast, before the station answers: %q", h.ev.Number, e.Station)
		}
	}
	if askedKey == 0 || broadcastsIn == 0 {
		t.Errorf("the session held %d frames whose sender's key was asked for and %d broadcasts in: want some of each",
			askedKey, broadcastsIn)
	}
}

// checkExportedAnswers checks that the Markdown tells each message sent
// what the station really answered, by the frame that carried it, and
// never contradicts it.
func checkExportedAnswers(t *testing.T, tr *workshop.Transcript, md string) {
	t.Helper()
	sections := map[int]string{}
	parts := regexp.MustCompile(`(?m)^### (\d+)\. `).Split(md, -1)
	heads := regexp.MustCompile(`(?m)^### (\d+)\. `).FindAllStringSubmatch(md, -1)
	for i, h := range heads {
		n, _ := strconv.Atoi(h[1])
		sections[n] = parts[i+1]
	}
	sent := map[string]int{} // pane and signature → number
	answered := 0
	for _, rec := range tr.Records {
		ev, err := rec.ClientEvent()
		f, ok := ev.(client.FrameEvent)
		if err != nil || !ok || f.Layers == nil || f.Layers.Reliable == nil {
			continue
		}
		key := strconv.Itoa(rec.Pane) + " "
		if f.Dir == client.Out {
			sent[key+f.Layers.Reliable.SignatureText()] = rec.Number
			continue
		}
		if strings.Contains(sections[rec.Number], "✗") {
			t.Errorf("#%d: ✗ in a normal session:\n%s", rec.Number, sections[rec.Number])
		}
		if f.Layers.Instant == nil {
			continue
		}
		r, ok := f.Layers.Instant.Content.(*dimp.ReceiptCommand)
		if !ok || r.Origin == nil || f.Layers.Reliable.Sender.Type() != dimp.Station {
			continue
		}
		if r.Text == "Document not changed." && strings.Contains(sections[rec.Number], "stored it") {
			t.Errorf("#%d “Document not changed.” explained as stored:\n%s", rec.Number, sections[rec.Number])
		}
		n, ok := sent[key+r.Origin.Signature]
		if !ok {
			continue
		}
		answered++
		want := "It answered “" + r.Text + "” (frame #" + strconv.Itoa(rec.Number) + ")"
		if !strings.Contains(sections[n], want) {
			t.Errorf("#%d was answered %q by #%d; its section does not say %q:\n%s", n, r.Text, rec.Number, want, sections[n])
		}
	}
	if answered == 0 {
		t.Error("no message sent was answered by the station")
	}
}

// replayStepped replays a transcript in a workshop App, stepping through
// every frame: the panel shows each held frame by its recorded number. It
// returns the frames of the replay's inspectors.
func replayStepped(t *testing.T, tr *workshop.Transcript) []numbered {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rp := workshop.NewReplay(tr, workshop.ReplayOptions{Step: client.StepAll})
	var specs []PaneSpec
	for _, p := range rp.Panes() {
		specs = append(specs, PaneSpec{Backend: p.Client, Options: Options{Context: ctx, Peer: p.Peer, UsersEvery: -1, tick: testTick}})
	}
	s := &liveSession{t: t, events: make(chan EventMsg, 1<<14)}
	s.app = NewSplit(specs, WithTheme(true), WithWorkshop(WorkshopOptions{Step: client.StepAll, Station: rp}))
	s.app.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	for i, p := range rp.Panes() {
		s.listen(s.app.panes[i].id, p.Client)
	}
	go func() { _ = rp.Run(ctx) }()
	finished := func() bool {
		select {
		case <-rp.Finished():
			return true
		default:
			return false
		}
	}
	s.step("the replay", finished)
	s.settle()
	recorded := map[int]bool{}
	for _, rec := range tr.Records {
		recorded[rec.Number] = rec.Event == "frame"
	}
	for _, h := range s.held {
		if !recorded[h.ev.Number] || !strings.Contains(h.panel, "next #"+strconv.Itoa(h.ev.Number)+" ") {
			t.Errorf("the replay's panel held frame #%d, which the transcript does not number so", h.ev.Number)
		}
	}
	if len(s.held) == 0 {
		t.Error("the replay held no frame")
	}
	return inspected(s.app)
}
