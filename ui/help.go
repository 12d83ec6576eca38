package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/display"
)

// helpOverlay is the help over every pane, generated from the key map: the
// bindings by what they are for, the slash commands and the delivery
// ticks, in as many columns as the window takes; what does not fit its
// height scrolls in a viewport.
type helpOverlay struct {
	st       *Styles
	keys     KeyMap
	commands []slashCommand
	w, h     int
	shown    bool           // laid out only while shown: the columns cost a few hundred µs
	rows     int            // lines of the columns, all of them
	avail    int            // lines of the columns the window shows
	cols     viewport.Model // the columns, scrolled
}

func newHelpOverlay(st *Styles, keys KeyMap, commands []slashCommand) *helpOverlay {
	return &helpOverlay{st: st, keys: keys, commands: commands, cols: viewport.New()}
}

func (o *helpOverlay) setSize(w, h int) {
	o.w, o.h = w, h
	o.layout()
}

// setKeys shows another key map (a binding enabled or disabled).
func (o *helpOverlay) setKeys(keys KeyMap) {
	o.keys = keys
	o.layout()
}

// restyle redraws the help with the styles, which changed.
func (o *helpOverlay) restyle() { o.layout() }

// open shows the help from its top.
func (o *helpOverlay) open() {
	o.shown = true
	o.layout()
	o.cols.SetYOffset(0)
}

// help: the keys that scroll the help; any other closes it.
func (o *helpOverlay) help() []key.Binding {
	return []key.Binding{o.keys.Up, o.keys.Down, o.keys.PageUp, o.keys.PageDown}
}

// update scrolls with the arrows, the page keys, home and end; any other
// key closes the help.
func (o *helpOverlay) update(k tea.KeyPressMsg) (closed bool) {
	switch {
	case key.Matches(k, o.keys.Up):
		o.cols.ScrollUp(1)
	case key.Matches(k, o.keys.Down):
		o.cols.ScrollDown(1)
	case key.Matches(k, o.keys.PageUp):
		o.cols.PageUp()
	case key.Matches(k, o.keys.PageDown):
		o.cols.PageDown()
	case key.Matches(k, o.keys.Top):
		o.cols.GotoTop()
	case key.Matches(k, o.keys.Bottom):
		o.cols.GotoBottom()
	default:
		o.shown = false
		return true
	}
	return false
}

// layout lays the groups out in columns that fit the width, and sizes the
// viewport to the height: title, blank, the columns, blank, footer, and
// the border's two lines.
func (o *helpOverlay) layout() {
	if !o.shown {
		return
	}
	lines := helpColumns(o.st, o.keys, o.commands, o.w)
	o.rows = len(lines)
	o.avail = max(o.h-2-4, 3)
	o.cols.SetHeight(min(o.avail, len(lines)))
	if len(lines) > 0 {
		o.cols.SetWidth(ansi.StringWidth(lines[0]))
	}
	o.cols.SetContentLines(lines)
	o.cols.SetYOffset(o.cols.YOffset())
}

// view draws the help as a box at most w×h cells, with the lines it shows
// of how many when they do not all fit.
func (o *helpOverlay) view() string {
	st := o.st
	more := ""
	if o.rows > o.avail {
		first := o.cols.YOffset() + 1
		more = st.Footer.Render(fmt.Sprintf(" · ↑↓ pgup/pgdn scroll · lines %d–%d of %d",
			first, min(first+o.cols.Height()-1, o.rows), o.rows))
	}
	title := st.HelpTitle.Render("dimtui — keys and commands")
	footer := st.Footer.Render("any other key closes") + more
	body := title + "\n\n" + o.cols.View() + "\n\n" + footer
	width := 0
	for _, l := range strings.Split(body, "\n") {
		width = max(width, ansi.StringWidth(l))
	}
	return st.HelpBox.Width(min(width+6, o.w)).Render(body)
}

// helpEntry is a line of the help: a key or a command with its
// arguments, and what it does.
type helpEntry struct {
	key  string // drawn already (a tick is styled)
	desc string
}

// helpBlock is a titled group of the help's entries.
type helpBlock struct {
	title   string
	entries []helpEntry
}

// helpBlocks is everything the help says: the enabled keys by what they
// are for, the slash commands with their arguments, and what the marks in
// the conversations, the delivery ticks and the contacts mean.
func helpBlocks(st *Styles, keys KeyMap, commands []slashCommand) []helpBlock {
	var blocks []helpBlock
	for _, g := range keys.HelpGroups() {
		b := helpBlock{title: g.Title}
		for _, k := range g.Keys {
			hk := k.Help()
			b.entries = append(b.entries, helpEntry{st.HelpKey.Render(hk.Key), hk.Desc})
		}
		blocks = append(blocks, b)
	}
	cmds := helpBlock{title: "Commands"}
	for _, c := range commands {
		name := "/" + c.Name
		if c.Args != "" {
			name += " " + c.Args
		}
		cmds.entries = append(cmds.entries, helpEntry{st.HelpKey.Render(name), c.Desc})
	}
	blocks = append(blocks, cmds)
	ticks := helpBlock{title: "Delivery ticks"}
	for _, t := range []struct {
		d    client.Delivery
		desc string
	}{{client.Sending, "sending: the station has not acknowledged it yet"},
		{client.AtStation, "at the station: it acknowledged the message"},
		{client.Delivered, "delivered: the receiver's client answered"},
		{client.Read, "read: the receiver saw it"},
		{client.Failed, "failed: not sent, or refused (the reason under it)"}} {
		ticks.entries = append(ticks.entries, helpEntry{renderTick(st, t.d), t.desc})
	}
	marks := helpBlock{title: "Marks", entries: []helpEntry{
		{st.Notice.Render("•"), "a notice from dimtui: the connection, the handshake"},
		{st.NoticeError.Render("✗"), "a notice of something that failed"},
		{st.Receipt.Render("↪"), "a receipt (or a resend) under the message it is about"},
		{st.Notice.Render("▲"), "what the station was made to do (workshop)"},
		{st.Selected.Render("▌"), "the selected message (ctrl+y copies it)"},
		{st.Online.Render("●") + " " + st.Offline.Render("○"), "a contact online, offline"},
		{st.Selected.Render("▸"), "the contact whose conversation is open"},
	}}
	return append(blocks, ticks, marks)
}

// helpMinColumn is the narrowest a column of the help is made: a key and
// a description of some twenty cells.
const helpMinColumn = 36

// helpColumns lays the help's blocks out for a window w cells wide: in as
// many columns as fit (three at most), each as wide as the window allows,
// the descriptions wrapped, never cut. A key longer than its block's key
// column has its description on the lines under it. Every line has the
// same width.
func helpColumns(st *Styles, keys KeyMap, commands []slashCommand, w int) []string {
	ncols, colW := helpGrid(w)
	var drawn [][]string
	for _, b := range helpBlocks(st, keys, commands) {
		drawn = append(drawn, drawBlock(st, b, colW))
	}
	cols := balance(drawn, ncols)
	rows := 0
	for _, col := range cols {
		rows = max(rows, len(col))
	}
	var lines []string
	for i := range rows {
		var b strings.Builder
		for j, col := range cols {
			if j > 0 {
				b.WriteString("   ")
			}
			cell := ""
			if i < len(col) {
				cell = col[i]
			}
			b.WriteString(display.Fit(cell, colW))
		}
		lines = append(lines, b.String())
	}
	return lines
}

// balance puts the blocks, in their order, in up to n columns (a blank
// line between two blocks) so that the tallest column is as short as it
// can be.
func balance(blocks [][]string, n int) [][]string {
	// best[i][c]: the tallest column's height when blocks[i:] fill c
	// columns; cut[i][c]: where the first of those columns ends.
	k := len(blocks)
	height := func(i, j int) int { // blocks[i:j] in one column
		h := 0
		for _, b := range blocks[i:j] {
			h += len(b) + 1
		}
		return max(h-1, 0)
	}
	best := make([][]int, k+1)
	cut := make([][]int, k+1)
	for i := range best {
		best[i], cut[i] = make([]int, n+1), make([]int, n+1)
	}
	for i := k - 1; i >= 0; i-- {
		best[i][1], cut[i][1] = height(i, k), k
		for c := 2; c <= n; c++ {
			best[i][c], cut[i][c] = best[i][c-1], k
			for j := i + 1; j < k; j++ {
				if h := max(height(i, j), best[j][c-1]); h < best[i][c] {
					best[i][c], cut[i][c] = h, j
				}
			}
		}
	}
	var cols [][]string
	for i, c := 0, n; i < k && c > 0; c-- {
		j := cut[i][c]
		var col []string
		for _, b := range blocks[i:j] {
			if len(col) > 0 {
				col = append(col, "")
			}
			col = append(col, b...)
		}
		cols = append(cols, col)
		i = j
	}
	return cols
}

// helpGrid is how many columns the help has in a window w cells wide, and
// their width; three cells part them.
func helpGrid(w int) (ncols, colW int) {
	innerW := max(w-2-4, helpMinColumn)
	ncols = max(min((innerW+3)/(helpMinColumn+3), 3), 1)
	return ncols, (innerW - 3*(ncols-1)) / ncols
}

// drawBlock draws a block in a column colW cells wide: its title, then
// each key in a column as wide as the block's keys (up to half the column)
// and its description wrapped beside it.
func drawBlock(st *Styles, b helpBlock, colW int) []string {
	keyW := 0
	for _, e := range b.entries {
		if kw := ansi.StringWidth(e.key); kw <= colW/2 {
			keyW = max(keyW, kw)
		}
	}
	keyW = max(keyW, 3)
	descW := max(colW-keyW-1, 8)
	indent := strings.Repeat(" ", keyW+1)
	out := []string{st.HelpGroup.Render(b.title)}
	for _, e := range b.entries {
		desc := display.Wrap(e.desc, descW)
		first := display.Fit(e.key, keyW) + " "
		if ansi.StringWidth(e.key) > keyW {
			out = append(out, e.key)
			first = indent
		}
		for i, d := range desc {
			if i == 0 {
				out = append(out, first+st.HelpDesc.Render(d))
			} else {
				out = append(out, indent+st.HelpDesc.Render(d))
			}
		}
	}
	return out
}
