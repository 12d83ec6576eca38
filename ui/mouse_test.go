package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// ctrl+g and /mouse free the mouse for the terminal, so that a plain drag
// selects text for the room, and take it back; every status bar says
// while it is free.
func TestMouseRelease(t *testing.T) {
	fa, fb := newFake(alice), newFake(bob)
	a := newWorkshopApp(200, 40, WorkshopOptions{}, fa, fb)
	captured := func() bool { return a.View().MouseMode == tea.MouseModeCellMotion }
	if !captured() || strings.Contains(screenText(a), "mouse free") {
		t.Fatal("the mouse is not dimtui's at the start")
	}
	ctrlG := tea.KeyPressMsg{Code: 'g', Mod: tea.ModCtrl}
	runAll(t, a, ctrlG)
	screen := screenText(a)
	if captured() || a.View().MouseMode != tea.MouseModeNone {
		t.Error("ctrl+g does not free the mouse")
	}
	if n := strings.Count(screen, "mouse free: drag selects · ctrl+g"); n != 2 {
		t.Errorf("%d status bars say the mouse is free, want 2:\n%s", n, screen)
	}
	if !strings.Contains(screen, "a plain drag selects text") {
		t.Errorf("no word of it in the focused pane:\n%s", screen)
	}
	if a.panes[0].composer.value() != "" {
		t.Error("ctrl+g typed in the composer")
	}
	runAll(t, a, ctrlG)
	if !captured() || strings.Contains(screenText(a), "mouse free:") {
		t.Error("ctrl+g again does not take the mouse back")
	}
	for _, tt := range []struct {
		line string
		free bool
	}{{"/mouse off", true}, {"/mouse off", true}, {"/mouse on", false}, {"/mouse", true}, {"/mouse", false}} {
		typeLine(t, a, tt.line)
		if captured() == tt.free {
			t.Errorf("after %s the mouse is captured: %v", tt.line, captured())
		}
	}
	typeLine(t, a, "/mouse sideways")
	if !strings.Contains(a.panes[0].flash, "/mouse [on|off]") {
		t.Errorf("a bad argument is not explained: %q", a.panes[0].flash)
	}
}

// typeLine types a line in the focused pane and presses Enter.
func typeLine(t *testing.T, a *App, line string) {
	t.Helper()
	for _, r := range line {
		runAll(t, a, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	runAll(t, a, keyEnter)
}
