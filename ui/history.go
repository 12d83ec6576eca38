package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/client/history"
	"dimtui/dimp"
	"dimtui/display"
)

// A client with a history (its identity's database) shows the
// conversations of earlier runs: the contacts at start, a conversation's
// newest page when it opens, and older pages as the user scrolls past
// the oldest line held. /clear forgets a conversation, here and on disk.

// historyBackend is what the history needs of the backend; a
// *client.Client has it (with no database it gives nothing), a replay
// does not.
type historyBackend interface {
	Conversations(ctx context.Context) ([]history.Conversation, error)
	Page(ctx context.Context, conv dimp.ID, before int64, n int) ([]history.Message, error)
	ClearConversation(ctx context.Context, conv dimp.ID) error
}

// groupsBackend gives the groups the client knows, those of earlier runs
// among them; a *client.Client has it.
type groupsBackend interface {
	Groups(ctx context.Context) ([]*client.Group, error)
}

// started is when this process started: a message the history says is
// still being sent, from before, never will be.
var started = time.Now()

// historyPage is how many messages one read brings in.
const historyPage = 200

// historyState is what a conversation knows of its history on disk.
type historyState struct {
	oldest  int64 // the sequence number of the oldest message read; 0: none read yet
	done    bool  // nothing older on disk
	loading bool
}

// conversationsLoadedMsg brings the conversations the history holds.
type conversationsLoadedMsg struct {
	pane   PaneID
	convs  []history.Conversation
	groups []*client.Group // the groups kept, with their members
	err    error
}

// pageLoadedMsg brings a page of a conversation's history.
type pageLoadedMsg struct {
	pane PaneID
	conv dimp.ID
	msgs []history.Message
	err  error
}

// loadConversations reads the conversations of earlier runs.
func (p *Pane) loadConversations() tea.Cmd {
	hb, ok := p.b.(historyBackend)
	if !ok {
		return nil
	}
	id, ctx := p.id, p.opt.Context
	return func() tea.Msg {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		convs, err := hb.Conversations(cctx)
		msg := conversationsLoadedMsg{pane: id, convs: convs, err: err}
		if gb, ok := hb.(groupsBackend); ok && err == nil {
			msg.groups, msg.err = gb.Groups(cctx)
		}
		return msg
	}
}

// conversationsLoaded lists the history's conversations in the contacts
// and reads the open one's newest page.
func (p *Pane) conversationsLoaded(msg conversationsLoadedMsg) tea.Cmd {
	if msg.err != nil {
		p.notice("the history could not be read: "+msg.err.Error(), true)
		return nil
	}
	for _, c := range msg.convs {
		if c.Err != nil || c.ID.IsZero() || p.chat.isStation(c.ID) {
			continue
		}
		ct := p.chat.contacts.ensure(c.ID)
		if c.Name != "" && ct.nick == "" {
			ct.nick = display.Sanitize(c.Name, false)
		}
		if c.Unread > 0 {
			if conv := p.chat.conversation(c.ID); conv != p.chat.current && !conv.hist.read() {
				conv.unread = max(conv.unread, c.Unread) // its badge, until it is read
			}
		}
	}
	for _, g := range msg.groups {
		if p.chat.groups[client.IDKey(g.ID)] == nil { // else this run knows it better
			p.chat.knowGroup(g)
		}
	}
	p.chat.contacts.sort()
	p.showCurrent() // the open conversation's name may be known now
	if c := p.chat.current; c != nil && !p.chat.noConversation() {
		return p.loadPage(c)
	}
	return nil
}

// loadPage reads the page of c's history older than what it holds.
func (p *Pane) loadPage(c *conversation) tea.Cmd {
	hb, ok := p.b.(historyBackend)
	if !ok || c.hist.done || c.hist.loading || c.peer.IsZero() {
		return nil
	}
	c.hist.loading = true
	id, ctx, conv, before := p.id, p.opt.Context, c.peer, c.hist.oldest
	return func() tea.Msg {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		msgs, err := hb.Page(cctx, conv, before, historyPage)
		return pageLoadedMsg{pane: id, conv: conv, msgs: msgs, err: err}
	}
}

// pageLoaded puts a page of history above what the conversation holds.
func (p *Pane) pageLoaded(msg pageLoadedMsg) tea.Cmd {
	c := p.chat.convs[client.IDKey(msg.conv)]
	if c == nil {
		return nil
	}
	c.hist.loading = false
	if msg.err != nil {
		c.hist.done = true
		p.noticeAt(time.Now(), "older messages could not be read from the history: "+msg.err.Error(), true)
		return nil
	}
	if len(msg.msgs) < historyPage {
		c.hist.done = true
	}
	if len(msg.msgs) > 0 {
		c.hist.oldest = msg.msgs[0].Seq
	}
	var page []*entry
	first := len(c.entries) == 0 // the newest page, nothing shown yet
	for _, m := range msg.msgs {
		if m.ID != "" && c.holds(client.MessageID(m.ID), m.Kind) {
			continue // shown already: it came in this run
		}
		e := historyEntry(m, p.chat.me, p.chat.nameOf)
		if !m.Out && !m.Read && m.Kind == history.KindMessage && m.Err == nil && e.selectable() {
			// Not read in an earlier run: read once shown, its sender told.
			if first && c.marker == nil {
				c.marker = &entry{kind: entryUnread}
				page = append(page, c.marker)
			}
			c.pending = append(c.pending, e.id)
		}
		page = append(page, e)
	}
	p.chat.prepend(c, page)
	if c == p.chat.current {
		return p.markShownRead()
	}
	return nil
}

// holds reports whether the conversation shows the message (or group
// notice) with this ID already.
func (c *conversation) holds(id client.MessageID, kind history.Kind) bool {
	if kind == history.KindMessage {
		return c.indexOf(id) >= 0
	}
	return slices.ContainsFunc(c.entries, func(e *entry) bool { return e.kind == entryNotice && e.id == id })
}

// historyEntry is the entry of a message read from the history, as it
// was shown: its content, sender, time, delivery state, recall; or of a
// group's notice, as it was said.
func historyEntry(m history.Message, me dimp.ID, name func(dimp.ID) string) *entry {
	switch {
	case m.Err != nil:
	case m.Kind == history.KindGroupNotice:
		return groupNoticeFromHistory(m, me, name)
	case m.Kind == history.KindProfileNotice:
		var n client.ProfileNotice
		e := &entry{kind: entryNotice, at: m.Time, id: client.MessageID(m.ID), stored: true}
		if err := json.Unmarshal(m.Content, &n); err != nil {
			e.bad, e.text = true, "a notice in the history does not read: "+err.Error()
		} else {
			e.text = profileNoticeText(m.Conversation, display.Sanitize(n.Name, false), display.Sanitize(n.Old, false))
		}
		return e
	}
	var e *entry
	content, err := dimp.ParseContent(m.Content)
	switch {
	case m.Err != nil:
		e = &entry{kind: entryNotice, bad: true, text: "a message in the history does not read: " + m.Err.Error()}
	case err != nil:
		e = &entry{kind: entryNotice, bad: true, text: "a message in the history does not read: " + err.Error()}
	default:
		e = contentEntry(content)
	}
	e.at, e.from, e.out, e.id = m.Time, m.Sender, m.Out, client.MessageID(m.ID)
	e.recalled, e.stored, e.cut = m.Recalled, true, e.cut || m.Cut
	if m.Out && e.selectable() {
		e.tracked, e.delivery = true, client.Delivery(m.State)
		if len(m.Members) > 0 {
			// A group message's ticks per member; a list that does not
			// read leaves the message's own state.
			var members []client.MemberDelivery
			if json.Unmarshal(m.Members, &members) == nil {
				e.members = members
			}
		}
		switch {
		case e.delivery == client.Failed:
			e.detail = m.Detail
		case e.delivery == client.Sending && m.Time.Before(started):
			// Sent by an earlier run that quit before the station took it:
			// nothing will send it now.
			e.delivery, e.detail = client.Failed, "dimtui quit before the station took it (/resend sends it again)"
		}
	}
	if m.Cut && e.kind == entryText {
		e.text += " … (cut: too long to keep in the history)"
	}
	return e
}

// groupNoticeFromHistory is a group's notice as it was shown when its
// command came; one that does not read says so.
func groupNoticeFromHistory(m history.Message, me dimp.ID, name func(dimp.ID) string) *entry {
	var n client.GroupNotice
	if err := json.Unmarshal(m.Content, &n); err != nil || n.From.IsZero() {
		if err == nil {
			err = errors.New("it names no sender")
		}
		return &entry{kind: entryNotice, bad: true, at: m.Time, id: client.MessageID(m.ID),
			text: "a group notice in the history does not read: " + err.Error()}
	}
	e := groupNoticeEntry(n.Event(m.Conversation, m.Time, m.ID), me, name)
	if m.Cut {
		e.text += " (the lists were cut in the history)"
	}
	e.stored = true
	return e
}

// prepend puts entries, oldest first, above a conversation's entries,
// keeping the view and the selection where they were.
func (s *chatState) prepend(c *conversation, page []*entry) {
	if len(page) == 0 {
		return
	}
	for _, e := range page {
		// Older than everything held: forgotten first when room is short.
		s.histSeq--
		e.seq, e.cost = s.histSeq, e.measure()
		s.convOf[e] = c
		s.convBytes += e.cost
		if e.out && e.id != "" && s.byMsg[e.id] == nil {
			s.byMsg[e.id] = e // a late receipt still finds it
		}
	}
	c.entries = append(page, c.entries...)
	if !c.follow {
		c.top += len(page)
	}
	if c.sel >= 0 {
		c.sel += len(page)
	}
}

// clear forgets a conversation's entries.
func (s *chatState) clear(c *conversation) {
	for _, e := range c.entries {
		s.convBytes -= e.cost
		delete(s.convOf, e)
		if e.id != "" && s.byMsg[e.id] == e {
			delete(s.byMsg, e.id)
		}
	}
	c.entries, c.marker, c.pending, c.unread = nil, nil, nil, 0
	c.follow, c.top, c.topLine, c.sel = true, 0, 0, -1
	c.hist = historyState{done: true}
}

// clearConversation is /clear: the open conversation forgotten here and in
// the history (the signatures of its messages stay, so none comes back).
func (p *Pane) clearConversation() tea.Cmd {
	c := p.chat.current
	if c == nil || p.chat.noConversation() {
		return p.setFlash("no conversation to clear", true)
	}
	p.chat.clear(c)
	hb, ok := p.b.(historyBackend)
	name := display.Name(c.peer)
	if !ok {
		return p.setFlash("cleared "+name+"'s conversation", false)
	}
	conv := c.peer
	return p.call("clear", fmt.Sprintf("cleared %s's conversation, here and in the history", name), func(ctx context.Context) error {
		return hb.ClearConversation(ctx, conv)
	})
}

// fromHistory reports whether the conversation shows message id as read
// from the history: an event of this run that was recorded before the
// page holding it was read, which must not show twice.
func (c *conversation) fromHistory(id client.MessageID) bool {
	if id == "" || !c.hist.read() {
		return false
	}
	i := c.indexOf(id)
	return i >= 0 && c.entries[i].stored
}

// read reports whether any of the conversation's history was read.
func (h historyState) read() bool { return h.oldest != 0 }

// olderIfAtTop reads the next older page when the open conversation is
// scrolled to its oldest line.
func (p *Pane) olderIfAtTop() tea.Cmd {
	c := p.chat.current
	if c == nil || c.follow || c.top > 0 || c.topLine > 0 {
		return nil
	}
	return p.loadPage(c)
}
