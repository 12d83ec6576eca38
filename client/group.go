package client

import (
	"encoding/json"
	"slices"
	"time"

	"dimtui/dimp"
)

// The rules a member's client applies to the group commands it receives,
// as dimchat's clients apply them (dimples' group processors): who may
// reset the members, invite, quit or resign, and what each changes. They
// are pure: the loop feeds them commands that verified and keeps the
// Group; the UI shows the GroupChange.

// Group is what a client knows of a group: its bulletin's name, founder
// (who is the owner of a plain group) and administrators, and the members
// the owner or an administrator last set, the owner first.
type Group struct {
	ID      dimp.ID
	Name    string
	Owner   dimp.ID
	Admins  []dimp.ID
	Members []dimp.ID
	// Assistants are the group's bots, as its bulletin names them: a
	// message to the group goes to one of them, which passes a copy to
	// each member.
	Assistants []dimp.ID
	// Requests are the members invited by an ordinary member, and
	// strangers who asked to join: waiting for the owner or an
	// administrator to reset the members with them.
	Requests []dimp.ID
}

// The receipts dimchat's clients send back for a group command they
// refuse, and that dimtui shows.
const (
	GroupEmpty       = "Group empty."
	GroupDenied      = "Permission denied."
	GroupCommandErr  = "Command error."
	GroupUnsupported = "Command not support."
)

// GroupChange is what a group command did to a Group: the members added
// and removed, the requests noted; or why it was refused (a receipt's
// text and the reason) or ignored.
type GroupChange struct {
	Added        []dimp.ID `json:"added,omitempty"`
	Removed      []dimp.ID `json:"removed,omitempty"`
	Requested    []dimp.ID `json:"requested,omitempty"`
	AdminRemoved dimp.ID   `json:"resigned,omitzero"`
	// Hired and Fired: administrators the owner added to or removed from
	// the group's bulletin.
	Hired   []dimp.ID `json:"hired,omitempty"`
	Fired   []dimp.ID `json:"fired,omitempty"`
	Refused string    `json:"refused,omitempty"` // GroupEmpty, GroupDenied, GroupCommandErr, GroupUnsupported
	Reason  string    `json:"reason,omitempty"`  // why, in a sentence
	Ignored string    `json:"ignored,omitempty"` // why nothing changed, when that is not a refusal
}

// IsMember reports whether id is one of the group's members.
func (g *Group) IsMember(id dimp.ID) bool { return containsID(g.Members, id) }

// IsAdmin reports whether id is one of the group's administrators.
func (g *Group) IsAdmin(id dimp.ID) bool { return containsID(g.Admins, id) }

// IsOwner reports whether id owns the group.
func (g *Group) IsOwner(id dimp.ID) bool { return !g.Owner.IsZero() && g.Owner.SameAs(id) }

func containsID(list []dimp.ID, id dimp.ID) bool {
	return slices.ContainsFunc(list, func(x dimp.ID) bool { return x.SameAs(id) })
}

// Apply applies a group command from a sender whose signature verified.
func (g *Group) Apply(from dimp.ID, cmd *dimp.GroupCommand) GroupChange {
	refuse := func(receipt, reason string) GroupChange { return GroupChange{Refused: receipt, Reason: reason} }
	if g.Owner.IsZero() {
		return refuse(GroupEmpty, "the group's bulletin is not known yet")
	}
	if len(g.Members) == 0 {
		g.Members = []dimp.ID{g.Owner} // the owner, at least, is known
	}
	needMembers := func() (GroupChange, bool) {
		if len(cmd.Members) == 0 {
			return refuse(GroupCommandErr, "the command names no members"), false
		}
		if err := checkMembers(cmd.Members); err != nil {
			return refuse(GroupCommandErr, err.Error()), false
		}
		return GroupChange{}, true
	}
	switch cmd.Name {
	case dimp.CmdReset:
		if ch, ok := needMembers(); !ok {
			return ch
		}
		if !g.IsOwner(from) && !g.IsAdmin(from) {
			return refuse(GroupDenied, "only the owner or an administrator resets the members")
		}
		if !g.IsOwner(cmd.Members[0]) {
			return refuse(GroupDenied, "the owner must be the first member")
		}
		for _, a := range g.Admins {
			if !containsID(cmd.Members, a) {
				return refuse(GroupDenied, "a reset may not remove an administrator")
			}
		}
		next := uniqueIDs(cmd.Members)
		ch := GroupChange{Added: missing(next, g.Members), Removed: missing(g.Members, next)}
		g.Members = next
		g.Requests = slices.DeleteFunc(g.Requests, func(id dimp.ID) bool { return containsID(next, id) })
		return ch
	case dimp.CmdInvite:
		if ch, ok := needMembers(); !ok {
			return ch
		}
		if !g.IsMember(from) {
			return refuse(GroupDenied, "only a member invites")
		}
		fresh := missing(uniqueIDs(cmd.Members), g.Members)
		if g.IsOwner(from) || g.IsAdmin(from) {
			g.Members = append(g.Members, fresh...)
			return GroupChange{Added: fresh}
		}
		// From an ordinary member: a request the owner or an
		// administrator answers with a reset.
		fresh = missing(fresh, g.Requests)
		g.Requests = append(g.Requests, fresh...)
		return GroupChange{Requested: fresh}
	case dimp.CmdJoin:
		if g.IsMember(from) {
			return GroupChange{Ignored: "already a member"}
		}
		if !containsID(g.Requests, from) {
			g.Requests = append(g.Requests, from)
		}
		return GroupChange{Requested: []dimp.ID{from}}
	case dimp.CmdQuit:
		switch {
		case g.IsOwner(from):
			return refuse(GroupDenied, "the owner cannot quit")
		case g.IsAdmin(from):
			return refuse(GroupDenied, "an administrator resigns before quitting")
		case !g.IsMember(from):
			return GroupChange{Ignored: "not a member"}
		}
		g.Members = slices.DeleteFunc(g.Members, func(id dimp.ID) bool { return id.SameAs(from) })
		return GroupChange{Removed: []dimp.ID{from}}
	case dimp.CmdExpel:
		return GroupChange{Ignored: "expel is deprecated: the owner or an administrator resets the members instead"}
	case dimp.CmdResign:
		switch {
		case g.IsOwner(from):
			return refuse(GroupDenied, "the owner cannot resign")
		case !g.IsAdmin(from):
			return GroupChange{Ignored: "not an administrator"}
		}
		g.Admins = slices.DeleteFunc(g.Admins, func(id dimp.ID) bool { return id.SameAs(from) })
		return GroupChange{AdminRemoved: from}
	case dimp.CmdQuery:
		return GroupChange{Ignored: "a question: answered with the group's history, changes nothing"}
	}
	return refuse(GroupUnsupported, "the command “"+cmd.Name+"” is not one a client acts on")
}

// uniqueIDs returns list without repeats, in order.
func uniqueIDs(list []dimp.ID) []dimp.ID {
	out := make([]dimp.ID, 0, len(list))
	for _, id := range list {
		if !id.IsZero() && !containsID(out, id) {
			out = append(out, id.WithoutTerminal())
		}
	}
	return out
}

// missing returns the IDs of list that are not in from.
func missing(list, from []dimp.ID) []dimp.ID {
	var out []dimp.ID
	for _, id := range list {
		if !containsID(from, id) {
			out = append(out, id)
		}
	}
	return out
}

// learnGroup takes a group's verified bulletin: its name, its founder (the
// owner) and its administrators. The members stay as they were: they come
// with a reset.
func (l *loop) learnGroup(p *dimp.Profile) {
	b := p.Visa()
	if b == nil || b.DocType() != dimp.DocBulletin {
		return
	}
	founder, err := b.Founder()
	if err != nil || founder.IsZero() {
		l.c.emit(l.ctx, errorf("bulletin of %s names no founder: %v", p.ID, err))
		return
	}
	k := IDKey(p.ID)
	g := l.groups[k]
	if g == nil {
		g = &Group{ID: p.ID}
		l.groups[k] = g
	}
	g.Name, g.Owner = b.Name(), founder
	defer func() {
		waiting := l.groupWaiting[k]
		delete(l.groupWaiting, k)
		for _, in := range waiting {
			l.applyGroupCommand(g, in)
		}
		l.releaseForGroup(k, g)
	}()
	before, known := slices.Clone(g.Admins), len(g.Members) > 0
	g.Admins = bulletinIDs(b, "administrators")
	g.Assistants = bulletinIDs(b, "assistants")
	var one string
	if raw := b.Property("assistant"); len(g.Assistants) == 0 && raw != nil && json.Unmarshal(raw, &one) == nil {
		// The older form: one bot.
		if id, err := dimp.ParseID(one); err == nil {
			g.Assistants = []dimp.ID{id}
		}
	}
	// A new bulletin of a group the client knows may hire or fire: its
	// owner signed it, so it is the owner's word.
	if hired, fired := missing(g.Admins, before), missing(before, g.Admins); known && (len(hired) > 0 || len(fired) > 0) {
		l.emitGroupEvent(GroupCommandEvent{Time: time.Now(), From: founder, Group: g.ID, Command: "bulletin",
			Members: g.Admins, Change: GroupChange{Hired: hired, Fired: fired}, Role: "owner", Now: g.Copy()})
	}
}

// onGroupCommand applies a group command from a peer to what the client
// knows of its group, and reports it with what it changed. A group whose
// bulletin is not known yet is asked of the station; the command is then
// reported as refused ("Group empty."), as the reference does.
func (l *loop) onGroupCommand(rm *dimp.ReliableMessage, c *dimp.GroupCommand, now time.Time) bool {
	k := IDKey(c.Group)
	g := l.groups[k]
	if g == nil || g.Owner.IsZero() {
		// Its bulletin first: the command waits for it (a few, at most).
		l.query(c.Group)
		if w, ok := l.groupWaiting[k]; len(w) < maxGroupWaiting && (ok || len(l.groupWaiting) < maxGroupsWaiting) {
			l.groupWaiting[k] = append(w, groupCommandIn{from: rm.Sender, cmd: c, at: now, rm: rm})
			return true
		}
		g = &Group{ID: c.Group}
	}
	return l.applyGroupCommand(g, groupCommandIn{from: rm.Sender, cmd: c, at: now, rm: rm})
}

// groupCommandIn is a group command received, waiting for its group's
// bulletin.
type groupCommandIn struct {
	from dimp.ID
	cmd  *dimp.GroupCommand
	at   time.Time
	rm   *dimp.ReliableMessage // as its sender signed it
}

// maxGroupWaiting bounds the commands kept for a group whose bulletin is
// not known yet, and maxGroupsWaiting the groups; beyond them commands are
// refused as the reference does ("Group empty.").
const (
	maxGroupWaiting  = 16
	maxGroupsWaiting = 64
)

// groupUnknown refuses the commands that waited for a group the station
// does not know.
func (l *loop) groupUnknown(k string) {
	waiting := l.groupWaiting[k]
	delete(l.groupWaiting, k)
	for _, in := range waiting {
		l.applyGroupCommand(&Group{ID: in.cmd.Group}, in)
	}
	l.releaseForGroup(k, nil)
}

// maxGroupHeld bounds the messages held for one group whose bulletin is
// asked for; beyond it they are shown at once.
const maxGroupHeld = 64

// holdForGroup keeps a message to a group whose bulletin is not known
// yet, and asks the station for it: the message is shown when the group
// is known (or the station does not know it either). False: shown now.
func (l *loop) holdForGroup(group dimp.ID, ev MessageEvent) bool {
	k := IDKey(group)
	if len(l.groupHeld[k]) >= maxGroupHeld || (l.groupHeld[k] == nil && len(l.groupHeld) >= maxGroupsWaiting) {
		return false
	}
	l.groupHeld[k] = append(l.groupHeld[k], ev)
	l.query(group)
	return true
}

// releaseForGroup shows the messages held for a group: now known (g), or
// not known to the station either (nil). A group known without its
// members is asked for them.
func (l *loop) releaseForGroup(k string, g *Group) {
	held := l.groupHeld[k]
	delete(l.groupHeld, k)
	if g != nil && len(held) > 0 && len(g.Members) == 0 {
		l.askMembers(g)
	}
	for _, ev := range held {
		if g != nil && len(g.Members) > 0 && !g.IsMember(ev.Message.Sender) {
			l.c.emit(l.ctx, GroupRefusedEvent{Time: ev.Time, From: ev.Message.Sender, Group: g.ID,
				Reason: "not a member of the group: the message is not shown"})
			continue
		}
		l.c.emit(l.ctx, ev)
	}
}

// applyGroupCommand applies one command to g and reports it.
func (l *loop) applyGroupCommand(g *Group, in groupCommandIn) bool {
	role := g.roleOf(in.from)
	ch := g.Apply(in.from, in.cmd)
	if ch.Refused == "" && ch.Ignored == "" && in.rm != nil {
		l.logGroupCommand(in.rm, in.cmd)
	}
	if in.cmd.Name == dimp.CmdQuery && !g.Owner.IsZero() {
		l.answerQuery(in.from, g)
	}
	members := in.cmd.Members
	if len(members) > maxGroupCommandMembers {
		members = members[:maxGroupCommandMembers]
	}
	var now *Group
	if !g.Owner.IsZero() {
		now = g.Copy()
	}
	return l.emitGroupEvent(GroupCommandEvent{Time: in.at, From: in.from, Group: in.cmd.Group, Command: in.cmd.Name,
		Members: members, Change: ch, Role: role, Now: now})
}

// Copy returns a copy of g that shares nothing with it.
func (g *Group) Copy() *Group {
	c := *g
	c.Admins = slices.Clone(g.Admins)
	c.Members = slices.Clone(g.Members)
	c.Requests = slices.Clone(g.Requests)
	c.Assistants = slices.Clone(g.Assistants)
	return &c
}

// RoleOf names what id is in the group: "owner", "administrator",
// "member", or "" (not a member, or not known).
func (g *Group) RoleOf(id dimp.ID) string { return g.roleOf(id) }

// roleOf names what id is in the group: "owner", "administrator",
// "member", or "" (not a member, or not known).
func (g *Group) roleOf(id dimp.ID) string {
	switch {
	case g.IsOwner(id):
		return "owner"
	case g.IsAdmin(id):
		return "administrator"
	case g.IsMember(id):
		return "member"
	}
	return ""
}

// maxForwarded bounds the messages of a forward the client opens.
const maxForwarded = 256

// openable returns the messages of a forward, as their wire bytes, when
// accept takes every one of them; nil when it refuses any, or when there
// are none or too many: a forward is opened whole or not at all, and what
// is not opened is shown as a forward.
func openable(secrets []*dimp.ReliableMessage, accept func(*dimp.ReliableMessage) bool) [][]byte {
	if len(secrets) == 0 || len(secrets) > maxForwarded {
		return nil
	}
	out := make([][]byte, 0, len(secrets))
	for _, rm := range secrets {
		if rm == nil || !accept(rm) {
			return nil
		}
		raw, err := rm.MarshalJSON()
		if err != nil {
			return nil
		}
		out = append(out, raw)
	}
	return out
}

// inGroupHistory takes a message of a group's history, as dimchat's
// clients forward it to a new member or in answer to a query: a broadcast
// (not encrypted, so its content can be seen before it is processed)
// whose content is the group's documents or meta, or a group command. A
// forwarded chat message is not processed as if its sender had sent it
// here.
func inGroupHistory(rm *dimp.ReliableMessage) bool {
	if !rm.IsBroadcast() {
		return false
	}
	content, err := dimp.ParseContent([]byte(rm.Data))
	if err != nil {
		return false
	}
	switch c := content.(type) {
	case *dimp.DocumentCommand, *dimp.MetaCommand:
		return commandID(c).IsGroup()
	case *dimp.GroupCommand:
		return true
	}
	return false
}

// bulletinIDs reads a bulletin property that holds a list of IDs; IDs
// that do not parse are left out.
func bulletinIDs(b *dimp.Document, name string) []dimp.ID {
	var list []string
	if raw := b.Property(name); raw == nil || json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []dimp.ID
	for _, s := range list[:min(len(list), maxGroupCommandMembers)] {
		if id, err := dimp.ParseID(s); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// fromAssistant takes, in a forward from bot, a copy of a member's
// message to a group whose bulletin names bot its assistant, for me and
// still signed by its writer (checked as if it came alone).
func (l *loop) fromAssistant(bot dimp.ID) func(*dimp.ReliableMessage) bool {
	return func(rm *dimp.ReliableMessage) bool {
		if rm.Group.IsZero() || !rm.Receiver.SameAs(l.c.me.ID) {
			return false
		}
		g := l.groups[IDKey(rm.Group)]
		return g != nil && containsID(g.Assistants, bot)
	}
}

// ownAnswers reports whether every message of a forward from sender is a
// command (a receipt, say) that sender signed itself: what a dimchat
// client sends back for the messages of a forward it processed, each
// answer addressed to the message's writer, who may be someone else (the
// writer of a reset this user passed on to a new member).
func ownAnswers(secrets []*dimp.ReliableMessage, sender dimp.ID) bool {
	if len(secrets) == 0 || len(secrets) > maxForwarded {
		return false
	}
	for _, rm := range secrets {
		if rm == nil || !rm.Sender.SameAs(sender) || !rm.HasType ||
			(rm.Type != dimp.ContentCommand && rm.Type != dimp.ContentHistory) {
			return false
		}
	}
	return true
}

// commandID is the entity a documents or meta command is about.
func commandID(c dimp.Content) dimp.ID {
	switch c := c.(type) {
	case *dimp.DocumentCommand:
		return c.ID
	case *dimp.MetaCommand:
		return c.ID
	}
	return dimp.ID{}
}
