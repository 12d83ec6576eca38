package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// chatState is a pane's chats as its client's events build them, with
// nothing drawn: the conversations and which one is open, the index from
// message IDs to the entries that show them (for the delivery ticks, the
// receipts and the resends), the notices, the contacts, the connection's
// status, and the byte budget of what the conversations keep. The pane
// applies every event to it and draws what it holds.
type chatState struct {
	me       dimp.ID
	myNick   string          // my visa's name, once I set it
	namesGen int             // bumped when a visa name changes, for the chat lines
	blocked  map[string]bool // by IDKey, as the client's lists say
	muted    map[string]bool
	listsEv  client.ListsEvent
	histSeq  int // the seq of the last entry read from the history, counting down
	status   client.Status
	// stepping: every frame waits for a presenter (workshop mode), which
	// the handshake's notices say.
	stepping bool
	// held is the notice of the handshake step whose frame is held now.
	held *heldNotice
	// whoAsked: /who asked who is online; the answer is listed as a
	// notice (the periodic question's answers only update the contacts).
	whoAsked bool
	// stationNames names the other stations of the demo's network (by
	// ID), for their receipts (Options.StationNames).
	stationNames map[string]string

	convs     map[string]*conversation
	current   *conversation
	byMsg     map[client.MessageID]*entry
	convOf    map[*entry]*conversation
	entrySeq  int // numbers the entries of every conversation, in order
	convBytes int // what the entries of every conversation cost
	contacts  contactList
	// groups are the groups as the client last reported them, by ID.
	groups map[string]*client.Group
}

func newChatState(me dimp.ID, status client.Status) *chatState {
	return &chatState{
		me:       me,
		status:   status,
		convs:    map[string]*conversation{},
		byMsg:    map[client.MessageID]*entry{},
		convOf:   map[*entry]*conversation{},
		groups:   map[string]*client.Group{},
		contacts: newContactList(),
	}
}

// applied is what an event asks of the pane beyond the state, which the
// pane owns: the calls to make and what to show.
type applied struct {
	connected bool // the session opened: time to ask who is online
	opened    bool // another conversation became the current one
	shown     bool // messages are in view: tell their senders they were read
}

// apply applies one client event. Frames, held frames and search answers
// are not the chats' business: the pane hands them to the inspector, the
// explanations and the search box.
func (s *chatState) apply(ev client.Event) applied {
	cur := s.current
	var did applied
	switch ev := ev.(type) {
	case client.StatusEvent:
		did.connected = s.onStatus(ev)
	case client.ResentEvent:
		s.onResent(ev)
	case client.MessageEvent:
		did.shown = s.onMessage(ev)
		if ev.Message != nil {
			s.heardFrom(ev.Message.Sender, ev.Message.Time, ev.Time)
		}
	case client.SentEvent:
		s.onSent(ev)
	case client.DeliveryEvent:
		if e := s.byMsg[ev.ID]; e != nil {
			e.delivery, e.detail, e.refused, e.members = ev.State, ev.Detail, ev.Refused, ev.Members
			e.version++
		}
	case client.ReceiptEvent:
		s.onReceipt(ev)
		if ev.Receipt != nil {
			s.heardFrom(ev.From, ev.Receipt.Time, ev.Time)
		}
	case client.UsersEvent:
		// With no conversation open yet, talk to the echo bot.
		if bot := s.onUsers(ev); !bot.IsZero() && s.noConversation() {
			s.open(bot)
			did.shown = true
		}
	case client.PeerEvent:
		if ev.Profile != nil && ev.Profile.Visa() != nil && !ev.Profile.ID.SameAs(s.me) {
			name, _ := client.VisaName(ev.Profile.Visa())
			if s.contacts.learnName(ev.Profile.ID, name) {
				s.namesGen++
			}
		}
	case client.ProfileEvent:
		s.onProfile(ev)
	case client.ListsEvent:
		s.onLists(ev)
	case client.GroupCommandEvent:
		did.shown = s.onGroupCommand(ev)
	case client.GroupRefusedEvent:
		c := s.conversation(ev.Group)
		s.addEntry(c, &entry{kind: entryNotice, at: ev.Time, bad: true,
			text: client.KeptText(display.Name(ev.From)+": "+ev.Reason, maxKeptValue)})
	case client.ErrorEvent:
		if ev.Err != nil {
			s.noticeAt(ev.Time, ev.Err.Error(), true)
		}
	case client.ReleasedEvent:
		s.heldReleased(ev)
	}
	did.opened = s.current != cur
	return did
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

// onStatus notes each handshake step and each change of the connection's
// state; it reports whether the session just opened.
func (s *chatState) onStatus(ev client.StatusEvent) (connected bool) {
	prev, st := s.status, ev.Status
	s.status = st
	handshaking := st.State == client.Handshaking || st.State == client.Running
	wasHandshaking := prev.State == client.Handshaking || prev.State == client.Running
	if handshaking && (!wasHandshaking || prev.Handshake != st.Handshake) {
		s.handshakeMoved(st)
		if s.stepping && (st.Handshake == dimp.HandshakeStart || st.Handshake == dimp.HandshakeRestart) {
			s.holdNotice(ev.Time, st.Handshake)
		} else {
			s.noticeAt(ev.Time, handshakeNotice(st.Handshake), false)
		}
	}
	if st.State == prev.State {
		return false
	}
	switch st.State {
	case client.Running:
		return true
	case client.Error:
		text, bad := connectionEnded(st.Err)
		s.noticeAt(ev.Time, text, bad)
	case client.Connected:
		s.noticeAt(ev.Time, "connected to "+st.URL, false)
	}
	return false
}

// connectionEnded says why the connection ended and that a reconnect
// follows; bad is false when nothing failed: the user asked for the
// reconnect, or the station said it was going away (a restart).
func connectionEnded(err error) (text string, bad bool) {
	var closed *client.ClosedError
	switch {
	case err == nil:
		return "connection lost; reconnecting", true
	case errors.Is(err, client.ErrReconnectAsked):
		return "reconnecting, as asked: a new connection, a new handshake, and what the station never acknowledged is sent again", false
	case errors.As(err, &closed) && closed.GoingAway():
		return "the station went away (it restarts or shuts down); reconnecting", false
	case errors.As(err, &closed):
		return closed.Error() + "; reconnecting", true
	}
	return "connection failed: " + err.Error() + "; reconnecting", true
}

// liveWithin is how recent a peer's message must be to show them online:
// a message the station kept while they were away is older.
const liveWithin = time.Minute

// heardFrom marks a user online when what they sent (at sent, in seconds,
// by their clock) is recent at now: they came online since the station
// last said who is, and nobody tells a client that. The next answer of
// the station's corrects it either way.
func (s *chatState) heardFrom(from dimp.ID, sent float64, now time.Time) {
	if from.IsZero() || from.SameAs(s.me) || from.Type() == dimp.Station || from.IsGroup() || sent <= 0 || s.contacts.unlisted {
		return
	}
	at := time.UnixMilli(int64(sent * 1000))
	if d := now.Sub(at); d > liveWithin || d < -liveWithin {
		return
	}
	if c := s.contacts.byKey[client.IDKey(from)]; c != nil && !c.online {
		c.online = true
		s.contacts.sort()
	}
}

// onUsers takes the station's list of who is online; it returns the echo
// bot when the list has one. The answer to /who is listed as a notice.
func (s *chatState) onUsers(ev client.UsersEvent) (bot dimp.ID) {
	l := &s.contacts
	l.unlisted = ev.Unlisted
	if !ev.Unlisted {
		l.setOnline(s.me, ev.Users)
		for _, u := range ev.Users {
			if u.Name() == "echo" && !u.SameAs(s.me) {
				l.addBot(u)
				bot = u
			}
		}
		l.sort()
	} // else who is online stays unknown; the contacts stay as they are
	if s.whoAsked {
		s.whoAsked = false
		s.noticeAt(ev.Time, s.whoIsOnline(ev), false)
	}
	return bot
}

// whoIsOnline lists the station's answer to "who is online", a user a
// line: the short ID, and whether it is this pane's user or a bot.
func (s *chatState) whoIsOnline(ev client.UsersEvent) string {
	if ev.Unlisted {
		return "the station does not say who is online"
	}
	lines := []string{fmt.Sprintf("online at the station: %d", len(ev.Users))}
	for _, u := range ev.Users {
		line := "  " + display.ShortID(u)
		switch c := s.contacts.byKey[client.IDKey(u)]; {
		case u.SameAs(s.me):
			line += " (me, this pane)"
		case c != nil && c.bot:
			line += " (bot)"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// conversation returns the conversation with peer, creating it.
func (s *chatState) conversation(peer dimp.ID) *conversation {
	k := client.IDKey(peer)
	c := s.convs[k]
	if c == nil {
		c = newConversation(peer.WithoutTerminal())
		s.convs[k] = c
		if (!peer.IsBroadcast() || peer.SameAs(dimp.Everyone)) && !peer.SameAs(s.me) {
			s.contacts.ensure(peer) // the broadcasts' conversation is listed too
			s.contacts.sort()
		}
	}
	return c
}

// open makes peer's conversation the current one. The notices gathered
// before any conversation was open move into the first one opened.
func (s *chatState) open(peer dimp.ID) {
	c := s.conversation(peer)
	if old := s.current; old != nil && old != c && old.peer.Equal(dimp.AnyStation) && len(c.entries) == 0 {
		for _, e := range old.entries {
			s.addEntry(c, e)
		}
		delete(s.convs, client.IDKey(old.peer))
	}
	s.current = c
}

// takeShown returns the messages of the current conversation to mark read,
// once its newest lines are in view, and forgets them.
func (s *chatState) takeShown() []client.MessageID {
	c := s.current
	if c == nil || !c.follow || len(c.pending) == 0 {
		return nil
	}
	ids := c.pending
	c.pending, c.unread = nil, 0
	return ids
}

// onMessage adds a message received; it reports whether it is in view.
func (s *chatState) onMessage(ev client.MessageEvent) (shown bool) {
	m := ev.Message
	if m == nil || m.Content == nil {
		return false
	}
	if _, fwd := m.Content.(*dimp.ForwardContent); fwd && s.isStation(m.Sender) {
		// The station forwards logins and the like with its answers: protocol
		// traffic, shown in the inspector only.
		return false
	}
	c := s.conversation(client.ConversationOf(m, false))
	if s.isStation(m.Sender) {
		s.contacts.ensure(m.Sender).station = true
		s.contacts.sort()
	}
	if client.IsRecall(m.Content) {
		return s.onRecall(c, m.Sender, m.Content.Header().SN, ev.Time)
	}
	if c.fromHistory(ev.ID) {
		return false // recorded before the page of history that holds it was read
	}
	e := contentEntry(m.Content)
	e.at, e.from, e.id = ev.Time, m.Sender, ev.ID
	if fc, ok := m.Content.(*dimp.ForwardContent); ok && len(ev.Forwarded) > 0 {
		e.text = fmt.Sprintf("[forward] %s forwarded by %s", display.Plural(len(fc.Secrets), "message"), display.Name(m.Sender))
		e.card = forwardedLines(ev.Forwarded)
	}
	shown = c == s.current && c.follow
	if !shown && c.unread == 0 {
		c.markUnread()
	}
	s.addEntry(c, e)
	c.pending = append(c.pending, ev.ID)
	if !shown {
		c.unread++
	}
	return shown
}

// onGroupCommand shows a group command in its group's conversation with
// what it did to the group as the client knows it: who was added or
// removed, a request waiting, or why it was refused or ignored. It
// reports whether it is in view.
func (s *chatState) onGroupCommand(ev client.GroupCommandEvent) (shown bool) {
	c := s.conversation(ev.Group)
	if ev.Now != nil {
		s.knowGroup(ev.Now)
	}
	switch {
	case ev.From.SameAs(s.me) && ev.Command == "create":
		s.open(ev.Group)
		c = s.current
	case !ev.From.SameAs(s.me) && slices.ContainsFunc(ev.Change.Added, s.me.SameAs) && ev.Change.Refused == "" &&
		s.current != nil && s.current != c && !s.current.hasMessages():
		// Taken into a group while nothing has been said where the pane
		// is: the group's conversation opens, as the creator's did.
		s.open(ev.Group)
		c = s.current
	}
	e := groupNoticeEntry(ev, s.me, s.nameOf)
	shown = c == s.current && c.follow
	if !shown && c.unread == 0 {
		c.markUnread()
	}
	s.addEntry(c, e)
	return shown
}

// groupNoticeEntry is the notice of a group command: who sent it and what
// it did to the group as the client knew it, or the user's own action
// done; from this run's event or from the history.
func groupNoticeEntry(ev client.GroupCommandEvent, me dimp.ID, name func(dimp.ID) string) *entry {
	ch := ev.Change
	who := name(ev.From)
	if ev.Role != "" {
		who += " (" + ev.Role + ")"
	}
	text := who + " sent “" + ev.Command + "”"
	switch {
	case ev.From.SameAs(me):
		text = myGroupAction(ev, name) // the user's own action, done
	case ev.Command == "bulletin":
		text = who + " signed a new bulletin"
	}
	switch {
	case ev.From.SameAs(me):
	case ev.Command == dimp.CmdQuery && ch.Refused == "":
		text = who + " asked for the group's history: a member who holds it answers with it"
	case ch.Refused != "":
		text += ": refused, " + ch.Refused + " " + ch.Reason
	case ch.Ignored != "":
		text += ": ignored, " + ch.Ignored
	case len(ch.Added) > 0 || len(ch.Removed) > 0:
		var parts []string
		if len(ch.Added) > 0 {
			parts = append(parts, "added "+namesText(ch.Added, name))
		}
		if len(ch.Removed) > 0 {
			parts = append(parts, "removed "+namesText(ch.Removed, name))
			if slices.ContainsFunc(ch.Removed, me.SameAs) {
				parts = append(parts, "I am no longer a member: what the group says does not reach me")
			}
		}
		text += ": " + strings.Join(parts, "; ")
	case len(ch.Requested) > 0:
		text += ": asks to add " + namesText(ch.Requested, name) + ", waiting for the owner or an administrator"
	case len(ch.Hired) > 0 || len(ch.Fired) > 0:
		var parts []string
		if len(ch.Hired) > 0 {
			parts = append(parts, "made "+namesText(ch.Hired, name)+" administrator")
		}
		if len(ch.Fired) > 0 {
			parts = append(parts, namesText(ch.Fired, name)+" no longer administrator")
		}
		text += ": " + strings.Join(parts, "; ")
	case !ch.AdminRemoved.IsZero():
		text += ": no longer an administrator"
	case len(ev.Members) > 0:
		text += ": " + namesText(ev.Members, name)
	}
	return &entry{kind: entryNotice, at: ev.Time, text: client.KeptText(text, maxKeptValue), bad: ch.Refused != "",
		id: client.MessageID(ev.NoticeID)}
}

// knowGroup takes a group as the client knows it: kept for /members, and
// listed in the contacts with its name and its number of members.
func (s *chatState) knowGroup(g *client.Group) {
	s.groups[client.IDKey(g.ID)] = g
	ct := s.contacts.ensure(g.ID)
	ct.members = len(g.Members)
	if g.Name != "" {
		ct.nick = g.Name
	}
}

// myGroupAction says what the user did to a group, in a sentence.
func myGroupAction(ev client.GroupCommandEvent, nameOf func(dimp.ID) string) string {
	ch := ev.Change
	name := display.Name(ev.Group)
	if ev.Now != nil && ev.Now.Name != "" {
		name = display.Sanitize(ev.Now.Name, false)
	}
	switch ev.Command {
	case "create":
		if len(ch.Added) == 0 {
			return "I created the group " + name + ", with no other member yet: /invite NAME adds one"
		}
		return "I created the group " + name + " with " + namesText(ch.Added, nameOf) +
			": its bulletin went to the station, my signed reset to each member"
	case dimp.CmdInvite:
		if len(ch.Requested) > 0 {
			return "I asked the owner and administrators to add " + namesText(ch.Requested, nameOf) + "; they have the group's history"
		}
		return "I added " + namesText(ch.Added, nameOf) + ": a new reset, sent with the group's history to every member"
	case dimp.CmdExpel:
		return "I removed " + namesText(ch.Removed, nameOf) + ": a new reset, sent to every member and to whoever it removes"
	case dimp.CmdQuit:
		return "I quit the group: the others are told; I no longer receive what it says"
	case dimp.CmdResign:
		return "I resigned as administrator of " + name
	case "bulletin":
		if len(ch.Hired) > 0 {
			return "I made " + namesText(ch.Hired, nameOf) + " administrator: a new bulletin, signed by me, sent to the station and the members"
		}
		return "I removed " + namesText(ch.Fired, nameOf) + " as administrator: a new bulletin sent to the station and the members"
	}
	return "I sent “" + ev.Command + "”"
}

// namesText names the first members of a list, and how many more.
func namesText(ids []dimp.ID, name func(dimp.ID) string) string {
	names := make([]string, 0, min(len(ids), maxNamesShown))
	for _, m := range ids[:min(len(ids), maxNamesShown)] {
		names = append(names, name(m))
	}
	text := strings.Join(names, ", ")
	if n := len(ids) - maxNamesShown; n > 0 {
		text += fmt.Sprintf(" and %d more", n)
	}
	return text
}

// maxNamesShown is how many members a group command's notice names.
const maxNamesShown = 8

// isStation reports whether id is the station the client handshook with:
// the same name and address as the status's station (a key is its
// address). A key that only calls itself a station, by its ID's type, is
// any other peer: anyone can make such an ID, and the station does not
// check the sender of a message it routes.
func (s *chatState) isStation(id dimp.ID) bool {
	return !s.status.Station.IsZero() && id.SameAs(s.status.Station)
}

// contentEntry makes the entry for a content. What it keeps is bounded
// (maxKeptText), whatever the content: a text by its head, an app card
// with its long values cut, anything else by the head of its summary.
func contentEntry(content dimp.Content) *entry {
	e := contentEntryOf(content)
	e.sn, e.ctype = content.Header().SN, content.Header().Type
	if e.quoted == "" {
		e.quoted = tracesLine(content.Header().Extra)
	}
	return e
}

func contentEntryOf(content dimp.Content) *entry {
	switch ct := content.(type) {
	case *dimp.TextContent:
		var format string
		_ = ct.Extra.Get("format", &format)
		return &entry{kind: entryText, text: client.KeptText(ct.Text, maxKeptText), markdown: format == "markdown", cut: len(ct.Text) > maxKeptText}
	case *dimp.FileContent:
		// Kept without its thumbnail and inline data (drawn once, or too
		// big to keep): enough to /save it.
		kept := *ct
		kept.Thumbnail, kept.Snapshot = nil, nil
		title, lines, _ := display.ContentCard(ct)
		e := &entry{kind: entryContent, text: title, card: lines}
		if len(kept.Data) > maxKeptText {
			kept.Data = ""
			e.card = append(e.card, "its inline data is too big to keep here: the inspector has the frame")
		}
		e.content = &kept
		switch {
		case len(ct.Thumbnail) > display.MaxThumbnailBytes:
			e.card = append(e.card, "its thumbnail is too big to draw ("+display.Size(len(ct.Thumbnail))+")")
		case len(ct.Thumbnail) > 0:
			e.thumb = ct.Thumbnail
		}
		return e
	case *dimp.AppContent:
		if app := keptApp(ct); app != nil {
			return &entry{kind: entryApp, app: app, content: app}
		}
	case *dimp.QuoteContent:
		// A reply: its text, under the line it answers.
		e := &entry{kind: entryText, text: client.KeptText(ct.Text, maxKeptText), quoted: display.QuoteLine(ct.Origin)}
		if len(dimp.MarshalContent(ct)) <= maxKeptText {
			e.content = ct
		}
		return e
	}
	raw := dimp.MarshalContent(content)
	var e *entry
	if title, lines, ok := display.ContentCard(content); ok {
		// A file, a page, a name card, a quote…: what a person reads of it.
		if _, unknown := content.(*dimp.UnknownContent); unknown {
			title += " · ctrl+e: its JSON"
		}
		e = &entry{kind: entryContent, text: title, card: lines}
	} else {
		e = &entry{kind: entryContent, text: client.KeptText(contentSummary(content.Header().Type, raw), maxKeptText)}
	}
	if len(raw) <= maxKeptText {
		e.content = content
	}
	return e
}

// nameOf names a user on a chat line: the visa's name when it is known
// and says more than the ID's, else the ID's name.
func (s *chatState) nameOf(id dimp.ID) string {
	if id.SameAs(s.me) && s.myNick != "" {
		return s.myNick
	}
	if c := s.contacts.byKey[client.IDKey(id)]; c != nil {
		return c.label()
	}
	return display.Name(id)
}

// onRecall strikes out the message a recall takes back: the one in the
// conversation from the same sender with the same serial number, as
// dimchat's apps key their messages. The recall is signed by that sender,
// so nobody else can take a message back.
func (s *chatState) onRecall(c *conversation, sender dimp.ID, sn int64, at time.Time) bool {
	if i := c.indexOfSN(sender, sn); i >= 0 {
		e := c.entries[i]
		e.recalled = true
		e.version++
		return c == s.current && c.follow
	}
	s.addEntry(c, &entry{kind: entryNotice, at: at,
		text: display.Name(sender) + " recalled a message that is not in this history"})
	return false
}

// forwardedLines says, for each message inside a user's forward, who
// signed it for whom, whether the signature verified, and what it says
// when it was for this user: a forwarded message is its signer's word only
// once verified.
func forwardedLines(fs []client.ForwardedMessage) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.Sender.IsZero() {
			out = append(out, display.Sanitize(f.Problem, false))
			continue
		}
		who := display.Name(f.Sender) + " → " + display.Name(f.Receiver)
		switch {
		case f.Content != nil:
			out = append(out, "✓ "+who+", signed by "+display.Name(f.Sender)+": "+
				display.Truncate(display.Sanitize(display.ContentTitle(f.Content), false), 120))
		case f.Verified:
			out = append(out, "✓ "+who+", signed; "+display.Sanitize(f.Problem, false))
		default:
			out = append(out, "✗ "+who+": "+display.Sanitize(f.Problem, false))
		}
	}
	return out
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

// onSent adds a message the client sent, indexed by its ID for its
// delivery ticks and receipts.
func (s *chatState) onSent(ev client.SentEvent) {
	m := ev.Message
	if m == nil || m.Content == nil {
		return
	}
	c := s.conversation(m.Receiver)
	if client.IsRecall(m.Content) {
		s.onRecall(c, m.Sender, m.Content.Header().SN, ev.Time)
		return
	}
	if c.fromHistory(ev.ID) {
		return
	}
	e := contentEntry(m.Content)
	e.at, e.from, e.out, e.id, e.tracked = ev.Time, m.Sender, true, ev.ID, true
	s.addEntry(c, e)
	s.byMsg[ev.ID] = e
}

// onResent notes, beside the message, that it went out again after a new
// handshake.
func (s *chatState) onResent(ev client.ResentEvent) {
	e := s.byMsg[ev.ID]
	if e == nil {
		return
	}
	c := s.convOf[e]
	if c == nil {
		return
	}
	what := "a message"
	if e.kind == entryText {
		what = "“" + display.Truncate(display.Sanitize(e.text, false), 20) + "”"
	}
	s.addEntry(c, &entry{kind: entryReceipt, at: ev.Time, from: s.me,
		text: fmt.Sprintf("resent %s (try %d): the station never acknowledged it", what, ev.Tries)})
}

// onReceipt shows a receipt under the message it is for.
func (s *chatState) onReceipt(ev client.ReceiptEvent) {
	orig := s.byMsg[ev.For]
	if orig == nil || ev.Receipt == nil {
		return // about a protocol message the UI did not show
	}
	if orig.recalled {
		// The recall has the original's serial number, so its ID: what
		// comes now is about the recall, which says it all already.
		return
	}
	c := s.convOf[orig]
	if c == nil {
		return
	}
	if c.peer.IsGroup() && routineReceipt(ev.Receipt.Text) {
		return // a group message's line of ticks says it, member by member
	}
	from := "station"
	if !ev.From.IsZero() && !s.isStation(ev.From) {
		from = display.Name(ev.From)
		if name, ok := s.stationNames[ev.From.WithoutTerminal().String()]; ok {
			from = "station " + name // another station of the demo's network
		}
	}
	text := ev.Receipt.Text
	if text == "" {
		text = "(receipt)"
	}
	what := ""
	if orig.kind == entryText {
		what = " — “" + display.Truncate(display.Sanitize(orig.text, false), 16) + "”"
	}
	s.addEntry(c, &entry{kind: entryReceipt, at: ev.Time, from: ev.From, text: from + ": " + client.KeptText(text, maxKeptValue) + what})
}

// routineReceipt reports whether a receipt's text says only that the
// message got somewhere, as the ticks do.
func routineReceipt(text string) bool {
	switch text {
	case dimp.ReceiptReceived, dimp.ReceiptRead, dimp.ReceiptDelivered, dimp.ReceiptCached:
		return true
	}
	return false
}

// addEntry appends to a conversation, keeping the selection and view;
// past conversationBytes the oldest entries of the pane are forgotten.
func (s *chatState) addEntry(c *conversation, e *entry) {
	if _, moved := s.convOf[e]; moved {
		s.convBytes -= e.cost // counted in the conversation it comes from
	}
	s.entrySeq++
	e.seq, e.cost = s.entrySeq, e.measure()
	c.add(e)
	s.convOf[e] = c
	s.convBytes += e.cost
	if s.convBytes > conversationBytes {
		s.forgetOldest(conversationBytes - conversationBytes/10)
	}
}

// forgetOldest forgets the oldest entries of every conversation until
// they cost at most limit; the newest entry stays.
func (s *chatState) forgetOldest(limit int) {
	for s.convBytes > limit {
		var oldest *conversation
		for _, c := range s.convs {
			if len(c.entries) > 0 && (oldest == nil || c.entries[0].seq < oldest.entries[0].seq) {
				oldest = c
			}
		}
		if oldest == nil || (oldest == s.current && len(oldest.entries) == 1) {
			return
		}
		e := oldest.dropFirst()
		s.convBytes -= e.cost
		delete(s.convOf, e)
		if e.id != "" && s.byMsg[e.id] == e {
			delete(s.byMsg, e.id)
		}
	}
}

// noticeAt adds a system notice to the current conversation, opening one
// for the notices when none is, and returns it. The same notice again (a
// connection failing on every retry) is counted on the last one rather
// than repeated.
func (s *chatState) noticeAt(at time.Time, text string, bad bool) *entry {
	text = client.KeptText(text, maxKeptValue)
	c := s.current
	if c == nil {
		c = s.conversation(dimp.AnyStation)
		s.current = c
	}
	if n := len(c.entries); n > 0 {
		if last := c.entries[n-1]; last.kind == entryNotice && last.text == text && last.bad == bad {
			last.repeat++
			last.at = at
			last.version++
			return last
		}
	}
	e := &entry{kind: entryNotice, at: at, text: text, bad: bad}
	s.addEntry(c, e)
	return e
}

// noConversation reports whether no conversation is open: nothing, or only
// the notices gathered before one was.
func (s *chatState) noConversation() bool {
	return s.current == nil || s.current.peer.Equal(dimp.AnyStation)
}

// unread returns the number of unread messages from id.
func (s *chatState) unread(id dimp.ID) int {
	if c := s.convs[client.IDKey(id)]; c != nil {
		return c.unread
	}
	return 0
}

// currentPeer returns the peer of the current conversation; zero when
// none is open.
func (s *chatState) currentPeer() dimp.ID {
	if s.current == nil {
		return dimp.ID{}
	}
	return s.current.peer
}

// membersText lists a group's members as the client knows them, with who
// is its owner and who an administrator; it says so when they are not
// known.
func (s *chatState) membersText(group dimp.ID) string {
	g := s.groups[client.IDKey(group)]
	if g == nil || len(g.Members) == 0 {
		return "the members of " + display.Name(group) + " are not known yet: they come with a reset from its owner or an administrator"
	}
	names := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		name := s.nameOf(m)
		if m.SameAs(s.me) {
			name += " (me)"
		}
		if r := g.RoleOf(m); r == "owner" || r == "administrator" {
			name += ", " + r
		}
		names = append(names, name)
	}
	name := display.Name(group)
	if g.Name != "" {
		name = display.Sanitize(g.Name, false)
	}
	text := fmt.Sprintf("%s: %s", name, display.Plural(len(g.Members), "member")) + ": " + strings.Join(names, "; ")
	if len(g.Requests) > 0 {
		text += "; asked to join: " + namesText(g.Requests, s.nameOf)
	}
	return text
}
