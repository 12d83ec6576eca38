package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
)

// appState is what the root model shows.
type appState int

const (
	stateStarting appState = iota // no window size yet
	stateRunning                  // the panes
	stateHelp                     // the help overlay over the panes
)

// App is the root model: one pane per client (one in the chat client),
// the help overlay, and the theme, rebuilt when the terminal says whether
// its background is dark.
type App struct {
	state      appState
	panes      []*Pane
	focused    int
	styles     *Styles
	keys       KeyMap
	width      int
	height     int
	helpScroll int
	fixedTheme bool
	title      string
}

// AppOption changes how an App starts.
type AppOption func(*App)

// WithTheme fixes the theme to dark (true) or light (false) instead of
// asking the terminal for its background colour.
func WithTheme(dark bool) AppOption {
	return func(a *App) {
		*a.styles = NewStyles(dark)
		a.fixedTheme = true
	}
}

// WithKeyMap replaces the key bindings.
func WithKeyMap(k KeyMap) AppOption { return func(a *App) { a.keys = k } }

// New returns the root model of the chat client for one backend.
func New(b Backend, opt Options, opts ...AppOption) *App {
	return NewSplit([]PaneSpec{{Backend: b, Options: opt}}, opts...)
}

// PaneSpec is one client's pane in a split screen.
type PaneSpec struct {
	Backend Backend
	Options Options
}

// NewSplit returns a root model with one pane per client, side by side
// when the terminal is wide enough and stacked otherwise; f6 moves the
// focus from one to the next.
func NewSplit(specs []PaneSpec, opts ...AppOption) *App {
	st := NewStyles(true)
	a := &App{styles: &st, keys: DefaultKeyMap()}
	for _, o := range opts {
		o(a)
	}
	a.keys.NextPane.SetEnabled(len(specs) > 1)
	var names []string
	for i, s := range specs {
		a.panes = append(a.panes, NewPane(PaneID(i), s.Backend, s.Options, a.styles, a.keys))
		names = append(names, displayName(s.Backend.Me()))
	}
	a.title = "dimtui — " + strings.Join(names, ", ")
	return a
}

// Panes returns the panes, for a model that wraps the App.
func (a *App) Panes() []*Pane { return a.panes }

// Init asks for the background colour and starts every pane's listener.
func (a *App) Init() tea.Cmd {
	cmds := []tea.Cmd{}
	if !a.fixedTheme {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	for _, p := range a.panes {
		cmds = append(cmds, p.Init())
	}
	return tea.Batch(cmds...)
}

// paneRects splits the window among the panes: side by side when each gets
// 80 columns, stacked otherwise.
func (a *App) paneRects() []rect {
	n := len(a.panes)
	out := make([]rect, n)
	if n == 1 {
		out[0] = rect{0, 0, a.width, a.height}
		return out
	}
	if a.width/n >= 80 {
		w := (a.width - (n - 1)) / n
		for i := range out {
			out[i] = rect{i * (w + 1), 0, w, a.height}
		}
		return out
	}
	h := (a.height - (n - 1)) / n
	for i := range out {
		out[i] = rect{0, i * (h + 1), a.width, h}
	}
	return out
}

// Update handles a message.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		if a.state == stateStarting {
			a.state = stateRunning
		}
		for i, r := range a.paneRects() {
			a.panes[i].SetSize(r.w, r.h)
		}
		return a, nil
	case tea.BackgroundColorMsg:
		if !a.fixedTheme {
			*a.styles = NewStyles(msg.IsDark())
			for _, p := range a.panes {
				p.SetStyles()
			}
		}
		return a, nil
	case showHelpMsg:
		a.state, a.helpScroll = stateHelp, 0
		return a, nil
	case EventMsg:
		return a, a.toPane(msg.Pane, msg)
	case callDoneMsg:
		return a, a.toPane(msg.pane, msg)
	case usersTickMsg:
		return a, a.toPane(msg.pane, msg)
	case flashExpiredMsg:
		return a, a.toPane(msg.pane, msg)
	case tea.KeyPressMsg:
		if key.Matches(msg, a.keys.Quit) {
			return a, tea.Quit
		}
		if key.Matches(msg, a.keys.NextPane) && a.state != stateHelp {
			a.focused = (a.focused + 1) % len(a.panes)
			return a, nil
		}
		if a.state == stateHelp {
			switch {
			case key.Matches(msg, a.keys.Up):
				a.helpScroll = max(a.helpScroll-1, 0)
			case key.Matches(msg, a.keys.Down):
				a.helpScroll++
			case key.Matches(msg, a.keys.PageUp):
				a.helpScroll = max(a.helpScroll-10, 0)
			case key.Matches(msg, a.keys.PageDown):
				a.helpScroll += 10
			default:
				a.state = stateRunning
			}
			return a, nil
		}
		return a, a.panes[a.focused].Update(msg)
	case tea.MouseMsg:
		if a.state == stateHelp {
			return a, nil
		}
		m := msg.Mouse()
		for i, r := range a.paneRects() {
			if r.contains(m.X, m.Y) {
				if _, click := msg.(tea.MouseClickMsg); click {
					a.focused = i
				}
				return a, a.panes[i].Update(shiftMouse(msg, -r.x, -r.y))
			}
		}
		return a, nil
	}
	if len(a.panes) > 0 {
		return a, a.panes[a.focused].Update(msg)
	}
	return a, nil
}

// toPane hands a message to the pane with the given ID.
func (a *App) toPane(id PaneID, msg tea.Msg) tea.Cmd {
	for _, p := range a.panes {
		if p.id == id {
			return p.Update(msg)
		}
	}
	return nil
}

// shiftMouse moves a mouse message's coordinates by dx, dy.
func shiftMouse(msg tea.MouseMsg, dx, dy int) tea.Msg {
	switch m := msg.(type) {
	case tea.MouseClickMsg:
		m.X += dx
		m.Y += dy
		return m
	case tea.MouseReleaseMsg:
		m.X += dx
		m.Y += dy
		return m
	case tea.MouseWheelMsg:
		m.X += dx
		m.Y += dy
		return m
	case tea.MouseMotionMsg:
		m.X += dx
		m.Y += dy
		return m
	}
	return msg
}

// View draws the panes, and the help over them.
func (a *App) View() tea.View {
	var v tea.View
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = a.title
	if a.state == stateStarting || a.width == 0 {
		v.SetContent("starting…")
		return v
	}
	v.SetContent(a.Render())
	return v
}

// Render draws the screen as a string of exactly the window's size.
func (a *App) Render() string {
	rects := a.paneRects()
	var out string
	if len(a.panes) == 1 {
		out = a.panes[0].View()
	} else {
		layers := []*lipgloss.Layer{lipgloss.NewLayer(blank(a.width, a.height))}
		for i, p := range a.panes {
			layers = append(layers, lipgloss.NewLayer(p.View()).X(rects[i].x).Y(rects[i].y).Z(1))
		}
		out = lipgloss.NewCompositor(layers...).Render()
	}
	if a.state == stateHelp {
		box := helpView(a.styles, a.keys, a.width, a.height, &a.helpScroll)
		bw, bh := lipgloss.Size(box)
		out = clip(overlay(out, box, max((a.width-bw)/2, 0), max((a.height-bh)/2, 0)), a.width, a.height)
	}
	return out
}

// blank returns w×h spaces.
func blank(w, h int) string {
	line := strings.Repeat(" ", w)
	lines := make([]string, h)
	for i := range lines {
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

// helpView draws the help overlay generated from the key map, with the
// slash commands and the delivery ticks, in columns that fit w×h; what does
// not fit scrolls.
func helpView(st *Styles, keys KeyMap, w, h int, scroll *int) string {
	const keyW, descW = 12, 24
	colW := keyW + 1 + descW
	var blocks [][]string
	for _, g := range keys.HelpGroups() {
		b := []string{st.HelpGroup.Render(g.Title)}
		for _, k := range g.Keys {
			hk := k.Help()
			b = append(b, st.HelpKey.Render(fit(hk.Key, keyW))+" "+st.HelpDesc.Render(truncate(hk.Desc, descW)))
		}
		blocks = append(blocks, b)
	}
	cmds := []string{st.HelpGroup.Render("Commands")}
	for _, c := range slashCommands() {
		name := "/" + c.Name
		cmds = append(cmds, st.HelpKey.Render(fit(name, keyW))+" "+st.HelpDesc.Render(truncate(c.Desc, descW)))
	}
	blocks = append(blocks, cmds)
	ticks := []string{st.HelpGroup.Render("Delivery ticks")}
	for _, t := range []struct {
		d    client.Delivery
		desc string
	}{{client.Sending, "sending"}, {client.AtStation, "at the station"}, {client.Delivered, "delivered"},
		{client.Read, "read"}, {client.Failed, "failed"}} {
		ticks = append(ticks, fit(renderTick(st, t.d), keyW)+" "+st.HelpDesc.Render(t.desc))
	}
	blocks = append(blocks, ticks)

	innerW := max(w-2-4, colW)
	ncols := max(min((innerW+3)/(colW+3), 3), 1)
	total := 0
	for _, b := range blocks {
		total += len(b) + 1
	}
	per := (total + ncols - 1) / ncols
	cols := make([][]string, ncols)
	c := 0
	for _, b := range blocks {
		if c < ncols-1 && len(cols[c]) > 0 && len(cols[c])+len(b) > per {
			c++
		}
		if len(cols[c]) > 0 {
			cols[c] = append(cols[c], "")
		}
		cols[c] = append(cols[c], b...)
	}
	rows := 0
	for _, col := range cols {
		rows = max(rows, len(col))
	}
	var lines []string
	for i := range rows {
		var b strings.Builder
		for j, col := range cols {
			if j > 0 {
				b.WriteString("   ")
			}
			cell := ""
			if i < len(col) {
				cell = col[i]
			}
			b.WriteString(fit(cell, colW))
		}
		lines = append(lines, b.String())
	}
	// Fit the height: title, blank, the lines, blank, footer; borders 2.
	avail := max(h-2-4, 3)
	*scroll = max(min(*scroll, len(lines)-avail), 0)
	more := ""
	if len(lines) > avail {
		lines = lines[*scroll : *scroll+avail]
		more = st.Footer.Render(fmt.Sprintf(" · ↑↓ scroll (%d more)", rows-avail))
	}
	title := st.HelpTitle.Render("dimtui — keys and commands")
	footer := st.Footer.Render("any other key closes") + more
	body := title + "\n\n" + strings.Join(lines, "\n") + "\n\n" + footer
	width := 0
	for _, l := range strings.Split(body, "\n") {
		width = max(width, ansi.StringWidth(l))
	}
	return st.HelpBox.Width(min(width+6, w)).Render(body)
}
