package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// contact is someone the contacts pane lists.
type contact struct {
	id      dimp.ID
	nick    string // the visa's name, when known
	online  bool
	bot     bool
	station bool
}

// contactList is the contacts pane: bots first, then everyone else by
// name; the station only when it has talked to us.
type contactList struct {
	byKey map[string]*contact
	rows  []*contact // sorted, rebuilt on change
	sel   int        // keyboard selection
	top   int
	// unlisted: the station does not say who is online (dimchat's dimples
	// station refuses "active users").
	unlisted bool
}

func newContactList() contactList { return contactList{byKey: map[string]*contact{}} }

// ensure returns the contact for id, adding it when new.
func (l *contactList) ensure(id dimp.ID) *contact {
	k := client.IDKey(id)
	c := l.byKey[k]
	if c == nil {
		c = &contact{id: id.WithoutTerminal()}
		l.byKey[k] = c
		l.sort()
	}
	return c
}

// setOnline marks exactly the given users online.
func (l *contactList) setOnline(me dimp.ID, users []dimp.ID) {
	for _, c := range l.byKey {
		c.online = false
	}
	for _, u := range users {
		if u.SameAs(me) {
			continue
		}
		l.ensure(u).online = true
	}
	l.sort()
}

func (l *contactList) sort() {
	l.rows = l.rows[:0]
	for _, c := range l.byKey {
		l.rows = append(l.rows, c)
	}
	rank := func(c *contact) int {
		switch {
		case c.bot:
			return 0
		case c.station:
			return 2
		}
		return 1
	}
	sort.Slice(l.rows, func(i, j int) bool {
		a, b := l.rows[i], l.rows[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if na, nb := strings.ToLower(display.Name(a.id)), strings.ToLower(display.Name(b.id)); na != nb {
			return na < nb
		}
		return a.id.String() < b.id.String()
	})
	l.sel = min(l.sel, max(len(l.rows)-1, 0))
}

// index returns the row of id, -1 when absent.
func (l *contactList) index(id dimp.ID) int {
	for i, c := range l.rows {
		if c.id.SameAs(id) {
			return i
		}
	}
	return -1
}

// completions returns what /to can complete to: each contact's name when
// no other contact has it, else its full ID; and every full ID.
func (l *contactList) completions() []string {
	count := map[string]int{}
	for _, c := range l.rows {
		count[display.Name(c.id)]++
	}
	var out []string
	for _, c := range l.rows {
		if n := display.Name(c.id); count[n] == 1 {
			out = append(out, n)
		}
		out = append(out, c.id.String())
	}
	return out
}

// resolve finds a contact by name, or parses a full ID.
func (l *contactList) resolve(s string) (dimp.ID, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "@") || len(s) > 30 {
		id, err := dimp.ParseID(s)
		if err != nil {
			return dimp.ID{}, fmt.Errorf("not an ID: %w", err)
		}
		return id, nil
	}
	var found []*contact
	for _, c := range l.rows {
		if strings.EqualFold(display.Name(c.id), s) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 1:
		return found[0].id, nil
	case 0:
		if id, err := dimp.ParseID(s); err == nil && !id.Address().IsZero() {
			return id, nil
		}
		return dimp.ID{}, fmt.Errorf("nobody called %q here: give the full ID (name@address)", s)
	}
	return dimp.ID{}, fmt.Errorf("%d users are called %q: give the full ID", len(found), s)
}

// view draws the pane in w×h cells; unread gives the unread count of a
// contact, current is the open conversation.
func (l *contactList) view(st *Styles, w, h int, current dimp.ID, unread func(dimp.ID) int, focused bool) []string {
	out := make([]string, 0, h)
	online := 0
	for _, c := range l.rows {
		if c.online {
			online++
		}
	}
	title := st.Title
	if focused {
		title = st.FocusedTitle
	}
	count := fmt.Sprintf(" %d online", online)
	if l.unlisted {
		count = " online: ?"
	}
	out = append(out, display.Fit(title.Render("Contacts")+st.Footer.Render(count), w))
	rowsH := h - 1
	if l.sel < l.top {
		l.top = l.sel
	}
	if l.sel >= l.top+rowsH {
		l.top = l.sel - rowsH + 1
	}
	l.top = max(min(l.top, len(l.rows)-rowsH), 0)
	for i := range rowsH {
		j := l.top + i
		if j >= len(l.rows) {
			if len(l.rows) == 0 && i == 0 {
				out = append(out, display.Fit(st.Empty.Render(" nobody yet"), w))
				continue
			}
			out = append(out, strings.Repeat(" ", w))
			continue
		}
		out = append(out, l.row(st, l.rows[j], w, current, unread(l.rows[j].id), focused && j == l.sel))
	}
	return out
}

func (l *contactList) row(st *Styles, c *contact, w int, current dimp.ID, unread int, selected bool) string {
	dot := st.Offline.Render("○")
	if c.online {
		dot = st.Online.Render("●")
	}
	right := ""
	switch {
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
	name := display.Name(c.id)
	room := w - 3 - ansi.StringWidth(right) - 1
	left := mark + dot + " " + nameStyle.Render(display.Truncate(name, max(room, 3)))
	line := left + strings.Repeat(" ", max(w-ansi.StringWidth(left)-ansi.StringWidth(right), 1)) + right
	if selected {
		return st.SelectedRow.Render(display.Fit(ansi.Strip(line), w))
	}
	return display.Fit(line, w)
}
