package ui

import (
	"fmt"
	"slices"
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
	seq     int    // 1, 2, ... in the order the client processed them; 0 while held
	uid     int    // unique among the inspector's records: what its drawn layers are cached by
	held    uint64 // step-through's number of a frame held (not processed yet); 0 once processed
	at      time.Time
	dir     client.Direction
	kind    client.FrameKind
	raw     []byte
	layers  *client.Layers
	cut     *client.FrameCut // set when only the head of the frame is kept
	msg     client.MessageID // the chat message the frame carries; "" when none
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

// control reports whether the frame is a control frame (PING, PONG, NOOP,
// OK, ACK): connection housekeeping, not a DIM message. Receipts are DIM
// messages (signed and encrypted like a chat message) and are not.
func (f *frameRec) control() bool { return f.kind == client.KindPing || f.kind == client.KindAck }

// unprocessed reports whether the frame is an incoming one step-through
// holds: the client has not verified or decrypted it yet, whatever a
// preview of it shows.
func (f *frameRec) unprocessed() bool { return f.held != 0 && f.dir == client.In }

// inspector lists every frame in and out and opens the selected one layer
// by layer: Reliable (as it travelled, and which key its signature
// verified with), Secure (the encrypted data, the message key and the key
// that decrypted it), Instant (the content in the clear). Frames that
// step-through holds are listed too, as not processed yet, until they are
// released. The list keeps the selection in view, and may hide the
// control frames; the layers scroll in a viewport.
type inspector struct {
	st       *Styles
	keys     KeyMap
	me       dimp.ID
	frames   []frameRec
	rows     []int // the indexes in frames of the frames listed (all, or all but control frames)
	max      int   // frames
	maxBytes int   // their cost
	bytes    int   // the cost of frames
	seq      int
	uids     int
	sel      int // index in frames; -1 follows the newest message
	listTop  int // index in rows
	// hideControl leaves the control frames out of the list.
	hideControl bool
	// The layers of the selected frame, rendered for a width (detailKey:
	// uid, width, styles generation, full) and scrolled.
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

// add records a frame the client processed (or wrote); a long one is kept
// by its head.
func (in *inspector) add(me dimp.ID, ev client.FrameEvent) {
	ev = ev.Shrunk(maxKeptFrame)
	in.seq++
	in.record(me, frameRec{seq: in.seq, at: ev.Time, dir: ev.Dir, kind: ev.Kind, raw: ev.Raw, layers: ev.Layers, cut: ev.Cut})
}

// addHeld records a frame step-through holds, until released says it went on.
func (in *inspector) addHeld(me dimp.ID, ev client.HeldEvent) {
	ev = ev.Shrunk(maxKeptFrame)
	in.record(me, frameRec{held: ev.Seq, at: ev.Time, dir: ev.Dir, kind: ev.Kind, raw: ev.Raw, layers: ev.Layers, cut: ev.Cut})
}

// record lists a frame.
func (in *inspector) record(me dimp.ID, f frameRec) {
	in.me = me
	in.uids++
	f.uid = in.uids
	if l := f.layers; l != nil && l.Instant != nil && l.Instant.Content != nil && !f.unprocessed() {
		f.msg = client.MessageIDOf(l.Instant)
	}
	f.summary = frameSummary(me, f)
	f.cost = keptCost(len(f.raw))
	in.frames = append(in.frames, f)
	in.bytes += f.cost
	if len(in.frames) > in.max || in.bytes > in.maxBytes {
		in.trim()
	} else if in.shows(&in.frames[len(in.frames)-1]) {
		in.rows = append(in.rows, len(in.frames)-1)
	}
	in.fit()
}

// released forgets the held frame step-through numbered seq: it went on,
// and the frame the client then processed or wrote is added as any other
// (or it was dropped with its connection). A selection on it follows the
// newest message again, which is that frame once processed.
func (in *inspector) released(seq uint64) {
	i := slices.IndexFunc(in.frames, func(f frameRec) bool { return f.held == seq })
	if i < 0 {
		return
	}
	in.bytes -= in.frames[i].cost
	in.frames = slices.Delete(in.frames, i, i+1)
	switch {
	case in.sel == i:
		in.sel = -1
		in.detail.SetYOffset(0)
	case in.sel > i:
		in.sel--
	}
	in.relist()
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
	in.relist()
}

// shows reports whether the list shows a frame.
func (in *inspector) shows(f *frameRec) bool { return !in.hideControl || !f.control() }

// relist makes the list of rows again, after frames left it or the filter
// changed, keeping the first row shown where it was when it can.
func (in *inspector) relist() {
	top := -1
	if in.listTop < len(in.rows) {
		top = in.rows[in.listTop]
	}
	in.rows = in.rows[:0]
	for i := range in.frames {
		if in.shows(&in.frames[i]) {
			in.rows = append(in.rows, i)
		}
	}
	in.listTop, _ = slices.BinarySearch(in.rows, top)
	in.fit()
}

// toggleControl hides the control frames from the list, or shows them
// again.
func (in *inspector) toggleControl() { in.setHideControl(!in.hideControl) }

// setHideControl hides the control frames from the list, or lists them.
// A control frame selected is left for the newest message.
func (in *inspector) setHideControl(hide bool) {
	in.hideControl = hide
	if in.sel >= 0 && !in.shows(&in.frames[in.sel]) {
		in.sel = -1
	}
	in.relist()
}

// current returns the index in frames of the selected frame, -1 when none
// is listed. Following, it is the newest message the client processed (a
// PONG or a frame still held is not the one to look at), else the newest
// frame listed.
func (in *inspector) current() int {
	if in.sel >= 0 && in.sel < len(in.frames) && in.shows(&in.frames[in.sel]) {
		return in.sel
	}
	for j := len(in.rows) - 1; j >= 0; j-- {
		if f := &in.frames[in.rows[j]]; f.layers != nil && f.held == 0 {
			return in.rows[j]
		}
	}
	if len(in.rows) == 0 {
		return -1
	}
	return in.rows[len(in.rows)-1]
}

// row returns the row of frame i in the list, -1 when it is not listed.
func (in *inspector) row(i int) int {
	if j, ok := slices.BinarySearch(in.rows, i); ok {
		return j
	}
	return -1
}

// currentFrame returns the selected frame, nil when there is none.
func (in *inspector) currentFrame() *frameRec {
	if i := in.current(); i >= 0 {
		return &in.frames[i]
	}
	return nil
}

// move changes the selection by d rows; moving past the last follows.
func (in *inspector) move(d int) {
	if len(in.rows) == 0 {
		return
	}
	j := in.row(in.current()) + d
	switch {
	case j >= len(in.rows):
		in.sel = -1
	case j < 0:
		in.sel = in.rows[0]
	default:
		in.sel = in.rows[j]
	}
	in.detail.SetYOffset(0)
	in.fit()
}

// first selects the oldest frame listed, last follows the newest message.
func (in *inspector) first() {
	if len(in.rows) > 0 {
		in.selectFrame(in.rows[0])
	}
}
func (in *inspector) last() { in.selectFrame(-1) }

// selectFrame selects frame i (-1: follow the newest message) and shows
// the top of its layers.
func (in *inspector) selectFrame(i int) {
	in.sel = i
	in.detail.SetYOffset(0)
	in.fit()
}

// selectMessage selects the newest frame that carried the chat message id
// (a message sent again after a reconnect went out in several); ok is
// false when no frame listed carries it.
func (in *inspector) selectMessage(id client.MessageID) (f *frameRec, ok bool) {
	for j := len(in.rows) - 1; j >= 0; j-- {
		if i := in.rows[j]; in.frames[i].msg == id {
			in.selectFrame(i)
			return &in.frames[i], true
		}
	}
	return nil, false
}

// scrollDetail scrolls the layers view by n lines.
func (in *inspector) scrollDetail(n int) {
	in.detail.SetYOffset(in.detail.YOffset() + n)
}

// inspectorGeometry splits the inspector's height: the list, then the
// detail, each under a title line. The list takes a third, from 3 rows
// (the layers need the room in a short pane) to 14 (a tall one shows a
// lesson's worth of messages).
func inspectorGeometry(h int) (listH, detailH int) {
	listH = min(max((h-2)/3, 3), 14)
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
	cur := in.current()
	in.listTop = keepInView(in.listTop, in.row(cur), len(in.rows), listH)
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
	if k := [4]int{f.uid, in.w, in.gen, full}; k != in.detailKey {
		lines := renderLayers(in.st, in.me, f, in.w, in.full)
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
// them; a click selects a frame. The jump to a frame's chat message is the
// pane's (see jump.go).
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
		case key.Matches(msg, in.keys.Control):
			in.toggleControl()
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
		if row := in.listTop + msg.Y - 1; msg.Y > 0 && msg.Y <= listH && row < len(in.rows) {
			in.selectFrame(in.rows[row])
		}
	}
}

// title is the inspector's first line: how many frames, and whether the
// control frames are hidden.
func (in *inspector) title() string {
	if !in.hideControl {
		return "Inspector · " + display.Plural(len(in.frames), "frame")
	}
	return fmt.Sprintf("Inspector · %d of %s · control frames hidden", len(in.rows), display.Plural(len(in.frames), "frame"))
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
		hint = "  tab here: ↑↓ frame · c control · enter chat · z zoom"
	}
	out = append(out, display.Fit(title.Render(in.title())+st.Footer.Render(hint), w))

	// The list, scrolled so that the selection shows.
	cur := in.current()
	for i := range listH {
		j := in.listTop + i
		if j >= len(in.rows) {
			out = append(out, strings.Repeat(" ", w))
			continue
		}
		row := frameRow(st, in.frames[in.rows[j]], w-1)
		if in.rows[j] == cur {
			out = append(out, st.Selected.Render("▌")+st.SelectedRow.Render(display.Fit(ansi.Strip(row), w-1)))
		} else {
			out = append(out, " "+display.Fit(row, w-1))
		}
	}

	// The layers of the selected frame.
	if cur < 0 {
		out = append(out, display.Fit(st.Title.Render("Layers"), w))
		empty := " No frames yet."
		if len(in.frames) > 0 {
			empty = " Only control frames so far: c shows them."
		}
		for len(out) < h {
			out = append(out, display.Fit(st.Empty.Render(empty), w))
		}
		return strings.Join(out[:h], "\n")
	}
	f := in.frames[cur]
	more := ""
	if n, top := in.detail.TotalLineCount(), in.detail.YOffset(); n > detailH {
		more = fmt.Sprintf(" · lines %d-%d of %d", top+1, min(top+detailH, n), n)
	}
	name := fmt.Sprintf("Frame #%d", f.seq)
	if f.held != 0 {
		name = "Held frame"
	}
	state := ""
	switch {
	case f.unprocessed():
		state = " · not processed yet"
	case f.held != 0:
		state = " · not sent yet"
	}
	out = append(out, display.Fit(title.Render(name)+st.Footer.Render(fmt.Sprintf(" %s %s, %s%s%s",
		dirLabel(f.dir), f.kind, display.Size(f.size()), state, more)), w))
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

// frameRow draws a frame in the list: time, direction, kind, size,
// summary; in a narrow inspector, without the milliseconds and the
// direction's word, so that the summary keeps some room.
func frameRow(st *Styles, f frameRec, w int) string {
	var row string
	if w < 80 {
		dir := st.DirOut.Render("→")
		if f.dir == client.In {
			dir = st.DirIn.Render("←")
		}
		row = st.Time.Render(f.at.Format("15:04:05")) + " " + dir + " " +
			st.Kind.Render(display.Fit(string(f.kind), 9)) + " " + st.Size.Render(fitLeft(display.Size(f.size()), 6)) + " "
	} else {
		dir := st.DirOut.Render("→ out")
		if f.dir == client.In {
			dir = st.DirIn.Render("← in ")
		}
		row = st.Time.Render(f.at.Format("15:04:05.000")) + " " + dir + " " +
			st.Kind.Render(display.Fit(string(f.kind), 9)) + " " + st.Size.Render(fitLeft(display.Size(f.size()), 8)) + "  "
	}
	sum := f.summary
	if f.held != 0 {
		sum = "⏸ held · " + sum
	}
	return row + st.InspectorSum.Render(display.Truncate(sum, max(w-ansi.StringWidth(row), 1)))
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
	if f.unprocessed() {
		return route + " (not processed yet)"
	}
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
