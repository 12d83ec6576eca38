package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/workshop"
)

// exportedTranscript is alice's short session (sessionEvents: three
// frames), exported with /export and read back as `dimtui replay` reads it.
func exportedTranscript(t *testing.T) *workshop.Transcript {
	t.Helper()
	dir := t.TempDir()
	a := newWorkshopApp(120, 40, WorkshopOptions{ExportDir: dir}, newFake(alice))
	deliver(a, 0, sessionEvents(t)...)
	typeLine(t, a, "/export talk")
	f, err := os.Open(filepath.Join(dir, "talk.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := workshop.ReadTranscript(f)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// A replay says it is one: its status bar names the transcript, says
// offline and where the replay is (frames played of how many, the pace
// and its keys) instead of a station's address and a connection's state;
// its composer says why it sends nothing; + and - change the pace.
func TestReplaySaysItIsOne(t *testing.T) {
	rp := workshop.NewReplay(exportedTranscript(t), workshop.ReplayOptions{Step: client.StepAll, Speed: 1, Name: "talk.jsonl"})
	var specs []PaneSpec
	for _, p := range rp.Panes() {
		specs = append(specs, PaneSpec{Backend: p.Client, Options: Options{Peer: p.Peer, UsersEvery: -1, tick: testTick}})
	}
	a := NewSplit(specs, WithTheme(true), WithWorkshop(WorkshopOptions{Step: client.StepAll, Station: rp, Finished: rp.Finished()}))
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 34})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = rp.Run(ctx) }()
	b := specs[0].Backend
	// pump hands the replay's events to the app until one is held (or,
	// with held false, until the replay ends).
	pump := func(held bool) {
		t.Helper()
		for {
			select {
			case ev := <-b.Events():
				runAll(t, a, EventMsg{Pane: a.panes[0].id, Event: ev, Replayed: true})
				if _, ok := ev.(client.HeldEvent); ok && held {
					return
				}
			case <-rp.Finished():
				if !held {
					runAll(t, a, replayFinishedMsg{})
					return
				}
			case <-time.After(3 * time.Second):
				t.Fatal("the replay stalled")
			}
		}
	}
	pump(true)
	screen := screenText(a)
	for _, want := range []string{"REPLAY", "offline talk.jsonl", "frame 0/3 · 1× · +/- pace", "replay · offline: nothing is sent",
		"A replay sends nothing"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the replay's screen lacks %q:\n%s", want, screen)
		}
	}
	status := strings.Join(strings.Split(screen, "\n")[:statusHeight], "\n")
	for _, unwanted := range []string{"ws://127.0.0.1:9394", "Handshaking"} {
		if strings.Contains(status, unwanted) {
			t.Errorf("the replay's status bar shows %q as a live client's would:\n%s", unwanted, status)
		}
	}
	for _, unwanted := range []string{"Enter sends", "enter send"} {
		if strings.Contains(screen, unwanted) {
			t.Errorf("the replay's composer says %q:\n%s", unwanted, screen)
		}
	}

	runAll(t, a, tea.KeyPressMsg{Code: tea.KeyF8})
	pump(true)
	if !strings.Contains(screenText(a), "frame 1/3") {
		t.Errorf("after a frame played:\n%s", screenText(a))
	}

	runAll(t, a, tea.KeyPressMsg{Code: '+', Text: "+"})
	if got := rp.Progress().Speed; got != 2 || !strings.Contains(screenText(a), "frame 1/3 · 2×") {
		t.Errorf("+ made the pace %g:\n%s", got, screenText(a))
	}
	runAll(t, a, tea.KeyPressMsg{Code: '-', Text: "-"})
	runAll(t, a, tea.KeyPressMsg{Code: '-', Text: "-"})
	if got := rp.Progress().Speed; got != 0.5 {
		t.Errorf("+ then - twice made the pace %g, want 0.5", got)
	}
	if a.panes[0].composer.value() != "" {
		t.Errorf("the pace keys typed %q", a.panes[0].composer.value())
	}

	rp.SetSpeed(0)
	runAll(t, a, tea.KeyPressMsg{Code: tea.KeyF7})
	pump(false)
	if !strings.Contains(screenText(a), "ended · 3/3 frames") {
		t.Errorf("at the end:\n%s", screenText(a))
	}
}

func TestNextSpeed(t *testing.T) {
	for _, tt := range []struct {
		speed float64
		dir   int
		want  float64
	}{{1, 1, 2}, {1, -1, 0.5}, {0.25, -1, 0.25}, {16, 1, 0}, {0, 1, 0}, {0, -1, 16}, {3, 1, 4}, {3, -1, 2}, {0.3, -1, 0.25}} {
		if got := nextSpeed(tt.speed, tt.dir); got != tt.want {
			t.Errorf("nextSpeed(%g, %d) = %g, want %g", tt.speed, tt.dir, got, tt.want)
		}
	}
}
