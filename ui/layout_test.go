package ui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
)

// projectorSizes are the sizes a workshop is given: a projector with a
// large font (80×24, 100×30) and a large screen (200×50).
var projectorSizes = [][2]int{{80, 24}, {100, 30}, {200, 50}}

// projectorSession is the two-user workshop on a projector: alice and bob
// have chatted; bob's new Hello is held, and a PING of alice's after it.
func projectorSession(t *testing.T, w, h int) *workshopSession {
	t.Helper()
	fa, fb := newFake(alice), newFake(bob)
	s := newWorkshopSession(t, w, h, WorkshopOptions{Step: client.StepAll, Presenter: true}, fa, fb)
	s.events(fa, handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(fb, handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(fa, splitChat(alice, bob, 0)...)
	s.events(fb, splitChat(bob, alice, 1)...)
	s.events(fb, heldHello(t, vectorUser(t, "bob"), 7))
	s.events(fa, client.HeldEvent{Time: testTime(70), Seq: 8, Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing})
	return s
}

func TestGoldenProjector(t *testing.T) {
	for _, sz := range projectorSizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			s := projectorSession(t, sz[0], sz[1])
			checkScreen(t, s.screen(), sz[0], sz[1])
		})
	}
}

func TestGoldenPanelFullScreen(t *testing.T) {
	for _, sz := range projectorSizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			s := projectorSession(t, sz[0], sz[1])
			s.keys(tea.KeyPressMsg{Code: tea.KeyF5})
			checkScreen(t, s.screen(), sz[0], sz[1])
		})
	}
}

// projectorApp is projectorSession's screen without a program, for the
// tests that press keys and look.
func projectorApp(t *testing.T, w, h int) (*App, *fakeBackend, *fakeBackend) {
	t.Helper()
	fa, fb := newFake(alice), newFake(bob)
	a := newWorkshopApp(w, h, WorkshopOptions{Step: client.StepAll}, fa, fb)
	deliver(a, 0, handshakeEvents("ws://127.0.0.1:9394")...)
	deliver(a, 1, handshakeEvents("ws://127.0.0.1:9394")...)
	deliver(a, 0, splitChat(alice, bob, 0)...)
	deliver(a, 1, splitChat(bob, alice, 1)...)
	deliver(a, 1, heldHello(t, vectorUser(t, "bob"), 7))
	return a, fa, fb
}

// The panel's whole explanation reads full screen, scrolled with the
// arrows and the page keys, even on a short window; f5 brings the panes
// back.
func TestPanelFullScreenScrolls(t *testing.T) {
	a, _, _ := projectorApp(t, 80, 16)
	if strings.Contains(screenText(a), "Next") {
		t.Fatal("the test needs a panel cut at 80×16: its Next section shows")
	}
	if !strings.Contains(screenText(a), "f5 shows the rest") {
		t.Errorf("a cut panel does not say how to read the rest:\n%s", screenText(a))
	}
	runAll(t, a, tea.KeyPressMsg{Code: tea.KeyF5})
	seen := screenText(a)
	if !strings.Contains(seen, "f5/esc back to the panes") || strings.Contains(seen, "me alice") {
		t.Fatalf("f5 does not show the panel full screen:\n%s", seen)
	}
	if !strings.Contains(seen, "lines 1–") {
		t.Errorf("the full-screen panel does not say where it is:\n%s", seen)
	}
	for range 10 {
		runAll(t, a, keyPgDown)
		seen += screenText(a)
	}
	for _, want := range []string{"Signed", "Encrypted", "Station", "Next"} {
		if !strings.Contains(seen, want) {
			t.Errorf("scrolling the full-screen panel never shows %q", want)
		}
	}
	runAll(t, a, keyHome)
	if !strings.Contains(screenText(a), "lines 1–") {
		t.Errorf("home does not go back to the top:\n%s", screenText(a))
	}
	// Keys that type go nowhere; f5 brings the panes back.
	runAll(t, a, tea.KeyPressMsg{Code: 'x', Text: "x"})
	runAll(t, a, tea.KeyPressMsg{Code: tea.KeyF5})
	if got := screenText(a); !strings.Contains(got, "me alice") || a.panes[0].composer.value() != "" {
		t.Errorf("after f5 the panes are not back as they were (composer %q):\n%s", a.panes[0].composer.value(), got)
	}
	runAll(t, a, tea.KeyPressMsg{Code: tea.KeyF5})
	runAll(t, a, keyEsc)
	if !strings.Contains(screenText(a), "me alice") {
		t.Error("esc does not leave the full-screen panel")
	}
}

// Two panes go side by side from 117 columns, without contacts or footer;
// narrower, they are stacked.
func TestSplitSideBySideFrom117Columns(t *testing.T) {
	fa, fb := newFake(alice), newFake(bob)
	a := newWorkshopApp(117, 30, WorkshopOptions{}, fa, fb)
	r := a.paneRects()
	if r[0].y != r[1].y || r[0].w < sideBySideWidth || r[1].w < sideBySideWidth {
		t.Errorf("at 117 columns the panes are at %v, want side by side", r)
	}
	screen := screenText(a)
	if strings.Contains(screen, "Contacts") || strings.Contains(screen, "ctrl+x app content") {
		t.Errorf("a split pane shows its contacts or footer:\n%s", screen)
	}
	a.Update(tea.WindowSizeMsg{Width: 116, Height: 30})
	if r := a.paneRects(); r[0].x != r[1].x {
		t.Errorf("at 116 columns the panes are at %v, want stacked", r)
	}
	// A flash shows in the composer's rule, there being no footer.
	runAll(t, a, tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl})
	if !strings.Contains(screenText(a), "── timestamps off") {
		t.Errorf("a split pane's flash does not show:\n%s", screenText(a))
	}
}

// From the minimum size up, the focused pane shows its status bar and its
// composer, and every screen is exactly its size; below it, the screen
// says the size it needs and the size it has.
func TestFocusedPaneKeepsStatusAndComposer(t *testing.T) {
	for _, users := range []int{1, 2, 4} {
		fakes := []*fakeBackend{newFake(alice), newFake(bob), newFake(moky), newFake(testEcho())}[:users]
		a := newWorkshopApp(80, 24, WorkshopOptions{Step: client.StepAll}, fakes...)
		for i := range fakes {
			deliver(a, i, handshakeEvents("ws://127.0.0.1:9394")...)
		}
		deliver(a, 0, heldHello(t, vectorUser(t, "alice"), 1))
		minW, minH := a.minSize()
		for _, focus := range []int{0, users - 1} {
			a.focus(focus)
			me := "me " + fakes[focus].me.Name()
			for w := minW; w <= 130; w += 9 {
				for h := minH; h <= 34; h += 3 {
					a.Update(tea.WindowSizeMsg{Width: w, Height: h})
					screen := a.Render()
					lines := strings.Split(screen, "\n")
					if len(lines) != h {
						t.Fatalf("%d users %dx%d: %d lines", users, w, h, len(lines))
					}
					for i, l := range lines {
						if lw := ansi.StringWidth(l); lw != w {
							t.Fatalf("%d users %dx%d: line %d is %d wide", users, w, h, i, lw)
						}
					}
					plain := ansi.Strip(screen)
					if !strings.Contains(plain, me) || !strings.Contains(plain, "› ") {
						t.Fatalf("%d users %dx%d, focus on %d: no status bar or composer:\n%s", users, w, h, focus, plain)
					}
				}
			}
		}
		a.Update(tea.WindowSizeMsg{Width: minW - 1, Height: minH})
		want := fmt.Sprintf("It is %d×%d; dimtui needs at least %d×%d.", minW-1, minH, minW, minH)
		if got := strings.Join(strings.Fields(screenText(a)), " "); !strings.Contains(got, want) {
			t.Errorf("%d users below the minimum: the screen does not say %q:\n%s", users, want, screenText(a))
		}
		a.Update(tea.WindowSizeMsg{Width: minW, Height: minH - 1})
		if !strings.Contains(screenText(a), "too small") {
			t.Errorf("%d users one row short: no message", users)
		}
	}
}
