package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"dimtui/display"
	"dimtui/workshop"
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
	// mouseFree: the terminal has the mouse, so that a plain drag selects
	// text (ctrl+g, /mouse); the panes do not see it.
	mouseFree bool
	// frames numbers the frames of every pane, one number per frame in the
	// session (see workshop.Numbers); a new set of panes starts again at 1.
	frames *workshop.Numbers
	events *eventQueue // every pane's events, in the order they came
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
	a := &App{styles: &st, keys: DefaultKeyMap(), dark: true, events: newEventQueue()}
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
	a.frames = workshop.NewNumbers()
	a.keys.NextPane.SetEnabled(len(specs) > 1)
	playback := false
	for _, s := range specs {
		_, ok := s.Backend.(Playback)
		playback = playback || ok
	}
	a.keys.setPlayback(playback)
	a.help.setKeys(a.keys)
	var names []string
	for _, s := range specs {
		p := NewPane(a.nextID, s.Backend, s.Options, a.styles, a.keys)
		p.setCompact(len(specs) > 1)
		p.status.mouseFree = a.mouseFree
		a.panes = append(a.panes, p)
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
		cmds = append(cmds, a.events.follow(p.opt.Context, p.id, p.b.Events()), p.loadConversations())
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

// resize gives every pane its cells (none while the terminal is below the
// minimum: they keep the last they had).
func (a *App) resize() {
	if a.width == 0 {
		return
	}
	a.help.setSize(a.width, a.height)
	for i, r := range a.paneRects() {
		a.panes[i].SetSize(r.w, r.h)
	}
	if a.ws != nil {
		a.ws.sync(a)
	}
}

// Panes returns the panes, for a model that wraps the App.
func (a *App) Panes() []*Pane { return a.panes }

// Init asks for the background colour and starts listening to every
// pane's client, in one queue.
func (a *App) Init() tea.Cmd {
	cmds := []tea.Cmd{a.events.next()}
	if !a.fixedTheme {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	for _, p := range a.panes {
		// The history's conversations, and the open one's newest page.
		cmds = append(cmds, a.events.follow(p.opt.Context, p.id, p.b.Events()), p.loadConversations())
	}
	if a.ws != nil {
		cmds = append(cmds, a.ws.init(a))
	}
	return tea.Batch(cmds...)
}

// Update handles a message, then settles what the workshop's panel
// draws.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := a.update(msg)
	if a.ws != nil {
		a.ws.sync(a)
	}
	for _, p := range a.panes {
		p.syncPlayback()
	}
	return a, cmd
}

func (a *App) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		if a.state == stateStarting {
			a.state = stateRunning
		}
		a.resize()
		return nil
	case tea.BackgroundColorMsg:
		if !a.fixedTheme {
			a.dark = msg.IsDark()
			a.applyTheme()
		}
		return nil
	case showHelpMsg:
		a.state = stateHelp
		a.help.open()
		return nil
	case mouseMsg:
		free := msg.free
		if msg.toggle {
			free = !a.mouseFree
		}
		return a.setMouse(free)
	case EventMsg:
		if a.pane(msg.Pane) != nil {
			msg.Event = a.frames.Number(int(msg.Pane), msg.Event)
		}
		var ws tea.Cmd
		if a.ws != nil {
			var relayout bool
			if relayout, ws = a.ws.observe(a, msg); relayout {
				defer a.resize()
			}
		}
		if msg.queued {
			return tea.Batch(ws, a.toPane(msg.Pane, msg), a.events.next())
		}
		return tea.Batch(ws, a.toPane(msg.Pane, msg))
	case paneMsg:
		return a.toPane(msg.paneID(), msg)
	case tea.KeyPressMsg:
		return a.handleKey(msg)
	case tea.MouseMsg:
		return a.handleMouse(msg)
	}
	if a.ws != nil {
		if cmd, ok := a.ws.update(a, msg); ok {
			return cmd
		}
	}
	if len(a.panes) > 0 {
		return a.panes[a.focused].Update(msg)
	}
	return nil
}

// handleKey handles a key: ctrl+c anywhere; nothing else while the window
// is below the minimum (nothing that takes keys is on the screen); the
// help's keys while it is open; f6 and the workshop's keys; the rest goes
// to the focused pane.
func (a *App) handleKey(k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, a.keys.Quit) {
		return tea.Quit
	}
	if a.layout().small {
		return nil
	}
	if a.state == stateHelp {
		if a.help.update(k) {
			a.state = stateRunning
		}
		return nil
	}
	if key.Matches(k, a.keys.Mouse) {
		return a.setMouse(!a.mouseFree)
	}
	if cmd, ok := a.playbackKey(k); ok {
		return cmd
	}
	if key.Matches(k, a.keys.NextPane) {
		a.focus((a.focused + 1) % len(a.panes))
		return nil
	}
	if a.ws != nil {
		if cmd, ok := a.ws.handleKey(a, k); ok {
			return cmd
		}
	}
	return a.panes[a.focused].Update(k)
}

// handleMouse gives the mouse to the pane under it, which a click focuses.
func (a *App) handleMouse(msg tea.MouseMsg) tea.Cmd {
	if a.state == stateHelp {
		return nil
	}
	if a.ws != nil && a.ws.full.shown {
		a.ws.fullMouse(msg)
		return nil
	}
	m := msg.Mouse()
	for i, r := range a.paneRects() {
		if r.contains(m.X, m.Y) {
			if _, click := msg.(tea.MouseClickMsg); click && a.focused != i {
				a.focus(i)
			}
			return a.panes[i].Update(shiftMouse(msg, -r.x, -r.y))
		}
	}
	return nil
}

// setMouse frees the mouse for the terminal, or takes it back, and says
// so in every status bar and the focused pane's footer.
func (a *App) setMouse(free bool) tea.Cmd {
	a.mouseFree = free
	for _, p := range a.panes {
		p.status.mouseFree = free
	}
	if len(a.panes) == 0 {
		return nil
	}
	flash := "the mouse is dimtui's again: the wheel scrolls, a click focuses"
	if free {
		flash = "mouse free: a plain drag selects text; ctrl+g or /mouse on gives it back"
	}
	return a.panes[a.focused].setFlash(flash, false)
}

// focus gives the keyboard to pane i. Stacked panes short of rows give
// the focused one its rows: the layout changes with the focus.
func (a *App) focus(i int) {
	a.focused = i
	a.syncActive()
	a.resize()
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
	if a.mouseFree {
		v.MouseMode = tea.MouseModeNone
	}
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
	l := a.layout()
	var out string
	switch {
	case l.small:
		out = smallView(a.styles, a.width, a.height, l.need[0], l.need[1])
	case a.ws != nil && a.ws.full.shown:
		out = a.ws.fullView(a)
	case len(a.panes) == 1 && l.panel.w == 0:
		out = a.panes[0].View()
	default:
		layers := []*lipgloss.Layer{lipgloss.NewLayer(blank(a.width, a.height))}
		for i, p := range a.panes {
			r := l.panes[i]
			layers = append(layers, lipgloss.NewLayer(p.View()).X(r.x).Y(r.y).Z(1))
			if i == 0 {
				continue
			}
			// A rule between two panes: in the column between them side by
			// side, on the row between them stacked.
			if r.x > 0 {
				rule := strings.TrimSuffix(strings.Repeat(a.styles.Border.Render("┃")+"\n", r.h), "\n")
				layers = append(layers, lipgloss.NewLayer(rule).X(r.x-1).Y(r.y).Z(1))
			} else {
				layers = append(layers, lipgloss.NewLayer(a.styles.Border.Render(strings.Repeat("━", r.w))).X(r.x).Y(r.y-1).Z(1))
			}
		}
		if l.panel.w > 0 {
			layers = append(layers, lipgloss.NewLayer(a.ws.panelView(a, l.panel)).X(l.panel.x).Y(l.panel.y).Z(1))
		}
		// The compositor leaves out the blanks at the ends of lines: put
		// them back, so that every line is the window's width.
		out = clip(lipgloss.NewCompositor(layers...).Render(), a.width, a.height)
	}
	if a.state == stateHelp && !l.small {
		box := a.help.view()
		bw, bh := lipgloss.Size(box)
		out = clip(overlay(out, box, max((a.width-bw)/2, 0), max((a.height-bh)/2, 0)), a.width, a.height)
	}
	if a.styles.Screen != nil {
		out = paintBackground(out, a.styles.Screen)
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
