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
	"dimtui/workshop"
)

// fullPanelWidth bounds the full-screen panel's text: wider lines are hard
// to follow from the back of a room.
const fullPanelWidth = 100

// fullPanel is the step-through panel shown over the whole screen (f5),
// scrolled in a viewport: the whole explanation and every frame held,
// whatever the window's size.
type fullPanel struct {
	shown bool
	vp    viewport.Model
	head  *heldFrame // the frame the text explains; a new one starts at the top
}

// head returns the frame the panel explains: the oldest whose release was
// not asked for yet, else the oldest; nil when nothing is held.
func (w *workshopMode) head() *heldFrame {
	for _, h := range w.queue {
		if !h.asked {
			return h
		}
	}
	if len(w.queue) > 0 {
		return w.queue[0]
	}
	return nil
}

// sync settles what the panel draws after a message: the explanation of
// the frame held next, made with what its pane knows now, and the
// full-screen panel's text and scroll position.
func (w *workshopMode) sync(a *App) {
	head := w.head()
	if head != nil && head.expl == nil {
		if p := a.pane(head.pane); p != nil {
			e := p.viewpoint().Explain(workshop.Frame{Dir: head.ev.Dir, Raw: head.ev.Raw, Kind: head.ev.Kind,
				Layers: head.ev.Layers, Held: true})
			head.expl = &e
		}
	}
	if !w.full.shown {
		return
	}
	cw := min(a.width-2, fullPanelWidth)
	next, then := w.panelBody(a, cw)
	if len(then) > 0 {
		next = append(next, "", " "+a.styles.PanelLabel.Render("Then"))
		next = append(next, then...)
	}
	w.full.vp.SetWidth(cw)
	w.full.vp.SetHeight(max(a.height-2-len(w.panelHeader(a.styles, cw)), 1))
	w.full.vp.SetContentLines(next)
	if head != w.full.head {
		w.full.head = head
		w.full.vp.GotoTop()
	}
	w.full.vp.SetYOffset(w.full.vp.YOffset()) // in range for the new text
}

// toggleFull shows the panel over the whole screen, or the panes again.
func (w *workshopMode) toggleFull(a *App) {
	w.full.shown = !w.full.shown
	w.full.head = nil
	if w.full.shown {
		w.full.vp = viewport.New()
		w.full.vp.FillHeight = true
	}
}

// fullKey handles a key while the panel is full screen: the arrows and
// the page keys scroll it, Enter releases the next frame, esc goes back to
// the panes, ? and f1 open the help; the other keys do nothing, since
// nothing that takes them is on the screen.
func (w *workshopMode) fullKey(a *App, k tea.KeyPressMsg) tea.Cmd {
	keys, vp := a.keys, &w.full.vp
	switch {
	case key.Matches(k, keys.Back):
		w.toggleFull(a)
	case key.Matches(k, keys.Send):
		return w.release(a, 1)
	case key.Matches(k, keys.Help):
		return showHelp
	case key.Matches(k, keys.Up):
		vp.ScrollUp(1)
	case key.Matches(k, keys.Down):
		vp.ScrollDown(1)
	case key.Matches(k, keys.PageUp):
		vp.PageUp()
	case key.Matches(k, keys.PageDown):
		vp.PageDown()
	case key.Matches(k, keys.Top):
		vp.GotoTop()
	case key.Matches(k, keys.Bottom):
		vp.GotoBottom()
	}
	return nil
}

// fullMouse scrolls the full-screen panel with the wheel.
func (w *workshopMode) fullMouse(msg tea.MouseMsg) {
	if m, ok := msg.(tea.MouseWheelMsg); ok {
		switch m.Button {
		case tea.MouseWheelUp:
			w.full.vp.ScrollUp(3)
		case tea.MouseWheelDown:
			w.full.vp.ScrollDown(3)
		}
	}
}

// fullView draws the full-screen panel: the panel's title, the text
// scrolled, and a footer with the keys and where the text is at, in a
// column of the viewport's width in the middle of the screen.
func (w *workshopMode) fullView(a *App) string {
	st, width := a.styles, a.width
	vp := &w.full.vp
	cw := vp.Width()
	margin := strings.Repeat(" ", max((width-cw)/2, 0))
	back := keyHints(st, [][2]string{{"f5/esc", "back to the panes"}}, cw)
	head := w.panelHeader(st, cw-ansi.StringWidth(back)-1)
	lines := []string{margin + joinEnds(st.Text, head[0], back, cw)}
	for _, l := range head[1:] {
		lines = append(lines, margin+l)
	}
	lines = append(lines, "")
	for _, l := range strings.Split(vp.View(), "\n") {
		lines = append(lines, margin+l)
	}
	where := "all shown"
	if total := vp.TotalLineCount(); total > vp.Height() {
		first := vp.YOffset() + 1
		where = fmt.Sprintf("lines %d–%d of %d", first, min(first+vp.Height()-1, total), total)
	}
	where = st.ScrollHint.Render(where)
	keys := keyHints(st, [][2]string{{"↑↓ pgup/pgdn", "scroll"}, {"f8/enter", "next"}, {"f9", "run"}, {"f7", "step on/off"}},
		cw-ansi.StringWidth(where)-1)
	lines = append(lines, margin+joinEnds(st.Text, keys, where, cw))
	return clip(strings.Join(lines, "\n"), width, a.height)
}

// keyHints draws keys and what they do as the footers do, as many as fit
// in width cells.
func keyHints(st *Styles, hints [][2]string, width int) string {
	sep := st.Help.ShortSeparator.Render(" • ")
	out := ""
	for _, h := range hints {
		hint := st.Help.ShortKey.Render(h[0]) + " " + st.Help.ShortDesc.Render(h[1])
		if out != "" {
			hint = sep + hint
		}
		if ansi.StringWidth(out+hint) > width {
			break
		}
		out += hint
	}
	return out
}

// panelHeader is the panel's title line, width cells wide: the step mode
// and how many frames are held, on a second line when they do not fit.
func (w *workshopMode) panelHeader(st *Styles, width int) []string {
	mode := w.modeName()
	title := st.PanelTitle.Render("STEP-THROUGH") + " "
	held := display.Plural(len(w.queue), "frame") + " held"
	if w.running {
		held += " · running to the next stop"
	}
	if one := title + st.Footer.Render(mode+" · "+held); ansi.StringWidth(one) <= width {
		return []string{display.Fit(one, width)}
	}
	out := []string{display.Fit(title+st.Footer.Render(held), width)}
	for _, l := range display.Wrap("stepping: "+mode, max(width-1, 8)) {
		out = append(out, display.Fit(" "+st.Footer.Render(l), width))
	}
	return out
}

// panelBody is the panel's text, inner cells wide: the next frame to
// release, explained (or what step-through does, when nothing is held),
// then one line for each frame held after it.
func (w *workshopMode) panelBody(a *App, inner int) (next, then []string) {
	st := a.styles
	add := func(s string) { next = append(next, display.Fit(s, inner)) }
	para := func(style func(...string) string, text string, indent int) {
		for _, l := range display.Wrap(display.Sanitize(text, false), max(inner-indent, 8)) {
			add(strings.Repeat(" ", indent) + style(l))
		}
	}
	head := w.head()
	if head == nil {
		add("")
		para(st.Empty.Render, w.idleHint(), 1)
	} else {
		p := a.pane(head.pane)
		who := ""
		if p != nil {
			who = display.Name(p.me) + " "
		}
		where := "held: not written yet"
		if head.ev.Dir == client.In {
			where = "held: not processed yet"
		}
		add(" " + st.Footer.Render(fmt.Sprintf("next #%d %s", head.ev.Number, who)) + dirStyle(st, head.ev.Dir) +
			st.Footer.Render(fmt.Sprintf(" %s %s", head.ev.Kind, display.Size(len(head.ev.Raw)))))
		if e := head.expl; e != nil {
			para(st.FocusedTitle.Render, e.Title, 1)
			// The step and where the frame is, on a line each when they
			// do not fit on one: "held: not processed yet" is not cut.
			switch step := e.Step + " · " + where; {
			case e.Step == "":
				para(st.PanelStep.Render, where, 1)
			case ansi.StringWidth(step) <= inner-1:
				para(st.PanelStep.Render, step, 1)
			default:
				para(st.PanelStep.Render, e.Step, 1)
				para(st.PanelStep.Render, where, 1)
			}
			for _, s := range e.Sections() {
				add("")
				add(" " + st.PanelLabel.Render(s[0]))
				para(st.PanelText.Render, s[1], 2)
			}
		}
	}
	for _, h := range w.queue {
		if h == head {
			continue
		}
		who := ""
		if p := a.pane(h.pane); p != nil {
			who = display.Name(p.me) + " "
		}
		then = append(then, display.Fit(st.PanelQueue.Render(fmt.Sprintf(" #%d %s", h.ev.Number, who))+dirStyle(st, h.ev.Dir)+
			st.PanelQueue.Render(" "+heldSummary(h.ev)), inner))
	}
	return next, then
}

// panelView draws the step-through panel in r, beside the panes (r.x > 0)
// or under them: the next frame to release, explained, and the frames held
// after it as room allows. What does not fit, f5 shows full screen.
func (w *workshopMode) panelView(a *App, r rect) string {
	st := a.styles
	side := r.x > 0
	inner := r.w
	if side {
		inner = r.w - 2 // the separator and a space
	}
	inner = max(inner, 10)
	lines := w.panelHeader(st, inner)
	next, rest := w.panelBody(a, inner)
	lines = append(lines, next...)
	footer := " " + keyHints(st, [][2]string{{"f8/enter", "next"}, {"f9", "run"}, {"f5", "full screen"},
		{"f7", "step on/off"}}, inner-1)

	avail := r.h - 1 // the footer
	if !side {
		avail-- // the rule above
	}
	if len(rest) > 0 && len(lines)+2 < avail {
		lines = append(lines, "", display.Fit(" "+st.PanelLabel.Render("Then"), inner))
		room := avail - len(lines)
		if len(rest) > room {
			more := len(rest) - room + 1
			rest = append(rest[:room-1], display.Fit(st.PanelQueue.Render(fmt.Sprintf("  … %d more", more)), inner))
		}
		lines = append(lines, rest...)
	}
	if len(lines) > avail {
		lines = append(lines[:max(avail-1, 0)], display.Fit(st.ScrollHint.Render(" … f5 shows the rest, full screen"), inner))
	}
	for len(lines) < avail {
		lines = append(lines, strings.Repeat(" ", inner))
	}
	lines = append(lines, footer)
	if side {
		sep := st.Border.Render("│")
		for i, l := range lines {
			lines[i] = sep + " " + l
		}
	} else {
		lines = append([]string{st.Border.Render(strings.Repeat("─", r.w))}, lines...)
	}
	for i, l := range lines {
		lines[i] = display.Fit(l, r.w)
	}
	return strings.Join(lines[:min(len(lines), r.h)], "\n")
}

func dirStyle(st *Styles, d client.Direction) string {
	if d == client.In {
		return st.DirIn.Render("← in")
	}
	return st.DirOut.Render("→ out")
}

// heldSummary says in a few words what a held frame is.
func heldSummary(ev client.HeldEvent) string {
	if ev.Layers == nil || ev.Layers.Reliable == nil {
		return string(ev.Kind) + " " + display.Truncate(display.Sanitize(string(ev.Raw), false), 24)
	}
	if ev.Layers.Instant != nil {
		return display.ContentTitle(ev.Layers.Instant.Content)
	}
	if to := ev.Layers.Reliable.Receiver; to.IsBroadcast() {
		// Not opened yet (its sender's key is asked for): still a broadcast.
		return string(ev.Kind) + " broadcast to " + display.Sanitize(to.String(), false)
	}
	return string(ev.Kind)
}
