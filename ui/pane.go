package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
	"dimtui/workshop"
)

// focusArea is the part of a pane that receives keys.
type focusArea int

const (
	focusComposer focusArea = iota
	focusConversation
	focusContacts
	focusInspector
)

// paneMode is what a pane shows over its conversation.
type paneMode int

const (
	modeChat   paneMode = iota
	modeForm            // the app-content form is open
	modeSearch          // the search results are open (search.go)
)

// showHelpMsg asks the root model to open the help overlay.
type showHelpMsg struct{}

// showHelp is the command that opens the help overlay.
func showHelp() tea.Msg { return showHelpMsg{} }

// mouseMsg asks the root model to free the mouse for the terminal (free),
// take it back, or switch (toggle).
type mouseMsg struct{ free, toggle bool }

// Pane is the whole screen of one client: status bar, contacts,
// conversation, composer, inspector and the app-content form. Several
// panes can share a terminal; each is sized with SetSize and drawn with
// View into exactly the cells it was given.
//
// The pane applies its client's events to its chat state (chat.go), routes
// the keys and the mouse to its components (input.go), runs the slash
// commands (commands.go), and lays the components out and draws them
// (here).
type Pane struct {
	id   PaneID
	b    Backend
	opt  Options
	keys KeyMap
	st   *Styles

	me   dimp.ID
	chat *chatState

	xfer    *transferState // the file being sent or saved
	xferSeq int

	status    statusBar
	contacts  contactsView
	conv      convView
	inspector inspector
	composer  composer
	form      *appForm
	search    *searchBox
	help      help.Model // draws the footer's keys

	mode          paneMode
	focus         focusArea
	showInspector bool
	usersTicking  bool

	flash    string
	flashBad bool
	flashSeq int
	width    int
	height   int

	// playback is the backend as a replay; nil for a live client.
	playback Playback

	// compact: no contacts column and no footer, for panes side by side
	// in a split view; a flash shows in the composer's rule instead.
	compact bool

	// Workshop mode (see workshop.go).
	workshop bool                // the workshop's slash commands are on
	inactive bool                // another pane of the split view has the keys
	know     *workshop.Knowledge // keys seen in frames, for the explanations
}

// NewPane makes the pane of one backend. st must outlive the pane; the
// root model updates it when the theme changes and calls SetStyles.
func NewPane(id PaneID, b Backend, opt Options, st *Styles, keys KeyMap) *Pane {
	opt.defaults()
	chat := newChatState(b.Me(), b.Status())
	chat.stationNames = opt.StationNames
	p := &Pane{
		id: id, b: b, opt: opt, keys: keys, st: st,
		me:        b.Me(),
		chat:      chat,
		status:    statusBar{st: st, chat: chat, title: opt.Title, station: opt.StationName},
		contacts:  newContactsView(st, keys, chat),
		conv:      newConvView(st, keys, chat, !opt.HideTimestamps),
		inspector: newInspector(st, keys, opt.MaxFrames, inspectorBytes),
		composer:  newComposer(st, keys),
		help:      help.New(),
		know:      workshop.NewKnowledge(),
	}
	if me, ok := b.(interface{ Identity() *dimp.Identity }); ok {
		if id := me.Identity(); id != nil {
			p.know.LearnProfile(id.ID, id.Meta, id.Visa)
		}
	}
	p.help.Styles = st.Help
	p.startPlayback()
	for _, bot := range opt.Bots {
		chat.contacts.addBot(bot)
	}
	if !opt.Peer.IsZero() {
		// Its history is read once the conversations are (Init).
		p.chat.open(opt.Peer)
	}
	p.showCurrent()
	return p
}

// ID returns the pane's ID.
func (p *Pane) ID() PaneID { return p.id }

// Init starts listening to the backend's events.
func (p *Pane) Init() tea.Cmd { return p.Listen() }

// Listen returns the command that waits for the backend's next event.
func (p *Pane) Listen() tea.Cmd { return Listen(p.id, p.b.Events()) }

// SetStyles redraws everything with the styles st points to (they changed).
func (p *Pane) SetStyles() {
	p.conv.restyle()
	p.inspector.restyle()
	p.composer.setStyles()
	if p.form != nil {
		p.form.setStyles()
	}
	p.help.Styles = p.st.Help
}

// SetSize gives the pane its cells.
func (p *Pane) SetSize(w, h int) {
	p.width, p.height = w, h
	p.relayout()
}

// SetActive says whether this pane has the keyboard in a split view; an
// inactive pane shows no cursor.
func (p *Pane) SetActive(active bool) {
	p.inactive = !active
	p.composer.setAway(p.inactive)
	p.syncFocus()
}

// setCompact leaves the contacts column and the footer out (a split view)
// or puts them back.
func (p *Pane) setCompact(on bool) {
	p.compact = on
	p.composer.setNote(p.compactNote())
	p.relayout()
}

// compactNote is what a compact pane's composer rule shows in place of the
// footer: the flash, when there is one.
func (p *Pane) compactNote() (text string, bad bool) {
	if !p.compact {
		return "", false
	}
	return p.flash, p.flashBad
}

// startWorkshop turns the workshop's slash commands on; stepping says
// whether frames wait for a presenter.
func (p *Pane) startWorkshop(stepping bool) {
	p.workshop = true
	// A lesson is about messages: the inspector lists them without the
	// PINGs, PONGs and ACKs between them (c lists those too).
	p.inspector.setHideControl(true)
	p.setStepping(stepping)
	p.composer.setCommands(append(slashCommands(), workshopCommands()...))
}

// setStepping says whether every frame waits for a presenter: the
// handshake's notices say so, and the periodic "who is online" stops.
func (p *Pane) setStepping(on bool) { p.chat.stepping = on }

// rect is an area of the pane.
type rect struct{ x, y, w, h int }

func (r rect) contains(x, y int) bool { return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h }

// paneLayout is where each part of the pane goes.
type paneLayout struct {
	status   rect
	contacts rect // with its title row; w = 0 when hidden
	conv     rect // with its title row
	insp     rect // w = 0 when hidden
	composer rect // the textarea (a separator line is above it)
	hints    rect // completion candidates; h = 0 when none
	footer   rect
}

// layout computes where everything goes for the pane's size, the
// composer's height and the panels shown. The status bar and the composer
// come first, so that they stay on the screen down to minPaneHeight rows;
// the footer comes only where the conversation keeps a line, and not in a
// compact pane; the conversation and the columns beside it get the rest.
// A pane squeezed under minPaneHeight (another pane has the focus) shows
// what fits of its status bar, then its composer.
func (p *Pane) layout() paneLayout {
	w, h := max(p.width, 20), max(p.height, 0)
	var l paneLayout
	l.status = rect{0, 0, w, min(statusHeight, h)}
	rest := h - l.status.h
	compH, hintsH := p.composer.height()
	if rest < 2 {
		compH, hintsH = 0, 0 // no room for the composer: the status only
	} else {
		compH = min(compH, rest-1)
		hintsH = min(hintsH, rest-1-compH)
		rest -= 1 + compH + hintsH
	}
	footerH := 0
	if !p.compact && rest >= 3 {
		footerH = 1
		rest--
	}
	bodyY, bodyH := l.status.h, rest
	l.footer = rect{0, h - footerH, w, footerH}
	l.hints = rect{0, l.footer.y - hintsH, w, hintsH}
	l.composer = rect{0, l.hints.y - compH, w, compH}

	x := 0
	cols := w
	if p.showInspector && p.inspector.zoomed() {
		l.insp = rect{0, bodyY, w, bodyH}
		return l
	}
	if p.showInspector {
		iw := max(w*55/100, 40)
		if iw > w-24 {
			iw = w - 24
		}
		l.insp = rect{w - iw, bodyY, iw, bodyH}
		cols = w - iw - 1
	}
	cw := 22
	if w >= 120 {
		cw = 26
	}
	if !p.compact && cols-cw-1 >= 40 {
		l.contacts = rect{0, bodyY, cw, bodyH}
		x = cw + 1
	}
	l.conv = rect{x, bodyY, cols - x, bodyH}
	return l
}

// composerLines is how many lines the composer's text may take: up to
// four, while the conversation keeps its title and a line.
func (p *Pane) composerLines() int {
	return min(max(p.height-statusHeight-1-2, 1), 4)
}

// relayout gives every component its size, for the pane's size and the
// panels shown; it runs whenever either changes.
func (p *Pane) relayout() {
	p.composer.setSize(max(p.width, 20), p.composerLines())
	l := p.layout()
	p.status.setSize(l.status.w, l.status.h)
	p.contacts.setSize(l.contacts.w, l.contacts.h)
	p.conv.setSize(l.conv.w, l.conv.h)
	p.inspector.setSize(l.insp.w, l.insp.h)
	p.help.SetWidth(l.footer.w)
	if p.form != nil {
		p.form.setSize(p.formWidth(), 0)
	}
	if p.search != nil {
		p.search.setSize(p.searchWidth(), max(l.conv.h-6, 3))
	}
}

// formWidth is the app-content form's width for the pane's size.
func (p *Pane) formWidth() int { return min(max(p.width-6, 40), 76) }

// searchWidth is the search box's width for the pane's size.
func (p *Pane) searchWidth() int { return min(max(p.width-6, 40), 84) }

// Update handles a message for this pane.
func (p *Pane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case EventMsg:
		if msg.Closed {
			p.notice("the client stopped", true)
			return nil
		}
		cmd := p.handleEvent(msg.Event)
		if msg.Replayed {
			return cmd
		}
		return tea.Batch(cmd, p.Listen())
	case callDoneMsg:
		return p.callDone(msg)
	case transferProgressMsg:
		return p.transferProgress(msg)
	case transferDoneMsg:
		return p.transferDone(msg)
	case conversationsLoadedMsg:
		return p.conversationsLoaded(msg)
	case pageLoadedMsg:
		return p.pageLoaded(msg)
	case nameResolvedMsg:
		return p.nameResolved(msg)
	case usersTickMsg:
		if p.chat.status.State != client.Running || p.opt.UsersEvery < 0 {
			p.usersTicking = false
			return nil
		}
		if p.chat.stepping || p.layout().contacts.w == 0 {
			// Every frame waits for the presenter, or the contacts are not
			// on the screen: no question that only refreshes them.
			return p.usersTick()
		}
		return tea.Batch(p.askUsers(""), p.usersTick())
	case flashExpiredMsg:
		if msg.seq == p.flashSeq {
			p.flash = ""
			p.composer.setNote(p.compactNote())
		}
		return nil
	case tea.KeyPressMsg:
		return p.handleKey(msg)
	case tea.PasteMsg:
		if p.mode == modeForm {
			_, _, cmd := p.form.update(msg)
			return cmd
		}
		p.setFocus(focusComposer)
		return p.composerUpdate(msg)
	case tea.MouseMsg:
		return p.handleMouse(msg)
	}
	// Anything else belongs to the bubbles (a paste the textarea asked for).
	if p.mode == modeForm && p.form != nil {
		_, _, cmd := p.form.update(msg)
		return cmd
	}
	return p.composerUpdate(msg)
}

// handleEvent applies one client event: frames to the inspector and the
// explanations, a search answer to the search box, everything else to the
// chat state, then makes the calls it asks for.
func (p *Pane) handleEvent(ev client.Event) tea.Cmd {
	switch ev := ev.(type) {
	case client.FrameEvent:
		p.know.LearnFrame(ev.Layers)
		p.inspector.add(p.me, ev)
		p.chat.frameSent(ev)
		return nil
	case client.HeldEvent:
		p.know.LearnFrame(ev.Layers)
		p.inspector.addHeld(p.me, ev)
		p.chat.heldFrame(ev)
		return nil
	case client.ReleasedEvent:
		p.inspector.released(ev.Seq) // and on to the chat state
	case client.SearchEvent:
		if p.search != nil {
			p.search.answer(ev, p.me, &p.chat.contacts)
		}
		return nil
	}
	names := p.chat.namesGen
	did := p.chat.apply(ev)
	if g, ok := ev.(client.GroupCommandEvent); ok && p.chat.current != nil && p.chat.current.peer.SameAs(g.Group) {
		did.opened = true // the group's name may be new
	}
	if did.opened || p.chat.namesGen != names {
		p.showCurrent() // a conversation opened, or its peer's name changed
	}
	var cmds []tea.Cmd
	if did.connected {
		cmds = append(cmds, p.askUsers(""))
		if !p.usersTicking && p.opt.UsersEvery > 0 {
			p.usersTicking = true
			cmds = append(cmds, p.usersTick())
		}
	}
	if did.shown {
		cmds = append(cmds, p.markShownRead())
	}
	return tea.Batch(cmds...)
}

// callDone reports a backend call that finished: its failure, or its
// confirmation, in the footer.
func (p *Pane) callDone(msg callDoneMsg) tea.Cmd {
	if msg.err != nil && msg.what == searchCall && p.search != nil {
		p.search.fail(msg.err)
	}
	if msg.err != nil {
		if errors.Is(msg.err, context.Canceled) {
			return nil
		}
		if errors.Is(msg.err, client.ErrNoUserList) && msg.flash == "" {
			return nil // the periodic question, which this station does not answer
		}
		p.opt.Logger.Warn("ui call", "what", msg.what, "err", msg.err)
		return p.setFlash(fmt.Sprintf("%s: %v", msg.what, msg.err), true)
	}
	for _, l := range msg.lines {
		p.noticeAt(time.Now(), l, false)
	}
	if msg.flash != "" {
		return p.setFlash(msg.flash, false)
	}
	return nil
}

// open makes peer's conversation the current one and marks what it shows
// as read.
func (p *Pane) open(peer dimp.ID) tea.Cmd {
	p.chat.open(peer)
	p.showCurrent()
	var older tea.Cmd
	if c := p.chat.current; c != nil && c.hist.oldest == 0 {
		older = p.loadPage(c) // its history, the first time it opens
	}
	return tea.Batch(p.markShownRead(), older)
}

// showCurrent shows which conversation is open: its contact selected, the
// composer's receiver.
func (p *Pane) showCurrent() {
	if p.chat.current != nil {
		p.contacts.show(p.chat.current.peer)
	}
	var to dimp.ID
	label := ""
	if !p.chat.noConversation() {
		to = p.chat.current.peer
		label = p.chat.nameOf(to) // the visa's name, when known
		switch c := p.chat.contacts.byKey[client.IDKey(to)]; {
		case to.SameAs(dimp.Everyone):
			label = "everyone (a broadcast, unencrypted)"
		case c != nil && to.IsGroup():
			label = "# " + c.label()
		}
	}
	p.composer.setReceiver(to, label)
}

// notice adds a system notice to the current conversation.
func (p *Pane) notice(text string, bad bool) { p.noticeAt(time.Now(), text, bad) }

// noticeAt adds a notice of the given time (see chatState.noticeAt).
func (p *Pane) noticeAt(at time.Time, text string, bad bool) {
	cur := p.chat.current
	p.chat.noticeAt(at, text, bad)
	if p.chat.current != cur {
		p.showCurrent()
	}
}

// markShownRead tells the senders of the current conversation's unread
// messages that they were read, once the newest lines are in view.
func (p *Pane) markShownRead() tea.Cmd {
	ids := p.chat.takeShown()
	if len(ids) == 0 {
		return nil
	}
	b, log := p.b, p.opt.Logger
	return p.call("mark read", "", func(ctx context.Context) error {
		for _, id := range ids {
			// A message the client cannot mark (from a station) is not
			// worth a word on the screen: log it only.
			if err := b.MarkRead(ctx, id); err != nil {
				log.Debug("mark read", "id", id, "err", err)
			}
		}
		return nil
	})
}

// call runs fn on the backend in a command, reporting the outcome.
func (p *Pane) call(what, flash string, fn func(ctx context.Context) error) tea.Cmd {
	ctx, id := p.opt.Context, p.id
	return func() tea.Msg {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return callDoneMsg{pane: id, what: what, err: fn(cctx), flash: flash}
	}
}

// askUsers asks the station who is online.
func (p *Pane) askUsers(flash string) tea.Cmd {
	b := p.b
	return p.call("who is online", flash, func(ctx context.Context) error { return b.ActiveUsers(ctx) })
}

// usersTick asks who is online again in UsersEvery. The timer holds the
// pane's ID, not the pane: a pane replaced meanwhile is not kept alive.
func (p *Pane) usersTick() tea.Cmd {
	id := p.id
	return p.opt.tick(p.opt.UsersEvery, func(time.Time) tea.Msg { return usersTickMsg{id} })
}

// setFlash shows a short message in the footer for a few seconds.
func (p *Pane) setFlash(text string, bad bool) tea.Cmd {
	p.flashSeq++
	p.flash, p.flashBad = text, bad
	p.composer.setNote(p.compactNote())
	seq, id := p.flashSeq, p.id
	return p.opt.tick(4*time.Second, func(time.Time) tea.Msg { return flashExpiredMsg{pane: id, seq: seq} })
}

// viewpoint is whose eyes the pane's frames are explained through: its
// user, its connection and the keys it knows now.
func (p *Pane) viewpoint() workshop.Viewpoint {
	return workshop.Viewpoint{Me: p.me, Status: p.chat.status, Know: p.know}
}

// View draws the pane in exactly its width × height cells.
func (p *Pane) View() string {
	l := p.layout()
	w := l.status.w
	var rows []string
	if l.status.h > 0 {
		rows = strings.Split(p.status.view(), "\n")[:l.status.h]
	}

	var cols [][]string
	if l.contacts.w > 0 {
		cols = append(cols, strings.Split(p.contacts.view(), "\n"))
	}
	if l.conv.w > 0 {
		cols = append(cols, strings.Split(p.conv.view(), "\n"))
	}
	if l.insp.w > 0 {
		cols = append(cols, strings.Split(p.inspector.view(), "\n"))
	}
	sep := p.st.Border.Render("│")
	for i := range max(l.conv.h, l.insp.h) {
		parts := make([]string, len(cols))
		for j, col := range cols {
			if i < len(col) {
				parts[j] = col[i]
			}
		}
		rows = append(rows, strings.Join(parts, sep))
	}
	if l.composer.h > 0 {
		rows = append(rows, strings.Split(p.composer.view(), "\n")...)
	}
	if l.footer.h > 0 {
		rows = append(rows, p.footerView(w))
	}
	out := clip(strings.Join(rows, "\n"), w, max(p.height, 0))

	if p.mode == modeForm && p.form != nil {
		box := p.form.view()
		bw, bh := lipgloss.Size(box)
		x := max((w-bw)/2, 0)
		y := max(statusHeight+(l.conv.h-bh)/2, statusHeight)
		if y+bh > p.height {
			y = max(p.height-bh, 0)
		}
		out = clip(overlay(out, box, x, y), w, p.height)
	}
	if p.mode == modeSearch && p.search != nil {
		box := p.search.view()
		x := max((w-p.searchWidth())/2, 0)
		out = clip(overlay(out, box, x, statusHeight+1), w, p.height)
	}
	return out
}

// clip cuts a drawing to w×h cells, padding short lines.
func clip(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = display.Fit(l, w)
	}
	return strings.Join(lines, "\n")
}

// footerView draws the keys of the part that has them, or the flash
// message.
func (p *Pane) footerView(w int) string {
	if line, ok := p.transferView(w); ok && p.flash == "" {
		return line
	}
	if p.flash != "" {
		s := p.st.Flash
		if p.flashBad {
			s = p.st.FlashError
		}
		return display.Fit(" "+s.Render(display.Sanitize(p.flash, false)), w)
	}
	var bindings []key.Binding
	switch {
	case p.mode == modeForm:
		bindings = p.form.help()
	case p.mode == modeSearch:
		bindings = p.search.help()
	default:
		bindings = p.part(p.focus).help()
	}
	return display.Fit(" "+p.help.ShortHelpView(bindings), w)
}

// overlay draws top over base with its top-left corner at x, y.
func overlay(base, top string, x, y int) string {
	return lipgloss.NewCompositor(
		lipgloss.NewLayer(base),
		lipgloss.NewLayer(top).X(x).Y(y).Z(1),
	).Render()
}
