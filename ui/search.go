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
	keywords string
	done     bool   // the answer (or the failure) came
	err      string // why there are no results
	rows     []searchRow
	sel, top int
}

// searchRow is one user found.
type searchRow struct {
	id     dimp.ID
	name   string // the visa name, "" when unknown
	online bool   // known to be online
	me     bool
}

// startSearch runs /search WORDS: it opens the box and asks the backend.
func (p *Pane) startSearch(words string) tea.Cmd {
	words = strings.Join(strings.Fields(words), " ")
	if words == "" {
		return p.setFlash("/search WORDS: a part of a name or ID ("+dimp.SearchOnlineUsers+": who is online)", true)
	}
	s, ok := p.b.(Searcher)
	if !ok {
		return p.setFlash("searching needs a live connection to a station", true)
	}
	p.search = &searchBox{keywords: words}
	p.mode = modeSearch
	p.syncFocus()
	return p.call(searchCall, "", func(ctx context.Context) error {
		_, err := s.Search(ctx, words)
		return err
	})
}

// onSearch shows the answer to the search the box waits for.
func (p *Pane) onSearch(ev client.SearchEvent) {
	b := p.search
	if b == nil || b.done || !strings.EqualFold(ev.Keywords, b.keywords) {
		return // closed, or an earlier question
	}
	b.done = true
	if ev.Err != nil {
		b.err = ev.Err.Error()
		return
	}
	for _, r := range ev.Results {
		row := searchRow{id: r.ID, online: ev.Online, me: r.ID.SameAs(p.me)}
		if r.Profile != nil && r.Profile.Visa() != nil {
			row.name = r.Profile.Visa().Name()
		}
		if c := p.contacts.byKey[client.IDKey(r.ID)]; c != nil {
			row.online = row.online || c.online
			if row.name == "" {
				row.name = c.nick
			}
		}
		b.rows = append(b.rows, row)
	}
}

// searchFailed shows why the backend could not ask.
func (p *Pane) searchFailed(err error) {
	if p.search != nil && !p.search.done {
		p.search.done, p.search.err = true, err.Error()
	}
}

// closeSearch closes the box.
func (p *Pane) closeSearch() {
	p.search = nil
	p.mode = modeChat
	p.focus = focusComposer
	p.syncFocus()
}

// searchKey handles a key while the box is open.
func (p *Pane) searchKey(k tea.KeyPressMsg) tea.Cmd {
	b := p.search
	switch {
	case key.Matches(k, p.keys.SearchClose):
		p.closeSearch()
	case key.Matches(k, p.keys.SearchUp):
		b.sel = max(b.sel-1, 0)
	case key.Matches(k, p.keys.SearchDown):
		b.sel = min(b.sel+1, max(len(b.rows)-1, 0))
	case key.Matches(k, p.keys.SearchOpen):
		if b.sel >= len(b.rows) {
			return nil
		}
		row := b.rows[b.sel]
		if row.me {
			return p.setFlash("that is you", true)
		}
		p.closeSearch()
		c := p.contacts.ensure(row.id)
		if row.name != "" {
			c.nick = row.name
		}
		c.online = c.online || row.online
		p.contacts.sort()
		// As /to does: open the chat and make sure the peer is known (the
		// search answer taught the client its profile: no query goes out).
		back, id := p.b, row.id
		return tea.Batch(p.open(id), p.call("look up "+display.Name(id), "", func(ctx context.Context) error {
			_, err := back.Peer(ctx, id)
			return err
		}))
	}
	return nil
}

// searchWidth is the box's width for the pane's size.
func (p *Pane) searchWidth() int { return min(max(p.width-6, 40), 84) }

// view draws the box, width w cells wide, showing at most h rows of
// results (the keys are in the footer).
func (b *searchBox) view(st *Styles, w, h int) string {
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
		b.sel = min(b.sel, len(b.rows)-1)
		if b.sel < b.top {
			b.top = b.sel
		}
		if b.sel >= b.top+h {
			b.top = b.sel - h + 1
		}
		nameW := min(max(inner/3, 10), 24)
		for i := b.top; i < min(b.top+h, len(b.rows)); i++ {
			lines = append(lines, b.row(st, b.rows[i], i == b.sel, nameW, inner))
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
func (b *searchBox) row(st *Styles, r searchRow, selected bool, nameW, w int) string {
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
