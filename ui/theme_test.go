package ui

import (
	"image/color"
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
)

func TestDarkFromCOLORFGBG(t *testing.T) {
	for _, tt := range []struct {
		in       string
		dark, ok bool
	}{
		{"15;0", true, true}, {"0;15", false, true}, {"0;7", false, true}, {"7;8", true, true},
		{"0;6", true, true}, {"0;9", false, true}, {"12;default;0", true, true}, {"0;default;15", false, true},
		{"", false, false}, {"default;default", false, false}, {"0;16", false, false}, {"15;-1", false, false},
	} {
		dark, ok := darkFromCOLORFGBG(tt.in)
		if dark != tt.dark || ok != tt.ok {
			t.Errorf("COLORFGBG=%q: dark %v ok %v, want %v %v", tt.in, dark, ok, tt.dark, tt.ok)
		}
	}
}

// The theme comes from --theme when given; else from the terminal's
// answer to the background-colour query, until which (and when it never
// answers) COLORFGBG says, else dark.
func TestThemeFallbackOrder(t *testing.T) {
	light := tea.BackgroundColorMsg{Color: color.White}
	dark := tea.BackgroundColorMsg{Color: color.Black}
	for _, tt := range []struct {
		name      string
		theme     Theme
		colorfgbg string
		answer    tea.Msg // nil: the terminal does not answer
		want      bool    // dark
		asks      bool    // the terminal is asked
	}{
		{"--theme light beats the terminal", ThemeLight, "15;0", dark, false, false},
		{"--theme dark beats the terminal", ThemeDark, "0;15", light, true, false},
		{"the terminal's answer beats COLORFGBG", ThemeAuto, "15;0", light, false, true},
		{"the terminal's dark answer", ThemeAuto, "0;15", dark, true, true},
		{"COLORFGBG light without an answer", ThemeAuto, "0;15", nil, false, true},
		{"COLORFGBG dark without an answer", ThemeAuto, "15;0", nil, true, true},
		{"dark when nothing says", ThemeAuto, "", nil, true, true},
		{"dark when COLORFGBG is unreadable", ThemeAuto, "default;default", nil, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(alice)
			a := New(f, Options{UsersEvery: -1, tick: testTick}, WithThemeChoice(tt.theme, tt.colorfgbg))
			if asks := asksBackground(a.Init(), f); asks != tt.asks {
				t.Errorf("asks the terminal: %v, want %v", asks, tt.asks)
			}
			a.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			if tt.answer != nil {
				a.Update(tt.answer)
			}
			if a.styles.Dark != tt.want {
				t.Errorf("dark theme: %v, want %v", a.styles.Dark, tt.want)
			}
		})
	}
}

// asksBackground reports whether an Init command is, or holds, the
// background-colour query. The commands in a batch are not run; a lone
// command is the pane's listener, which f lets return with an event.
func asksBackground(cmd tea.Cmd, f *fakeBackend) bool {
	f.events <- client.StatusEvent{Time: testTime(0), Status: f.Status()}
	batch, ok := cmd().(tea.BatchMsg)
	if !ok {
		return false
	}
	query := reflect.ValueOf(tea.RequestBackgroundColor).Pointer()
	for _, c := range batch {
		if c != nil && reflect.ValueOf(c).Pointer() == query {
			return true
		}
	}
	return false
}

// defaultBackgroundCells counts the cells of a drawn line left on the
// terminal's background: printed while no background is set, after a reset
// or SGR 49. The SGR state runs on from the lines before, as on a terminal.
func defaultBackgroundCells(screen string) (perLine []int) {
	p := ansi.NewParser()
	var state byte
	bg := false
	n := 0
	for len(screen) > 0 {
		seq, width, size, next := ansi.DecodeSequence(screen, state, p)
		state = next
		screen = screen[size:]
		switch {
		case seq == "\n":
			perLine = append(perLine, n)
			n = 0
		case ansi.HasCsiPrefix(seq) && ansi.Cmd(p.Command()).Final() == 'm':
			params := p.Params()
			if len(params) == 0 {
				bg = false
			}
			for i := 0; i < len(params); i++ {
				var c color.Color
				switch params[i].Param(0) {
				case 0, 49:
					bg = false
				case 48:
					bg = true
					i += max(ansi.ReadStyleColor(params[i:], &c)-1, 0)
				case 38, 58:
					i += max(ansi.ReadStyleColor(params[i:], &c)-1, 0)
				}
			}
		case width > 0 && !bg:
			n += width
		}
	}
	return append(perLine, n)
}

// Every cell of a presenter screen has the theme's background, dark or
// light: the status bars, the conversations, the panel, the blank rows,
// the help over them; the normal theme leaves the terminal's.
func TestPresenterPaintsEveryCell(t *testing.T) {
	for _, dark := range []bool{true, false} {
		fa, fb := newFake(alice), newFake(bob)
		a := newWorkshopApp(120, 40, WorkshopOptions{Step: client.StepAll, Presenter: true}, fa, fb)
		a.Update(tea.BackgroundColorMsg{Color: map[bool]color.Color{true: color.Black, false: color.White}[dark]})
		WithTheme(dark)(a)
		a.applyTheme()
		deliver(a, 0, handshakeEvents("ws://127.0.0.1:9394")...)
		deliver(a, 0, splitChat(alice, bob, 0)...)
		deliver(a, 1, heldHello(t, vectorUser(t, "bob"), 7))
		check := func(what string) {
			t.Helper()
			screen := a.Render()
			lines := defaultBackgroundCells(screen)
			if len(lines) != a.height {
				t.Fatalf("%s: %d lines", what, len(lines))
			}
			for i, n := range lines {
				if n > 0 {
					t.Errorf("dark %v, %s: line %d has %d cells on the terminal's background:\n%s", dark, what,
						i, n, ansi.Strip(strings.Split(screen, "\n")[i]))
				}
			}
		}
		check("the panes and the panel")
		runAll(t, a, keyF1)
		check("the help")
		runAll(t, a, keyEsc)
		runAll(t, a, tea.KeyPressMsg{Code: tea.KeyF5})
		check("the panel full screen")
		a.Update(tea.WindowSizeMsg{Width: 30, Height: 10})
		check("too small")
		// f4 leaves the presenter theme: the terminal's background again.
		a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		runAll(t, a, tea.KeyPressMsg{Code: tea.KeyF4})
		if lines := defaultBackgroundCells(a.Render()); lines[10] == 0 {
			t.Errorf("dark %v: the normal theme paints the background", dark)
		}
	}
}
