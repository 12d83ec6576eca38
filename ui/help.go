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

// update scrolls with the arrows and the page keys; any other key closes
// the help.
func (o *helpOverlay) update(k tea.KeyPressMsg) (closed bool) {
	y := o.cols.YOffset()
	switch {
	case key.Matches(k, o.keys.Up):
		o.cols.SetYOffset(y - 1)
	case key.Matches(k, o.keys.Down):
		o.cols.SetYOffset(y + 1)
	case key.Matches(k, o.keys.PageUp):
		o.cols.SetYOffset(y - 10)
	case key.Matches(k, o.keys.PageDown):
		o.cols.SetYOffset(y + 10)
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

// view draws the help as a box at most w×h cells.
func (o *helpOverlay) view() string {
	st := o.st
	more := ""
	if o.rows > o.avail {
		more = st.Footer.Render(fmt.Sprintf(" · ↑↓ scroll (%d more)", o.rows-o.avail))
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

// helpColumns lays the help's groups out in up to three columns for a
// window w cells wide; every line has the same width.
func helpColumns(st *Styles, keys KeyMap, commands []slashCommand, w int) []string {
	const keyW, descW = 12, 24
	colW := keyW + 1 + descW
	var blocks [][]string
	for _, g := range keys.HelpGroups() {
		b := []string{st.HelpGroup.Render(g.Title)}
		for _, k := range g.Keys {
			hk := k.Help()
			b = append(b, st.HelpKey.Render(display.Fit(hk.Key, keyW))+" "+st.HelpDesc.Render(display.Truncate(hk.Desc, descW)))
		}
		blocks = append(blocks, b)
	}
	cmds := []string{st.HelpGroup.Render("Commands")}
	for _, c := range commands {
		name := "/" + c.Name
		cmds = append(cmds, st.HelpKey.Render(display.Fit(name, keyW))+" "+st.HelpDesc.Render(display.Truncate(c.Desc, descW)))
	}
	blocks = append(blocks, cmds)
	ticks := []string{st.HelpGroup.Render("Delivery ticks")}
	for _, t := range []struct {
		d    client.Delivery
		desc string
	}{{client.Sending, "sending"}, {client.AtStation, "at the station"}, {client.Delivered, "delivered"},
		{client.Read, "read"}, {client.Failed, "failed"}} {
		ticks = append(ticks, display.Fit(renderTick(st, t.d), keyW)+" "+st.HelpDesc.Render(t.desc))
	}
	blocks = append(blocks, ticks)

	innerW := max(w-2-4, colW)
	ncols := max(min((innerW+3)/(colW+3), 3), 1)
	total := 0
	for _, b := range blocks {
		total += len(b) + 1
	}
	per := (total + ncols - 1) / ncols
	cols := make([][]string, ncols)
	c := 0
	for _, b := range blocks {
		if c < ncols-1 && len(cols[c]) > 0 && len(cols[c])+len(b) > per {
			c++
		}
		if len(cols[c]) > 0 {
			cols[c] = append(cols[c], "")
		}
		cols[c] = append(cols[c], b...)
	}
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
