package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// frameRec is one frame the inspector lists.
type frameRec struct {
	seq     int // 1, 2, ... in arrival order
	at      time.Time
	dir     client.Direction
	kind    client.FrameKind
	raw     []byte
	layers  *client.Layers
	cut     *client.FrameCut // set when only the head of the frame is kept
	summary string
	cost    int // what keeping it costs, estimated (keptCost)
}

// size is the frame's length, whole.
func (f *frameRec) size() int {
	if f.cut != nil {
		return f.cut.Size
	}
	return len(f.raw)
}

// inspector lists every frame in and out and opens the selected one layer
// by layer: Reliable (as it travelled, and whether its signature verified),
// Secure (the encrypted data, the key bundle, the IV), Instant (the content
// in the clear). The list keeps the selection in view; the layers scroll
// in a viewport.
type inspector struct {
	st       *Styles
	keys     KeyMap
	frames   []frameRec
	max      int // frames
	maxBytes int // their cost
	bytes    int // the cost of frames
	seq      int
	sel      int // index in frames; -1 follows the newest
	listTop  int
	// The layers of the selected frame, rendered for a width (detailKey:
	// seq, width, styles generation, full) and scrolled.
	detail    viewport.Model
	detailKey [4]int
	full      bool // long values wrapped in full instead of cut
	zoom      bool // the inspector takes the whole width
	gen       int  // bumped when the styles change
	w, h      int  // w = 0 when hidden
	focused   bool
}

func newInspector(st *Styles, keys KeyMap, maxFrames, maxBytes int) inspector {
	vp := viewport.New()
	vp.FillHeight = true
	return inspector{st: st, keys: keys, max: maxFrames, maxBytes: maxBytes, sel: -1, detail: vp}
}

func (in *inspector) setSize(w, h int) {
	in.w, in.h = w, h
	in.fit()
}

func (in *inspector) setFocus(focused bool) { in.focused = focused }
func (in *inspector) help() []key.Binding   { return in.keys.inspectorHelp() }

// restyle redraws the layers with the styles, which changed.
func (in *inspector) restyle() {
	in.gen++
	in.fit()
}

// zoomed reports whether the inspector takes the pane's whole width.
func (in *inspector) zoomed() bool { return in.zoom }

// add records a frame; a long one is kept by its head.
func (in *inspector) add(me dimp.ID, ev client.FrameEvent) {
	ev = ev.Shrunk(maxKeptFrame)
	in.seq++
	f := frameRec{seq: in.seq, at: ev.Time, dir: ev.Dir, kind: ev.Kind, raw: ev.Raw, layers: ev.Layers, cut: ev.Cut}
	f.summary = frameSummary(me, f)
	f.cost = keptCost(len(f.raw))
	in.frames = append(in.frames, f)
	in.bytes += f.cost
	if len(in.frames) > in.max || in.bytes > in.maxBytes {
		in.trim()
	}
	in.fit()
}

// trim forgets the oldest frames down to nine tenths of both bounds at
// once, so that a full list is not copied on every frame.
func (in *inspector) trim() {
	over := 0
	for over < len(in.frames)-1 && (len(in.frames)-over > in.max-in.max/10 || in.bytes > in.maxBytes-in.maxBytes/10) {
		in.bytes -= in.frames[over].cost
		over++
	}
	in.frames = append(in.frames[:0:0], in.frames[over:]...)
	if in.sel >= 0 {
		in.sel = max(in.sel-over, 0)
	}
	in.listTop = max(in.listTop-over, 0)
}

// current returns the index of the selected frame (the newest when
// following), -1 when there are none.
func (in *inspector) current() int {
	if in.sel >= 0 && in.sel < len(in.frames) {
		return in.sel
	}
	return len(in.frames) - 1
}

// move changes the selection by d frames; moving past the newest follows.
func (in *inspector) move(d int) {
	if len(in.frames) == 0 {
		return
	}
	i := in.current() + d
	switch {
	case i >= len(in.frames):
		in.sel = -1
	case i < 0:
		in.sel = 0
	default:
		in.sel = i
	}
	in.detail.SetYOffset(0)
	in.fit()
}

// first selects the oldest frame, last follows the newest.
func (in *inspector) first() { in.selectFrame(0) }
func (in *inspector) last()  { in.selectFrame(-1) }

// selectFrame selects frame i (-1: follow the newest) and shows the top
// of its layers.
func (in *inspector) selectFrame(i int) {
	in.sel = i
	in.detail.SetYOffset(0)
	in.fit()
}

// scrollDetail scrolls the layers view by n lines.
func (in *inspector) scrollDetail(n int) {
	in.detail.SetYOffset(in.detail.YOffset() + n)
}

// inspectorGeometry splits the inspector's height: the list, then the
// detail, each under a title line.
func inspectorGeometry(h int) (listH, detailH int) {
	listH = min(max((h-2)/3, 3), 10)
	detailH = max(h-2-listH, 0)
	return listH, detailH
}

// fit keeps the selection in the list's view and the layers of the
// selected frame drawn for the width and scrolled within them, while the
// inspector shows.
func (in *inspector) fit() {
	if in.w <= 0 {
		return
	}
	listH, detailH := inspectorGeometry(in.h)
	in.listTop = keepInView(in.listTop, in.current(), len(in.frames), listH)
	cur := in.current()
	if cur < 0 {
		return
	}
	f := in.frames[cur]
	full := 0
	if in.full {
		full = 1
	}
	in.detail.SetWidth(in.w)
	in.detail.SetHeight(detailH)
	if k := [4]int{f.seq, in.w, in.gen, full}; k != in.detailKey {
		lines := renderLayers(in.st, f, in.w, in.full)
		for i, l := range lines {
			lines[i] = display.Fit(l, in.w)
		}
		in.detail.SetContentLines(lines)
		in.detailKey = k
	}
	in.detail.SetYOffset(in.detail.YOffset()) // within the new height
}

// update handles the inspector's keys while it has the focus, and the
// mouse over it (x and y relative to the inspector, its title on row 0):
// the wheel over the list moves the selection, over the layers scrolls
// them; a click selects a frame.
func (in *inspector) update(msg tea.Msg) {
	listH, detailH := inspectorGeometry(in.h)
	page := max(detailH-1, 1)
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, in.keys.Up):
			in.move(-1)
		case key.Matches(msg, in.keys.Down):
			in.move(1)
		case key.Matches(msg, in.keys.Top):
			in.first()
		case key.Matches(msg, in.keys.Bottom):
			in.last()
		case key.Matches(msg, in.keys.PageUp):
			in.scrollDetail(-page)
		case key.Matches(msg, in.keys.PageDown):
			in.scrollDetail(page)
		case key.Matches(msg, in.keys.Zoom):
			in.zoom = !in.zoom
		case key.Matches(msg, in.keys.Wrap):
			in.full = !in.full
			in.fit()
		}
	case tea.MouseWheelMsg:
		dir := 0
		switch msg.Button {
		case tea.MouseWheelUp:
			dir = -1
		case tea.MouseWheelDown:
			dir = 1
		default:
			return
		}
		if msg.Y <= listH {
			in.move(dir)
		} else {
			in.scrollDetail(3 * dir)
		}
	case tea.MouseClickMsg:
		if row := in.listTop + msg.Y - 1; msg.Y > 0 && msg.Y <= listH && row < len(in.frames) {
			in.selectFrame(row)
		}
	}
}

// view draws the inspector in its w×h cells.
func (in *inspector) view() string {
	st, w, h := in.st, in.w, in.h
	listH, detailH := inspectorGeometry(h)
	title := st.Title
	if in.focused {
		title = st.FocusedTitle
	}
	out := make([]string, 0, h)
	hint := ""
	if !in.focused {
		hint = "  tab here: ↑↓ frame · z zoom · w wrap"
	}
	out = append(out, display.Fit(title.Render(fmt.Sprintf("Inspector · %s", display.Plural(len(in.frames), "frame")))+
		st.Footer.Render(hint), w))

	// The list, scrolled so that the selection shows.
	cur := in.current()
	for i := range listH {
		j := in.listTop + i
		if j >= len(in.frames) {
			out = append(out, strings.Repeat(" ", w))
			continue
		}
		row := frameRow(st, in.frames[j], w-1)
		if j == cur {
			out = append(out, st.Selected.Render("▌")+st.SelectedRow.Render(display.Fit(ansi.Strip(row), w-1)))
		} else {
			out = append(out, " "+display.Fit(row, w-1))
		}
	}

	// The layers of the selected frame.
	if cur < 0 {
		out = append(out, display.Fit(st.Title.Render("Layers"), w))
		for len(out) < h {
			out = append(out, display.Fit(st.Empty.Render(" No frames yet."), w))
		}
		return strings.Join(out[:h], "\n")
	}
	f := in.frames[cur]
	more := ""
	if n, top := in.detail.TotalLineCount(), in.detail.YOffset(); n > detailH {
		more = fmt.Sprintf(" · lines %d-%d of %d", top+1, min(top+detailH, n), n)
	}
	out = append(out, display.Fit(title.Render(fmt.Sprintf("Frame #%d", f.seq))+st.Footer.Render(fmt.Sprintf(" %s %s, %s%s",
		dirLabel(f.dir), f.kind, display.Size(f.size()), more)), w))
	if detailH > 0 {
		out = append(out, strings.Split(in.detail.View(), "\n")...)
	}
	return strings.Join(out[:h], "\n")
}

func dirLabel(d client.Direction) string {
	if d == client.In {
		return "← in"
	}
	return "→ out"
}

// frameRow draws a frame in the list: time, direction, kind, size, summary.
func frameRow(st *Styles, f frameRec, w int) string {
	dir := st.DirOut.Render("→ out")
	if f.dir == client.In {
		dir = st.DirIn.Render("← in ")
	}
	row := st.Time.Render(f.at.Format("15:04:05.000")) + " " + dir + " " +
		st.Kind.Render(display.Fit(string(f.kind), 9)) + " " + st.Size.Render(fitLeft(display.Size(f.size()), 8)) + "  "
	return row + st.InspectorSum.Render(display.Truncate(f.summary, max(w-ansi.StringWidth(row), 1)))
}

// frameSummary says in a few words what a frame is.
func frameSummary(me dimp.ID, f frameRec) string {
	if f.layers == nil {
		return display.Sanitize(display.Truncate(string(f.raw), 60), false)
	}
	l := f.layers
	if l.Reliable == nil {
		return "not a DIM message"
	}
	who := func(id dimp.ID) string {
		if id.SameAs(me) {
			return "me"
		}
		return display.Name(id)
	}
	route := who(l.Reliable.Sender) + "→" + who(l.Reliable.Receiver)
	if l.Instant == nil {
		switch {
		case l.VerifyErr != nil:
			return route + " (not verified)"
		case l.OpenErr != nil:
			return route + " (not opened)"
		}
		return route
	}
	return route + " " + contentLabel(l.Instant.Content)
}

// contentLabel names a content briefly: a handshake's title, a text,
// a receipt's text, an app's app/mod/act, a command's name.
func contentLabel(c dimp.Content) string {
	switch c := c.(type) {
	case *dimp.HandshakeCommand:
		return c.Title
	case *dimp.TextContent:
		return "“" + display.Sanitize(display.Truncate(c.Text, 40), false) + "”"
	case *dimp.ReceiptCommand:
		return "receipt: " + display.Sanitize(c.Text, false)
	case *dimp.AppContent:
		return display.Sanitize(c.App+"/"+c.Mod+"/"+c.Act, false)
	case dimp.Command:
		return "command " + display.Sanitize(display.CommandName(c), false)
	}
	return c.Header().Type.String()
}
