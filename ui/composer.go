package ui

import (
	"sort"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
)

// slashCommand is a command typed in the composer.
type slashCommand struct {
	Name string // without the slash
	Args string // how to call it
	Desc string
	IDs  bool // its argument is an ID, completed from the contacts
}

// slashCommands lists the composer's commands, in the order help shows them.
func slashCommands() []slashCommand {
	return []slashCommand{
		{"to", "NAME|ID", "talk to NAME or ID", true},
		{"app", "[NAME|ID]", "compose app content", true},
		{"who", "", "who is online", false},
		{"search", "WORDS", "find users by name or ID", false},
		{"inspect", "", "inspector on/off", false},
		{"help", "", "keys and commands", false},
		{"quit", "", "leave dimtui", false},
	}
}

// workshopCommands are the commands of workshop mode (see WithWorkshop).
func workshopCommands() []slashCommand {
	return []slashCommand{
		{"step", "[on|off|all|messages]", "step-through on/off", false},
		{"next", "[N]", "release the next N frames", false},
		{"release", "", "release every held frame", false},
		{"drop", "[in|out]", "station drops the next message", false},
		{"corrupt", "[in|out]", "station breaks a signature", false},
		{"delay", "DURATION|off", "station delays my frames", false},
		{"expire", "", "station expires my session", false},
		{"restart", "", "restart the station", false},
		{"export", "[FILE]", "transcript: FILE.jsonl, .md", false},
		{"reset", "", "fresh station and identities", false},
		{"presenter", "", "presenter theme on/off", false},
	}
}

// composer is the input line: a textarea that grows to four lines, with
// Tab completion of slash commands and IDs.
type composer struct {
	ta   textarea.Model
	comp completion
	cmds []slashCommand // what Tab completes after "/"
}

func newComposer(st *Styles) composer {
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
	return composer{ta: ta, cmds: slashCommands()}
}

// setStyles applies new styles (after the theme changed).
func (c *composer) setStyles(st *Styles) { c.ta.SetStyles(st.TextArea) }

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
