package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"dimtui/dimp"
	"dimtui/display"
)

// Managing a group, as dimples' group manager does it. A group command is
// not sent like a chat message: its sender signs it as a broadcast (to
// anyone@anywhere, not encrypted), and that signed message is forwarded,
// inside a ForwardContent, to each member, so that whoever holds it can
// pass it on unchanged and anyone can check who said it. The owner or an
// administrator changes the members with a reset; everyone in the new
// list (and anyone removed) gets the group's history: its documents, the
// reset, and the commands since. That history is also what a member
// answers a query with.

// ErrGroup is wrapped by every refusal of a group action: a group not
// known, a member who may not do it, a list too long.
var ErrGroup = errors.New("group")

// maxGroupMembers bounds a group's members: a reset or invite with more
// is refused ("Command error."), and so is a group created with more.
const maxGroupMembers = 1000

// maxGroupName bounds a group's name, in characters.
const maxGroupName = 64

// groupLog is what a client keeps of a group's history to pass it on:
// the signed reset that set the members, and the membership commands
// since, each the original broadcast message of its sender.
type groupLog struct {
	reset *dimp.ReliableMessage
	since []*dimp.ReliableMessage
}

// maxGroupLog bounds the commands kept since a reset.
const maxGroupLog = 64

// CreateGroup founds a group named name with members: a new group ID and
// meta made with the user's identity key, a bulletin signed with it and
// sent to the station, then the members told with a reset. The user is
// its owner and first member. Assistants, when given, are bots the
// bulletin names: messages to the group then go through the first.
func (c *Client) CreateGroup(ctx context.Context, name string, members []dimp.ID, assistants ...dimp.ID) (dimp.ID, error) {
	var id dimp.ID
	var err error
	if derr := c.do(ctx, func(l *loop) { id, err = l.createGroup(name, members, assistants) }); derr != nil {
		return dimp.ID{}, derr
	}
	return id, err
}

// ManageGroup runs a group action of the user's: dimp.CmdInvite,
// CmdExpel, CmdQuit, CmdHire, CmdFire or CmdResign; members names whom
// (none for quit and resign).
func (c *Client) ManageGroup(ctx context.Context, group dimp.ID, action string, members []dimp.ID) error {
	var err error
	if derr := c.do(ctx, func(l *loop) { err = l.manageGroup(group, action, members) }); derr != nil {
		return derr
	}
	return err
}

// Group returns what the client knows of a group (a copy), or nil.
func (c *Client) Group(ctx context.Context, id dimp.ID) (*Group, error) {
	var g *Group
	err := c.do(ctx, func(l *loop) {
		if known := l.groups[IDKey(id)]; known != nil {
			g = known.Copy()
		}
	})
	return g, err
}

// groupError is a refused group action: its message says why, and it is
// an ErrGroup.
type groupError struct{ msg string }

func (e *groupError) Error() string        { return e.msg }
func (e *groupError) Is(target error) bool { return target == ErrGroup }

func groupErr(format string, a ...any) error {
	return &groupError{msg: fmt.Sprintf(format, a...)}
}

// checkMembers refuses a member list a group cannot have: more than
// maxGroupMembers, or an ID that is not a user's.
func checkMembers(list []dimp.ID) error {
	if len(list) > maxGroupMembers {
		return groupErr("%d members: a group has %d at most", len(list), maxGroupMembers)
	}
	for _, id := range list {
		if id.IsBroadcast() || (id.Type() != dimp.User && id.Type() != dimp.Bot) {
			return groupErr("%s is not a user: only users are members", display.Name(id))
		}
	}
	return nil
}

func (l *loop) createGroup(name string, members, assistants []dimp.ID) (dimp.ID, error) {
	me := l.c.me
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return dimp.ID{}, groupErr("a group needs a name")
	case utf8.RuneCountInString(name) > maxGroupName:
		return dimp.ID{}, groupErr("a group's name has %d characters at most", maxGroupName)
	}
	members = slices.DeleteFunc(uniqueIDs(members), func(id dimp.ID) bool { return id.SameAs(me.ID) })
	if err := checkMembers(append([]dimp.ID{me.ID}, members...)); err != nil {
		return dimp.ID{}, err
	}
	id, meta, err := dimp.NewGroupID(me.SignKey, "")
	if err != nil {
		return dimp.ID{}, err
	}
	if err := checkMembers(assistants); err != nil {
		return dimp.ID{}, err
	}
	bulletin, err := dimp.NewBulletin(dimp.Bulletin{Group: id, Name: name, Founder: me.ID.WithoutTerminal(), Assistants: assistants}, me.SignKey)
	if err != nil {
		return dimp.ID{}, err
	}
	prof, err := dimp.NewProfile(id, meta, bulletin)
	if err != nil {
		return dimp.ID{}, err
	}
	l.learn(prof)
	g := l.groups[IDKey(id)]
	if g == nil {
		return dimp.ID{}, groupErr("the new bulletin of %s did not take", id)
	}
	g.Members = []dimp.ID{me.ID.WithoutTerminal()}
	l.uploadGroupDocs(prof)
	return id, l.resetMembers(g, append([]dimp.ID{me.ID.WithoutTerminal()}, members...), "create")
}

// uploadGroupDocs sends the group's meta and bulletin to the station,
// which checks the bulletin with the meta and answers queries with both.
func (l *loop) uploadGroupDocs(p *dimp.Profile) {
	docs := dimp.NewDocumentCommand(p.ID, p.Meta, p.Visas)
	if _, err := l.send(dimp.AnyStation, docs, false); err != nil {
		l.c.emit(l.ctx, errorf("upload the bulletin of %s: %w", p.ID, err))
	}
}

// resetMembers sets g's members to next with a reset the user signs, and
// sends the group's history to everyone in next and everyone it drops.
// What the UI shows comes as a GroupCommandEvent from the user.
func (l *loop) resetMembers(g *Group, next []dimp.ID, action string) error {
	me := l.c.me.ID.WithoutTerminal()
	next = uniqueIDs(next)
	if err := checkMembers(next); err != nil {
		return err
	}
	cmd := dimp.NewGroupCommand(dimp.CmdReset, g.ID, next)
	signed, err := l.packGroupCommand(cmd, false)
	if err != nil {
		return err
	}
	role := g.roleOf(me)
	old := slices.Clone(g.Members)
	ch := g.Apply(me, cmd)
	if ch.Refused != "" {
		return groupErr("%s", ch.Reason)
	}
	log := l.logOf(g.ID)
	log.reset, log.since = signed, nil
	history, err := l.historyOf(g)
	if err != nil {
		return err
	}
	// dimples sends it to the group's bots only, which pass it on; it
	// goes to the members too here, so that they do not depend on a bot.
	for _, m := range uniqueIDs(append(append(slices.Clone(next), missing(old, next)...), g.Assistants...)) {
		if !m.SameAs(me) {
			l.sendForward(m, history)
		}
	}
	l.emitGroupEvent(GroupCommandEvent{Time: time.Now(), From: me, Group: g.ID, Command: action,
		Members: next, Change: ch, Role: role, Now: g.Copy()})
	return nil
}

func (l *loop) manageGroup(group dimp.ID, action string, list []dimp.ID) error {
	g := l.groups[IDKey(group)]
	me := l.c.me.ID.WithoutTerminal()
	if g == nil || g.Owner.IsZero() {
		return groupErr("%s is not a group I know", display.Name(group))
	}
	if !g.IsMember(me) {
		return groupErr("I am not a member of %s", groupName(g))
	}
	list = uniqueIDs(list)
	manager := g.IsOwner(me) || g.IsAdmin(me)
	switch action {
	case dimp.CmdInvite:
		fresh := missing(list, g.Members)
		if len(fresh) == 0 {
			return groupErr("nobody to invite: they are members already")
		}
		if manager {
			return l.resetMembers(g, append(slices.Clone(g.Members), fresh...), action)
		}
		return l.inviteAsMember(g, fresh)
	case dimp.CmdExpel:
		if !manager {
			return groupErr("only the owner or an administrator expels: I am a member of %s", groupName(g))
		}
		for _, id := range list {
			switch {
			case g.IsOwner(id):
				return groupErr("the owner cannot be expelled")
			case g.IsAdmin(id):
				return groupErr("%s is an administrator: fire first", display.Name(id))
			case !g.IsMember(id):
				return groupErr("%s is not a member", display.Name(id))
			}
		}
		next := slices.DeleteFunc(slices.Clone(g.Members), func(id dimp.ID) bool { return containsID(list, id) })
		return l.resetMembers(g, next, action)
	case dimp.CmdQuit:
		switch {
		case g.IsOwner(me):
			return groupErr("the owner cannot quit %s", groupName(g))
		case g.IsAdmin(me):
			return groupErr("an administrator resigns before quitting %s", groupName(g))
		}
		return l.announceToMembers(g, dimp.NewGroupCommand(dimp.CmdQuit, g.ID, nil), action)
	case dimp.CmdResign:
		if !g.IsAdmin(me) {
			return groupErr("only an administrator resigns")
		}
		return l.announceToMembers(g, dimp.NewGroupCommand(dimp.CmdResign, g.ID, nil), action)
	case dimp.CmdHire, dimp.CmdFire:
		return l.setAdmins(g, action, list)
	}
	return groupErr("no such group action %q", action)
}

// inviteAsMember sends an ordinary member's invitation: the members hear
// of it (the owner or an administrator may take them in with a reset),
// and the invited get the group's history so that they know the group.
func (l *loop) inviteAsMember(g *Group, fresh []dimp.ID) error {
	cmd := dimp.NewGroupCommand(dimp.CmdInvite, g.ID, fresh)
	if err := l.announceToMembers(g, cmd, dimp.CmdInvite); err != nil {
		return err
	}
	history, err := l.historyOf(g)
	if err != nil {
		return err
	}
	for _, m := range fresh {
		l.sendForward(m, history)
	}
	return nil
}

// announceToMembers signs cmd as a broadcast exposing the group and
// forwards it to every other member, as dimples sends a quit, a resign or
// a member's invitation; the user's own client applies it too.
func (l *loop) announceToMembers(g *Group, cmd *dimp.GroupCommand, action string) error {
	me := l.c.me.ID.WithoutTerminal()
	signed, err := l.packGroupCommand(cmd, true)
	if err != nil {
		return err
	}
	others := slices.DeleteFunc(slices.Clone(g.Members), func(id dimp.ID) bool { return id.SameAs(me) })
	role := g.roleOf(me)
	ch := g.Apply(me, cmd)
	if ch.Refused != "" {
		return groupErr("%s", ch.Reason)
	}
	if cmd.Name != dimp.CmdQuit {
		l.keepCommand(g.ID, signed)
	}
	for _, m := range others {
		l.sendForward(m, []*dimp.ReliableMessage{signed})
	}
	l.emitGroupEvent(GroupCommandEvent{Time: time.Now(), From: me, Group: g.ID, Command: action,
		Members: cmd.Members, Change: ch, Role: role, Now: g.Copy()})
	return nil
}

// setAdmins hires or fires administrators: the owner signs a new bulletin
// naming them, sends it to the station and, with the group's history, to
// every member. dimchat's clients take administrators from the bulletin
// only; they have no hire or fire command to act on.
func (l *loop) setAdmins(g *Group, action string, list []dimp.ID) error {
	me := l.c.me
	if !g.IsOwner(me.ID) {
		return groupErr("only the owner of %s hires and fires administrators", groupName(g))
	}
	if len(list) == 0 {
		return groupErr("%s whom?", action)
	}
	admins := slices.Clone(g.Admins)
	for _, id := range list {
		switch {
		case g.IsOwner(id):
			return groupErr("the owner is not an administrator")
		case action == dimp.CmdHire && !g.IsMember(id):
			return groupErr("%s is not a member: invite first", display.Name(id))
		case action == dimp.CmdHire && g.IsAdmin(id):
			return groupErr("%s is an administrator already", display.Name(id))
		case action == dimp.CmdFire && !g.IsAdmin(id):
			return groupErr("%s is not an administrator", display.Name(id))
		}
	}
	if action == dimp.CmdHire {
		admins = append(admins, list...)
	} else {
		admins = slices.DeleteFunc(admins, func(id dimp.ID) bool { return containsID(list, id) })
	}
	p := l.peers[IDKey(g.ID)]
	if p == nil {
		return groupErr("the bulletin of %s is not known", groupName(g))
	}
	bulletin, err := dimp.NewBulletin(dimp.Bulletin{Group: g.ID, Name: g.Name, Founder: g.Owner, Administrators: admins,
		Assistants: g.Assistants}, me.SignKey)
	if err != nil {
		return err
	}
	prof, err := dimp.NewProfile(g.ID, p.Meta, bulletin)
	if err != nil {
		return err
	}
	l.peers[IDKey(g.ID)] = prof
	l.learnGroup(prof)
	l.uploadGroupDocs(prof)
	history, err := l.historyOf(g)
	if err != nil {
		return err
	}
	for _, m := range g.Members {
		if !m.SameAs(me.ID) {
			l.sendForward(m, history)
		}
	}
	// learnGroup reported the change, as the owner's new bulletin.
	return nil
}

// packGroupCommand signs a group command as dimples packs one: a
// broadcast from the user to anyone@anywhere, not encrypted, with the
// group exposed on the envelope for all but a reset.
func (l *loop) packGroupCommand(c dimp.Content, exposeGroup bool) (*dimp.ReliableMessage, error) {
	if c.Header().SN == 0 {
		c.Header().SN = dimp.NewSN()
	}
	im := dimp.NewInstantMessage(l.c.me.ID, dimp.Anyone, c)
	if exposeGroup {
		im.Group = c.Header().Group
	}
	rm, err := l.packer.Seal(im, nil, dimp.SealOptions{})
	if err != nil {
		return nil, fmt.Errorf("sign the group command: %w", err)
	}
	return rm, nil
}

// historyOf is the group's history as the user passes it on: the group's
// meta and bulletin in a documents broadcast the user signs, then the
// reset and the commands since, as their senders signed them.
func (l *loop) historyOf(g *Group) ([]*dimp.ReliableMessage, error) {
	p := l.peers[IDKey(g.ID)]
	if p == nil || p.Visa() == nil {
		return nil, groupErr("the bulletin of %s is not known", groupName(g))
	}
	docs, err := l.packGroupCommand(dimp.NewDocumentCommand(g.ID, p.Meta, p.Visas), false)
	if err != nil {
		return nil, err
	}
	out := []*dimp.ReliableMessage{docs}
	if log := l.groupLogs[IDKey(g.ID)]; log != nil && log.reset != nil {
		out = append(out, log.reset)
		out = append(out, log.since...)
	}
	return out, nil
}

// sendForward sends messages already signed to a member inside a
// ForwardContent.
func (l *loop) sendForward(to dimp.ID, messages []*dimp.ReliableMessage) {
	fc := &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward), Secrets: messages}
	if _, err := l.send(to, fc, false); err != nil {
		l.c.emit(l.ctx, errorf("group history for %s: %w", to, err))
	}
}

// logOf returns the group's log, made when needed.
func (l *loop) logOf(group dimp.ID) *groupLog {
	k := IDKey(group)
	log := l.groupLogs[k]
	if log == nil {
		log = &groupLog{}
		l.groupLogs[k] = log
	}
	return log
}

// keepCommand keeps a membership command of the group's, as signed by its
// sender, to pass on with the history.
func (l *loop) keepCommand(group dimp.ID, signed *dimp.ReliableMessage) {
	log := l.logOf(group)
	if len(log.since) >= maxGroupLog {
		log.since = log.since[1:]
	}
	log.since = append(log.since, signed)
}

// logGroupCommand keeps a command the client applied, when it came as the
// broadcast its sender signed (not sealed to this user alone), so that it
// can be passed on: a reset replaces what was kept, other membership
// commands are added.
func (l *loop) logGroupCommand(rm *dimp.ReliableMessage, c *dimp.GroupCommand) {
	if !rm.IsBroadcast() {
		return
	}
	switch c.Name {
	case dimp.CmdReset:
		log := l.logOf(c.Group)
		log.reset, log.since = rm, nil
	case dimp.CmdInvite, dimp.CmdJoin, dimp.CmdQuit, dimp.CmdResign:
		l.keepCommand(c.Group, rm)
	}
}

// answerQuery sends the group's history to a member who asked for it, as
// any member holding it does in dimples.
func (l *loop) answerQuery(from dimp.ID, g *Group) {
	if !g.IsMember(from) || l.groupLogs[IDKey(g.ID)] == nil {
		return
	}
	history, err := l.historyOf(g)
	if err != nil {
		return
	}
	l.sendForward(from, history)
}

// maxGroupAsk is how often the client asks for one group's members.
const maxGroupAsk = 10 * time.Minute

// askMembers asks a group's administrators and owner for its history (and
// so its members), as dimchat's clients do when a group's bulletin is
// known but its members are not; once in maxGroupAsk per group.
func (l *loop) askMembers(g *Group) {
	k := IDKey(g.ID)
	if at, ok := l.groupAsked[k]; ok && time.Since(at) < maxGroupAsk {
		return
	}
	l.groupAsked[k] = time.Now()
	me := l.c.me.ID
	for _, to := range append(slices.Clone(g.Admins), g.Owner) {
		if to.IsZero() || to.SameAs(me) {
			continue
		}
		if _, err := l.send(to, dimp.NewGroupCommand(dimp.CmdQuery, g.ID, nil), false); err != nil {
			l.c.emit(l.ctx, errorf("ask %s for the members of %s: %w", to, g.ID, err))
		}
	}
}
