package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
)

// KeyMap is every key the UI answers to, with its help text. The help
// overlay and the footer are generated from it, so a binding changed here
// is changed everywhere.
type KeyMap struct {
	// Composer.
	Send     key.Binding
	Newline  key.Binding
	Complete key.Binding

	// Moving around.
	NextFocus  key.Binding
	PrevFocus  key.Binding
	Back       key.Binding
	Up         key.Binding
	Down       key.Binding
	Open       key.Binding
	PageUp     key.Binding
	PageDown   key.Binding
	Top        key.Binding
	Bottom     key.Binding
	NextChat   key.Binding
	PrevChat   key.Binding
	NextPane   key.Binding // between clients, when there are several
	Timestamps key.Binding
	Copy       key.Binding
	ToFrame    key.Binding // on a message in the conversation: its frame in the inspector
	ShowJSON   key.Binding // the selected message's JSON under it
	SaveFile   key.Binding // the selected file, downloaded and decrypted

	// Panels and actions.
	Inspector key.Binding
	AppForm   key.Binding
	Reconnect key.Binding
	Mouse     key.Binding
	Help      key.Binding
	Quit      key.Binding

	// Workshop mode (enabled by WithWorkshop).
	StepToggle key.Binding
	StepNext   key.Binding
	StepRun    key.Binding
	PanelFull  key.Binding
	Presenter  key.Binding
	Faster     key.Binding // in a replay, on an empty composer line
	Slower     key.Binding
	SeekNext   key.Binding // in a replay, on an empty composer line
	SeekPrev   key.Binding

	// Inspector, when it has the focus.
	Zoom      key.Binding
	Wrap      key.Binding
	Control   key.Binding // control frames hidden or listed
	Filter    key.Binding // all frames, messages, chat only
	Search    key.Binding // the search line
	ToMessage key.Binding // on a frame: its message in the conversation

	// App-content form.
	FormNext   key.Binding
	FormPrev   key.Binding
	FormToggle key.Binding
	FormSend   key.Binding
	FormCancel key.Binding

	// Search results (/search).
	SearchUp    key.Binding
	SearchDown  key.Binding
	SearchOpen  key.Binding
	SearchClose key.Binding
}

// DefaultKeyMap returns dimtui's keys. None of them is a printable
// character while the composer has the focus, except `?` on an empty line.
func DefaultKeyMap() KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	k := KeyMap{
		Send:     b("enter", "send, or run a /command", "enter"),
		Newline:  b("alt+enter", "new line", "alt+enter", "ctrl+j"),
		Complete: b("tab", "complete /command or ID", "tab"),

		NextFocus:  b("tab", "next pane", "tab"),
		PrevFocus:  b("shift+tab", "previous pane", "shift+tab"),
		Back:       b("esc", "back to the composer", "esc"),
		Up:         b("↑", "previous item", "up"),
		Down:       b("↓", "next item", "down"),
		Open:       b("enter", "open the contact", "enter"),
		PageUp:     b("pgup", "page up", "pgup"),
		PageDown:   b("pgdn", "page down", "pgdown"),
		Top:        b("home", "oldest message", "home"),
		Bottom:     b("end", "newest message", "end"),
		NextChat:   b("ctrl+n", "next conversation", "ctrl+n"),
		PrevChat:   b("ctrl+p", "previous conversation", "ctrl+p"),
		NextPane:   b("f6", "next client pane", "f6"),
		Timestamps: b("ctrl+t", "timestamps on/off", "ctrl+t"),
		Copy:       b("ctrl+y", "copy message (OSC 52)", "ctrl+y"),
		ToFrame:    b("enter", "selected message ⇄ its frame (a name card: its chat; a quote: the quoted message)", "enter"),
		ShowJSON:   b("ctrl+e", "the selected message's JSON, shown or hidden", "ctrl+e"),
		SaveFile:   b("ctrl+s", "save the selected file, decrypted, in Downloads (/save PATH elsewhere)", "ctrl+s"),

		Inspector: b("ctrl+o/f2", "inspector on/off", "ctrl+o", "f2"),
		AppForm:   b("ctrl+x/f3", "app-content form", "ctrl+x", "f3"),
		Reconnect: b("ctrl+r", "reconnect", "ctrl+r"),
		Mouse:     b("ctrl+g", "mouse free for selecting text, or back to dimtui", "ctrl+g"),
		Help:      b("?/f1", "this help", "?", "f1"),
		Quit:      b("ctrl+c", "quit", "ctrl+c"),

		Zoom:      b("z", "inspector full width", "z"),
		Wrap:      b("w", "long values in full", "w"),
		Control:   b("c", "control frames hidden/listed", "c"),
		Filter:    b("f", "list all frames / messages / chat only", "f"),
		Search:    b("/", "search the frames (esc clears)", "/"),
		ToMessage: b("enter", "selected frame ⇄ its message", "enter"),

		FormNext:   b("tab/↓", "next field", "tab", "down"),
		FormPrev:   b("shift+tab/↑", "previous field", "shift+tab", "up"),
		FormToggle: b("space", "switch 0xA0 / 0xCC", "space", "left", "right"),
		FormSend:   b("enter", "send", "enter"),
		FormCancel: b("esc", "cancel", "esc"),

		SearchUp:    b("↑", "previous user", "up"),
		SearchDown:  b("↓", "next user", "down"),
		SearchOpen:  b("enter", "chat with the user", "enter"),
		SearchClose: b("esc", "close the results", "esc"),

		StepToggle: b("f7", "step-through on/off", "f7"),
		StepNext:   b("f8/enter", "release the next frame (lesson: the next stop)", "f8"),
		StepRun:    b("f9", "run to the next handshake step or chat message", "f9"),
		PanelFull:  b("f5", "step-through panel full screen, and back", "f5"),
		Presenter:  b("f4", "presenter theme on/off", "f4"),
		Faster:     b("+", "replay: faster (on an empty line)", "+", "="),
		Slower:     b("-", "replay: slower (on an empty line)", "-"),
		SeekNext:   b("]", "replay: seek the next stop (on an empty line)", "]"),
		SeekPrev:   b("[", "replay: seek the previous stop (on an empty line)", "["),
	}
	k.setWorkshop(false)
	k.setPlayback(false)
	return k
}

// setWorkshop enables or disables the workshop keys.
func (k *KeyMap) setWorkshop(on bool) {
	for _, b := range []*key.Binding{&k.StepToggle, &k.StepNext, &k.StepRun, &k.PanelFull, &k.Presenter} {
		b.SetEnabled(on)
	}
}

// setPlayback enables or disables the keys of a replay: its pace and
// seeking.
func (k *KeyMap) setPlayback(on bool) {
	k.Faster.SetEnabled(on)
	k.Slower.SetEnabled(on)
	k.SeekNext.SetEnabled(on)
	k.SeekPrev.SetEnabled(on)
}

// short returns a copy of a binding with a shorter description and only
// its first key in the help, for the footer.
func short(b key.Binding, desc string) key.Binding {
	b.SetHelp(strings.SplitN(b.Help().Key, "/", 2)[0], desc)
	return b
}

// ShortHelp is the footer's list of keys while composing.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{short(k.Send, "send"), short(k.Inspector, "inspector"), short(k.AppForm, "app content"),
		short(k.Copy, "copy"), short(k.Help, "help"), short(k.Quit, "quit")}
}

// playbackHelp is the footer while composing in a replay, which sends
// nothing: Enter runs a command, f8 plays a frame, + and - set the pace.
func (k KeyMap) playbackHelp() []key.Binding {
	pace := k.Faster
	pace.SetHelp("+/-", "pace")
	return []key.Binding{short(k.Send, "/command"), short(k.StepNext, "next frame"), pace, short(k.Inspector, "inspector"),
		short(k.Help, "help"), short(k.Quit, "quit")}
}

// conversationHelp is the footer while the conversation has the focus.
func (k KeyMap) conversationHelp() []key.Binding {
	updown := k.Up
	updown.SetHelp("↑↓", "select")
	pages := k.PageUp
	pages.SetHelp("pgup/pgdn", "scroll")
	return []key.Binding{updown, short(k.ToFrame, "open"), short(k.ShowJSON, "JSON"), short(k.Copy, "copy"), pages, short(k.Back, "back"), short(k.Help, "help")}
}

// contactsHelp is the footer while the contacts have the focus.
func (k KeyMap) contactsHelp() []key.Binding {
	updown := k.Up
	updown.SetHelp("↑↓", "select")
	return []key.Binding{updown, short(k.Open, "open"), short(k.NextChat, "next chat"), short(k.NextFocus, "next part"),
		short(k.Back, "back"), short(k.Help, "help")}
}

// inspectorHelp is the footer while the inspector has the focus.
func (k KeyMap) inspectorHelp() []key.Binding {
	updown := k.Up
	updown.SetHelp("↑↓", "frame")
	pages := k.PageUp
	pages.SetHelp("pgup/pgdn", "layers")
	search := k.Search
	search.SetHelp("/", "search")
	// c (control frames) and ctrl+o (close) are in the help overlay: the
	// footer has no room for them, the filter leaves the control frames
	// out, and the composer's footer names ctrl+o.
	return []key.Binding{updown, short(k.ToMessage, "message"), short(k.Filter, "filter"), search, pages,
		short(k.Zoom, "zoom"), short(k.Wrap, "wrap"), short(k.Back, "back")}
}

// inspectorSearchHelp is the footer while the inspector's search line is
// open: what is typed is the query.
func (k KeyMap) inspectorSearchHelp() []key.Binding {
	updown := k.Up
	updown.SetHelp("↑↓", "frame")
	del := key.NewBinding(key.WithKeys("backspace"), key.WithHelp("⌫", "delete"))
	return []key.Binding{updown, short(k.ToMessage, "message"), del, short(k.Back, "clear the search"), short(k.Inspector, "close")}
}

// FullHelp is the help overlay's columns of keys (see HelpGroups for the
// same with titles).
func (k KeyMap) FullHelp() [][]key.Binding {
	groups := k.HelpGroups()
	out := make([][]key.Binding, len(groups))
	for i, g := range groups {
		out[i] = g.Keys
	}
	return out
}

// HelpGroup is a titled group of bindings in the help overlay.
type HelpGroup struct {
	Title string
	Keys  []key.Binding
}

// HelpGroups lists the enabled bindings by what they are for; a group
// with none is left out.
func (k KeyMap) HelpGroups() []HelpGroup {
	var out []HelpGroup
	for _, g := range k.allGroups() {
		var keys []key.Binding
		for _, b := range g.Keys {
			if b.Enabled() {
				keys = append(keys, b)
			}
		}
		if len(keys) > 0 {
			g.Keys = keys
			out = append(out, g)
		}
	}
	return out
}

func (k KeyMap) allGroups() []HelpGroup {
	return []HelpGroup{
		{"Compose", []key.Binding{k.Send, k.Newline, k.Complete, k.Copy}},
		{"Move", []key.Binding{k.NextFocus, k.PrevFocus, k.Back, k.Up, k.Down, k.Open,
			k.PageUp, k.PageDown, k.Top, k.Bottom, k.NextChat, k.PrevChat, k.NextPane}},
		{"Show", []key.Binding{k.Inspector, k.AppForm, k.Timestamps, k.Reconnect, k.Mouse, k.Help, k.Quit}},
		{"Workshop", []key.Binding{k.StepToggle, k.StepNext, k.StepRun, k.PanelFull, k.SeekNext, k.SeekPrev, k.Faster, k.Slower, k.Presenter}},
		{"Selected message", []key.Binding{k.ToFrame, k.ShowJSON, k.SaveFile}},
		{"Inspector", []key.Binding{k.Filter, k.Search, k.Control, k.Zoom, k.Wrap}}, // ToMessage: the same key, back
		{"App-content form", []key.Binding{k.FormNext, k.FormPrev, k.FormToggle, k.FormSend, k.FormCancel}},
		{"Search results", []key.Binding{k.SearchUp, k.SearchDown, k.SearchOpen, k.SearchClose}},
	}
}
