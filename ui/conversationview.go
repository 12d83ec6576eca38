package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/display"
)

// convView is the conversation column: a title naming the peer, with
// scroll hints, over the current conversation's lines. It scrolls the
// conversation (each conversation keeps where it was scrolled to) and
// moves its selection.
type convView struct {
	st       *Styles
	keys     KeyMap
	chat     *chatState // the current conversation, and the peer's visa name
	w, h     int        // with the title row
	focused  bool
	showTime bool
	gen      int // bumped when the styles change, to drop the entries' rendered lines
}

func newConvView(st *Styles, keys KeyMap, chat *chatState, showTime bool) convView {
	return convView{st: st, keys: keys, chat: chat, showTime: showTime}
}

func (v *convView) setSize(w, h int)      { v.w, v.h = w, h }
func (v *convView) setFocus(focused bool) { v.focused = focused }
func (v *convView) help() []key.Binding   { return v.keys.conversationHelp() }
func (v *convView) restyle()              { v.gen++ }
func (v *convView) lines() int            { return max(v.h-1, 1) }
func (v *convView) toggleTime() (on bool) { v.showTime = !v.showTime; return v.showTime }

// renderCtx returns the settings the conversation's lines are drawn with.
func (v *convView) renderCtx() *renderCtx {
	me := v.chat.me
	r := &renderCtx{st: v.st, me: me, width: v.w, showTime: v.showTime, gen: v.gen, names: v.chat.namesGen, nameOf: v.chat.nameOf}
	r.nameW = ansi.StringWidth(r.name(me))
	if c := v.chat.current; c != nil {
		r.nameW = max(r.nameW, ansi.StringWidth(r.name(c.peer)))
		if c.peer.IsGroup() || c.peer.IsBroadcast() {
			// Many senders, whose names come and go: the widest column,
			// the same on every line and page.
			r.nameW = maxNameColumn
		}
	}
	return r
}

// update scrolls the current conversation with PgUp, PgDn, Home and End
// (whichever part has the focus, but the inspector) and the wheel; with
// the focus, the arrows move its selection. handled is false for other
// keys; read says that the newest lines may have come into view, to be
// marked read.
func (v *convView) update(msg tea.Msg) (handled, read bool) {
	c := v.chat.current
	if c == nil {
		return false, false
	}
	r, h := v.renderCtx(), v.lines()
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, v.keys.PageUp):
			c.scrollUp(r, h, max(h-1, 1))
		case key.Matches(msg, v.keys.PageDown):
			c.scrollDown(r, h, max(h-1, 1))
		case key.Matches(msg, v.keys.Top):
			c.home(r, h)
		case key.Matches(msg, v.keys.Bottom):
			c.end()
		case v.focused && key.Matches(msg, v.keys.Up):
			c.selectNext(r, h, -1)
			return true, false
		case v.focused && key.Matches(msg, v.keys.Down):
			c.selectNext(r, h, 1)
		default:
			return false, false
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			c.scrollUp(r, h, 3)
		case tea.MouseWheelDown:
			c.scrollDown(r, h, 3)
		default:
			return false, false
		}
	default:
		return false, false
	}
	return true, true
}

// selectEntry selects entry i of the current conversation and scrolls it
// into view.
func (v *convView) selectEntry(i int) {
	if c := v.chat.current; c != nil && i >= 0 && i < len(c.entries) {
		c.sel = i
		c.ensureVisible(v.renderCtx(), v.lines())
	}
}

// view draws the column in its w×h cells.
func (v *convView) view() string {
	st, w := v.st, v.w
	title := st.Title
	if v.focused {
		title = st.FocusedTitle
	}
	var head string
	if v.chat.noConversation() {
		head = title.Render("No conversation yet") + " " + st.Footer.Render("/to NAME or ctrl+n to open one")
	} else {
		peer := v.chat.current.peer
		name, sub := display.Name(peer), display.ShortID(peer)
		c := v.chat.contacts.byKey[client.IDKey(peer)]
		switch {
		case peer.IsGroup() && !peer.IsBroadcast():
			// "# crew" and its members, then the group's ID.
			name = "# " + name
			if c != nil {
				name = "# " + c.label()
				if c.members > 0 {
					sub = display.Plural(c.members, "member") + " · " + sub
				}
			}
		case c != nil && c.nick != "" && c.nick != name:
			name += " (" + display.Sanitize(c.nick, false) + ")"
		}
		head = title.Render(name) + " " + st.Footer.Render(sub)
	}
	if v.chat.current == nil {
		out := []string{display.Fit(" "+head, w)}
		for len(out) < v.h {
			out = append(out, strings.Repeat(" ", w))
		}
		return strings.Join(out, "\n")
	}
	lines, above, below := v.chat.current.view(v.renderCtx(), v.h-1)
	var hint []string
	if above {
		hint = append(hint, "↑ PgUp")
	}
	if below {
		hint = append(hint, "↓ End")
	}
	right := ""
	if len(hint) > 0 {
		right = st.ScrollHint.Render(strings.Join(hint, " · ") + " ")
	}
	return strings.Join(append([]string{joinEnds(lipgloss.NewStyle(), " "+head, right, w)}, lines...), "\n")
}
