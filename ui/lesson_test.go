package ui

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/dimptest"
	"dimtui/mockstation"
	"dimtui/mockstation/echobot"
)

// probedApp is an App in a real Bubble Tea program, asked about its state
// between two messages.
type probedApp struct {
	t       *testing.T
	tm      *teatest.TestModel
	presses int
}

// startProbed runs app at 200×50 until the test ends; stop, then, stops
// what feeds it.
func startProbed(t *testing.T, app *App, stop func()) *probedApp {
	ctx, cancel := context.WithCancel(context.Background())
	box := &appBox{app}
	tm := teatest.NewTestModel(t, probed{box}, teatest.WithInitialTermSize(200, 50))
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
		stop()
		<-drained
		box.app = nil
	})
	return &probedApp{t: t, tm: tm}
}

// startLessonDemo is `dimtui demo --users alice,bob --step` in a test: a
// station with the echo bot, two real clients stepping by lesson, and
// the App over them.
func startLessonDemo(t *testing.T) *probedApp {
	ctx, cancel := context.WithCancel(context.Background())
	bot, err := echobot.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mockstation.New(ctx, mockstation.Config{DataDir: t.TempDir(), HandshakeTimeout: -1,
		Services: []mockstation.Service{echobot.Service(bot, slog.New(slog.DiscardHandler))}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ctx, ln)
	}()
	url := "ws://" + ln.Addr().String()
	var clients []*client.Client
	for _, name := range []string{"alice", "bob"} {
		c, err := client.New(client.Config{URL: url, Identity: dimptest.NewIdentity(t, dimp.User, name), Step: client.StepLesson})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	ran := make(chan struct{}, len(clients))
	var specs []PaneSpec
	for i, c := range clients {
		go func() {
			_ = c.Run(ctx)
			ran <- struct{}{}
		}()
		specs = append(specs, PaneSpec{Backend: c, Options: Options{Context: ctx, Peer: clients[1-i].Me(),
			Bots: []dimp.ID{bot.ID}, Title: c.Me().Name()}})
	}
	app := NewSplit(specs, WithWorkshop(WorkshopOptions{Step: client.StepLesson}), WithTheme(true))
	return startProbed(t, app, func() {
		cancel()
		for range clients {
			<-ran
		}
		<-served
		_ = srv.Close()
	})
}

// look runs f in the program's goroutine and returns what it says.
func (d *probedApp) look(f func(a *App) bool) bool {
	ok := make(chan bool, 1)
	d.tm.Send(probe(func(a *App) { ok <- f(a) }))
	select {
	case v := <-ok:
		return v
	case <-time.After(10 * time.Second):
		d.t.Fatal("the program does not answer")
		return false
	}
}

// paneText is what pane i shows, without styles.
func paneText(a *App, i int) string { return ansi.Strip(a.panes[i].View()) }

// pressUntil presses key whenever a held frame waits (is shown next in
// the panel), as a presenter would, until done holds; it fails after max
// presses.
func (d *probedApp) pressUntil(what string, key tea.KeyPressMsg, max int, done func(a *App) bool) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	start := d.presses
	for !d.look(done) {
		if time.Now().After(deadline) || d.presses-start > max {
			d.t.Fatalf("%s: not there after %d presses", what, d.presses-start)
		}
		if d.look(func(a *App) bool { return a.ws.waiting() > 0 }) {
			d.tm.Send(key)
			d.presses++
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// waitFor waits until cond holds in the program, and fails with the
// screen when it does not.
func (d *probedApp) waitFor(what string, cond func(a *App) bool) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !d.look(cond) {
		if time.Now().After(deadline) {
			var screen string
			d.look(func(a *App) bool { screen = screenText(a); return true })
			d.t.Fatalf("timed out waiting for %s:\n%s", what, screen)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// nextHeld is the frame the panel shows next: the first one held whose
// release was not asked for.
func nextHeld(a *App) *heldFrame {
	for _, h := range a.ws.queue {
		if !h.asked {
			return h
		}
	}
	return nil
}

// TestLessonDemo steps the two-user demo by lesson, as a presenter
// would: the handshakes stop at their four steps each and nothing of the
// housekeeping after them is held; alice's message is on bob's screen
// after two more presses, f9 (her message goes, the station's receipt of
// it on the way, to the stop at bob) and f8: ten in all. f9 then lets the
// receipts go and runs on until bob's answer, the next stop, is held.
func TestLessonDemo(t *testing.T) {
	d := startLessonDemo(t)
	running := func(a *App) bool {
		for _, p := range a.panes {
			if p.chat.status.State != client.Running {
				return false
			}
		}
		return true
	}
	f8, f9 := tea.KeyPressMsg{Code: tea.KeyF8}, tea.KeyPressMsg{Code: tea.KeyF9}
	d.pressUntil("both sessions", f8, 8, running)
	if d.presses != 8 {
		t.Errorf("%d presses of f8 to open both sessions, want 8 (Hello, DIM?, Hello, DIM! each)", d.presses)
	}
	// The announcements, their receipts, the bot's broadcasts, ACKs and
	// the keep-alive pass: nothing waits.
	time.Sleep(time.Second)
	var screen string
	if d.look(func(a *App) bool { screen = screenText(a); return a.ws.waiting() > 0 }) {
		t.Errorf("frames held after the handshakes:\n%s", screen)
	}

	d.tm.Type("hello bob")
	d.tm.Send(keyEnter)
	d.waitFor("alice's message held", func(a *App) bool {
		h := nextHeld(a)
		return h != nil && h.ev.Dir == client.Out && h.ev.Kind == client.KindText
	})
	d.tm.Send(f9)
	d.presses++
	d.waitFor("the run stopped at bob", func(a *App) bool {
		h := nextHeld(a)
		return !a.ws.running && h != nil && h.pane == a.panes[1].id && h.ev.Dir == client.In && h.ev.Kind == client.KindText
	})
	d.look(func(a *App) bool { screen = paneText(a, 1); return true })
	if strings.Contains(screen, "hello bob") {
		t.Errorf("bob shows alice's message still held:\n%s", screen)
	}
	// The station's receipt of alice's message may be held meanwhile,
	// behind bob's copy: f8 lets bob's copy go.
	d.tm.Send(f8)
	d.presses++
	d.waitFor("alice's message on bob's screen", func(a *App) bool { return strings.Contains(paneText(a, 1), "alice hello bob") })
	if d.presses != 10 {
		t.Errorf("%d presses in all to show alice's message to bob, want 10", d.presses)
	}

	// f9: bob's receipt and the station's go on; the run waits for the
	// next stop with nothing held.
	d.tm.Send(f9)
	d.waitFor("the receipts at alice, the run going on", func(a *App) bool {
		pane := paneText(a, 0)
		return a.ws.running && a.ws.waiting() == 0 && (strings.Contains(pane, "✓✓") || strings.Contains(pane, "◉"))
	})

	// bob answers: the run stops at his message, held, not written.
	d.tm.Send(tea.KeyPressMsg{Code: tea.KeyF6})
	d.tm.Type("hi alice")
	d.tm.Send(keyEnter)
	d.waitFor("bob's answer stopping the run", func(a *App) bool { return !a.ws.running && a.ws.waiting() == 1 })
	// f9 again: bob's message goes, and the run stops at it arriving at
	// alice, held before she sees it.
	d.tm.Send(f9)
	d.waitFor("the run stopped at alice", func(a *App) bool {
		h := nextHeld(a)
		return !a.ws.running && h != nil && h.pane == a.panes[0].id && h.ev.Dir == client.In && h.ev.Kind == client.KindText
	})
	d.look(func(a *App) bool { screen = paneText(a, 0); return true })
	if strings.Contains(screen, "hi alice") {
		t.Errorf("alice shows bob's answer still held:\n%s", screen)
	}
	d.tm.Send(f8)
	d.waitFor("bob's answer at alice", func(a *App) bool { return strings.Contains(paneText(a, 0), "bob   hi alice") })
}
