package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"dimtui/display"
)

// The sizes the screen is laid out with. A projector at a large font gives
// a terminal of about 100×30 or 80×24, so every size down to the minimum
// keeps the focused pane's status bar and composer on the screen.
const (
	// minScreenWidth is the narrowest terminal the screen is drawn in;
	// below it (or below minHeight) it says what it needs instead.
	minScreenWidth = 40
	// sideBySideWidth is the width each pane needs for panes to go side by
	// side: the status bar and a chat line still read. Two panes do from
	// 117 columns.
	sideBySideWidth = 58
	// minPaneHeight is the focused pane's height at the least: its status
	// bar, a line of conversation under its title, and the composer.
	minPaneHeight = 6
	// squeezedPaneHeight is another pane's height at the least: its status
	// bar, when the rows are too few for every pane to show more.
	squeezedPaneHeight = 2
	// The step-through panel: its width beside the panes, its height
	// under them.
	panelMinWidth, panelMaxWidth   = 42, 72
	panelMinHeight, panelMaxHeight = 5, 16
)

// screenLayout is where the panes and the step-through panel go on the
// App's screen.
type screenLayout struct {
	panes []rect
	panel rect // w = 0 when the panel is not shown
	// small: the terminal is below the minimum (need), and the screen
	// says so instead of drawing the panes.
	small bool
	need  [2]int // width, height
}

// minSize is the smallest terminal the screen is drawn in: the focused
// pane whole, the other panes' status bars, and in workshop mode room for
// the panel under them.
func (a *App) minSize() (w, h int) {
	n := max(len(a.panes), 1)
	h = minPaneHeight + (n-1)*(squeezedPaneHeight+1)
	if a.ws != nil {
		h += panelMinHeight
	}
	return minScreenWidth, h
}

// layout places the panes and the panel for the window's size. Several
// panes go side by side when each keeps sideBySideWidth, stacked otherwise;
// the panel goes beside them when they keep that width, under them
// otherwise. With the panel shown, the panes side by side beside it come
// first, then side by side over it, then stacked beside it, then stacked
// over it.
func (a *App) layout() screenLayout {
	var l screenLayout
	l.need[0], l.need[1] = a.minSize()
	if a.width < l.need[0] || a.height < l.need[1] {
		l.small = true
		return l
	}
	n := len(a.panes)
	area := rect{0, 0, a.width, a.height}
	if a.ws != nil && a.ws.panelShown() {
		l.panel, area = a.placePanel(n)
	}
	l.panes = splitPanes(area, n, a.focused)
	return l
}

// placePanel returns where the step-through panel goes and the area left
// for n panes.
func (a *App) placePanel(n int) (panel, panes rect) {
	w, h := a.width, a.height
	beside := func(pw int) (rect, rect) {
		pw = min(max(pw, panelMinWidth), panelMaxWidth)
		return rect{w - pw, 0, pw, h}, rect{0, 0, w - pw, h}
	}
	sideBySide := n*sideBySideWidth + n - 1
	switch {
	case n > 1 && w-sideBySide >= panelMinWidth:
		return beside(w - sideBySide)
	case n > 1 && w >= sideBySide:
		// Over the panel: the panes side by side read better than stacked.
	case w-sideBySideWidth >= panelMinWidth:
		return beside(min(w*45/100, w-sideBySideWidth))
	}
	// Under the panes, leaving each pane its height if it can, else the
	// focused one its own and the others their status bars.
	room := n*minPaneHeight + n - 1
	if h-room < panelMinHeight {
		room = minPaneHeight + (n-1)*(squeezedPaneHeight+1)
	}
	ph := min(min(max(h*40/100, 10), panelMaxHeight), max(h-room, panelMinHeight))
	return rect{0, h - ph, w, ph}, rect{0, 0, w, h - ph}
}

// splitPanes divides area among n panes: side by side when each keeps
// sideBySideWidth, else stacked. Stacked panes share the rows evenly while
// each gets minPaneHeight; with fewer rows the focused pane keeps
// minPaneHeight and the others share the rest.
func splitPanes(area rect, n, focused int) []rect {
	out := make([]rect, n)
	if n == 1 {
		out[0] = area
		return out
	}
	if (area.w-(n-1))/n >= sideBySideWidth {
		w := (area.w - (n - 1)) / n
		for i := range out {
			out[i] = rect{area.x + i*(w+1), area.y, w, area.h}
			if i == n-1 {
				out[i].w = area.w - i*(w+1)
			}
		}
		return out
	}
	rows := area.h - (n - 1)
	hs := make([]int, n)
	if rows/n >= minPaneHeight {
		for i := range hs {
			hs[i] = rows / n
			if i < rows%n {
				hs[i]++
			}
		}
	} else {
		hs[focused] = minPaneHeight
		rest, others := rows-minPaneHeight, n-1
		j := 0
		for i := range hs {
			if i == focused {
				continue
			}
			hs[i] = rest / others
			if j < rest%others {
				hs[i]++
			}
			j++
		}
	}
	y := area.y
	for i := range out {
		out[i] = rect{area.x, y, area.w, hs[i]}
		y += hs[i] + 1
	}
	return out
}

// paneRects is where each pane goes; empty when the terminal is too small.
func (a *App) paneRects() []rect { return a.layout().panes }

// panelRect is where the step-through panel goes; w = 0 when it is not
// shown.
func (a *App) panelRect() rect { return a.layout().panel }

// smallView says, in the middle of the screen, that the terminal is below
// the minimum: the size it needs and the size it has.
func smallView(st *Styles, w, h, needW, needH int) string {
	text := []struct {
		style func(...string) string
		text  string
	}{
		{st.HelpTitle.Render, "The window is too small for dimtui."},
		{st.HelpDesc.Render, ""},
		{st.HelpDesc.Render, fmt.Sprintf("It is %d×%d; dimtui needs at least %d×%d.", w, h, needW, needH)},
		{st.HelpDesc.Render, "Make the window larger or the font smaller."},
		{st.HelpDesc.Render, ""},
		{st.Footer.Render, "ctrl+c quits"},
	}
	var lines []string
	for _, t := range text {
		for _, l := range display.Wrap(t.text, max(w-2, 1)) {
			pad := strings.Repeat(" ", max((w-ansi.StringWidth(l))/2, 0))
			lines = append(lines, pad+t.style(l))
		}
	}
	top := max((h-len(lines))/2, 0)
	out := make([]string, h)
	for i := range out {
		out[i] = strings.Repeat(" ", w)
		if j := i - top; j >= 0 && j < len(lines) {
			out[i] = display.Fit(lines[j], w)
		}
	}
	return strings.Join(out, "\n")
}
