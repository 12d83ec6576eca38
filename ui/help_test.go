package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// helpText returns the help's lines at width w as the text of each column
// read top to bottom, spaces squeezed, columns one after the other.
func helpText(t *testing.T, st *Styles, keys KeyMap, commands []slashCommand, w int) string {
	t.Helper()
	lines := helpColumns(st, keys, commands, w)
	ncols, colW := helpGrid(w)
	var cols []string
	for c := range ncols {
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(ansi.Strip(ansi.Cut(l, c*(colW+3), c*(colW+3)+colW)) + " ")
		}
		cols = append(cols, strings.Join(strings.Fields(b.String()), " "))
	}
	return strings.Join(cols, " | ")
}

// The help cuts nothing, whatever its width: every key and every command
// with its arguments shows whole, every description whole (wrapped where
// the column is narrow), and the marks of the conversation are explained.
func TestHelpShowsEverythingWhole(t *testing.T) {
	keys := DefaultKeyMap()
	keys.setWorkshop(true)
	st := NewStyles(true)
	commands := append(slashCommands(), workshopCommands()...)
	for _, w := range []int{60, 80, 100, 140, 200} {
		text := helpText(t, &st, keys, commands, w)
		if strings.Contains(text, "…") {
			t.Errorf("width %d: something is cut:\n%s", w, text)
		}
		for _, g := range keys.HelpGroups() {
			for _, k := range g.Keys {
				if want := k.Help().Key + " " + k.Help().Desc; !strings.Contains(text, want) {
					t.Errorf("width %d: %q is not whole", w, want)
				}
			}
		}
		for _, c := range commands {
			want := strings.TrimSpace("/"+c.Name+" "+c.Args) + " " + c.Desc
			if !strings.Contains(text, want) {
				t.Errorf("width %d: %q is not whole", w, want)
			}
		}
		for _, want := range []string{"/drop [in|out]", "/delay DURATION|off", "/next [N]", "/step [on|off|lesson|messages|all]",
			"↪ a receipt", "▲ what the station was made to do", "• a notice from dimtui", "○ sending", "✓✓ delivered", "◉ read",
			"✗ failed", "● ○ a contact online, offline"} {
			if !strings.Contains(text, want) {
				t.Errorf("width %d: the help lacks %q", w, want)
			}
		}
	}
}

// When the help does not fit, its footer says which lines it shows, and
// that changes as it scrolls.
func TestHelpSaysWhereItIs(t *testing.T) {
	a, f := newTestApp(80, 24)
	update(t, a, f, keyF1)
	first := screenText(a)
	if !strings.Contains(first, "lines 1–18 of ") {
		t.Fatalf("the help does not say which lines it shows:\n%s", first)
	}
	update(t, a, f, keyPgDown)
	if got := screenText(a); !strings.Contains(got, "lines 19–36 of ") {
		t.Errorf("after pgdn:\n%s", got)
	}
	update(t, a, f, keyEnd)
	update(t, a, f, keyUp)
	if got := screenText(a); strings.Contains(got, "lines 1–") || strings.Contains(got, "lines 19–36") {
		t.Errorf("after end and ↑ the position did not move:\n%s", got)
	}
}

// The footer shows the keys of the part that has the focus: the contacts'
// own while they have it, not the composer's.
func TestFooterFollowsTheFocus(t *testing.T) {
	a, f := newTestApp(100, 30)
	footer := func() string {
		lines := strings.Split(screenText(a), "\n")
		return lines[len(lines)-1]
	}
	if got := footer(); !strings.Contains(got, "enter send") {
		t.Fatalf("the composer's footer: %q", got)
	}
	for pane(a).focus != focusContacts {
		update(t, a, f, keyTab)
	}
	got := footer()
	if !strings.Contains(got, "↑↓ select") || !strings.Contains(got, "enter open") || strings.Contains(got, "send") ||
		strings.Contains(got, "app content") {
		t.Errorf("the contacts' footer: %q", got)
	}
	update(t, a, f, tea.KeyPressMsg{Code: tea.KeyEscape})
	if got := footer(); !strings.Contains(got, "enter send") {
		t.Errorf("back in the composer, the footer: %q", got)
	}
}
