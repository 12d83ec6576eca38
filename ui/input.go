package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dimtui/display"
)

// handleKey routes a key press: to the form or the search box when one is
// open, else the keys that work wherever the focus is, then the
// conversation's scrolling keys, then the part that has the focus.
func (p *Pane) handleKey(k tea.KeyPressMsg) tea.Cmd {
	keys := p.keys
	switch p.mode {
	case modeForm:
		return p.formKey(k)
	case modeSearch:
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
		if p.conv.toggleTime() {
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
			p.setFocus(focusComposer)
			return nil
		}
		if c := p.chat.current; c != nil && c.sel >= 0 {
			c.deselect()
			return p.markShownRead()
		}
		return nil
	}

	// Scrolling keys act on the conversation unless the inspector has the
	// focus; so do the arrows when the conversation has it.
	if p.focus != focusInspector {
		if handled, read := p.conv.update(k); handled {
			if read {
				return tea.Batch(p.markShownRead(), p.olderIfAtTop())
			}
			return p.olderIfAtTop()
		}
	}

	if p.focus == focusComposer {
		return p.composerKey(k)
	}
	switch {
	case key.Matches(k, keys.NextFocus):
		p.cycleFocus(1)
		return nil
	case key.Matches(k, keys.Help):
		return showHelp
	}
	switch p.focus {
	case focusConversation:
		switch {
		case key.Matches(k, keys.ToFrame):
			return p.activateSelected()
		case key.Matches(k, keys.ShowJSON):
			return p.toggleJSON()
		case key.Matches(k, keys.SaveFile):
			return p.saveFile("")
		}
		if p.chat.current != nil && k.Text != "" {
			// Typing goes to the composer.
			p.setFocus(focusComposer)
			return p.composerKey(k)
		}
	case focusContacts:
		if id := p.contacts.update(k); !id.IsZero() {
			p.setFocus(focusComposer)
			return p.open(id)
		}
	case focusInspector:
		if key.Matches(k, keys.ToMessage) {
			return p.frameToMessage()
		}
		zoomed := p.inspector.zoomed()
		p.inspector.update(k)
		if p.inspector.zoomed() != zoomed {
			p.relayout()
		}
	}
	return nil
}

// composerKey handles a key while the composer has the focus: Enter sends
// or runs the command, Tab completes (or moves the focus when there is
// nothing to complete), ? on an empty line opens the help; the rest is
// typing.
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
		if p.composer.complete(p.chat.contacts.completions()) {
			p.relayout()
			return nil
		}
		p.cycleFocus(1)
		return nil
	case key.Matches(k, keys.Help) && (k.String() == "f1" || p.composer.value() == ""):
		return showHelp
	}
	return p.composerUpdate(k)
}

// composerUpdate passes a message to the composer, whose height may
// change with it.
func (p *Pane) composerUpdate(msg tea.Msg) tea.Cmd {
	cmd := p.composer.update(msg)
	p.relayout()
	return cmd
}

// formKey handles a key while the app-content form is open.
func (p *Pane) formKey(k tea.KeyPressMsg) tea.Cmd {
	action, res, cmd := p.form.update(k)
	switch action {
	case formCancel:
		p.closeForm()
	case formSend:
		p.closeForm()
		return p.sendContent(res.to, res.content)
	}
	return cmd
}

// searchKey handles a key while the search box is open: Enter on a user
// found opens a chat with them, as /to does (the search answer taught the
// client their profile: no query goes out).
func (p *Pane) searchKey(k tea.KeyPressMsg) tea.Cmd {
	action, row := p.search.update(k)
	switch action {
	case searchClose:
		p.closeSearch()
	case searchPick:
		if row.me {
			return p.setFlash("that is you", true)
		}
		p.closeSearch()
		p.chat.contacts.addFound(row.id, row.name, row.online)
		return p.openAndLookUp(row.id)
	}
	return nil
}

// handleMouse scrolls or selects what is under the pointer; x and y are
// relative to the pane.
func (p *Pane) handleMouse(msg tea.MouseMsg) tea.Cmd {
	m := msg.Mouse()
	l := p.layout()
	if p.mode != modeChat {
		return nil
	}
	in := func(r rect) tea.Msg { return shiftMouse(msg, -r.x, -r.y) }
	switch msg := msg.(type) {
	case tea.MouseWheelMsg:
		if msg.Button != tea.MouseWheelUp && msg.Button != tea.MouseWheelDown {
			return nil
		}
		switch {
		case l.conv.contains(m.X, m.Y):
			if handled, _ := p.conv.update(in(l.conv)); handled {
				return p.markShownRead()
			}
		case l.contacts.contains(m.X, m.Y):
			p.contacts.update(in(l.contacts))
		case l.insp.contains(m.X, m.Y):
			p.inspector.update(in(l.insp))
		}
	case tea.MouseClickMsg:
		if msg.Button != tea.MouseLeft {
			return nil
		}
		switch {
		case l.contacts.contains(m.X, m.Y):
			if id := p.contacts.update(in(l.contacts)); !id.IsZero() {
				p.setFocus(focusComposer)
				return p.open(id)
			}
			p.setFocus(focusContacts)
		case l.insp.contains(m.X, m.Y):
			p.setFocus(focusInspector)
			p.inspector.update(in(l.insp))
		case l.conv.contains(m.X, m.Y):
			p.setFocus(focusConversation)
		case m.Y >= l.composer.y-1 && m.Y < l.footer.y:
			p.setFocus(focusComposer)
		}
	}
	return nil
}

// part returns the component a focus area gives the keys to.
func (p *Pane) part(a focusArea) focusable {
	switch a {
	case focusConversation:
		return &p.conv
	case focusContacts:
		return &p.contacts
	case focusInspector:
		return &p.inspector
	}
	return &p.composer
}

// setFocus gives the keys to a part of the pane.
func (p *Pane) setFocus(a focusArea) {
	p.focus = a
	p.syncFocus()
}

// syncFocus tells every part whether it has the focus; the composer's
// textarea takes keys only while no box is open over it and this pane has
// the keyboard.
func (p *Pane) syncFocus() {
	for _, a := range []focusArea{focusComposer, focusConversation, focusContacts, focusInspector} {
		focused := p.focus == a
		if a == focusComposer {
			focused = focused && p.mode == modeChat && !p.inactive
		}
		p.part(a).setFocus(focused)
	}
}

// cycleFocus moves the focus to the next (dir 1) or previous visible part.
func (p *Pane) cycleFocus(dir int) {
	l := p.layout()
	order := []focusArea{focusComposer}
	if l.conv.w > 0 {
		order = append(order, focusConversation)
	}
	if l.contacts.w > 0 {
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
	p.setFocus(order[(i+dir+len(order))%len(order)])
}

// composerIdle reports whether the pane would do nothing with Enter: the
// composer has the focus and is empty, and no form is open.
func (p *Pane) composerIdle() bool {
	return p.mode == modeChat && p.focus == focusComposer && strings.TrimSpace(p.composer.value()) == ""
}

// cycleChat opens the next or previous contact's conversation.
func (p *Pane) cycleChat(dir int) tea.Cmd {
	rows := p.chat.contacts.rows
	if len(rows) == 0 {
		return nil
	}
	i := -1
	if p.chat.current != nil {
		i = p.chat.contacts.index(p.chat.current.peer)
	}
	i = (i + dir + len(rows)) % len(rows)
	return p.open(rows[i].id)
}

// toggleInspector shows or hides the inspector, giving it the focus when
// it shows.
func (p *Pane) toggleInspector() tea.Cmd {
	p.showInspector = !p.showInspector
	switch {
	case p.showInspector:
		p.setFocus(focusInspector)
	case p.focus == focusInspector:
		p.setFocus(focusComposer)
	}
	p.relayout()
	return nil
}

// openForm opens the app-content form for a receiver; with none, for the
// peer of the open conversation.
func (p *Pane) openForm(to string) {
	if to == "" && !p.chat.noConversation() && !p.chat.current.peer.IsBroadcast() {
		to = display.Name(p.chat.current.peer)
		if _, err := p.chat.contacts.resolve(to); err != nil {
			to = p.chat.current.peer.String()
		}
	}
	p.form = newAppForm(p.st, p.keys, to, p.chat.contacts.resolve)
	p.form.setSize(p.formWidth(), 0)
	p.mode = modeForm
	p.syncFocus()
}

func (p *Pane) closeForm() {
	p.form = nil
	p.mode = modeChat
	p.setFocus(focusComposer)
}

// closeSearch closes the search box.
func (p *Pane) closeSearch() {
	p.search = nil
	p.mode = modeChat
	p.setFocus(focusComposer)
}

// copySelected copies the selected message (the newest when none is) to
// the terminal's clipboard with OSC 52.
func (p *Pane) copySelected() tea.Cmd {
	if p.chat.current == nil {
		return nil
	}
	e := p.chat.current.selected()
	if e == nil {
		return p.setFlash("nothing to copy", true)
	}
	text := e.copyText()
	return tea.Batch(tea.SetClipboard(text), p.setFlash(fmt.Sprintf("copied %d characters", len([]rune(text))), false))
}
