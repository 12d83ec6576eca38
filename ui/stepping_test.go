package ui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/workshop"
)

// recordedSession is a real two-user demo session (alice is pane 0, bob
// pane 1), as /export wrote it.
const recordedSession = "../client/testdata/demo-two-users.jsonl"

// recordedHeld returns the frames of one pane of the recorded session as
// a client stepping through every frame holds them, numbered from 1.
func recordedHeld(t *testing.T, pane int) []client.HeldEvent {
	t.Helper()
	f, err := os.Open(recordedSession)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := workshop.ReadTranscript(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []client.HeldEvent
	for _, rec := range tr.Records {
		if rec.Event != "frame" || rec.Pane != pane {
			continue
		}
		ev, err := rec.ClientEvent()
		if err != nil {
			t.Fatal(err)
		}
		fe := ev.(client.FrameEvent)
		out = append(out, client.HeldEvent{Time: fe.Time, Seq: uint64(len(out) + 1), Dir: fe.Dir, Raw: fe.Raw,
			Kind: fe.Kind, Layers: fe.Layers})
	}
	return out
}

// TestRunToTheNextStop steps alice's side of a recorded session with
// every frame held: f9 lets the next frame go and every frame after it up
// to the next handshake step or chat message, which waits with whatever
// is held behind it; with nothing left before a stop it keeps running,
// letting housekeeping go as it is held, until the next stop comes.
func TestRunToTheNextStop(t *testing.T) {
	fa := newFake(alice)
	a := newWorkshopApp(200, 50, WorkshopOptions{Step: client.StepAll}, fa)
	frames := recordedHeld(t, 0)
	released := func() int { _, rel := fa.stepCalls(); return len(rel) }
	// settle reports the frames asked for as released, as the client does.
	reported := 0
	settle := func() {
		for ; reported < released(); reported++ {
			runAll(t, a, EventMsg{Pane: 0, Event: client.ReleasedEvent{Seq: uint64(reported + 1)}, Replayed: true})
		}
	}
	hold := func(from, to int) { // frames from..to, numbered from 1
		for _, h := range frames[from-1 : to] {
			runAll(t, a, EventMsg{Pane: 0, Event: h, Replayed: true})
			settle()
		}
	}
	f9 := tea.KeyPressMsg{Code: tea.KeyF9}
	press := func(wantReleased int, wantRunning bool) {
		t.Helper()
		runAll(t, a, f9)
		if got := released(); got != wantReleased {
			t.Fatalf("after f9, %d frames released, want %d", got, wantReleased)
		}
		if a.ws.running != wantRunning {
			t.Fatalf("after f9, running %v, want %v", a.ws.running, wantRunning)
		}
		settle()
	}
	next := func() string {
		for _, h := range a.ws.queue {
			if !h.asked {
				return heldSummary(h.ev)
			}
		}
		return ""
	}

	// The handshake: Hello, DIM?, Hello (and an ACK), DIM!.
	hold(1, 5)
	press(1, false)
	if got := next(); got != "DIM?" {
		t.Errorf("next after the first f9: %q", got)
	}
	press(2, false)
	press(4, false) // the Restart Hello, and the ACK behind it
	if got := next(); got != "DIM!" {
		t.Errorf("next after the third f9: %q", got)
	}
	press(5, true) // DIM!; nothing held after it: running on
	if !strings.Contains(screenText(a), "running to the next stop") {
		t.Errorf("the panel does not say it runs:\n%s", screenText(a))
	}

	// The announcements, their receipts, ACKs, "active users", a PING:
	// each let go as it is held.
	hold(6, 27)
	if got := released(); got != 27 {
		t.Fatalf("%d frames released while running, want 27", got)
	}
	// alice's chat message stops the run; the station's receipt of it and
	// the ACKs held behind it wait too.
	hold(28, 34)
	if got := released(); got != 27 || a.ws.running {
		t.Fatalf("after alice's message was held: %d released, running %v; want 27, false", got, a.ws.running)
	}
	if got := a.ws.waiting(); got != 7 {
		t.Errorf("%d frames waiting, want alice's message and the 6 behind it", got)
	}
	screen := screenText(a)
	if strings.Contains(screen, "running to the next stop") {
		t.Errorf("the run stopped at alice's message, the screen still says it runs:\n%s", screen)
	}
	for _, want := range []string{"next #28 alice", "hello bob, this is alice", "#29 alice ← in receipt"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the panel does not show %q:\n%s", want, screen)
		}
	}
	// f9 lets the message go, and its receipts (details, not stops for a
	// run), and runs on.
	press(34, true)
	hold(35, 35) // bob's answer: a stop
	if got := released(); got != 34 || a.ws.running {
		t.Errorf("after bob's answer was held: %d released, running %v; want 34, false", got, a.ws.running)
	}
	// f8 lets exactly one frame go.
	hold(36, 37)
	runAll(t, a, tea.KeyPressMsg{Code: tea.KeyF8})
	if got := released(); got != 35 {
		t.Errorf("f8 released %d frames, want 1", got-34)
	}
}

// recordIndex is the index of the first frame record of tr that matches.
func recordIndex(t *testing.T, tr *workshop.Transcript, match func(client.FrameEvent) bool) int {
	t.Helper()
	for i, rec := range tr.Records {
		if rec.Event != "frame" {
			continue
		}
		if ev, err := rec.ClientEvent(); err == nil && match(ev.(client.FrameEvent)) {
			return i
		}
	}
	t.Fatal("no such frame in the transcript")
	return 0
}

// outText matches the frame that carries a text from the pane's user.
func outText(text string) func(client.FrameEvent) bool {
	return func(f client.FrameEvent) bool {
		if f.Dir != client.Out || f.Layers == nil || f.Layers.Instant == nil {
			return false
		}
		tc, ok := f.Layers.Instant.Content.(*dimp.TextContent)
		return ok && tc.Text == text
	}
}

// TestReplayStepsByLesson plays a recorded two-user session back stepping
// by lesson (--step): f9 runs from one handshake step or chat message to
// the next (8 presses bring alice's message, not one per frame), /seek N
// goes to a frame, [ back to the stop before (the panes played again from
// the start), ] to the next stop. (With every frame held, f9 runs the
// same way through the UI, frame by frame: TestRunToTheNextStop.)
func TestReplayStepsByLesson(t *testing.T) {
	f, err := os.Open(recordedSession)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := workshop.ReadTranscript(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	hello := recordIndex(t, tr, outText("hello bob, this is alice"))
	hi := recordIndex(t, tr, outText("hi alice"))
	// number is the number record i's frame is shown with, which /seek
	// takes: this transcript has none recorded, and is numbered in order.
	number := func(i int) int {
		n := 0
		for _, rec := range tr.Records[:i+1] {
			if rec.Event == "frame" {
				n++
			}
		}
		return n
	}
	isStop := func(i int) bool {
		ev, err := tr.Records[i].ClientEvent()
		fe, ok := ev.(client.FrameEvent)
		return err == nil && ok && client.Classify(fe.Kind, fe.Layers).Stop()
	}

	r := workshop.NewReplay(tr, workshop.ReplayOptions{Step: client.StepLesson})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx)
	}()
	specs := func(panes []workshop.ReplayPane) []PaneSpec {
		var out []PaneSpec
		for _, p := range panes {
			out = append(out, PaneSpec{Backend: p.Client, Options: Options{Context: ctx, Peer: p.Peer, Bots: p.Bots, UsersEvery: -1}})
		}
		return out
	}
	seek := func(_ context.Context, to workshop.Seek) (uint64, []PaneSpec, error) {
		at, err := r.Seek(to)
		return at.Frame, specs(at.Panes), err
	}
	app := NewSplit(specs(r.Panes()), WithTheme(true),
		WithWorkshop(WorkshopOptions{Step: client.StepLesson, Station: r, Finished: r.Finished(), Seek: seek}))
	d := startProbed(t, app, func() { cancel(); <-done })
	headSeq := func(a *App) uint64 {
		if h := nextHeld(a); h != nil && !a.ws.running {
			return h.ev.Seq
		}
		return 0
	}

	// f9 from one milestone to the next: the handshakes' 8 steps, then
	// alice's message.
	var at uint64
	d.waitFor("the first frame held", func(a *App) bool { at = headSeq(a); return at != 0 })
	for at != uint64(hello+1) && d.presses < 20 {
		before := at
		d.tm.Send(tea.KeyPressMsg{Code: tea.KeyF9})
		d.presses++
		d.waitFor("the next stop", func(a *App) bool { at = headSeq(a); return at != 0 && at != before })
	}
	if at != uint64(hello+1) || d.presses != 8 {
		t.Fatalf("after %d presses of f9 the replay holds #%d; want alice's message #%d after 8", d.presses, at, hello+1)
	}
	var bobPane string
	d.look(func(a *App) bool { bobPane = paneText(a, 1); return true })
	if strings.Contains(bobPane, "hello bob") {
		t.Errorf("bob shows alice's message, still held:\n%s", bobPane)
	}

	// /seek N: forward to bob's answer; alice's message has reached him.
	d.tm.Type(fmt.Sprintf("/seek %d", number(hi)))
	d.tm.Send(keyEnter)
	d.waitFor("bob's answer held", func(a *App) bool {
		return headSeq(a) == uint64(hi+1) && strings.Contains(paneText(a, 1), "alice hello bob")
	})

	// [ : the stop before, played again from the start in new panes.
	prev := hi - 1
	for !isStop(prev) {
		prev--
	}
	var firstPane PaneID
	d.look(func(a *App) bool { firstPane = a.panes[0].id; return true })
	d.tm.Send(tea.KeyPressMsg{Code: '[', Text: "["})
	d.waitFor("the stop before", func(a *App) bool { return headSeq(a) == uint64(prev+1) && a.panes[0].id != firstPane })

	// /seek back to alice's message: bob has not seen it yet.
	d.tm.Type(fmt.Sprintf("/seek %d", number(hello)))
	d.tm.Send(keyEnter)
	d.waitFor("alice's message held again", func(a *App) bool { return headSeq(a) == uint64(hello+1) })
	d.look(func(a *App) bool { bobPane = paneText(a, 1); return true })
	if strings.Contains(bobPane, "hello bob") {
		t.Errorf("after seeking back, bob shows alice's message:\n%s", bobPane)
	}

	// ] : the next stop.
	next := hello + 1
	for !isStop(next) {
		next++
	}
	d.tm.Send(tea.KeyPressMsg{Code: ']', Text: "]"})
	d.waitFor("the next stop", func(a *App) bool { return headSeq(a) == uint64(next+1) })
}
