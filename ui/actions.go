package ui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"dimtui/dimp"
	"dimtui/display"
)

// What Enter does on a message selected in the conversation depends on
// what it is: a name card opens a chat with the user it introduces, a
// quote selects the message it quotes, anything else shows the frame
// that carried it (jump.go). ctrl+e shows or hides the selected message's
// content as JSON under it, for a type this client has no card for.

// activateSelected is Enter on the conversation's selected message.
func (p *Pane) activateSelected() tea.Cmd {
	c := p.chat.current
	if c == nil {
		return nil
	}
	e := c.selected()
	if e == nil {
		return p.setFlash("no message selected", true)
	}
	switch ct := e.content.(type) {
	case *dimp.NameCardContent:
		return p.openCard(ct)
	case *dimp.QuoteContent:
		return p.jumpToQuoted(ct.Origin)
	}
	return p.messageToFrame()
}

// openCard opens a chat with the user a name card introduces. The card
// is the sender's word for who the user is: their own visa, fetched from
// the station, names them once the chat opens.
func (p *Pane) openCard(c *dimp.NameCardContent) tea.Cmd {
	switch {
	case c.ID.IsZero():
		return p.setFlash("the name card names no ID", true)
	case c.ID.IsBroadcast() || c.ID.IsGroup():
		return p.setFlash("the name card is not a user's: "+display.ShortID(c.ID), true)
	case c.ID.SameAs(p.chat.me):
		return p.setFlash("the name card is mine", false)
	}
	cmd := p.open(c.ID)
	p.setFocus(focusComposer)
	return tea.Batch(cmd, p.setFlash("chat with "+display.Name(c.ID)+", from the name card", false))
}

// jumpToQuoted selects the message a quote answers, found in the open
// conversation by its sender and serial number, the pair apps quote by.
func (p *Pane) jumpToQuoted(o *dimp.Origin) tea.Cmd {
	if o == nil || o.Sender.IsZero() {
		return p.setFlash("the quote names no message", true)
	}
	i := p.chat.current.indexOfSN(o.Sender, o.SN)
	if i < 0 {
		return p.setFlash(fmt.Sprintf("the quoted message (%s's #%d) is not in this conversation's history", display.Name(o.Sender), o.SN), true)
	}
	p.conv.selectEntry(i)
	p.setFocus(focusConversation)
	return p.setFlash("the quoted message: ↓ goes back", false)
}

// indexOfSN returns the index of the message from sender with serial
// number sn, the newest if several claim it; -1 when there is none.
func (c *conversation) indexOfSN(sender dimp.ID, sn int64) int {
	for i := len(c.entries) - 1; i >= 0; i-- {
		if e := c.entries[i]; e.selectable() && e.sn == sn && e.from.SameAs(sender) {
			return i
		}
	}
	return -1
}

// toggleJSON shows or hides the selected message's content as JSON.
func (p *Pane) toggleJSON() tea.Cmd {
	c := p.chat.current
	if c == nil {
		return nil
	}
	e := c.selected()
	if e == nil || !e.selectable() {
		return p.setFlash("no message selected", true)
	}
	if e.content == nil {
		return p.setFlash("no JSON kept for this message: Enter shows its frame in the inspector", true)
	}
	e.showJSON = !e.showJSON
	e.version++
	return nil
}

// maxJSONLines bounds the JSON shown under a message; the inspector has
// all of it.
const maxJSONLines = 40

// jsonLines renders a content as indented, coloured JSON in width cells,
// bounded to maxJSONLines.
func jsonLines(st *Styles, c dimp.Content, width int) []string {
	out := prettyJSON(st, dimp.MarshalContent(c), width, false)
	if len(out) > maxJSONLines {
		out = append(out[:maxJSONLines], st.Receipt.Render(fmt.Sprintf(" … %d more lines: Enter shows the frame in the inspector", len(out)-maxJSONLines)))
	}
	return out
}
