package ui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"dimtui/dimp"
	"dimtui/display"
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
		{"step", "[on|off|lesson|messages|all]", "step-through on/off", false},
		{"next", "[N]", "release the next N frames", false},
		{"run", "", "run to the next stop", false},
		{"release", "", "release every held frame", false},
		{"seek", "N|next|prev", "replay: go to frame N, a stop", false},
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

// submit sends a line typed in the composer, or runs its slash command.
func (p *Pane) submit(text string) tea.Cmd {
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		return p.command(text)
	}
	text = strings.TrimPrefix(text, "/") // "//" sends a text starting with "/"
	if p.chat.noConversation() || p.chat.current.peer.IsBroadcast() {
		return p.setFlash("no conversation: /to NAME first", true)
	}
	return p.sendContent(p.chat.current.peer, dimp.NewText(text))
}

// sendContent sends a content in a command; the message shows when the
// client reports it sent.
func (p *Pane) sendContent(to dimp.ID, content dimp.Content) tea.Cmd {
	if p.chat.current == nil || !p.chat.current.peer.SameAs(to) {
		p.open(to)
	}
	p.chat.current.end()
	b := p.b
	return p.call("send", "", func(ctx context.Context) error {
		_, err := b.Send(ctx, to, content)
		return err
	})
}

// command runs a slash command.
func (p *Pane) command(line string) tea.Cmd {
	name, arg, _ := strings.Cut(strings.TrimSpace(line[1:]), " ")
	arg = strings.TrimSpace(arg)
	switch strings.ToLower(name) {
	case "to":
		if arg == "" {
			return p.setFlash("/to NAME or /to ID", true)
		}
		id, err := p.chat.contacts.resolve(arg)
		if err != nil {
			return p.setFlash(err.Error(), true)
		}
		return p.openAndLookUp(id)
	case "app":
		p.openForm(arg)
		return nil
	case "who":
		return p.askUsers("")
	case "search":
		return p.startSearch(arg)
	case "inspect":
		return p.toggleInspector()
	case "help":
		return showHelp
	case "quit", "exit", "q":
		return tea.Quit
	}
	if p.workshop {
		for _, c := range workshopCommands() {
			if c.Name == strings.ToLower(name) {
				id := p.id
				return func() tea.Msg { return workshopCommandMsg{pane: id, name: c.Name, arg: arg} }
			}
		}
	}
	return p.setFlash(fmt.Sprintf("unknown command /%s (try /help)", name), true)
}

// openAndLookUp opens the conversation with id and makes sure the client
// knows the peer (its meta and visa), as /to does.
func (p *Pane) openAndLookUp(id dimp.ID) tea.Cmd {
	b := p.b
	return tea.Batch(p.open(id), p.call("look up "+display.Name(id), "", func(ctx context.Context) error {
		_, err := b.Peer(ctx, id)
		return err
	}))
}

// startSearch runs /search WORDS: it opens the box and asks the backend.
func (p *Pane) startSearch(words string) tea.Cmd {
	words = strings.Join(strings.Fields(words), " ")
	if words == "" {
		return p.setFlash("/search WORDS: a part of a name or ID ("+dimp.SearchOnlineUsers+": who is online)", true)
	}
	s, ok := p.b.(Searcher)
	if !ok {
		return p.setFlash("searching needs a live connection to a station", true)
	}
	p.search = newSearchBox(p.st, p.keys, words)
	p.mode = modeSearch
	p.relayout()
	p.syncFocus()
	return p.call(searchCall, "", func(ctx context.Context) error {
		_, err := s.Search(ctx, words)
		return err
	})
}
