package ui

import (
	"context"
	"errors"
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
		{"to", "NAME|ID", "talk to NAME or ID (Tab completes)", true},
		{"app", "[NAME|ID]", "compose app content, for the open conversation without NAME", true},
		{"who", "", "ask the station who is online", false},
		{"clear", "", "forget the open conversation, here and in the history", false},
		{"nick", "NAME", "the name others see, in my visa: signed anew and sent to the station and my contacts", false},
		{"avatar", "URL", "my picture's http(s) address, in my visa", false},
		{"block", "[NAME|ID...]", "the station refuses their messages (kept at the station); alone, the lists", true},
		{"unblock", "NAME|ID...", "take them off the block list", true},
		{"mute", "[NAME|ID...]", "no notifications from them (kept at the station); alone, the lists", true},
		{"unmute", "NAME|ID...", "take them off the mute list", true},
		{"page", "URL [TITLE]", "send a web page (an http(s) address) to the open conversation", false},
		{"card", "NAME|ID", "send a contact's name card to the open conversation", true},
		{"reply", "TEXT", "answer the selected message, quoting it", false},
		{"send", "PATH", "send a file: encrypted with a fresh key, uploaded to the station, its key in the message", false},
		{"save", "[PATH]", "download and decrypt the selected file into a directory (Downloads by default) or as a new file", false},
		{"forward", "NAME|ID", "forward the selected message to NAME, as dimchat's apps do (a copy that names its origin)", true},
		{"recall", "", "recall my selected message (within 128 s of sending it, as dimchat's apps allow)", false},
		{"resend", "", "send my selected message again, as a new message, when it was not sent", false},
		{"group", "new NAME [MEMBER...]", "create a group (a \"quoted name\" may have spaces) with members by name or ID", true},
		{"members", "", "the open group's members and roles", false},
		{"invite", "MEMBER...", "add members to the open group (a member's invitation waits for the owner)", true},
		{"expel", "MEMBER...", "remove members from the open group (owner and administrators)", true},
		{"leave", "", "quit the open group, as DIM's group quit (also /quit GROUP)", false},
		{"hire", "MEMBER...", "make members administrators of the open group (owner)", true},
		{"fire", "MEMBER...", "remove administrators of the open group (owner)", true},
		{"resign", "", "stop being an administrator of the open group", false},
		{"search", "WORDS", "find users by name or ID", false},
		{"inspect", "", "inspector on/off", false},
		{"mouse", "[on|off]", "off frees the mouse for selecting text, on gives it back to dimtui; alone, switches", false},
		{"help", "", "keys and commands", false},
		{"quit", "", "leave dimtui (also /q, /exit); /quit GROUP quits a group", false},
	}
}

// workshopCommands are the commands of workshop mode (see WithWorkshop).
func workshopCommands() []slashCommand {
	return []slashCommand{
		{"step", "[on|off|lesson|messages|all]", "step-through on/off; lesson (the default) holds the handshake steps, chat messages and their receipts, all holds every frame, messages lets PING, PONG and ACK pass", false},
		{"next", "[N]", "release the next N held frames (one without N)", false},
		{"run", "", "run to the next handshake step or chat message", false},
		{"release", "", "release every frame held now", false},
		{"seek", "N|next|prev", "replay: go to frame #N, or to the next or previous stop", false},
		{"drop", "[in|out]", "the station drops my next chat message (out, the default) or its next one to me (in)", false},
		{"corrupt", "[in|out]", "the station damages the signature of my next chat message (out) or of its next one to me (in)", false},
		{"delay", "DURATION|off", "the station holds every message others send me by DURATION (2s, 500ms, up to 5m); its own answers go at once; off ends it", false},
		{"expire", "", "the station forgets my session: it asks DIM? and I handshake again", false},
		{"restart", "", "restart the station: every client reconnects and handshakes from Start", false},
		{"status", "", "my station's links and the users it knows elsewhere", false},
		{"partition", "", "cut the links between the stations", false},
		{"heal", "", "restore the links: what waited flows", false},
		{"export", "[FILE]", "write the session as FILE.jsonl and FILE.md (a dated name without FILE)", false},
		{"reset", "", "start over: a fresh station and fresh identities", false},
		{"presenter", "", "presenter theme on/off", false},
	}
}

// submit sends a line typed in the composer, or runs its slash command.
func (p *Pane) submit(text string) tea.Cmd {
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		return p.command(text)
	}
	text = strings.TrimPrefix(text, "/") // "//" sends a text starting with "/"
	if p.chat.noConversation() || (p.chat.current.peer.IsBroadcast() && !p.chat.current.peer.SameAs(dimp.Everyone)) {
		return p.setFlash("no conversation: /to NAME first", true)
	}
	return p.sendContent(p.chat.current.peer, dimp.NewText(text))
}

// broadcastWarning says who reads a message to everyone@everywhere.
const broadcastWarning = "a broadcast: what I write here goes unencrypted (signed, not sealed) to every user online " +
	"at this station and at the stations linked to it, and anyone on the way can read it"

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
		if errors.Is(err, errNobody) {
			return p.lookUpName(arg)
		}
		if err != nil {
			return p.setFlash(err.Error(), true)
		}
		return p.openAndLookUp(id)
	case "app":
		p.openForm(arg)
		return nil
	case "clear":
		return p.clearConversation()
	case "nick", "avatar":
		return p.profileCommand(strings.ToLower(name), arg)
	case "block", "unblock", "mute", "unmute":
		return p.listCommand(strings.ToLower(name), arg)
	case "send":
		if p.chat.noConversation() || p.chat.current.peer.IsBroadcast() {
			return p.setFlash("no conversation: /to NAME first", true)
		}
		return p.sendFile(arg)
	case "save":
		if p.chat.noConversation() {
			return p.setFlash("no conversation: /to NAME first", true)
		}
		return p.saveFile(arg)
	case "forward":
		if p.chat.noConversation() {
			return p.setFlash("no conversation: /to NAME first", true)
		}
		if arg == "" {
			return p.setFlash("/forward NAME|ID: to whom", true)
		}
		to, err := p.chat.contacts.resolve(arg)
		if err != nil {
			return p.setFlash(err.Error(), true)
		}
		c, err := p.forwardCopy()
		if err != nil {
			return p.setFlash(err.Error(), true)
		}
		return tea.Batch(p.sendContent(to, c), p.setFlash("forwarded to "+display.Name(to), false))
	case "page", "card", "reply", "recall", "resend":
		if p.chat.noConversation() || p.chat.current.peer.IsBroadcast() {
			return p.setFlash("no conversation: /to NAME first", true)
		}
		c, err := p.shareContent(strings.ToLower(name), arg)
		if err != nil {
			return p.setFlash(err.Error(), true)
		}
		return p.sendContent(p.chat.current.peer, c)
	case "who":
		// The answer comes as a UsersEvent, listed as a notice.
		p.chat.whoAsked = true
		return p.askUsers("asked the station who is online")
	case "members":
		peer := p.chat.currentPeer()
		if !peer.IsGroup() || peer.IsBroadcast() {
			return p.setFlash("/members lists a group's members: open the group's conversation first", true)
		}
		p.notice(p.chat.membersText(peer), false)
		return nil
	case "search":
		return p.startSearch(arg)
	case "inspect":
		return p.toggleInspector()
	case "help":
		return showHelp
	case "mouse":
		switch strings.ToLower(arg) {
		case "":
			return func() tea.Msg { return mouseMsg{toggle: true} }
		case "on":
			return func() tea.Msg { return mouseMsg{} }
		case "off":
			return func() tea.Msg { return mouseMsg{free: true} }
		}
		return p.setFlash("/mouse [on|off]: off frees the mouse for selecting text, on gives it back", true)
	case "quit", "exit", "q":
		if arg != "" && strings.ToLower(name) == "quit" {
			group, err := p.chat.contacts.resolve(arg)
			if err != nil || !group.IsGroup() {
				return p.setFlash("/quit GROUP quits a group; /quit alone leaves dimtui", true)
			}
			return p.groupAction(group, dimp.CmdQuit, "")
		}
		return tea.Quit
	case "group":
		sub, rest, _ := strings.Cut(arg, " ")
		if strings.ToLower(sub) != "new" {
			return p.setFlash("/group new NAME [MEMBER...]", true)
		}
		return p.createGroup(strings.TrimSpace(rest))
	case "invite", "expel", "hire", "fire":
		if arg == "" {
			return p.setFlash("/"+strings.ToLower(name)+" MEMBER...: names or IDs", true)
		}
		return p.groupAction(p.chat.currentPeer(), strings.ToLower(name), arg)
	case "leave":
		return p.groupAction(p.chat.currentPeer(), dimp.CmdQuit, "")
	case "resign":
		return p.groupAction(p.chat.currentPeer(), dimp.CmdResign, "")
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
	if id.SameAs(dimp.Everyone) {
		cmd := p.open(id)
		p.notice(broadcastWarning, false)
		return cmd
	}
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

// GroupManager is what a backend that creates and manages groups offers
// (*client.Client does; a replay does not).
type GroupManager interface {
	CreateGroup(ctx context.Context, name string, members []dimp.ID, assistants ...dimp.ID) (dimp.ID, error)
	ManageGroup(ctx context.Context, group dimp.ID, action string, members []dimp.ID) error
}

// createGroup runs /group new NAME [MEMBER...]: the name is the first word,
// or a "quoted name"; the group's conversation opens when the client
// reports it made.
func (p *Pane) createGroup(arg string) tea.Cmd {
	name, rest := arg, ""
	if strings.HasPrefix(arg, `"`) {
		if end := strings.Index(arg[1:], `"`); end >= 0 {
			name, rest = arg[1:end+1], arg[end+2:]
		}
	} else {
		name, rest, _ = strings.Cut(arg, " ")
	}
	if strings.TrimSpace(name) == "" {
		return p.setFlash("/group new NAME [MEMBER...]: a group needs a name", true)
	}
	members, err := p.resolveAll(rest)
	if err != nil {
		return p.setFlash(err.Error(), true)
	}
	gm, ok := p.b.(GroupManager)
	if !ok {
		return p.setFlash("making a group needs a live connection to a station", true)
	}
	return p.call("create the group", "", func(ctx context.Context) error {
		_, err := gm.CreateGroup(ctx, name, members)
		return err
	})
}

// groupAction runs a group command of the user's on group: invite, expel,
// quit, hire, fire or resign, with the members named in arg.
func (p *Pane) groupAction(group dimp.ID, action, arg string) tea.Cmd {
	if !group.IsGroup() || group.IsBroadcast() {
		return p.setFlash("/"+action+" acts on a group: open the group's conversation first", true)
	}
	members, err := p.resolveAll(arg)
	if err != nil {
		return p.setFlash(err.Error(), true)
	}
	gm, ok := p.b.(GroupManager)
	if !ok {
		return p.setFlash("managing a group needs a live connection to a station", true)
	}
	return p.call(action, "", func(ctx context.Context) error {
		return gm.ManageGroup(ctx, group, action, members)
	})
}

// resolveAll finds each of the space-separated names or IDs in s.
func (p *Pane) resolveAll(s string) ([]dimp.ID, error) {
	var out []dimp.ID
	for _, f := range strings.Fields(s) {
		id, err := p.chat.contacts.resolve(f)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}
