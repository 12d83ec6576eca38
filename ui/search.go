package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// Searcher is a backend that can ask the station's search engine (a
// *client.Client can; a replay cannot). The answer comes as a
// client.SearchEvent.
type Searcher interface {
	Search(ctx context.Context, keywords string) (client.MessageID, error)
}

// searchCall names the backend call of /search in callDoneMsg.
const searchCall = "search"

// searchBox is the results of /search over the conversation: the question,
// then the users found, one selected; Enter opens a chat with it, Esc
// closes the box.
type searchBox struct {
	st       *Styles
	keys     KeyMap
	keywords string
	done     bool   // the answer (or the failure) came
	err      string // why there are no results
	rows     []searchRow
	sel, top int
	w, h     int // the box's width, and how many rows of results it shows
}

// searchRow is one user found.
type searchRow struct {
	id     dimp.ID
	name   string // the visa name, "" when unknown
	online bool   // known to be online
	me     bool
}

func newSearchBox(st *Styles, keys KeyMap, keywords string) *searchBox {
	return &searchBox{st: st, keys: keys, keywords: keywords}
}

func (b *searchBox) setSize(w, h int) {
	b.w, b.h = w, h
	b.fit()
}

// help: the box's keys, in the footer while it is open.
func (b *searchBox) help() []key.Binding {
	return []key.Binding{b.keys.SearchOpen, b.keys.SearchUp, b.keys.SearchDown, b.keys.SearchClose}
}

// fit keeps the selection on a row and in view.
func (b *searchBox) fit() {
	if len(b.rows) == 0 {
		return
	}
	b.sel = min(b.sel, len(b.rows)-1)
	b.top = keepInView(b.top, b.sel, len(b.rows), max(b.h, 1))
}

// answer shows the answer to the search the box waits for; the contacts
// add what the pane knows of the users found (online, their visa names).
func (b *searchBox) answer(ev client.SearchEvent, me dimp.ID, contacts *contactList) {
	if b.done || !strings.EqualFold(ev.Keywords, b.keywords) {
		return // an earlier question
	}
	b.done = true
	if ev.Err != nil {
		b.err = ev.Err.Error()
		return
	}
	for _, r := range ev.Results {
		row := searchRow{id: r.ID, online: ev.Online, me: r.ID.SameAs(me)}
		if r.Profile != nil && r.Profile.Visa() != nil {
			row.name = r.Profile.Visa().Name()
		}
		if c := contacts.byKey[client.IDKey(r.ID)]; c != nil {
			row.online = row.online || c.online
			if row.name == "" {
				row.name = c.nick
			}
		}
		b.rows = append(b.rows, row)
	}
	b.fit()
}

// fail shows why the backend could not ask.
func (b *searchBox) fail(err error) {
	if !b.done {
		b.done, b.err = true, err.Error()
	}
}

// searchAction is what a key did to the box.
type searchAction int

const (
	searchStay  searchAction = iota
	searchClose              // Esc: close the box
	searchPick               // Enter on a user: chat with it
)

// update handles a key while the box is open; on searchPick, row is the
// user chosen.
func (b *searchBox) update(k tea.KeyPressMsg) (searchAction, searchRow) {
	switch {
	case key.Matches(k, b.keys.SearchClose):
		return searchClose, searchRow{}
	case key.Matches(k, b.keys.SearchUp):
		b.sel = max(b.sel-1, 0)
		b.fit()
	case key.Matches(k, b.keys.SearchDown):
		b.sel = min(b.sel+1, max(len(b.rows)-1, 0))
		b.fit()
	case key.Matches(k, b.keys.SearchOpen):
		if b.sel < len(b.rows) {
			return searchPick, b.rows[b.sel]
		}
	}
	return searchStay, searchRow{}
}

// view draws the box, w cells wide, showing at most h rows of results
// (the keys are in the footer).
func (b *searchBox) view() string {
	st, w, h := b.st, b.w, b.h
	inner := w - 4 // border and padding
	var lines []string
	title := st.FormTitle.Render("Search") + " " + st.CurrentRow.Render(display.Sanitize(b.keywords, false))
	status := "searching…"
	switch {
	case b.err != "":
		status = ""
	case b.done && len(b.rows) == 0:
		status = "nobody found"
	case b.done:
		status = display.Plural(len(b.rows), "user") + " found"
	}
	lines = append(lines, joinEnds(lipgloss.NewStyle(), title, st.Footer.Render(status), inner), "")
	switch {
	case b.err != "":
		for _, l := range display.Wrap("✗ "+display.Sanitize(b.err, false), inner) {
			lines = append(lines, st.FieldError.Render(l))
		}
	case !b.done:
		lines = append(lines, st.Empty.Render("asking the station's search engine…"))
	case len(b.rows) == 0:
		lines = append(lines, st.Empty.Render("no user's name or ID has every word"))
	default:
		h = max(h, 1)
		nameW := min(max(inner/3, 10), 24)
		for i := b.top; i < min(b.top+h, len(b.rows)); i++ {
			lines = append(lines, b.row(b.rows[i], i == b.sel, nameW, inner))
		}
		if rest := len(b.rows) - b.top - h; rest > 0 {
			lines = append(lines, st.ScrollHint.Render(fmt.Sprintf("↓ %d more", rest)))
		}
	}
	for i, l := range lines {
		lines[i] = display.Fit(l, inner)
	}
	return st.FormBox.Width(w).Render(strings.Join(lines, "\n"))
}

// row draws one user found: a selection mark, a dot (online when known),
// the visa name and the ID.
func (b *searchBox) row(r searchRow, selected bool, nameW, w int) string {
	st := b.st
	dot := st.Offline.Render("○")
	if r.online {
		dot = st.Online.Render("●")
	}
	name := display.Sanitize(r.name, false)
	if name == "" {
		name = display.Name(r.id)
	}
	if r.me {
		name += " (you)"
	}
	left := "  " + dot + " " + st.NameStyle(r.id).Render(display.Fit(display.Truncate(name, nameW), nameW)) + "  "
	line := left + st.Footer.Render(display.Truncate(r.id.String(), max(w-ansi.StringWidth(left), 8)))
	if selected {
		return st.SelectedRow.Render(display.Fit("▸ "+ansi.Strip(line)[2:], w))
	}
	return line
}
