package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/dimp"
	"dimtui/display"
)

// contactsView is the contacts column: a title with how many are online,
// then one row per contact with its unread count, the open conversation
// marked, one row selected with the keys or the mouse.
type contactsView struct {
	st      *Styles
	keys    KeyMap
	chat    *chatState // what it lists: the contacts, their unread counts, the open conversation
	sel     int        // the selected row
	top     int        // the first row shown
	w, h    int        // with the title row; w = 0 when hidden
	focused bool
}

func newContactsView(st *Styles, keys KeyMap, chat *chatState) contactsView {
	return contactsView{st: st, keys: keys, chat: chat}
}

func (v *contactsView) setSize(w, h int) {
	v.w, v.h = w, h
	v.fit()
}

func (v *contactsView) setFocus(focused bool) { v.focused = focused }

// help: the contacts' keys, for the footer while they have the focus.
func (v *contactsView) help() []key.Binding { return v.keys.contactsHelp() }

// fit keeps the selection on a row and in view, while the column shows.
func (v *contactsView) fit() {
	if v.w <= 0 {
		return
	}
	n := len(v.chat.contacts.rows)
	v.sel = min(v.sel, max(n-1, 0))
	v.top = keepInView(v.top, v.sel, n, v.h-1)
}

// show selects id's row, when id is a contact.
func (v *contactsView) show(id dimp.ID) {
	if i := v.chat.contacts.index(id); i >= 0 {
		v.sel = i
		v.fit()
	}
}

// move moves the selection by d rows, staying on the list.
func (v *contactsView) move(d int) {
	v.sel = min(max(v.sel+d, 0), max(len(v.chat.contacts.rows)-1, 0))
	v.fit()
}

// update handles the arrows and Enter while the column has the focus, and
// the mouse over it (x and y relative to the column, its title on row 0).
// It returns the contact to open: the one Enter or a click chose; zero
// for none.
func (v *contactsView) update(msg tea.Msg) (open dimp.ID) {
	rows := v.chat.contacts.rows
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, v.keys.Up):
			v.move(-1)
		case key.Matches(msg, v.keys.Down):
			v.move(1)
		case key.Matches(msg, v.keys.Open):
			if v.sel < len(rows) {
				return rows[v.sel].id
			}
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			v.move(-1)
		case tea.MouseWheelDown:
			v.move(1)
		}
	case tea.MouseClickMsg:
		if row := v.top + msg.Mouse().Y - 1; row >= 0 && row < len(rows) {
			v.sel = row
			v.fit()
			return rows[row].id
		}
	}
	return dimp.ID{}
}

// view draws the column in its w×h cells.
func (v *contactsView) view() string {
	st, l, w := v.st, &v.chat.contacts, v.w
	current := v.chat.currentPeer()
	out := make([]string, 0, v.h)
	online := 0
	for _, c := range l.rows {
		if c.online {
			online++
		}
	}
	title := st.Title
	if v.focused {
		title = st.FocusedTitle
	}
	count := fmt.Sprintf(" %d online", online)
	if l.unlisted {
		count = " online: ?"
	}
	out = append(out, display.Fit(title.Render("Contacts")+st.Footer.Render(count), w))
	for i := range v.h - 1 {
		j := v.top + i
		if j >= len(l.rows) {
			if len(l.rows) == 0 && i == 0 {
				out = append(out, display.Fit(st.Empty.Render(" nobody yet"), w))
				continue
			}
			out = append(out, strings.Repeat(" ", w))
			continue
		}
		c := l.rows[j]
		out = append(out, v.row(c, current, v.chat.unread(c.id), v.focused && j == v.sel))
	}
	return strings.Join(out, "\n")
}

// row draws one contact: the open conversation's mark, a dot (online or
// not), the name, a bot or station tag and the unread count.
func (v *contactsView) row(c *contact, current dimp.ID, unread int, selected bool) string {
	st, w := v.st, v.w
	dot := st.Offline.Render("○")
	if c.online {
		dot = st.Online.Render("●")
	}
	right := ""
	switch {
	case c.id.SameAs(dimp.Everyone):
		dot = st.Tag.Render("*")
		right = st.Tag.Render("all")
	case c.id.IsGroup():
		dot = st.Tag.Render("#")
		right = st.Tag.Render("group")
		if c.members > 0 {
			right = st.Tag.Render(fmt.Sprintf("group %d", c.members))
		}
	case c.bot:
		right = st.Tag.Render("bot")
	case c.station:
		right = st.Tag.Render("station")
	}
	if unread > 0 {
		right += " " + st.Badge.Render(fmt.Sprintf(" %d ", unread))
	}
	nameStyle := st.NameStyle(c.id)
	if c.id.SameAs(current) {
		nameStyle = st.CurrentRow
	}
	mark := " "
	if c.id.SameAs(current) {
		mark = st.Selected.Render("▸")
	}
	name := c.label()
	room := w - 3 - ansi.StringWidth(right) - 1
	left := mark + dot + " " + nameStyle.Render(display.Truncate(name, max(room, 3)))
	line := left + strings.Repeat(" ", max(w-ansi.StringWidth(left)-ansi.StringWidth(right), 1)) + right
	if selected {
		return st.SelectedRow.Render(display.Fit(ansi.Strip(line), w))
	}
	return display.Fit(line, w)
}
