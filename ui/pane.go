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
	"github.com/charmbracelet/x/ansi"

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

// Pane is the whole screen of one client: status bar, contacts,
// conversation, composer, inspector and the app-content form. Several
// panes can share a terminal; each is sized with SetSize and drawn with
// View into exactly the cells it was given.
type Pane struct {
	id   PaneID
	b    Backend
	opt  Options
	keys KeyMap
	st   *Styles
	gen  int // bumped when the styles change, to drop render caches

	me     dimp.ID
	status client.Status

	convs     map[string]*conversation
	current   *conversation
	byMsg     map[client.MessageID]*entry
	convOf    map[*entry]*conversation
	entrySeq  int // numbers the entries of every conversation, in order
	convBytes int // what the entries of every conversation cost
	contacts  contactList

	composer  composer
	form      *appForm
	search    *searchBox
	inspector inspector
	help      help.Model

	mode          paneMode
	focus         focusArea
	showInspector bool
	showTime      bool
	usersTicking  bool

	flash      string
	flashBad   bool
	flashSeq   int
	width      int
	height     int
	lastLayout paneLayout

	// Workshop mode (see workshop.go).
	workshop bool                // the workshop's slash commands are on
	stepping bool                // step-through is on: no periodic "who is online"
	inactive bool                // another pane of the split view has the keys
	know     *workshop.Knowledge // keys seen in frames, for the explanations
}

// NewPane makes the pane of one backend. st must outlive the pane; the
// root model updates it when the theme changes and calls SetStyles.
func NewPane(id PaneID, b Backend, opt Options, st *Styles, keys KeyMap) *Pane {
	opt.defaults()
	p := &Pane{
		id: id, b: b, opt: opt, keys: keys, st: st,
		me:        b.Me(),
		status:    b.Status(),
		convs:     map[string]*conversation{},
		byMsg:     map[client.MessageID]*entry{},
		convOf:    map[*entry]*conversation{},
		contacts:  newContactList(),
		composer:  newComposer(st),
		inspector: newInspector(opt.MaxFrames, inspectorBytes),
		help:      help.New(),
		showTime:  !opt.HideTimestamps,
		know:      workshop.NewKnowledge(),
	}
	if me, ok := b.(interface{ Identity() *dimp.Identity }); ok {
		if id := me.Identity(); id != nil {
			p.know.LearnProfile(id.ID, id.Meta, id.Visa)
		}
	}
	p.help.Styles = st.Help
	for _, bot := range opt.Bots {
		p.contacts.ensure(bot).bot = true
	}
	if !opt.Peer.IsZero() {
		p.open(opt.Peer)
	}
	p.updatePlaceholder()
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
	p.gen++
	p.composer.setStyles(p.st)
	if p.form != nil {
		p.form.setStyles(p.st)
	}
	p.help.Styles = p.st.Help
}

// SetSize gives the pane its cells.
func (p *Pane) SetSize(w, h int) {
	p.width, p.height = w, h
	p.relayout()
}

// relayout sizes the children for the current size and panels.
func (p *Pane) relayout() {
	l := p.layout()
	p.composer.ta.SetWidth(max(l.composer.w, 4))
	p.help.SetWidth(l.footer.w)
	if p.form != nil {
		p.form.setWidth(p.formWidth())
	}
	p.lastLayout = p.layout() // the composer's height may have changed
}

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

// layout computes where everything goes for the current size.
func (p *Pane) layout() paneLayout {
	w, h := max(p.width, 20), max(p.height, 8)
	var l paneLayout
	l.status = rect{0, 0, w, statusHeight}
	compH := max(p.composer.ta.Height(), 1)
	hintsH := 0
	if cands, _ := p.composer.hints(); len(cands) > 0 {
		hintsH = 1
	}
	footerH := 1
	bodyY := statusHeight
	bodyH := max(h-statusHeight-1-compH-hintsH-footerH, 3)
	l.footer = rect{0, h - footerH, w, footerH}
	l.hints = rect{0, l.footer.y - hintsH, w, hintsH}
	l.composer = rect{0, l.hints.y - compH, w, compH}

	x := 0
	rest := w
	if p.showInspector && p.inspector.zoom {
		l.insp = rect{0, bodyY, w, bodyH}
		return l
	}
	if p.showInspector {
		iw := max(w*55/100, 40)
		if iw > w-24 {
			iw = w - 24
		}
		l.insp = rect{w - iw, bodyY, iw, bodyH}
		rest = w - iw - 1
	}
	cw := 22
	if w >= 120 {
		cw = 26
	}
	if rest-cw-1 >= 40 {
		l.contacts = rect{0, bodyY, cw, bodyH}
		x = cw + 1
	}
	l.conv = rect{x, bodyY, rest - x, bodyH}
	return l
}

// renderCtx returns the conversation renderer's settings.
func (p *Pane) renderCtx(w int) *renderCtx {
	r := &renderCtx{st: p.st, me: p.me, width: w, showTime: p.showTime, gen: p.gen}
	r.nameW = ansi.StringWidth(display.Name(p.me))
	if p.current != nil {
		r.nameW = max(r.nameW, ansi.StringWidth(display.Name(p.current.peer)))
	}
	return r
}

// convHeight is the number of message lines the conversation shows.
func (p *Pane) convHeight() int { return max(p.lastLayout.conv.h-1, 1) }

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
		if msg.err != nil && msg.what == searchCall {
			p.searchFailed(msg.err)
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
		if msg.flash != "" {
			return p.setFlash(msg.flash, false)
		}
		return nil
	case usersTickMsg:
		if p.status.State != client.Running || p.opt.UsersEvery < 0 {
			p.usersTicking = false
			return nil
		}
		if p.stepping {
			// Every frame waits for the presenter: no question that only
			// refreshes the contacts.
			return p.usersTick()
		}
		return tea.Batch(p.askUsers(""), p.usersTick())
	case flashExpiredMsg:
		if msg.seq == p.flashSeq {
			p.flash = ""
		}
		return nil
	case tea.KeyPressMsg:
		return p.handleKey(msg)
	case tea.PasteMsg:
		if p.mode == modeForm {
			_, _, cmd := p.form.update(msg, p.keys)
			return cmd
		}
		p.focus = focusComposer
		cmd := p.composer.update(msg)
		p.relayout()
		return cmd
	case tea.MouseMsg:
		return p.handleMouse(msg)
	}
	// Anything else belongs to the bubbles (a paste the textarea asked for).
	if p.mode == modeForm && p.form != nil {
		_, _, cmd := p.form.update(msg, p.keys)
		return cmd
	}
	cmd := p.composer.update(msg)
	p.relayout()
	return cmd
}

// handleEvent applies one client event.
func (p *Pane) handleEvent(ev client.Event) tea.Cmd {
	switch ev := ev.(type) {
	case client.StatusEvent:
		return p.onStatus(ev)
	case client.FrameEvent:
		p.know.LearnFrame(ev.Layers)
		p.inspector.add(p.me, ev)
	case client.HeldEvent:
		p.know.LearnFrame(ev.Layers)
	case client.ResentEvent:
		p.onResent(ev)
	case client.MessageEvent:
		return p.onMessage(ev)
	case client.SentEvent:
		p.onSent(ev)
	case client.DeliveryEvent:
		if e := p.byMsg[ev.ID]; e != nil {
			e.delivery, e.detail = ev.State, ev.Detail
			e.version++
		}
	case client.ReceiptEvent:
		p.onReceipt(ev)
	case client.UsersEvent:
		p.contacts.unlisted = ev.Unlisted
		if ev.Unlisted {
			return nil // who is online stays unknown; the contacts stay as they are
		}
		p.contacts.setOnline(p.me, ev.Users)
		var bot dimp.ID
		for _, u := range ev.Users {
			if u.Name() == "echo" && !u.SameAs(p.me) {
				p.contacts.ensure(u).bot = true
				bot = u
			}
		}
		p.contacts.sort()
		// With no conversation open yet, talk to the echo bot.
		if !bot.IsZero() && p.noConversation() {
			return p.open(bot)
		}
	case client.SearchEvent:
		p.onSearch(ev)
	case client.PeerEvent:
		if ev.Profile != nil && ev.Profile.Visa() != nil && !ev.Profile.ID.SameAs(p.me) {
			if c := p.contacts.byKey[client.IDKey(ev.Profile.ID)]; c != nil {
				c.nick = ev.Profile.Visa().Name()
			}
		}
	case client.ErrorEvent:
		if ev.Err != nil {
			p.noticeAt(ev.Time, ev.Err.Error(), true)
		}
	}
	return nil
}

// handshakeNotice explains a handshake step in a sentence.
func handshakeNotice(step dimp.HandshakeState) string {
	switch step {
	case dimp.HandshakeStart:
		return "handshake Start: sent “Hello world!” with my meta and visa, signed, to station@anywhere"
	case dimp.HandshakeAgain:
		return "handshake Again: the station answered “DIM?” with a session key, encrypted to my visa key"
	case dimp.HandshakeRestart:
		return "handshake Restart: sent “Hello world!” with the session key, encrypted to the station and signed"
	case dimp.HandshakeSuccess:
		return "handshake Success: the station answered “DIM!”: the session is open"
	}
	return "handshake " + step.String()
}

func (p *Pane) onStatus(ev client.StatusEvent) tea.Cmd {
	prev := p.status
	s := ev.Status
	p.status = s
	var cmds []tea.Cmd
	handshaking := s.State == client.Handshaking || s.State == client.Running
	wasHandshaking := prev.State == client.Handshaking || prev.State == client.Running
	if handshaking && (!wasHandshaking || prev.Handshake != s.Handshake) {
		text := handshakeNotice(s.Handshake)
		if p.stepping && (s.Handshake == dimp.HandshakeStart || s.Handshake == dimp.HandshakeRestart) {
			text = strings.Replace(text, ": sent ", ": ", 1) + " (held until you release it)"
		}
		p.noticeAt(ev.Time, text, false)
	}
	if s.State != prev.State {
		switch s.State {
		case client.Running:
			cmds = append(cmds, p.askUsers(""))
			if !p.usersTicking && p.opt.UsersEvery > 0 {
				p.usersTicking = true
				cmds = append(cmds, p.usersTick())
			}
		case client.Error:
			msg := "connection lost"
			if s.Err != nil {
				msg = "connection failed: " + s.Err.Error()
			}
			p.noticeAt(ev.Time, msg+"; reconnecting", true)
		case client.Connected:
			p.noticeAt(ev.Time, "connected to "+s.URL, false)
		}
	}
	return tea.Batch(cmds...)
}

// conversation returns the conversation with peer, creating it.
func (p *Pane) conversation(peer dimp.ID) *conversation {
	k := client.IDKey(peer)
	c := p.convs[k]
	if c == nil {
		c = newConversation(peer.WithoutTerminal())
		p.convs[k] = c
		if !peer.IsBroadcast() && !peer.SameAs(p.me) {
			p.contacts.ensure(peer)
		}
	}
	return c
}

// open makes peer's conversation the current one and marks what it shows
// as read. The notices gathered before any conversation was open move
// into the first one opened.
func (p *Pane) open(peer dimp.ID) tea.Cmd {
	c := p.conversation(peer)
	if old := p.current; old != nil && old != c && old.peer.Equal(dimp.AnyStation) && len(c.entries) == 0 {
		for _, e := range old.entries {
			p.addEntry(c, e)
		}
		delete(p.convs, client.IDKey(old.peer))
	}
	p.current = c
	if i := p.contacts.index(peer); i >= 0 {
		p.contacts.sel = i
	}
	p.updatePlaceholder()
	return p.markShownRead()
}

// markShownRead tells the senders of the current conversation's unread
// messages that they were read, once the newest lines are in view.
func (p *Pane) markShownRead() tea.Cmd {
	c := p.current
	if c == nil || !c.follow || len(c.pending) == 0 {
		return nil
	}
	ids := c.pending
	c.pending, c.unread = nil, 0
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

func (p *Pane) onMessage(ev client.MessageEvent) tea.Cmd {
	m := ev.Message
	if m == nil || m.Content == nil {
		return nil
	}
	if _, fwd := m.Content.(*dimp.ForwardContent); fwd && p.isStation(m.Sender) {
		// The station forwards logins and the like with its answers: protocol
		// traffic, shown in the inspector only.
		return nil
	}
	c := p.conversation(m.Sender)
	if p.isStation(m.Sender) {
		p.contacts.ensure(m.Sender).station = true
		p.contacts.sort()
	}
	e := contentEntry(m.Content)
	e.at, e.from, e.id = ev.Time, m.Sender, ev.ID
	shown := c == p.current && c.follow
	if !shown && c.unread == 0 {
		c.markUnread()
	}
	p.addEntry(c, e)
	c.pending = append(c.pending, ev.ID)
	if !shown {
		c.unread++
		return nil
	}
	return p.markShownRead()
}

// isStation reports whether id is the station the client handshook with:
// the same name and address as the status's station (a key is its
// address). A key that only calls itself a station, by its ID's type, is
// any other peer: anyone can make such an ID, and the station does not
// check the sender of a message it routes.
func (p *Pane) isStation(id dimp.ID) bool {
	return !p.status.Station.IsZero() && id.SameAs(p.status.Station)
}

// contentEntry makes the entry for a content. What it keeps is bounded
// (maxKeptText), whatever the content: a text by its head, an app card
// with its long values cut, anything else by the head of its summary.
func contentEntry(content dimp.Content) *entry {
	switch ct := content.(type) {
	case *dimp.TextContent:
		return &entry{kind: entryText, text: client.KeptText(ct.Text, maxKeptText)}
	case *dimp.AppContent:
		if app := keptApp(ct); app != nil {
			return &entry{kind: entryApp, app: app, content: app}
		}
	}
	raw := dimp.MarshalContent(content)
	e := &entry{kind: entryContent, text: client.KeptText(contentSummary(content.Header().Type, raw), maxKeptText)}
	if len(raw) <= maxKeptText {
		e.content = content
	}
	return e
}

// keptApp is app content as a card keeps it: with its long values cut;
// nil when it is too big for a card even so (thousands of fields).
func keptApp(c *dimp.AppContent) *dimp.AppContent {
	raw := dimp.MarshalContent(c)
	if len(raw) <= maxKeptText {
		return c
	}
	small, ok := client.ShrinkJSON(raw, maxKeptValue)
	if !ok || len(small) > maxKeptText {
		return nil
	}
	if kept, err := dimp.ParseContent(small); err == nil {
		if app, ok := kept.(*dimp.AppContent); ok {
			return app
		}
	}
	return nil
}

func (p *Pane) onSent(ev client.SentEvent) {
	m := ev.Message
	if m == nil || m.Content == nil {
		return
	}
	c := p.conversation(m.Receiver)
	e := contentEntry(m.Content)
	e.at, e.from, e.out, e.id, e.tracked = ev.Time, m.Sender, true, ev.ID, true
	p.addEntry(c, e)
	p.byMsg[ev.ID] = e
}

// onResent notes, beside the message, that it went out again after a new
// handshake.
func (p *Pane) onResent(ev client.ResentEvent) {
	e := p.byMsg[ev.ID]
	if e == nil {
		return
	}
	c := p.convOf[e]
	if c == nil {
		return
	}
	what := "a message"
	if e.kind == entryText {
		what = "“" + display.Truncate(display.Sanitize(e.text, false), 20) + "”"
	}
	p.addEntry(c, &entry{kind: entryReceipt, at: ev.Time, from: p.me,
		text: fmt.Sprintf("resent %s (try %d): the station never acknowledged it", what, ev.Tries)})
}

func (p *Pane) onReceipt(ev client.ReceiptEvent) {
	orig := p.byMsg[ev.For]
	if orig == nil || ev.Receipt == nil {
		return // about a protocol message the UI did not show
	}
	c := p.convOf[orig]
	if c == nil {
		return
	}
	from := "station"
	if !ev.From.IsZero() && !p.isStation(ev.From) {
		from = display.Name(ev.From)
	}
	text := ev.Receipt.Text
	if text == "" {
		text = "(receipt)"
	}
	what := ""
	if orig.kind == entryText {
		what = " — “" + display.Truncate(display.Sanitize(orig.text, false), 16) + "”"
	}
	p.addEntry(c, &entry{kind: entryReceipt, at: ev.Time, from: ev.From, text: from + ": " + client.KeptText(text, maxKeptValue) + what})
}

// addEntry appends to a conversation, keeping the selection and view;
// past conversationBytes the oldest entries of the pane are forgotten.
func (p *Pane) addEntry(c *conversation, e *entry) {
	if _, moved := p.convOf[e]; moved {
		p.convBytes -= e.cost // counted in the conversation it comes from
	}
	p.entrySeq++
	e.seq, e.cost = p.entrySeq, e.measure()
	c.add(e)
	p.convOf[e] = c
	p.convBytes += e.cost
	if p.convBytes > conversationBytes {
		p.forgetOldest(conversationBytes - conversationBytes/10)
	}
}

// forgetOldest forgets the oldest entries of every conversation until
// they cost at most limit; the newest entry stays.
func (p *Pane) forgetOldest(limit int) {
	for p.convBytes > limit {
		var oldest *conversation
		for _, c := range p.convs {
			if len(c.entries) > 0 && (oldest == nil || c.entries[0].seq < oldest.entries[0].seq) {
				oldest = c
			}
		}
		if oldest == nil || (oldest == p.current && len(oldest.entries) == 1) {
			return
		}
		e := oldest.dropFirst()
		p.convBytes -= e.cost
		delete(p.convOf, e)
		if e.id != "" && p.byMsg[e.id] == e {
			delete(p.byMsg, e.id)
		}
	}
}

// notice adds a system notice to the current conversation.
func (p *Pane) notice(text string, bad bool) { p.noticeAt(time.Now(), text, bad) }

// The same notice again (a connection failing on every retry) is counted
// on the last one rather than repeated.
func (p *Pane) noticeAt(at time.Time, text string, bad bool) {
	text = client.KeptText(text, maxKeptValue)
	c := p.current
	if c == nil {
		c = p.conversation(dimp.AnyStation)
		p.current = c
		p.updatePlaceholder()
	}
	if n := len(c.entries); n > 0 {
		if last := c.entries[n-1]; last.kind == entryNotice && last.text == text && last.bad == bad {
			last.repeat++
			last.at = at
			last.version++
			return
		}
	}
	p.addEntry(c, &entry{kind: entryNotice, at: at, text: text, bad: bad})
}

// noConversation reports whether no conversation is open: nothing, or only
// the notices gathered before one was.
func (p *Pane) noConversation() bool {
	return p.current == nil || p.current.peer.Equal(dimp.AnyStation)
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
	return tea.Tick(p.opt.UsersEvery, func(time.Time) tea.Msg { return usersTickMsg{id} })
}

// setFlash shows a short message in the footer for a few seconds.
func (p *Pane) setFlash(text string, bad bool) tea.Cmd {
	p.flashSeq++
	p.flash, p.flashBad = text, bad
	seq, id := p.flashSeq, p.id
	return tea.Tick(4*time.Second, func(time.Time) tea.Msg { return flashExpiredMsg{pane: id, seq: seq} })
}

func (p *Pane) updatePlaceholder() {
	if p.noConversation() {
		p.composer.ta.Placeholder = "/to NAME to start a conversation"
		return
	}
	p.composer.ta.Placeholder = "Message " + display.Name(p.current.peer) + " — Enter sends, /help for commands"
}

// handleKey routes a key press.
func (p *Pane) handleKey(k tea.KeyPressMsg) tea.Cmd {
	keys := p.keys
	if p.mode == modeForm {
		action, res, cmd := p.form.update(k, keys)
		switch action {
		case formCancel:
			p.closeForm()
		case formSend:
			p.closeForm()
			return p.sendContent(res.to, res.content)
		}
		return cmd
	}
	if p.mode == modeSearch {
		return p.searchKey(k)
	}

	// Keys that work wherever the focus is.
	switch {
	case key.Matches(k, keys.Inspector):
		return p.toggleInspector()
	case key.Matches(k, keys.AppForm):
		p.openForm("")
		return nil
	case key.Matches(k, keys.Timestamps):
		p.showTime = !p.showTime
		if p.showTime {
			return p.setFlash("timestamps on", false)
		}
		return p.setFlash("timestamps off", false)
	case key.Matches(k, keys.Copy):
		return p.copySelected()
	case key.Matches(k, keys.Reconnect):
		b := p.b
		return p.call("reconnect", "reconnecting…", func(ctx context.Context) error { return b.Reconnect(ctx) })
	case key.Matches(k, keys.NextChat):
		return p.cycleChat(1)
	case key.Matches(k, keys.PrevChat):
		return p.cycleChat(-1)
	case key.Matches(k, keys.PrevFocus):
		p.cycleFocus(-1)
		return nil
	case key.Matches(k, keys.Back):
		if p.focus != focusComposer {
			p.focus = focusComposer
			p.syncFocus()
			return nil
		}
		if p.current != nil && p.current.sel >= 0 {
			p.current.sel = -1
			p.current.follow = true
			return p.markShownRead()
		}
		return nil
	}

	// Scrolling keys act on the conversation unless the inspector has the
	// focus.
	if p.focus != focusInspector {
		if cmd, ok := p.scrollKey(k); ok {
			return cmd
		}
	}

	switch p.focus {
	case focusComposer:
		return p.composerKey(k)
	case focusConversation:
		return p.conversationKey(k)
	case focusContacts:
		return p.contactsKey(k)
	case focusInspector:
		return p.inspectorKey(k)
	}
	return nil
}

// scrollKey handles PgUp/PgDn/Home/End on the conversation.
func (p *Pane) scrollKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	c := p.current
	if c == nil {
		return nil, false
	}
	r, h := p.renderCtx(p.lastLayout.conv.w), p.convHeight()
	switch {
	case key.Matches(k, p.keys.PageUp):
		c.scrollUp(r, h, max(h-1, 1))
	case key.Matches(k, p.keys.PageDown):
		c.scrollDown(r, h, max(h-1, 1))
	case key.Matches(k, p.keys.Top):
		c.home(r, h)
	case key.Matches(k, p.keys.Bottom):
		c.end()
	default:
		return nil, false
	}
	return p.markShownRead(), true
}

func (p *Pane) composerKey(k tea.KeyPressMsg) tea.Cmd {
	keys := p.keys
	switch {
	case key.Matches(k, keys.Send):
		text := p.composer.value()
		if strings.TrimSpace(text) == "" {
			return nil
		}
		p.composer.reset()
		p.relayout()
		return p.submit(text)
	case key.Matches(k, keys.Complete):
		if p.composer.complete(p.contacts.completions()) {
			p.relayout()
			return nil
		}
		p.cycleFocus(1)
		return nil
	case key.Matches(k, keys.Help) && (k.String() == "f1" || p.composer.value() == ""):
		return func() tea.Msg { return showHelpMsg{} }
	}
	cmd := p.composer.update(k)
	p.relayout()
	return cmd
}

func (p *Pane) conversationKey(k tea.KeyPressMsg) tea.Cmd {
	keys := p.keys
	c := p.current
	switch {
	case key.Matches(k, keys.NextFocus):
		p.cycleFocus(1)
	case key.Matches(k, keys.Help):
		return func() tea.Msg { return showHelpMsg{} }
	case c == nil:
	case key.Matches(k, keys.Up):
		c.selectNext(p.renderCtx(p.lastLayout.conv.w), p.convHeight(), -1)
	case key.Matches(k, keys.Down):
		c.selectNext(p.renderCtx(p.lastLayout.conv.w), p.convHeight(), 1)
		return p.markShownRead()
	case k.Text != "":
		// Typing goes to the composer.
		p.focus = focusComposer
		p.syncFocus()
		return p.composerKey(k)
	}
	return nil
}

func (p *Pane) contactsKey(k tea.KeyPressMsg) tea.Cmd {
	keys := p.keys
	l := &p.contacts
	switch {
	case key.Matches(k, keys.NextFocus):
		p.cycleFocus(1)
	case key.Matches(k, keys.Help):
		return func() tea.Msg { return showHelpMsg{} }
	case key.Matches(k, keys.Up):
		l.sel = max(l.sel-1, 0)
	case key.Matches(k, keys.Down):
		l.sel = min(l.sel+1, max(len(l.rows)-1, 0))
	case key.Matches(k, keys.Open):
		if l.sel < len(l.rows) {
			p.focus = focusComposer
			p.syncFocus()
			return p.open(l.rows[l.sel].id)
		}
	}
	return nil
}

func (p *Pane) inspectorKey(k tea.KeyPressMsg) tea.Cmd {
	keys := p.keys
	in := &p.inspector
	_, detailH := inspectorGeometry(p.lastLayout.insp.h)
	switch {
	case key.Matches(k, keys.NextFocus):
		p.cycleFocus(1)
	case key.Matches(k, keys.Help):
		return func() tea.Msg { return showHelpMsg{} }
	case key.Matches(k, keys.Up):
		in.move(-1)
	case key.Matches(k, keys.Down):
		in.move(1)
	case key.Matches(k, keys.Top):
		in.first()
	case key.Matches(k, keys.Bottom):
		in.last()
	case key.Matches(k, keys.PageUp):
		in.scrollDetail(-max(detailH-1, 1))
	case key.Matches(k, keys.PageDown):
		in.scrollDetail(max(detailH-1, 1))
	case key.Matches(k, keys.Zoom):
		in.zoom = !in.zoom
		p.relayout()
	case key.Matches(k, keys.Wrap):
		in.full = !in.full
	}
	return nil
}

// cycleFocus moves the focus to the next (dir 1) or previous visible part.
func (p *Pane) cycleFocus(dir int) {
	order := []focusArea{focusComposer}
	if p.lastLayout.conv.w > 0 {
		order = append(order, focusConversation)
	}
	if p.lastLayout.contacts.w > 0 {
		order = append(order, focusContacts)
	}
	if p.showInspector {
		order = append(order, focusInspector)
	}
	i := 0
	for j, f := range order {
		if f == p.focus {
			i = j
		}
	}
	p.focus = order[(i+dir+len(order))%len(order)]
	p.syncFocus()
}

// SetActive says whether this pane has the keyboard in a split view; an
// inactive pane shows no cursor.
func (p *Pane) SetActive(active bool) {
	p.inactive = !active
	p.syncFocus()
}

// composerIdle reports whether the pane would do nothing with Enter: the
// composer has the focus and is empty, and no form is open.
func (p *Pane) composerIdle() bool {
	return p.mode == modeChat && p.focus == focusComposer && strings.TrimSpace(p.composer.value()) == ""
}

// viewpoint is whose eyes the pane's frames are explained through: its
// user, its connection and the keys it knows now.
func (p *Pane) viewpoint() workshop.Viewpoint {
	return workshop.Viewpoint{Me: p.me, Status: p.status, Know: p.know}
}

// syncFocus focuses the composer's textarea when the composer has the focus.
func (p *Pane) syncFocus() {
	if p.focus == focusComposer && p.mode == modeChat && !p.inactive {
		p.composer.ta.Focus()
	} else {
		p.composer.ta.Blur()
	}
}

// cycleChat opens the next or previous contact's conversation.
func (p *Pane) cycleChat(dir int) tea.Cmd {
	rows := p.contacts.rows
	if len(rows) == 0 {
		return nil
	}
	i := -1
	if p.current != nil {
		i = p.contacts.index(p.current.peer)
	}
	i = (i + dir + len(rows)) % len(rows)
	return p.open(rows[i].id)
}

func (p *Pane) toggleInspector() tea.Cmd {
	p.showInspector = !p.showInspector
	if p.showInspector {
		p.focus = focusInspector
	} else if p.focus == focusInspector {
		p.focus = focusComposer
	}
	p.syncFocus()
	p.relayout()
	return nil
}

// formWidth is the app-content form's width for the pane's size.
func (p *Pane) formWidth() int { return min(max(p.width-6, 40), 76) }

func (p *Pane) openForm(to string) {
	if to == "" && !p.noConversation() && !p.current.peer.IsBroadcast() {
		to = display.Name(p.current.peer)
		if _, err := p.contacts.resolve(to); err != nil {
			to = p.current.peer.String()
		}
	}
	p.form = newAppForm(p.st, to, p.contacts.resolve)
	p.form.setWidth(p.formWidth())
	p.mode = modeForm
	p.syncFocus()
}

func (p *Pane) closeForm() {
	p.form = nil
	p.mode = modeChat
	p.focus = focusComposer
	p.syncFocus()
}

// copySelected copies the selected message (the newest when none is) to
// the terminal's clipboard with OSC 52.
func (p *Pane) copySelected() tea.Cmd {
	if p.current == nil {
		return nil
	}
	e := p.current.selected()
	if e == nil {
		return p.setFlash("nothing to copy", true)
	}
	text := e.copyText()
	return tea.Batch(tea.SetClipboard(text), p.setFlash(fmt.Sprintf("copied %d characters", len([]rune(text))), false))
}

// submit sends a line typed in the composer, or runs its slash command.
func (p *Pane) submit(text string) tea.Cmd {
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		return p.command(text)
	}
	text = strings.TrimPrefix(text, "/") // "//" sends a text starting with "/"
	if p.noConversation() || p.current.peer.IsBroadcast() {
		return p.setFlash("no conversation: /to NAME first", true)
	}
	return p.sendContent(p.current.peer, dimp.NewText(text))
}

// sendContent sends a content in a command; the message shows when the
// client reports it sent.
func (p *Pane) sendContent(to dimp.ID, content dimp.Content) tea.Cmd {
	if p.current == nil || !p.current.peer.SameAs(to) {
		p.open(to)
	}
	p.current.follow = true
	b := p.b
	return p.call("send", "", func(ctx context.Context) error {
		_, err := b.Send(ctx, to, content)
		return err
	})
}

// command runs a slash command.
func (p *Pane) command(line string) tea.Cmd {
	name, arg, _ := strings.Cut(strings.TrimSpace(line[1:]), " ")
	arg = strings.TrimSpace(arg)
	switch strings.ToLower(name) {
	case "to":
		if arg == "" {
			return p.setFlash("/to NAME or /to ID", true)
		}
		id, err := p.contacts.resolve(arg)
		if err != nil {
			return p.setFlash(err.Error(), true)
		}
		b := p.b
		return tea.Batch(p.open(id), p.call("look up "+display.Name(id), "", func(ctx context.Context) error {
			_, err := b.Peer(ctx, id)
			return err
		}))
	case "app":
		p.openForm(arg)
		return nil
	case "who":
		return p.askUsers("")
	case "search":
		return p.startSearch(arg)
	case "inspect":
		return p.toggleInspector()
	case "help":
		return func() tea.Msg { return showHelpMsg{} }
	case "quit", "exit", "q":
		return tea.Quit
	}
	if p.workshop {
		for _, c := range workshopCommands() {
			if c.Name == strings.ToLower(name) {
				id := p.id
				return func() tea.Msg { return workshopCommandMsg{pane: id, name: c.Name, arg: arg} }
			}
		}
	}
	return p.setFlash(fmt.Sprintf("unknown command /%s (try /help)", name), true)
}

// handleMouse scrolls or selects what is under the pointer; x and y are
// relative to the pane.
func (p *Pane) handleMouse(msg tea.MouseMsg) tea.Cmd {
	m := msg.Mouse()
	l := p.lastLayout
	if p.mode != modeChat {
		return nil
	}
	switch msg := msg.(type) {
	case tea.MouseWheelMsg:
		dir := 0
		switch msg.Button {
		case tea.MouseWheelUp:
			dir = -1
		case tea.MouseWheelDown:
			dir = 1
		default:
			return nil
		}
		switch {
		case l.conv.contains(m.X, m.Y) && p.current != nil:
			r, h := p.renderCtx(l.conv.w), p.convHeight()
			if dir < 0 {
				p.current.scrollUp(r, h, 3)
			} else {
				p.current.scrollDown(r, h, 3)
			}
			return p.markShownRead()
		case l.contacts.contains(m.X, m.Y):
			p.contacts.sel = min(max(p.contacts.sel+dir, 0), max(len(p.contacts.rows)-1, 0))
		case l.insp.contains(m.X, m.Y):
			listH, _ := inspectorGeometry(l.insp.h)
			if m.Y <= l.insp.y+listH {
				p.inspector.move(dir)
			} else {
				p.inspector.scrollDetail(3 * dir)
			}
		}
	case tea.MouseClickMsg:
		if msg.Button != tea.MouseLeft {
			return nil
		}
		switch {
		case l.contacts.contains(m.X, m.Y):
			row := p.contacts.top + m.Y - l.contacts.y - 1
			if row >= 0 && row < len(p.contacts.rows) {
				p.contacts.sel = row
				p.focus = focusComposer
				p.syncFocus()
				return p.open(p.contacts.rows[row].id)
			}
			p.focus = focusContacts
		case l.insp.contains(m.X, m.Y):
			p.focus = focusInspector
			row := p.inspector.listTop + m.Y - l.insp.y - 1
			listH, _ := inspectorGeometry(l.insp.h)
			if m.Y > l.insp.y && m.Y <= l.insp.y+listH && row < len(p.inspector.frames) {
				p.inspector.sel = row
				p.inspector.detailTop = 0
			}
		case l.conv.contains(m.X, m.Y):
			p.focus = focusConversation
		case m.Y >= l.composer.y-1 && m.Y < l.footer.y:
			p.focus = focusComposer
		}
		p.syncFocus()
	}
	return nil
}

// View draws the pane in exactly its width × height cells.
func (p *Pane) View() string {
	l := p.layout()
	p.lastLayout = l
	w := l.status.w
	var rows []string
	title := p.opt.Title
	rows = append(rows, renderStatus(p.st, p.status, p.me, title, w)...)

	var contacts, conv, insp []string
	if l.contacts.w > 0 {
		unread := func(id dimp.ID) int {
			if c := p.convs[client.IDKey(id)]; c != nil {
				return c.unread
			}
			return 0
		}
		var cur dimp.ID
		if p.current != nil {
			cur = p.current.peer
		}
		contacts = p.contacts.view(p.st, l.contacts.w, l.contacts.h, cur, unread, p.focus == focusContacts)
	}
	if l.conv.w > 0 {
		conv = p.conversationView(l.conv)
	}
	if l.insp.w > 0 {
		insp = p.inspector.view(p.st, p.gen, l.insp.w, l.insp.h, p.focus == focusInspector)
	}
	sep := p.st.Border.Render("│")
	bodyH := max(l.conv.h, l.insp.h)
	for i := range bodyH {
		var parts []string
		for _, col := range [][]string{contacts, conv, insp} {
			if col != nil {
				parts = append(parts, col[i])
			}
		}
		rows = append(rows, strings.Join(parts, sep))
	}

	// Composer: a rule naming the receiver, the textarea, the hints.
	to := "nobody: /to NAME"
	if !p.noConversation() {
		to = display.ShortID(p.current.peer)
	}
	rule := p.st.Border.Render("── ") + p.st.Footer.Render("to ") + p.st.CurrentRow.Render(to) + " "
	if p.inactive {
		rule += p.st.Footer.Render("· f6 to type here ")
	}
	rows = append(rows, display.Fit(rule+p.st.Border.Render(strings.Repeat("─", max(w-ansi.StringWidth(rule), 0))), w))
	for _, line := range strings.Split(p.composer.ta.View(), "\n") {
		rows = append(rows, display.Fit(line, w))
	}
	if l.hints.h > 0 {
		cands, idx := p.composer.hints()
		var hs []string
		for i, c := range cands {
			if i == idx {
				hs = append(hs, p.st.HintActive.Render(c))
			} else {
				hs = append(hs, p.st.Hint.Render(c))
			}
		}
		rows = append(rows, display.Fit("  "+strings.Join(hs, "  "), w))
	}
	rows = append(rows, p.footerView(w))
	for len(rows) < p.height {
		rows = append(rows, strings.Repeat(" ", w))
	}
	out := strings.Join(rows[:max(p.height, 0)], "\n")

	if p.mode == modeForm && p.form != nil {
		box := p.form.view(p.st, p.keys)
		bw, bh := lipgloss.Size(box)
		x := max((w-bw)/2, 0)
		y := max(statusHeight+(l.conv.h-bh)/2, statusHeight)
		if y+bh > p.height {
			y = max(p.height-bh, 0)
		}
		out = clip(overlay(out, box, x, y), w, p.height)
	}
	if p.mode == modeSearch && p.search != nil {
		sw := p.searchWidth()
		box := p.search.view(p.st, sw, max(l.conv.h-6, 3))
		x := max((w-sw)/2, 0)
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

// conversationView draws the conversation column with its title row.
func (p *Pane) conversationView(r rect) []string {
	st := p.st
	title := st.Title
	if p.focus == focusConversation {
		title = st.FocusedTitle
	}
	var head string
	if p.noConversation() {
		head = title.Render("No conversation yet") + " " + st.Footer.Render("/to NAME or ctrl+n to open one")
	} else {
		peer := p.current.peer
		name := display.Name(peer)
		if c := p.contacts.byKey[client.IDKey(peer)]; c != nil && c.nick != "" && c.nick != name {
			name += " (" + display.Sanitize(c.nick, false) + ")"
		}
		head = title.Render(name) + " " + st.Footer.Render(display.ShortID(peer))
	}
	if p.current == nil {
		out := []string{display.Fit(" "+head, r.w)}
		for len(out) < r.h {
			out = append(out, strings.Repeat(" ", r.w))
		}
		return out
	}
	rc := p.renderCtx(r.w)
	lines, above, below := p.current.view(rc, r.h-1)
	var hint []string
	if above {
		hint = append(hint, "↑ PgUp")
	}
	if below {
		hint = append(hint, "↓ End")
	}
	right := ""
	if len(hint) > 0 {
		right = st.ScrollHint.Render(strings.Join(hint, " · ") + " ")
	}
	return append([]string{joinEnds(lipgloss.NewStyle(), " "+head, right, r.w)}, lines...)
}

// footerView draws the key hints, or the flash message.
func (p *Pane) footerView(w int) string {
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
		bindings = []key.Binding{p.keys.FormSend, p.keys.FormNext, p.keys.FormToggle, p.keys.FormCancel}
	case p.mode == modeSearch:
		bindings = []key.Binding{p.keys.SearchOpen, p.keys.SearchUp, p.keys.SearchDown, p.keys.SearchClose}
	case p.focus == focusInspector:
		bindings = p.keys.inspectorHelp()
	case p.focus == focusConversation:
		bindings = p.keys.conversationHelp()
	default:
		bindings = p.keys.ShortHelp()
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
