package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
	seq     int    // the frame's number in the session (workshop.Numbers), held or processed
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
	// What the search looks in besides raw, lower-cased (searchText),
	// and its last answer: whether the frame contains query.
	hay   string
	query string
	hit   bool
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
// control frames, list only messages or only chat (a filter one key
// cycles), or only the frames that contain a search query; the layers
// scroll in a viewport.
type inspector struct {
	st       *Styles
	keys     KeyMap
	me       dimp.ID
	frames   []frameRec
	rows     []int // the indexes in frames of the frames listed (see shows)
	max      int   // frames
	maxBytes int   // their cost
	bytes    int   // the cost of frames
	seq      int
	uids     int
	sel      int // index in frames; -1 follows the newest message
	listTop  int // index in rows
	// hideControl leaves the control frames out of the list.
	hideControl bool
	// filter lists all frames, the messages or the chat only.
	filter frameFilter
	// searching: the search line is open (under the title), and the keys
	// typed go to query; needle is query lower-cased, "" when none.
	searching     bool
	query, needle string
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

// setFocus gives the inspector the keys or takes them away. Leaving it
// (Esc, Tab, Enter to a message) clears the search: the frame found stays
// selected, among all the frames the filter lists.
func (in *inspector) setFocus(focused bool) {
	in.focused = focused
	if !focused && in.searching {
		in.closeSearch()
	}
}

// help names the inspector's keys, or the search line's while it is open.
func (in *inspector) help() []key.Binding {
	if in.searching {
		return in.keys.inspectorSearchHelp()
	}
	return in.keys.inspectorHelp()
}

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
	n := ev.Number
	if n == 0 {
		n = in.seq // not numbered by an App: the pane's own order
	}
	in.record(me, frameRec{seq: n, at: ev.Time, dir: ev.Dir, kind: ev.Kind, raw: ev.Raw, layers: ev.Layers, cut: ev.Cut})
}

// addHeld records a frame step-through holds, until released says it went on.
func (in *inspector) addHeld(me dimp.ID, ev client.HeldEvent) {
	ev = ev.Shrunk(maxKeptFrame)
	in.record(me, frameRec{seq: ev.Number, held: ev.Seq, at: ev.Time, dir: ev.Dir, kind: ev.Kind, raw: ev.Raw, layers: ev.Layers, cut: ev.Cut})
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
	f.hay = searchText(&f)
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

// shows reports whether the list shows a frame: the control-frames
// toggle, the filter and the search (whose answer the frame keeps) let
// it through.
func (in *inspector) shows(f *frameRec) bool {
	return (!in.hideControl || !f.control()) && in.filter.admits(f) && f.matches(in.needle)
}

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
// again. Under the messages or chat filter, which leave them out, it goes
// back to all frames with the control frames listed.
func (in *inspector) toggleControl() {
	if in.filter != filterAll {
		in.filter = filterAll
		in.setHideControl(false)
		return
	}
	in.setHideControl(!in.hideControl)
}

// setHideControl hides the control frames from the list, or lists them.
func (in *inspector) setHideControl(hide bool) {
	in.hideControl = hide
	in.refilter()
}

// cycleFilter lists all frames, then the messages, then the chat only.
func (in *inspector) cycleFilter() {
	in.filter = in.filter.next()
	in.refilter()
}

// openSearch opens the search line: the keys typed go to the query.
func (in *inspector) openSearch() {
	in.searching = true
	in.fit() // the line takes a row of the list
}

// setQuery lists the frames that contain q, ignoring case ("": all).
func (in *inspector) setQuery(q string) {
	in.query = q
	in.needle = strings.ToLower(q)
	in.refilter()
}

// closeSearch clears the query and closes the search line. The frame the
// search showed stays selected, among all the frames listed again.
func (in *inspector) closeSearch() {
	if in.query != "" && in.sel < 0 {
		in.sel = in.current()
	}
	in.searching = false
	in.setQuery("")
}

// refilter lists the frames again after the filter or the query changed.
// A selected frame they hide gives way to the nearest one listed before
// it (else after it); a selection that followed the newest message still
// does.
func (in *inspector) refilter() {
	in.relist()
	if in.sel < 0 || in.sel >= len(in.frames) || in.row(in.sel) >= 0 {
		return
	}
	j, _ := slices.BinarySearch(in.rows, in.sel)
	switch {
	case j > 0:
		in.selectFrame(in.rows[j-1])
	case j < len(in.rows):
		in.selectFrame(in.rows[j])
	default:
		in.selectFrame(-1)
	}
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
// false when no frame carries it. A frame the filter or the search hides
// is listed again: they give way to all frames.
func (in *inspector) selectMessage(id client.MessageID) (f *frameRec, ok bool) {
	for i := len(in.frames) - 1; i >= 0; i-- {
		if in.frames[i].msg != id {
			continue
		}
		if in.row(i) < 0 {
			in.filter, in.searching, in.query, in.needle = filterAll, false, "", ""
			in.relist()
		}
		in.selectFrame(i)
		return &in.frames[i], true
	}
	return nil, false
}

// scrollDetail scrolls the layers view by n lines.
func (in *inspector) scrollDetail(n int) {
	in.detail.SetYOffset(in.detail.YOffset() + n)
}

// inspectorGeometry splits the inspector's height: the list, then the
// detail, each under a title line (the search line, when open, takes the
// list's first row: see listRows). The list takes a third, from 3 rows
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
	_, detailH := inspectorGeometry(in.h)
	cur := in.current()
	in.listTop = keepInView(in.listTop, in.row(cur), len(in.rows), in.listRows())
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

// listRows is how many frames the list shows: its height, less the
// search line when it is open.
func (in *inspector) listRows() int {
	listH, _ := inspectorGeometry(in.h)
	if in.searching {
		return max(listH-1, 1)
	}
	return listH
}

// searchKey handles a key while the search line is open: what is typed
// goes to the query, Backspace takes the last character back (and closes
// the line when there is none); the others move as usual. ok is false
// for a key it leaves to them.
func (in *inspector) searchKey(k tea.KeyPressMsg) (ok bool) {
	switch {
	case k.Code == tea.KeyBackspace:
		if in.query == "" {
			in.closeSearch()
			return true
		}
		_, n := utf8.DecodeLastRuneInString(in.query)
		in.setQuery(in.query[:len(in.query)-n])
		return true
	case k.Text != "" && k.Mod&(tea.ModCtrl|tea.ModAlt) == 0:
		if utf8.RuneCountInString(in.query) < maxQuery {
			in.setQuery(in.query + k.Text)
		}
		return true
	}
	return false
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
		if in.searching && in.searchKey(msg) {
			return
		}
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
		case key.Matches(msg, in.keys.Filter):
			in.cycleFilter()
		case key.Matches(msg, in.keys.Search):
			in.openSearch()
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
		top := listH - in.listRows() // the search line's row
		if row := in.listTop + msg.Y - 1 - top; msg.Y > top && msg.Y <= listH && row < len(in.rows) {
			in.selectFrame(in.rows[row])
		}
	}
}

// title is the inspector's first line: how many frames, and which the
// list shows: the filter (or control frames hidden) and the search.
func (in *inspector) title() string {
	var notes []string
	switch {
	case in.filter != filterAll:
		notes = append(notes, in.filter.String())
	case in.hideControl:
		notes = append(notes, "control frames hidden")
	}
	if in.query != "" {
		notes = append(notes, "search “"+display.Sanitize(display.Truncate(in.query, 24), false)+"”")
	}
	if len(notes) == 0 {
		return "Inspector · " + display.Plural(len(in.frames), "frame")
	}
	return fmt.Sprintf("Inspector · %d of %s · %s", len(in.rows), display.Plural(len(in.frames), "frame"), strings.Join(notes, " · "))
}

// searchLine draws the open search line: the query, where typing goes,
// and how to leave it.
func (in *inspector) searchLine() string {
	st := in.st
	hint := "  type to search summaries, names, texts and raw frames · esc clears"
	if in.query != "" {
		hint = fmt.Sprintf("  %s · esc clears", display.Plural(len(in.rows), "frame"))
	}
	return st.LabelFocused.Render(" / ") + display.Sanitize(in.query, false) + st.Selected.Render("▏") + st.Footer.Render(hint)
}

// view draws the inspector in its w×h cells.
func (in *inspector) view() string {
	st, w, h := in.st, in.w, in.h
	_, detailH := inspectorGeometry(h)
	title := st.Title
	if in.focused {
		title = st.FocusedTitle
	}
	out := make([]string, 0, h)
	hint := ""
	if !in.focused {
		hint = "  tab here: ↑↓ frame · enter chat · f filter · / search · c control · z zoom"
	}
	out = append(out, display.Fit(title.Render(in.title())+st.Footer.Render(hint), w))

	// The search line, then the list, scrolled so that the selection shows.
	if in.searching {
		out = append(out, display.Fit(in.searchLine(), w))
	}
	cur := in.current()
	for i := range in.listRows() {
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
		switch {
		case len(in.frames) == 0:
		case in.query != "":
			empty = " No frame contains “" + display.Sanitize(display.Truncate(in.query, 24), false) + "”: esc clears the search."
		case in.filter == filterMessages:
			empty = " No messages yet, only the handshake, commands and control frames: f changes the filter."
		case in.filter == filterChat:
			empty = " No chat yet, only the handshake, commands, receipts and control frames: f changes the filter."
		default:
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
	if f.seq == 0 {
		name = "Held frame" // not numbered by an App
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

// frameRow draws a frame in the list: its number, time, direction, kind,
// size, summary; in a narrow inspector, without the milliseconds and the
// direction's word, so that the summary keeps some room.
func frameRow(st *Styles, f frameRec, w int) string {
	var row string
	if w < 80 {
		dir := st.DirOut.Render("→")
		if f.dir == client.In {
			dir = st.DirIn.Render("←")
		}
		row = st.Time.Render(fmt.Sprintf("#%-3d ", f.seq)+f.at.Format("15:04:05")) + " " + dir + " " +
			st.Kind.Render(display.Fit(string(f.kind), 9)) + " " + st.Size.Render(fitLeft(display.Size(f.size()), 6)) + " "
	} else {
		dir := st.DirOut.Render("→ out")
		if f.dir == client.In {
			dir = st.DirIn.Render("← in ")
		}
		row = st.Time.Render(fmt.Sprintf("#%-3d ", f.seq)+f.at.Format("15:04:05.000")) + " " + dir + " " +
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
