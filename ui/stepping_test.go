package ui

import (
	"os"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
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
