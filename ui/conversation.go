package ui

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// entryKind is what a line group in a conversation shows.
type entryKind int

const (
	entryText    entryKind = iota // a text message
	entryApp                      // application (0xA0) or customized (0xCC) content, as a card
	entryContent                  // any other content, summarised
	entryReceipt                  // a receipt, set apart
	entryNotice                   // a system notice
	entryUnread                   // the "new messages" marker
)

// entry is one message, receipt or notice in a conversation, with its
// rendered lines cached for the width and settings they were made for.
type entry struct {
	kind     entryKind
	at       time.Time
	from     dimp.ID
	out      bool // sent by the local user
	text     string
	card     []string // a content's card: the lines under its title (text)
	quoted   string   // a line above the body: what a reply answers, where a forwarded copy came from
	recalled bool     // recalled by its sender: shown struck out
	stored   bool     // read from the history on disk
	cut      bool     // only its head is kept (here or in the history)
	markdown bool     // a text whose format is Markdown, rendered so
	thumb    []byte   // an image's thumbnail (a PNF), drawn under its card
	sn       int64    // the content's serial number, for a quote of it
	ctype    dimp.ContentType
	app      *dimp.AppContent
	content  dimp.Content
	showJSON bool // the content's JSON shown under it (ctrl+e)
	id       client.MessageID
	tracked  bool // delivery is known (outgoing user messages)
	delivery client.Delivery
	detail   string                  // why delivery failed
	refused  bool                    // it failed as the station refused it: it was sent
	members  []client.MemberDelivery // a group message's delivery to each member
	bad      bool                    // an error notice
	repeat   int                     // how many more times the same notice came
	version  int                     // bumped on every change that alters the rendering
	seq      int                     // in the order of the pane's entries
	cost     int                     // what keeping it costs, estimated

	cached renderKey
	lines  []string
}

// measure estimates what keeping an entry costs: its text or card, and
// the lines rendered from it.
func (e *entry) measure() int {
	n := len(e.text) + len(e.detail) + len(e.quoted) + len(e.thumb)
	for _, l := range e.card {
		n += len(l)
	}
	if e.app != nil {
		n += len(dimp.MarshalContent(e.app))
	}
	return keptCost(n)
}

// renderKey is what an entry's cached lines depend on.
type renderKey struct {
	width    int
	nameW    int
	gen      int
	names    int
	version  int
	showTime bool
	valid    bool
}

// copyText is what the copy key puts on the clipboard for this entry.
func (e *entry) copyText() string {
	switch e.kind {
	case entryApp, entryContent:
		if e.content != nil {
			return string(dimp.MarshalContent(e.content))
		}
	}
	return e.text
}

// hasMessages reports whether anything was said in the conversation:
// a message, not only notices.
func (c *conversation) hasMessages() bool {
	return slices.ContainsFunc(c.entries, (*entry).selectable)
}

// selectable reports whether the entry can be selected (and copied).
func (e *entry) selectable() bool {
	return e.kind == entryText || e.kind == entryApp || e.kind == entryContent
}

// renderCtx is what rendering needs besides the entries.
type renderCtx struct {
	st       *Styles
	me       dimp.ID
	width    int // including the selection column
	showTime bool
	gen      int // bumped when the styles change
	nameW    int // the longest name in the conversation
	names    int // bumped when a name changes
	nameOf   func(dimp.ID) string
}

func (r *renderCtx) key(e *entry) renderKey {
	return renderKey{width: r.width, nameW: r.nameW, gen: r.gen, names: r.names, version: e.version, showTime: r.showTime, valid: true}
}

// name is how a sender is named on a chat line: their visa's name when
// known, else their ID's.
func (r *renderCtx) name(id dimp.ID) string {
	if r.nameOf != nil {
		return r.nameOf(id)
	}
	return display.Name(id)
}

// maxNameColumn is the widest the name column grows, in cells.
const maxNameColumn = 12

// columns returns the widths of the time and name columns and of the body.
func (r *renderCtx) columns() (timeW, nameW, bodyW int) {
	w := r.width - 1 // selection column
	if r.showTime {
		timeW = 6 // "15:04 "
	}
	nameW = min(max(r.nameW, 4), maxNameColumn) + 1
	if w < 50 {
		nameW = min(nameW, 8)
	}
	bodyW = w - timeW - nameW - 3 // 3: space + two tick cells
	if bodyW < 8 {
		bodyW = 8
	}
	return timeW, nameW, bodyW
}

// conversation is the history with one peer and how it is scrolled.
type conversation struct {
	peer    dimp.ID
	entries []*entry
	unread  int                // messages not seen yet
	pending []client.MessageID // received messages to mark read once shown
	marker  *entry             // the "new messages" marker, if any

	// Scrolling: follow sticks to the newest line; otherwise the view starts
	// at line topLine of entry top.
	follow  bool
	top     int
	topLine int
	sel     int // selected entry, -1 for none

	hist historyState // what was read of its history on disk
}

func newConversation(peer dimp.ID) *conversation {
	return &conversation{peer: peer, follow: true, sel: -1}
}

// add appends an entry.
func (c *conversation) add(e *entry) { c.entries = append(c.entries, e) }

// dropFirst forgets the oldest entry, keeping the view and the selection
// on the entries they were on, and returns it.
func (c *conversation) dropFirst() *entry {
	e := c.entries[0]
	c.entries[0] = nil
	c.entries = c.entries[1:]
	if e == c.marker {
		c.marker = nil
	}
	if c.top > 0 {
		c.top--
	} else {
		c.topLine = 0
	}
	switch {
	case c.sel > 0:
		c.sel--
	case c.sel == 0:
		c.sel = -1
	}
	return e
}

// markUnread puts the "new messages" marker before the next entry, moving
// it from where it was.
func (c *conversation) markUnread() {
	if c.marker != nil {
		for i, e := range c.entries {
			if e == c.marker {
				c.entries = append(c.entries[:i], c.entries[i+1:]...)
				if c.top > i {
					c.top--
				}
				if c.sel > i {
					c.sel--
				} else if c.sel == i {
					c.sel = -1
				}
				break
			}
		}
	}
	c.marker = &entry{kind: entryUnread}
	c.entries = append(c.entries, c.marker)
}

// lines returns the rendered lines of entry i (without the selection
// column), from the cache when it is still valid.
func (c *conversation) lines(r *renderCtx, i int) []string {
	e := c.entries[i]
	if k := r.key(e); e.cached != k {
		e.lines = renderEntry(r, e)
		e.cached = k
	}
	return e.lines
}

func (c *conversation) height(r *renderCtx, i int) int { return len(c.lines(r, i)) }

// anchorBottom sets top/topLine so that the last h lines are in view.
func (c *conversation) anchorBottom(r *renderCtx, h int) {
	need := h
	for i := len(c.entries) - 1; i >= 0; i-- {
		n := c.height(r, i)
		if n >= need {
			c.top, c.topLine = i, n-need
			return
		}
		need -= n
	}
	c.top, c.topLine = 0, 0
}

// fitsFrom reports whether everything from the anchor on fits in h lines.
func (c *conversation) fitsFrom(r *renderCtx, h int) bool {
	n := -c.topLine
	for i := c.top; i < len(c.entries); i++ {
		n += c.height(r, i)
		if n > h {
			return false
		}
	}
	return true
}

// scrollUp moves the view n lines towards older messages.
func (c *conversation) scrollUp(r *renderCtx, h, n int) {
	if c.follow {
		c.anchorBottom(r, h)
		c.follow = false
	}
	c.topLine -= n
	for c.topLine < 0 && c.top > 0 {
		c.top--
		c.topLine += c.height(r, c.top)
	}
	if c.topLine < 0 {
		c.topLine = 0
	}
	if c.fitsFrom(r, h) {
		c.follow = true
	}
}

// scrollDown moves the view n lines towards newer messages; reaching the
// end makes it follow new ones again.
func (c *conversation) scrollDown(r *renderCtx, h, n int) {
	if c.follow {
		return
	}
	c.topLine += n
	for c.top < len(c.entries)-1 && c.topLine >= c.height(r, c.top) {
		c.topLine -= c.height(r, c.top)
		c.top++
	}
	if c.fitsFrom(r, h) {
		c.follow = true
	}
}

// home shows the oldest messages.
func (c *conversation) home(r *renderCtx, h int) {
	c.top, c.topLine, c.follow = 0, 0, false
	if c.fitsFrom(r, h) {
		c.follow = true
	}
}

// end shows the newest messages and follows new ones.
func (c *conversation) end() { c.follow = true }

// deselect drops the selection and follows the newest messages again.
func (c *conversation) deselect() { c.sel, c.follow = -1, true }

// selectNext moves the selection by dir (±1) among selectable entries;
// with nothing selected it starts from the newest.
func (c *conversation) selectNext(r *renderCtx, h, dir int) {
	i := c.sel
	if i < 0 {
		i = len(c.entries)
		if dir > 0 {
			return
		}
	}
	for i += dir; i >= 0 && i < len(c.entries); i += dir {
		if c.entries[i].selectable() {
			c.sel = i
			c.ensureVisible(r, h)
			return
		}
	}
	if dir > 0 {
		c.sel = -1 // past the newest: no selection
		c.follow = true
	}
}

// ensureVisible scrolls so that the selected entry is in view.
func (c *conversation) ensureVisible(r *renderCtx, h int) {
	if c.sel < 0 || c.sel >= len(c.entries) {
		return
	}
	if c.follow {
		c.anchorBottom(r, h)
	}
	if c.sel < c.top || (c.sel == c.top && c.topLine > 0) {
		c.top, c.topLine, c.follow = c.sel, 0, false
		if c.fitsFrom(r, h) {
			c.follow = true
		}
		return
	}
	// Is the selected entry's last line within the view?
	n := -c.topLine
	for i := c.top; i <= c.sel; i++ {
		n += c.height(r, i)
	}
	if n <= h {
		return
	}
	need := h
	for i := c.sel; i >= 0; i-- {
		hh := c.height(r, i)
		if hh >= need {
			c.top, c.topLine = i, hh-need
			break
		}
		need -= hh
	}
	c.follow = false
	if c.fitsFrom(r, h) {
		c.follow = true
	}
}

// indexOf returns the index of the selectable entry showing message id,
// -1 when none does.
func (c *conversation) indexOf(id client.MessageID) int {
	for i := len(c.entries) - 1; i >= 0; i-- {
		if e := c.entries[i]; e.id == id && e.selectable() {
			return i
		}
	}
	return -1
}

// selected returns the selected entry, or the newest selectable one.
func (c *conversation) selected() *entry {
	if c.sel >= 0 && c.sel < len(c.entries) {
		return c.entries[c.sel]
	}
	for i := len(c.entries) - 1; i >= 0; i-- {
		if c.entries[i].selectable() {
			return c.entries[i]
		}
	}
	return nil
}

// view renders exactly h lines of the conversation, width r.width, with the
// selection column; above and below say whether there is more to scroll to.
func (c *conversation) view(r *renderCtx, h int) (lines []string, above, below bool) {
	if h <= 0 {
		return nil, false, false
	}
	type vline struct {
		text string
		idx  int
	}
	var out []vline
	if c.follow {
		for i := len(c.entries) - 1; i >= 0 && len(out) < h; i-- {
			ls := c.lines(r, i)
			if i == len(c.entries)-1 && len(ls) > 1 && ls[len(ls)-1] == "" {
				// A roomy theme's blank after the newest entry would take
				// the last line of a short pane.
				ls = ls[:len(ls)-1]
			}
			chunk := make([]vline, len(ls))
			for j, l := range ls {
				chunk[j] = vline{l, i}
			}
			out = append(chunk, out...)
		}
		if len(out) > h {
			out = out[len(out)-h:]
			above = true
		} else if len(out) == h && len(c.entries) > 0 && out[0].idx > 0 {
			above = true
		}
	} else {
		top, topLine := c.top, c.topLine
		if top >= len(c.entries) {
			top, topLine = max(len(c.entries)-1, 0), 0
		}
		above = top > 0 || topLine > 0
		for i := top; i < len(c.entries) && len(out) < h; i++ {
			ls := c.lines(r, i)
			if i == top {
				if topLine >= len(ls) {
					topLine = max(len(ls)-1, 0)
				}
				ls = ls[topLine:]
			}
			for _, l := range ls {
				if len(out) == h {
					below = true
					break
				}
				out = append(out, vline{l, i})
			}
			if len(out) == h && i < len(c.entries)-1 {
				below = true
			}
		}
	}
	lines = make([]string, h)
	bodyW := r.width - 1
	sel := r.st.Selected.Render("▌")
	for i := range h {
		if i >= len(out) {
			lines[i] = strings.Repeat(" ", r.width)
			continue
		}
		mark := " "
		if out[i].idx == c.sel {
			mark = sel
		}
		lines[i] = mark + display.Fit(out[i].text, bodyW)
	}
	if len(c.entries) == 0 && h > 0 {
		lines[0] = " " + display.Fit(r.st.Empty.Render("No messages yet. Type below and press Enter."), bodyW)
	}
	return lines, above, below
}

// renderEntry draws one entry (without the selection column); a roomy
// theme adds a blank line after it.
func renderEntry(r *renderCtx, e *entry) []string {
	lines := renderEntryLines(r, e)
	if r.st.Roomy && e.kind != entryUnread {
		lines = append(lines, "")
	}
	return lines
}

func renderEntryLines(r *renderCtx, e *entry) []string {
	st := r.st
	w := r.width - 1
	timeW, nameW, bodyW := r.columns()
	stamp := ""
	if r.showTime {
		stamp = st.Time.Render(e.at.Format("15:04")) + " "
	}
	indent := strings.Repeat(" ", timeW+nameW)

	switch e.kind {
	case entryUnread:
		label := " new messages "
		side := max((w-ansi.StringWidth(label))/2, 1)
		return []string{st.UnreadMarker.Render(strings.Repeat("─", side) + label + strings.Repeat("─", max(w-side-len(label), 1)))}
	case entryNotice:
		style, mark := st.Notice, "• "
		if e.bad {
			style, mark = st.NoticeError, "✗ "
		}
		text := display.Sanitize(e.text, true)
		if e.repeat > 0 {
			text += fmt.Sprintf(" (×%d)", e.repeat+1)
		}
		var out []string
		for i, l := range display.Wrap(text, w-timeW-2) {
			if i == 0 {
				out = append(out, stamp+style.Render(mark+l))
			} else {
				out = append(out, strings.Repeat(" ", timeW+2)+style.Render(l))
			}
		}
		return out
	case entryReceipt:
		var out []string
		for i, l := range display.Wrap(display.Sanitize(e.text, false), bodyW) {
			if i == 0 {
				l = "↪ " + l
			} else {
				l = "  " + l
			}
			out = append(out, indent+st.Receipt.Render(l))
		}
		return out
	}

	name := r.name(e.from)
	nameStyle := st.NameStyle(e.from)
	if e.out {
		nameStyle = st.MyName
	}
	head := stamp + nameStyle.Render(display.Truncate(name, nameW-1)) + strings.Repeat(" ", max(nameW-ansi.StringWidth(display.Truncate(name, nameW-1)), 0))
	tick := ""
	if e.tracked {
		tick = renderTick(st, e.delivery)
	}

	var body []string
	switch e.kind {
	case entryText:
		if e.markdown {
			if lines, err := display.RenderMarkdown(e.text, bodyW, st.Dark); err == nil {
				body = lines
				break
			}
		}
		for _, l := range display.Wrap(display.Sanitize(e.text, true), bodyW) {
			body = append(body, st.Text.Render(l))
		}
	case entryApp:
		body = renderCard(st, e.app, bodyW)
	case entryContent:
		if e.card == nil {
			for _, l := range display.Wrap(display.Sanitize(e.text, false), bodyW) {
				body = append(body, st.Receipt.Render(l))
			}
			break
		}
		for _, l := range display.Wrap(e.text, bodyW) {
			body = append(body, st.Text.Render(l))
		}
		for _, c := range e.card {
			for _, l := range display.Wrap(c, bodyW-2) {
				body = append(body, st.Receipt.Render("  "+l))
			}
		}
		body = append(body, thumbLines(st, e.thumb, bodyW)...)
	default:
		body = []string{st.Receipt.Render(display.Truncate(display.Sanitize(e.text, false), bodyW))}
	}
	if e.recalled {
		for i, l := range body {
			body[i] = st.Recalled.Render(ansi.Strip(l))
		}
		who := "its sender"
		if e.out {
			who = "me"
		}
		body = append(body, st.Receipt.Render("↶ recalled by "+who))
	}
	if e.quoted != "" {
		var above []string
		for _, l := range display.Wrap(e.quoted, bodyW) {
			above = append(above, st.Receipt.Render(l))
		}
		body = append(above, body...)
	}
	if e.showJSON && e.content != nil {
		body = append(body, jsonLines(st, e.content, bodyW)...)
	}
	if len(body) == 0 {
		body = []string{""}
	}
	out := make([]string, 0, len(body)+1)
	for i, l := range body {
		prefix := indent
		if i == 0 {
			prefix = head
		}
		line := prefix + display.Fit(l, bodyW)
		if i == 0 {
			line += " " + fitLeft(tick, 2)
		}
		out = append(out, line)
	}
	if e.tracked && len(e.members) > 0 {
		for _, l := range display.Wrap(groupTicks(st, e.members, r.name), bodyW) {
			out = append(out, indent+l)
		}
	} else if e.tracked && e.delivery == client.Failed && e.detail != "" {
		why := "not sent: " + e.detail
		if e.refused {
			why = "sent, refused by the station: " + e.detail
		}
		for _, l := range display.Wrap(display.Sanitize(why, false), bodyW) {
			out = append(out, indent+st.NoticeError.Render(l))
		}
	}
	return out
}

// Thumbnail bounds in cells: a picture to glance at, not to study.
const (
	thumbCols = 32
	thumbRows = 8
)

// thumbLines draws an image's thumbnail in block characters under its
// card, as wide as the pane allows up to thumbCols; a thumbnail that is
// not a picture says so instead.
func thumbLines(st *Styles, thumb []byte, bodyW int) []string {
	if len(thumb) == 0 {
		return nil
	}
	img, err := display.DecodeThumbnail(thumb)
	if err != nil {
		return []string{st.Receipt.Render("  ✗ " + display.ThumbnailNote(err))}
	}
	cols := min(thumbCols, bodyW-2)
	if cols < 4 {
		return []string{st.Receipt.Render("  (a thumbnail: the pane is too narrow to draw it)")}
	}
	var out []string
	for _, l := range display.RenderThumbnail(img, cols, thumbRows, true) {
		out = append(out, "  "+l)
	}
	return out
}

// fitLeft right-aligns a short string in width cells.
func fitLeft(s string, width int) string {
	w := ansi.StringWidth(s)
	if w >= width {
		return s
	}
	return strings.Repeat(" ", width-w) + s
}

// renderTick draws a delivery state: ○ sending, ✓ at the station, ✓✓
// delivered, ◉ read (seen), ✗ failed. The glyphs differ in shape, not only
// in colour.
func renderTick(st *Styles, d client.Delivery) string {
	switch d {
	case client.Sending:
		return st.TickSending.Render("○")
	case client.AtStation:
		return st.TickAtStation.Render("✓")
	case client.Delivered:
		return st.TickDelivered.Render("✓✓")
	case client.Read:
		return st.TickRead.Render("◉")
	case client.Failed:
		return st.TickFailed.Render("✗")
	}
	return ""
}

// maxTickMembers is how many members a group message's line of ticks
// names one by one; beyond it, only the counts.
const maxTickMembers = 8

// groupTicks sums up a group message's delivery under it: how many
// members it reached at the furthest state any reached ("✓✓ 2/3"), then
// each member's tick when the group is small, and why a copy failed.
func groupTicks(st *Styles, members []client.MemberDelivery, nameOf func(dimp.ID) string) string {
	var best client.Delivery = client.Sending
	failed := 0
	for _, m := range members {
		if m.State == client.Failed {
			failed++
		} else if m.State > best {
			best = m.State
		}
	}
	reached := 0
	for _, m := range members {
		if m.State != client.Failed && m.State >= best {
			reached++
		}
	}
	parts := []string{renderTick(st, best) + st.Receipt.Render(fmt.Sprintf(" %d/%d", reached, len(members)))}
	if failed > 0 {
		parts = append(parts, renderTick(st, client.Failed)+st.Receipt.Render(fmt.Sprintf(" %d", failed)))
	}
	if len(members) <= maxTickMembers {
		var each []string
		for _, m := range members {
			name := st.Receipt.Render(display.Truncate(nameOf(m.Member), 16))
			each = append(each, name+" "+renderTick(st, m.State))
		}
		parts = append(parts, strings.Join(each, st.Receipt.Render(", ")))
	}
	line := strings.Join(parts, st.Receipt.Render(" · "))
	for _, m := range members {
		if m.State == client.Failed && m.Detail != "" {
			line += st.NoticeError.Render(" · " + display.Name(m.Member) + ": " + display.Sanitize(m.Detail, false))
		}
	}
	return line
}

// renderCard draws application or customized content as a box showing
// app, mod, act and every extra field, at most width cells wide.
func renderCard(st *Styles, c *dimp.AppContent, width int) []string {
	if c == nil {
		return nil
	}
	type kv struct{ k, v string }
	rows := []kv{{"app", c.App}, {"mod", c.Mod}, {"act", c.Act}}
	for _, k := range c.Extra.SortedKeys() {
		rows = append(rows, kv{k, compactJSON(c.Extra[k])})
	}
	keyW := 3
	for _, r := range rows {
		keyW = max(keyW, min(ansi.StringWidth(r.k), 14))
	}
	title := " " + display.AppType(c.Type) + " "
	inner := ansi.StringWidth(title) + 2
	for _, r := range rows {
		inner = max(inner, keyW+2+ansi.StringWidth(r.v))
	}
	inner = min(inner, width-4)
	if inner < keyW+4 {
		inner = keyW + 4
	}
	b := st.CardBorder
	title = display.Truncate(title, inner)
	top := b.Render("╭─") + st.CardTitle.Render(title) +
		b.Render(strings.Repeat("─", max(inner-ansi.StringWidth(title), 0))+"─╮")
	out := []string{top}
	for _, r := range rows {
		vals := display.Wrap(display.Sanitize(r.v, false), inner-keyW-2)
		for i, v := range vals {
			k := ""
			if i == 0 {
				k = display.Truncate(display.Sanitize(r.k, false), keyW)
			}
			line := st.CardKey.Render(display.Fit(k, keyW)) + "  " + st.CardValue.Render(v)
			out = append(out, b.Render("│ ")+display.Fit(line, inner)+b.Render(" │"))
		}
	}
	out = append(out, b.Render("╰"+strings.Repeat("─", inner+2)+"╯"))
	return out
}

// compactJSON writes a raw JSON value on one line.
func compactJSON(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(b)
}

// contentSummary describes a content of type t that has no special
// rendering, by its JSON.
func contentSummary(t dimp.ContentType, raw []byte) string {
	return fmt.Sprintf("[%s 0x%02X] %s", t.String(), uint8(t), raw)
}
