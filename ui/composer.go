package ui

import (
	"sort"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/dimp"
	"dimtui/display"
)

// composer is the input line: a rule naming whom Enter sends to, a
// textarea that grows to four lines, with Tab completion of slash commands
// and IDs, and the candidates of a completion under it.
type composer struct {
	st    *Styles
	keys  KeyMap
	ta    textarea.Model
	comp  completion
	cmds  []slashCommand // what Tab completes after "/"
	width int
	to    string // the receiver's short ID; "" when no conversation is open
	away  bool   // another pane of the split view has the keys
	// note replaces the rule's text while set: a compact pane's flash.
	note    string
	noteBad bool
	// offline, when set, says in the rule why nothing is sent (a replay);
	// offlineHint is the placeholder then.
	offline, offlineHint string
}

func newComposer(st *Styles, keys KeyMap) composer {
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.CharLimit = 8000
	ta.DynamicHeight = true
	ta.MinHeight = 1
	ta.MaxHeight = 4
	ta.MaxContentHeight = 200
	ta.SetPromptFunc(2, func(info textarea.PromptInfo) string {
		if info.LineNumber == 0 {
			return "› "
		}
		return "  "
	})
	km := textarea.DefaultKeyMap()
	km.InsertNewline = key.NewBinding(key.WithKeys("alt+enter", "ctrl+j"))
	km.LineStart = key.NewBinding(key.WithKeys("ctrl+a"))
	km.LineEnd = key.NewBinding(key.WithKeys("ctrl+e"))
	km.PageUp = key.NewBinding(key.WithDisabled())
	km.PageDown = key.NewBinding(key.WithDisabled())
	km.LineNext = key.NewBinding(key.WithKeys("down"))
	km.LinePrevious = key.NewBinding(key.WithKeys("up"))
	km.TransposeCharacterBackward = key.NewBinding(key.WithDisabled())
	km.InputBegin = key.NewBinding(key.WithKeys("alt+<"))
	km.InputEnd = key.NewBinding(key.WithKeys("alt+>"))
	ta.KeyMap = km
	ta.SetStyles(st.TextArea)
	ta.Focus()
	return composer{st: st, keys: keys, ta: ta, cmds: slashCommands()}
}

// setStyles applies the styles, which changed.
func (c *composer) setStyles() { c.ta.SetStyles(c.st.TextArea) }

// setSize gives the composer its width and the lines its text may take
// (four at most); its height is what its text needs (see height).
func (c *composer) setSize(w, lines int) {
	c.width = w
	c.ta.MaxHeight = min(max(lines, 1), 4)
	c.ta.SetWidth(max(w, 4))
}

// setNote shows text in the rule instead of the receiver ("" for the
// receiver again), in the error colour when bad.
func (c *composer) setNote(text string, bad bool) { c.note, c.noteBad = text, bad }

// height returns how many lines the text takes and how many the
// completion's candidates take (0 or 1); the rule above is one more.
func (c *composer) height() (text, hints int) {
	if cands, _ := c.hints(); len(cands) > 0 {
		hints = 1
	}
	return max(c.ta.Height(), 1), hints
}

// setFocus shows the cursor in the textarea and lets it take keys.
func (c *composer) setFocus(focused bool) {
	if focused {
		c.ta.Focus()
	} else {
		c.ta.Blur()
	}
}

// help: the keys while composing, in the footer.
func (c *composer) help() []key.Binding {
	if c.offline != "" {
		return c.keys.playbackHelp()
	}
	return c.keys.ShortHelp()
}

// setReceiver names whom Enter sends to, in the rule and the placeholder
// (label: the name to show, "# crew" for a group); zero when no
// conversation is open.
func (c *composer) setReceiver(peer dimp.ID, label string) {
	defer func() {
		if c.offline != "" {
			c.ta.Placeholder = c.offlineHint
		}
	}()
	if peer.IsZero() {
		c.to = ""
		c.ta.Placeholder = "/to NAME to start a conversation"
		return
	}
	c.to = display.ShortID(peer)
	if peer.IsGroup() && !peer.IsBroadcast() {
		c.to = label + " · " + c.to
	}
	c.ta.Placeholder = "Message " + label + " — Enter sends, /help for commands"
}

// setOffline says, in the rule and the placeholder, why Enter sends no
// message (a replay): rule and hint.
func (c *composer) setOffline(rule, hint string) {
	c.offline, c.offlineHint = rule, hint
	c.ta.Placeholder = hint
}

// setAway says whether another pane of the split view has the keys,
// which the rule says.
func (c *composer) setAway(away bool) { c.away = away }

// setCommands sets what Tab completes after "/".
func (c *composer) setCommands(cmds []slashCommand) { c.cmds = cmds }

// view draws the rule, the textarea and the candidates, width cells wide.
func (c *composer) view() string {
	st, w := c.st, c.width
	to := "nobody: /to NAME"
	if c.to != "" {
		to = c.to
	}
	rule := st.Border.Render("── ") + st.Footer.Render("to ") + st.CurrentRow.Render(to) + " "
	if c.offline != "" {
		rule = st.Border.Render("── ") + st.Footer.Render(c.offline) + " "
	}
	if c.away {
		rule += st.Footer.Render("· f6 to type here ")
	}
	if c.note != "" {
		style := st.Flash
		if c.noteBad {
			style = st.FlashError
		}
		rule = st.Border.Render("── ") + style.Render(display.Sanitize(c.note, false)) + " "
	}
	rows := []string{display.Fit(rule+st.Border.Render(strings.Repeat("─", max(w-ansi.StringWidth(rule), 0))), w)}
	for _, line := range strings.Split(c.ta.View(), "\n") {
		rows = append(rows, display.Fit(line, w))
	}
	if cands, idx := c.hints(); len(cands) > 0 {
		var hs []string
		for i, cand := range cands {
			if i == idx {
				hs = append(hs, st.HintActive.Render(cand))
			} else {
				hs = append(hs, st.Hint.Render(cand))
			}
		}
		rows = append(rows, display.Fit("  "+strings.Join(hs, "  "), w))
	}
	return strings.Join(rows, "\n")
}

// value returns the text typed so far.
func (c *composer) value() string { return c.ta.Value() }

// reset empties the composer.
func (c *composer) reset() {
	c.ta.Reset()
	c.comp = completion{}
}

// setValue replaces the text and puts the cursor at its end.
func (c *composer) setValue(s string) {
	c.ta.SetValue(s)
	c.ta.MoveToEnd()
}

// update passes a message to the textarea; any key but Tab ends a
// completion cycle.
func (c *composer) update(msg tea.Msg) tea.Cmd {
	if _, ok := msg.(tea.KeyPressMsg); ok {
		c.comp = completion{}
	}
	var cmd tea.Cmd
	c.ta, cmd = c.ta.Update(msg)
	return cmd
}

// complete completes the word before the cursor: a command after "/", an
// ID after "/to " or "/app ". Repeated calls cycle through the candidates.
// It reports false when there was nothing to complete.
func (c *composer) complete(ids []string) bool {
	v := c.ta.Value()
	if c.comp.active && v == c.comp.shown && len(c.comp.cands) > 1 {
		c.comp.idx = (c.comp.idx + 1) % len(c.comp.cands)
		c.comp.shown = c.comp.base + c.comp.cands[c.comp.idx]
		c.setValue(c.comp.shown)
		return true
	}
	base, cands, suffix := completeCandidates(c.cmds, v, ids)
	if len(cands) == 0 {
		c.comp = completion{}
		return false
	}
	word := strings.TrimPrefix(v, base)
	if len(cands) == 1 {
		c.setValue(base + cands[0] + suffix)
		c.comp = completion{}
		return true
	}
	shown := base + cands[0]
	idx := 0
	if p := commonPrefix(cands); len(p) > len(word) {
		shown, idx = base+p, -1
	}
	c.comp = completion{active: true, base: base, cands: cands, idx: idx, shown: shown}
	c.setValue(shown)
	return true
}

// hints returns the candidates of the current completion cycle and which
// one is shown (-1: none).
func (c *composer) hints() ([]string, int) {
	if !c.comp.active {
		return nil, -1
	}
	return c.comp.cands, c.comp.idx
}

// completion is a Tab completion in progress.
type completion struct {
	active bool
	base   string   // the text before the word being completed
	cands  []string // the candidates, sorted
	idx    int      // the candidate shown, -1 for the common prefix
	shown  string   // the composer's text after the last Tab
}

// completeCandidates finds what the word at the end of v can become: base
// is the text before the word, suffix what follows a unique completion.
func completeCandidates(cmds []slashCommand, v string, ids []string) (base string, cands []string, suffix string) {
	if !strings.HasPrefix(v, "/") || strings.Contains(v, "\n") {
		return "", nil, ""
	}
	name, arg, hasArg := strings.Cut(v[1:], " ")
	if !hasArg {
		for _, sc := range cmds {
			if strings.HasPrefix(sc.Name, strings.ToLower(name)) {
				cands = append(cands, sc.Name)
			}
		}
		return "/", cands, " "
	}
	var cmd *slashCommand
	for _, sc := range cmds {
		if sc.Name == strings.ToLower(name) {
			cmd = &sc
			break
		}
	}
	if cmd == nil || !cmd.IDs || strings.Contains(arg, " ") {
		return "", nil, ""
	}
	low := strings.ToLower(arg)
	seen := map[string]bool{}
	for _, id := range ids {
		if strings.HasPrefix(strings.ToLower(id), low) && !seen[id] {
			seen[id] = true
			cands = append(cands, id)
		}
	}
	sort.Strings(cands)
	return "/" + name + " ", cands, ""
}

// commonPrefix returns the longest prefix shared by all of list.
func commonPrefix(list []string) string {
	if len(list) == 0 {
		return ""
	}
	p := list[0]
	for _, s := range list[1:] {
		for !strings.HasPrefix(s, p) {
			_, n := utf8.DecodeLastRuneInString(p)
			p = p[:len(p)-n]
		}
	}
	return p
}
