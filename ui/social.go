package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// What a daily DIM user has besides chat: a name others see (/nick,
// /avatar re-sign the visa), block and mute lists kept at the station
// (/block, /mute and their un-), names the station resolves (/to NAME
// when no contact has it), and broadcasts to everyone.

// socialBackend is what those commands need of the backend; a
// *client.Client has it, a replay does not.
type socialBackend interface {
	SetProfile(ctx context.Context, name, avatar string) error
	Block(ctx context.Context, ids []dimp.ID) error
	Unblock(ctx context.Context, ids []dimp.ID) error
	Mute(ctx context.Context, ids []dimp.ID) error
	Unmute(ctx context.Context, ids []dimp.ID) error
	ResolveName(ctx context.Context, name string) ([]dimp.ID, error)
}

// social returns the backend's social side, or a flash saying there is
// none.
func (p *Pane) social(cmd string) (socialBackend, tea.Cmd) {
	sb, ok := p.b.(socialBackend)
	if !ok {
		return nil, p.setFlash("/"+cmd+": not in this session (a replay)", true)
	}
	return sb, nil
}

// profileCommand is /nick NAME and /avatar URL: the visa re-signed with
// the new name or avatar, sent to the station and to my contacts.
func (p *Pane) profileCommand(name, arg string) tea.Cmd {
	sb, flash := p.social(name)
	if flash != nil {
		return flash
	}
	if arg == "" {
		if name == "nick" {
			return p.setFlash("/nick NAME: the name others see", true)
		}
		return p.setFlash("/avatar URL: an http(s) address of a picture", true)
	}
	nick, avatar := p.chat.myNick, arg
	if name == "nick" {
		nick, avatar = arg, ""
	}
	if nick == "" {
		nick = display.Name(p.me)
	}
	return p.call("/"+name, "visa re-signed and sent to the station and my contacts", func(ctx context.Context) error {
		return sb.SetProfile(ctx, nick, avatar)
	})
}

// listCommand is /block, /unblock, /mute, /unmute NAME|ID...: the whole
// list goes to the station, which keeps it (and refuses a blocked
// user's messages); without names, /block and /mute show the list.
func (p *Pane) listCommand(name, arg string) tea.Cmd {
	sb, flash := p.social(name)
	if flash != nil {
		return flash
	}
	if arg == "" {
		if name == "block" || name == "mute" {
			p.notice(p.chat.listsText(), false)
			return nil
		}
		return p.setFlash("/"+name+" NAME|ID…: whom", true)
	}
	var ids []dimp.ID
	for _, f := range strings.Fields(arg) {
		id, err := p.chat.contacts.resolve(f)
		if err != nil {
			return p.setFlash("/"+name+": "+err.Error(), true)
		}
		if id.SameAs(p.me) || id.IsBroadcast() {
			return p.setFlash("/"+name+": not "+display.Name(id), true)
		}
		ids = append(ids, id)
	}
	do := map[string]func(context.Context, []dimp.ID) error{
		"block": sb.Block, "unblock": sb.Unblock, "mute": sb.Mute, "unmute": sb.Unmute}[name]
	what := map[string]string{
		"block":   "blocked %s: the station refuses their messages, and none is shown",
		"unblock": "unblocked %s",
		"mute":    "muted %s: no notifications from them (the station keeps the list)",
		"unmute":  "unmuted %s",
	}[name]
	return p.call("/"+name, fmt.Sprintf(what, namesText(ids, p.chat.nameOf)), func(ctx context.Context) error { return do(ctx, ids) })
}

// lookUpName is /to NAME when no contact has the name: the station's
// name service answers (reserved names, registered names, visa names).
func (p *Pane) lookUpName(name string) tea.Cmd {
	sb, ok := p.b.(socialBackend)
	if !ok {
		return p.setFlash(fmt.Sprintf("nobody called %q here: give the full ID (name@address)", name), true)
	}
	id, ctx := p.id, p.opt.Context
	return tea.Batch(p.setFlash(fmt.Sprintf("asking the station who %q is…", name), false), func() tea.Msg {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		ids, err := sb.ResolveName(cctx, name)
		return nameResolvedMsg{pane: id, name: name, ids: ids, err: err}
	})
}

// nameResolvedMsg brings the station's answer to a name.
type nameResolvedMsg struct {
	pane PaneID
	name string
	ids  []dimp.ID
	err  error
}

// nameResolved opens the chat with the one ID a name resolved to, or
// lists the several it names.
func (p *Pane) nameResolved(msg nameResolvedMsg) tea.Cmd {
	switch {
	case errors.Is(msg.err, client.ErrNameAmbiguous):
		lines := []string{fmt.Sprintf("%d users are called %q; /to one of these IDs:", len(msg.ids), msg.name)}
		for _, id := range msg.ids[:min(len(msg.ids), 8)] {
			lines = append(lines, "  "+id.String())
		}
		if len(msg.ids) > 8 {
			lines = append(lines, fmt.Sprintf("  … %d more", len(msg.ids)-8))
		}
		p.notice(strings.Join(lines, "\n"), false)
		return nil
	case errors.Is(msg.err, client.ErrNameUnknown):
		return p.setFlash(fmt.Sprintf("nobody called %q here or at the station: give the full ID (name@address)", msg.name), true)
	case msg.err != nil:
		return p.setFlash(fmt.Sprintf("%q: %v", msg.name, msg.err), true)
	case len(msg.ids) == 0:
		return p.setFlash(fmt.Sprintf("the station knows nobody called %q", msg.name), true)
	}
	return tea.Batch(p.openAndLookUp(msg.ids[0]), p.setFlash(fmt.Sprintf("%q is %s, the station says", msg.name, msg.ids[0]), false))
}

// onProfile shows a visa's new name: a peer's as a notice in their
// conversation when it changed, mine when I re-signed it.
func (s *chatState) onProfile(ev client.ProfileEvent) {
	switch {
	case ev.Self:
		s.myNick = ev.Name
		s.noticeAt(ev.Time, fmt.Sprintf("my visa now names me “%s”: re-signed, sent to the station and my contacts", ev.Name), false)
		return
	case ev.ID.IsZero():
		return
	}
	if s.contacts.learnName(ev.ID, ev.Name) {
		s.namesGen++
	}
	if !ev.Update {
		return
	}
	c := s.convs[client.IDKey(ev.ID)]
	if c == nil {
		return
	}
	s.addEntry(c, &entry{kind: entryNotice, at: ev.Time, text: profileNoticeText(ev.ID, ev.Name, ev.Old), id: client.MessageID(ev.NoticeID)})
}

// profileNoticeText says that id's visa changed, to name (from old).
func profileNoticeText(id dimp.ID, name, old string) string {
	if old != "" && old != name {
		return fmt.Sprintf("%s now calls themself “%s” (was “%s”): a new visa, signed by their key", display.Name(id), name, old)
	}
	return fmt.Sprintf("%s's visa changed: now “%s”", display.Name(id), name)
}

// onLists notes the block and mute lists as the client knows them.
func (s *chatState) onLists(ev client.ListsEvent) {
	s.blocked, s.muted = map[string]bool{}, map[string]bool{}
	for _, id := range ev.Block {
		s.blocked[client.IDKey(id)] = true
	}
	for _, id := range ev.Mute {
		s.muted[client.IDKey(id)] = true
	}
	s.listsEv = ev
}

// listsText says what the block and mute lists hold.
func (s *chatState) listsText() string {
	ev := s.listsEv
	line := func(what string, ids []dimp.ID) string {
		if len(ids) == 0 {
			return what + ": nobody"
		}
		return what + ": " + namesText(ids, s.nameOf)
	}
	text := line("blocked", ev.Block) + "; " + line("muted", ev.Mute)
	if !ev.Loaded {
		text += " (the station's lists have not come yet)"
	}
	if len(ev.Unknown) > 0 {
		text += fmt.Sprintf("; %s not known here yet (their documents were asked for)", display.Plural(len(ev.Unknown), "listed ID"))
	}
	if len(ev.Invalid) > 0 {
		text += fmt.Sprintf("; %s that are not IDs, kept as the station has them", display.Plural(len(ev.Invalid), "entry"))
	}
	if ev.Dropped > 0 {
		text += fmt.Sprintf("; %s from blocked users not shown", display.Plural(ev.Dropped, "message"))
	}
	return text
}
