package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"dimtui/dimp"
)

// Block and mute lists.
//
// The station keeps each user's block and mute lists (dimchat's station-py
// does; spec/station.md §3.4). A client sets a list by sending the whole
// of it in a `block` or `mute` command to the station, and asks for it
// with the same command without `list`; the station answers the question
// with the stored command:
//
//	→ {"type":136,"command":"block","cmd":"block","list":["alice@…"]}
//	← receipt "Block received."
//	→ {"type":136,"command":"block","cmd":"block"}
//	← {"type":136,"command":"block","cmd":"block","list":["alice@…"]}
//
// The station refuses what a blocked user sends to the one who blocked
// them (receipt `Message is blocked by "<nickname>"`); the mute list only
// tells it not to push notifications. The client asks for both lists
// after every handshake and keeps them; a change made before the
// station's lists came is applied to them when they come. As a second
// line of defence, a message from a blocked user (or to a blocked group)
// that reaches the client anyway (blocked after the station stored it,
// or through another station) is acknowledged, so that the station drops
// it, counted, and never shown.

// ErrBadList: a block or mute change named no usable ID.
var ErrBadList = errors.New("block/mute: no user or group to change")

// ListsEvent reports the block and mute lists as the client now knows
// them: after the station's answer, after a change, after a message from
// a blocked user was dropped.
type ListsEvent struct {
	Time        time.Time
	Block, Mute []dimp.ID
	// Invalid are entries of the station's lists that are no IDs: kept,
	// and sent back with the list, but not matched against anything.
	Invalid []string
	// Unknown are listed IDs whose meta and visa the client does not
	// know (yet): kept like the others; their documents are asked for.
	Unknown []dimp.ID
	// Loaded: the station's lists came (both); before, the lists hold
	// only the changes made meanwhile.
	Loaded bool
	// Dropped counts the messages from blocked users not shown this run.
	Dropped int
}

func (e ListsEvent) eventTime() time.Time { return e.Time }

// idList is one of the lists as the client knows it.
type idList struct {
	name    string
	ids     []dimp.ID
	invalid []string
	known   bool // the station's list came
	dirty   bool // changed here and not sent yet
	// Changes made before the station's list came, by IDKey.
	add, del map[string]dimp.ID
	ask      MessageID // the question waiting for its answer
}

// has reports whether id (or its user without terminal) is listed.
func (il *idList) has(id dimp.ID) bool {
	k := IDKey(id)
	for _, x := range il.ids {
		if IDKey(x) == k {
			return true
		}
	}
	if !il.known {
		_, ok := il.add[k]
		return ok
	}
	return false
}

// change adds or removes ids.
func (il *idList) change(ids []dimp.ID, add bool) {
	for _, id := range ids {
		id = id.WithoutTerminal()
		k := IDKey(id)
		if !il.known {
			if il.add == nil {
				il.add, il.del = map[string]dimp.ID{}, map[string]dimp.ID{}
			}
			if add {
				il.add[k] = id
				delete(il.del, k)
			} else {
				il.del[k] = id
				delete(il.add, k)
			}
			il.dirty = true
			continue
		}
		at := -1
		for i, x := range il.ids {
			if IDKey(x) == k {
				at = i
			}
		}
		switch {
		case add && at < 0:
			il.ids = append(il.ids, id)
			il.dirty = true
		case !add && at >= 0:
			il.ids = append(il.ids[:at:at], il.ids[at+1:]...)
			il.dirty = true
		}
	}
}

// loaded takes the station's list: the changes made before it came are
// applied to it (and it is sent back changed); a list changed here and not
// sent yet stays as it is.
func (il *idList) loaded(c *dimp.ListCommand) {
	if il.known && il.dirty {
		return
	}
	il.ids = nil
	seen := map[string]bool{}
	for _, id := range c.List {
		if k := IDKey(id); !seen[k] {
			seen[k] = true
			il.ids = append(il.ids, id.WithoutTerminal())
		}
	}
	il.invalid = append([]string(nil), c.Invalid...)
	il.known = true
	if len(il.add)+len(il.del) > 0 {
		for _, id := range il.add {
			il.change([]dimp.ID{id}, true)
		}
		for _, id := range il.del {
			il.change([]dimp.ID{id}, false)
		}
		il.dirty = true
	}
	il.add, il.del = nil, nil
}

// Block adds users (or groups) to the block list and sends the list to
// the station, which then refuses their messages to the user.
func (c *Client) Block(ctx context.Context, ids []dimp.ID) error {
	return c.changeList(ctx, dimp.CmdBlock, ids, true)
}

// Unblock removes users (or groups) from the block list and sends the list
// to the station.
func (c *Client) Unblock(ctx context.Context, ids []dimp.ID) error {
	return c.changeList(ctx, dimp.CmdBlock, ids, false)
}

// Mute adds users (or groups) to the mute list and sends the list to the
// station (which then sends no push notifications for them; their messages
// still arrive).
func (c *Client) Mute(ctx context.Context, ids []dimp.ID) error {
	return c.changeList(ctx, dimp.CmdMute, ids, true)
}

// Unmute removes users (or groups) from the mute list and sends the list.
func (c *Client) Unmute(ctx context.Context, ids []dimp.ID) error {
	return c.changeList(ctx, dimp.CmdMute, ids, false)
}

// BlockList returns the block list as the client knows it; loaded is false
// until the station's list came.
func (c *Client) BlockList(ctx context.Context) (ids []dimp.ID, loaded bool, err error) {
	return c.readList(ctx, dimp.CmdBlock)
}

// MuteList returns the mute list as the client knows it; loaded is false
// until the station's list came.
func (c *Client) MuteList(ctx context.Context) (ids []dimp.ID, loaded bool, err error) {
	return c.readList(ctx, dimp.CmdMute)
}

func (c *Client) readList(ctx context.Context, name string) (ids []dimp.ID, loaded bool, err error) {
	err = c.do(ctx, func(l *loop) {
		il := l.list(name)
		ids, loaded = l.listed(il), il.known
	})
	return ids, loaded, err
}

func (c *Client) changeList(ctx context.Context, name string, ids []dimp.ID, add bool) error {
	var clean []dimp.ID
	for _, id := range ids {
		if !id.IsZero() && !id.IsBroadcast() && !id.SameAs(c.me.ID) {
			clean = append(clean, id)
		}
	}
	if len(clean) == 0 {
		return fmt.Errorf("%w: %v", ErrBadList, ids)
	}
	return c.do(ctx, func(l *loop) {
		il := l.list(name)
		il.change(clean, add)
		l.syncList(il)
		l.emitLists()
	})
}

func (l *loop) list(name string) *idList {
	if name == dimp.CmdMute {
		return &l.social().mute
	}
	return &l.social().block
}

// listed is the list with the changes made before the station's came.
func (l *loop) listed(il *idList) []dimp.ID {
	out := append([]dimp.ID(nil), il.ids...)
	if !il.known {
		for _, id := range il.add {
			out = append(out, id)
		}
	}
	return out
}

// syncList sends a changed list to the station, or asks for the stored one
// when it is not known (or, unchanged, after a new handshake: another
// device of the user may have changed it). Nothing goes out before the
// handshake: the next one syncs.
func (l *loop) syncList(il *idList) {
	if l.state != Running || l.station.IsZero() {
		return
	}
	if il.known && il.dirty {
		cmd := dimp.NewListCommand(il.name, append([]dimp.ID{}, il.ids...))
		cmd.Invalid = il.invalid
		if _, err := l.send(l.station, cmd, false); err != nil {
			l.c.emit(l.ctx, errorf("%s list: %w", il.name, err))
			return
		}
		il.dirty = false
		return
	}
	if il.ask != "" {
		if o := l.outbox[il.ask]; o != nil && o.state == Sending {
			return // asked on this connection already
		}
	}
	id, err := l.send(l.station, dimp.NewListCommand(il.name, nil), false)
	if err != nil {
		l.c.emit(l.ctx, errorf("%s list: %w", il.name, err))
		return
	}
	il.ask = id
}

// onList takes the station's answer to a list question.
func (l *loop) onList(rm *dimp.ReliableMessage, c *dimp.ListCommand) {
	if !l.isStation(rm.Sender) || !c.HasList {
		return // only the station tells the user's lists
	}
	il := l.list(c.CommandName())
	if o := l.outbox[il.ask]; o != nil {
		l.setDelivery(o, AtStation, "answered")
	}
	il.ask = ""
	il.loaded(c)
	if il.dirty {
		l.syncList(il)
	}
	for _, id := range l.listed(il) {
		if l.peers[IDKey(id)] == nil && id.IsUser() {
			l.query(id)
		}
	}
	l.emitLists()
}

// emitLists reports both lists.
func (l *loop) emitLists() {
	s := l.social()
	ev := ListsEvent{Time: time.Now(), Block: l.listed(&s.block), Mute: l.listed(&s.mute),
		Loaded: s.block.known && s.mute.known, Dropped: s.dropped}
	ev.Invalid = append(append([]string(nil), s.block.invalid...), s.mute.invalid...)
	for _, id := range append(append([]dimp.ID(nil), ev.Block...), ev.Mute...) {
		if l.peers[IDKey(id)] == nil {
			ev.Unknown = append(ev.Unknown, id)
		}
	}
	l.c.emit(l.ctx, ev)
}

// blockedMessage reports whether a content comes from a blocked user or
// to a blocked group; such a message is counted and reported (ListsEvent),
// and the caller acknowledges it without showing it or sending a receipt.
func (l *loop) blockedMessage(rm *dimp.ReliableMessage, im *dimp.InstantMessage) bool {
	s := l.social()
	group := im.Content.Header().Group
	if group.IsZero() {
		group = rm.Group
	}
	if !s.block.has(rm.Sender) && (group.IsZero() || !s.block.has(group)) {
		return false
	}
	s.dropped++
	l.c.log.Info("message from a blocked user dropped", "sender", rm.Sender, "group", group)
	l.emitLists()
	return true
}
