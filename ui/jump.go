package ui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/display"
)

// A presenter goes from a chat message to the frame that carried it, to
// peel it layer by layer, and back: Enter on a message selected in the
// conversation selects its frame in the inspector (opening it); Enter on a
// frame in the inspector selects its message in the conversation. Both
// name the message by its ID (sender and serial number), which the client
// gives the chat's events and the frame's layers alike.

// messageToFrame shows the frame of the message selected in the
// conversation (the newest when none is selected).
func (p *Pane) messageToFrame() tea.Cmd {
	c := p.chat.current
	if c == nil {
		return nil
	}
	e := c.selected()
	if e == nil {
		return p.setFlash("no message to look for", true)
	}
	if e.id == "" {
		return p.setFlash("this message has no frame: it came from the history", true)
	}
	f, ok := p.inspector.selectMessage(e.id)
	if !ok {
		return p.setFlash("its frame is no longer in the inspector", true)
	}
	if !p.showInspector {
		p.showInspector = true
		p.relayout()
	}
	p.setFocus(focusInspector)
	return p.setFlash(fmt.Sprintf("frame #%d carried it: enter goes back", f.seq), false)
}

// frameToMessage selects, in its conversation, the chat message the frame
// selected in the inspector carried.
func (p *Pane) frameToMessage() tea.Cmd {
	f := p.inspector.currentFrame()
	if f == nil || f.msg == "" {
		return p.setFlash("this frame carries no chat message", true)
	}
	im := f.layers.Instant
	peer := im.Sender
	if f.dir == client.Out {
		peer = im.Receiver
	}
	c := p.chat.convs[client.IDKey(peer)]
	i := -1
	if c != nil {
		i = c.indexOf(f.msg)
	}
	if i < 0 {
		return p.setFlash("its message is in no conversation: a protocol message, or one forgotten", true)
	}
	var cmd tea.Cmd
	if c != p.chat.current {
		cmd = p.open(peer)
	}
	p.conv.selectEntry(i)
	p.setFocus(focusConversation)
	return tea.Batch(cmd, p.setFlash("the message of frame #"+fmt.Sprint(f.seq)+" in "+display.Name(peer)+"'s chat", false))
}
