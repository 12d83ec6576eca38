package client

import (
	"slices"

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
	Added, Removed, Requested []dimp.ID
	AdminRemoved              dimp.ID
	Refused                   string // GroupEmpty, GroupDenied, GroupCommandErr, GroupUnsupported
	Reason                    string // why, in a sentence
	Ignored                   string // why nothing changed, when that is not a refusal
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
	if g.Owner.IsZero() || len(g.Members) == 0 {
		return refuse(GroupEmpty, "the group's bulletin or members are not known yet")
	}
	needMembers := func() (GroupChange, bool) {
		if len(cmd.Members) == 0 {
			return refuse(GroupCommandErr, "the command names no members"), false
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
