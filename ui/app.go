package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"dimtui/display"
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
	help       *helpOverlay
	fixedTheme bool
	dark       bool // the terminal's background, as last known
	title      string
	nextID     PaneID        // the ID of the next pane made
	ws         *workshopMode // nil unless WithWorkshop
}

// AppOption changes how an App starts.
type AppOption func(*App)

// WithTheme fixes the theme to dark (true) or light (false) instead of
// asking the terminal for its background colour.
func WithTheme(dark bool) AppOption {
	return func(a *App) {
		*a.styles = NewStyles(dark)
		a.fixedTheme, a.dark = true, dark
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
	a := &App{styles: &st, keys: DefaultKeyMap(), dark: true}
	for _, o := range opts {
		o(a)
	}
	cmds := slashCommands()
	if a.ws != nil {
		cmds = append(cmds, workshopCommands()...)
	}
	a.help = newHelpOverlay(a.styles, a.keys, cmds)
	a.makePanes(specs)
	if a.ws != nil {
		a.ws.attach(a)
		if a.ws.presenter {
			a.applyTheme()
		}
	}
	return a
}

// makePanes makes one pane per spec, with IDs never used before (events
// still in flight for panes replaced by a reset find no pane).
func (a *App) makePanes(specs []PaneSpec) {
	a.panes, a.focused = nil, 0
	a.keys.NextPane.SetEnabled(len(specs) > 1)
	a.help.setKeys(a.keys)
	var names []string
	for _, s := range specs {
		a.panes = append(a.panes, NewPane(a.nextID, s.Backend, s.Options, a.styles, a.keys))
		a.nextID++
		names = append(names, display.Name(s.Backend.Me()))
	}
	a.title = "dimtui — " + strings.Join(names, ", ")
	a.syncActive()
}

// replacePanes puts new clients on the screen (after a reset) and starts
// listening to them.
func (a *App) replacePanes(specs []PaneSpec) tea.Cmd {
	a.makePanes(specs)
	a.resize()
	var cmds []tea.Cmd
	for _, p := range a.panes {
		cmds = append(cmds, p.Init())
	}
	if a.ws != nil {
		cmds = append(cmds, a.ws.init(a))
	}
	return tea.Batch(cmds...)
}

// syncActive tells each pane whether it has the keyboard.
func (a *App) syncActive() {
	for i, p := range a.panes {
		p.SetActive(i == a.focused || len(a.panes) == 1)
	}
}

// pane returns the pane with the given ID, nil when there is none.
func (a *App) pane(id PaneID) *Pane {
	for _, p := range a.panes {
		if p.id == id {
			return p
		}
	}
	return nil
}

// flash shows a message in a pane's footer.
func (a *App) flash(id PaneID, text string, bad bool) tea.Cmd {
	if p := a.pane(id); p != nil {
		return p.setFlash(text, bad)
	}
	return nil
}

// applyTheme rebuilds the styles for the background and the presenter
// setting, and redraws every pane with them.
func (a *App) applyTheme() {
	if a.ws != nil && a.ws.presenter {
		*a.styles = NewPresenterStyles(a.dark)
	} else {
		*a.styles = NewStyles(a.dark)
	}
	for _, p := range a.panes {
		p.SetStyles()
	}
	a.help.restyle()
}

// resize gives every pane its cells.
func (a *App) resize() {
	if a.width == 0 {
		return
	}
	a.help.setSize(a.width, a.height)
	for i, r := range a.paneRects() {
		a.panes[i].SetSize(r.w, r.h)
	}
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
	if a.ws != nil {
		cmds = append(cmds, a.ws.init(a))
	}
	return tea.Batch(cmds...)
}

// paneRects splits the window (less the step-through panel) among the
// panes: side by side when each gets 80 columns, stacked otherwise.
func (a *App) paneRects() []rect {
	n := len(a.panes)
	out := make([]rect, n)
	area := rect{0, 0, a.width, a.height}
	if pr := a.panelRect(); pr.w > 0 {
		if pr.x > 0 {
			area.w = pr.x
		} else {
			area.h = pr.y
		}
	}
	if n == 1 {
		out[0] = area
		return out
	}
	if area.w/n >= 80 {
		w := (area.w - (n - 1)) / n
		for i := range out {
			out[i] = rect{i * (w + 1), 0, w, area.h}
		}
		return out
	}
	h := (area.h - (n - 1)) / n
	for i := range out {
		out[i] = rect{0, i * (h + 1), area.w, h}
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
		a.resize()
		return a, nil
	case tea.BackgroundColorMsg:
		if !a.fixedTheme {
			a.dark = msg.IsDark()
			a.applyTheme()
		}
		return a, nil
	case showHelpMsg:
		a.state = stateHelp
		a.help.open()
		return a, nil
	case EventMsg:
		var ws tea.Cmd
		if a.ws != nil {
			var relayout bool
			if relayout, ws = a.ws.observe(a, msg); relayout {
				defer a.resize()
			}
		}
		return a, tea.Batch(ws, a.toPane(msg.Pane, msg))
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
			a.syncActive()
			return a, nil
		}
		if a.ws != nil && a.state != stateHelp {
			if cmd, ok := a.ws.handleKey(a, msg); ok {
				return a, cmd
			}
		}
		if a.state == stateHelp {
			if a.help.update(msg) {
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
				if _, click := msg.(tea.MouseClickMsg); click && a.focused != i {
					a.focused = i
					a.syncActive()
				}
				return a, a.panes[i].Update(shiftMouse(msg, -r.x, -r.y))
			}
		}
		return a, nil
	}
	if a.ws != nil {
		if cmd, ok := a.ws.update(a, msg); ok {
			return a, cmd
		}
	}
	if len(a.panes) > 0 {
		return a, a.panes[a.focused].Update(msg)
	}
	return a, nil
}

// toPane hands a message to the pane with the given ID.
func (a *App) toPane(id PaneID, msg tea.Msg) tea.Cmd {
	if p := a.pane(id); p != nil {
		return p.Update(msg)
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
	panel := a.panelRect()
	var out string
	if len(a.panes) == 1 && panel.w == 0 {
		out = a.panes[0].View()
	} else {
		layers := []*lipgloss.Layer{lipgloss.NewLayer(blank(a.width, a.height))}
		for i, p := range a.panes {
			layers = append(layers, lipgloss.NewLayer(p.View()).X(rects[i].x).Y(rects[i].y).Z(1))
			if i > 0 && rects[i].x > 0 {
				// A rule in the column between two panes side by side.
				rule := strings.TrimSuffix(strings.Repeat(a.styles.Border.Render("┃")+"\n", rects[i].h), "\n")
				layers = append(layers, lipgloss.NewLayer(rule).X(rects[i].x-1).Y(rects[i].y).Z(1))
			}
		}
		if panel.w > 0 {
			layers = append(layers, lipgloss.NewLayer(a.ws.panelView(a, panel)).X(panel.x).Y(panel.y).Z(1))
		}
		out = lipgloss.NewCompositor(layers...).Render()
	}
	if a.state == stateHelp {
		box := a.help.view()
		bw, bh := lipgloss.Size(box)
		out = clip(overlay(out, box, max((a.width-bw)/2, 0), max((a.height-bh)/2, 0)), a.width, a.height)
	}
	// Peer text is sanitized where it is drawn; this is the last line of
	// defence for what is not, such as a text input holding a peer's full
	// ID. The characters are zero-width: the layout does not change.
	return display.DropBidi(out)
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
