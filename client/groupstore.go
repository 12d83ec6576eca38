package client

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"dimtui/client/history"
	"dimtui/dimp"
)

// A client with a history keeps its groups across runs: the group's meta
// and bulletin, the members its owner or an administrator last set, the
// requests waiting, and the signed reset and commands since that a member
// passes on to a new member or in answer to a query. Without them a
// restarted member would know the group only by its bulletin (the station
// keeps that) and would refuse its members' messages until someone sent
// the reset again. What a group command did is kept too, as a notice in
// the group's conversation (GroupNotice).

// groupRecord is the JSON the history keeps of one group. The meta,
// documents and messages are kept as they were signed and are checked
// again when read back.
type groupRecord struct {
	Meta      json.RawMessage   `json:"meta"`
	Documents []json.RawMessage `json:"documents"`
	Members   []dimp.ID         `json:"members,omitempty"`
	Requests  []dimp.ID         `json:"requests,omitempty"`
	Reset     json.RawMessage   `json:"reset,omitempty"`
	Since     []json.RawMessage `json:"since,omitempty"`
}

// GroupNotice is what the history keeps of a GroupCommandEvent, in its
// group's conversation: enough to say again what the command did. Its
// row's ID is the event's NoticeID.
type GroupNotice struct {
	From    dimp.ID     `json:"from"`
	Command string      `json:"command"`
	Members []dimp.ID   `json:"members,omitempty"`
	Change  GroupChange `json:"change"`
	Role    string      `json:"role,omitempty"`
	Name    string      `json:"name,omitempty"` // the group's name then, when known
}

// Event gives the notice back as the event it was, at time at, for the
// group conv; Now holds the group's name only, as the notice knew it.
func (n GroupNotice) Event(conv dimp.ID, at time.Time, id string) GroupCommandEvent {
	ev := GroupCommandEvent{Time: at, From: n.From, Group: conv, Command: n.Command, Members: n.Members,
		Change: n.Change, Role: n.Role, NoticeID: id}
	if n.Name != "" {
		ev.Now = &Group{ID: conv, Name: n.Name}
	}
	return ev
}

// emitGroupEvent reports a group command (or a new bulletin) and keeps
// the group as it now is in the history, when the command could change it. The event gets the ID its
// notice is kept under, so that the UI shows it once whether it came now
// or from the history.
func (l *loop) emitGroupEvent(ev GroupCommandEvent) bool {
	ev.NoticeID = l.noticeID("notice", ev.Group)
	if ch := ev.Change; ch.Refused == "" && ch.Ignored == "" && ev.Command != dimp.CmdQuery {
		l.storeGroup(ev.Group) // a refused or ignored command, or a query, changed nothing
	}
	return l.c.emit(l.ctx, ev)
}

// noticeID names a notice of this run about id (a group, a peer) with a
// kind ("notice", "profile"): unique within the run and across runs, so
// that the history keeps each once.
func (l *loop) noticeID(kind string, id dimp.ID) string {
	l.noticeSeq++
	return kind + "#" + IDKey(id) + "#" + strconv.FormatInt(time.Now().UnixNano(), 36) + "." + strconv.Itoa(l.noticeSeq)
}

// storeGroup writes what the client knows of a group to the history; a
// group whose bulletin is not known is not kept. A failure is logged: the
// group works all the same this run.
func (l *loop) storeGroup(id dimp.ID) {
	h := l.c.cfg.History
	k := IDKey(id)
	g, p := l.groups[k], l.peers[k]
	if h == nil || l.loadingGroups || g == nil || g.Owner.IsZero() || p == nil || p.Meta == nil {
		return
	}
	raw, err := l.groupState(g, p)
	if err == nil {
		err = h.SaveGroup(context.WithoutCancel(l.ctx), g.ID, raw)
	}
	if err != nil {
		l.c.log.Warn("history: group not kept", "group", g.ID, "err", err)
	}
}

// groupState is the JSON of groupRecord for g, whose profile is p.
func (l *loop) groupState(g *Group, p *dimp.Profile) ([]byte, error) {
	var rec groupRecord
	var err error
	if rec.Meta, err = p.Meta.MarshalJSON(); err != nil {
		return nil, err
	}
	if rec.Documents, err = marshalEach(p.Visas); err != nil {
		return nil, err
	}
	rec.Members, rec.Requests = g.Members, g.Requests
	if log := l.groupLogs[IDKey(g.ID)]; log != nil && log.reset != nil {
		if rec.Reset, err = log.reset.MarshalJSON(); err != nil {
			return nil, err
		}
		if rec.Since, err = marshalEach(log.since); err != nil {
			return nil, err
		}
	}
	return json.Marshal(rec)
}

// marshalEach writes each of list as JSON.
func marshalEach[T json.Marshaler](list []T) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(list))
	for _, v := range list {
		raw, err := v.MarshalJSON()
		if err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
	return out, nil
}

// loadGroups brings back the groups an earlier run kept, before the first
// connection. A group whose record does not read or verify (a damaged
// file, an edited one) is left out and said so: its bulletin and members
// come again from the station and the members.
func (l *loop) loadGroups() {
	h := l.c.cfg.History
	if h == nil {
		return
	}
	list, err := h.Groups(l.ctx)
	if err != nil {
		l.c.emit(l.ctx, errorf("the groups kept in the history could not be read: %w", err))
		return
	}
	l.loadingGroups = true
	defer func() { l.loadingGroups = false }()
	for _, s := range list {
		err := s.Err
		if err == nil {
			err = l.loadGroup(s)
		}
		if err != nil {
			l.c.emit(l.ctx, errorf("a group kept in the history is left out: %w", err))
		}
	}
}

// ErrGroupRecord is wrapped by the refusal of a group kept in the history
// that does not read back.
var ErrGroupRecord = fmt.Errorf("%w: group record", history.ErrBadRow)

// loadGroup brings back one group: its profile checked again (the meta
// generates the ID, the bulletin verifies with it), its members checked
// as a reset's would be, and the commands a member passes on.
func (l *loop) loadGroup(s history.GroupState) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrGroupRecord, s.ID, fmt.Sprintf(format, a...))
	}
	var rec groupRecord
	if err := json.Unmarshal(s.State, &rec); err != nil {
		return bad("%v", err)
	}
	meta, err := dimp.ParseMeta(rec.Meta)
	if err != nil {
		return bad("meta: %v", err)
	}
	var docs []*dimp.Document
	for _, raw := range rec.Documents {
		d, err := dimp.ParseDocument(raw)
		if err != nil {
			return bad("bulletin: %v", err)
		}
		docs = append(docs, d)
	}
	p, err := dimp.NewProfile(s.ID, meta, docs...)
	if err != nil {
		return bad("%v", err)
	}
	if len(rec.Members) > 0 {
		if err := checkMembers(rec.Members); err != nil {
			return bad("members: %v", err)
		}
	}
	var log *groupLog
	if len(rec.Reset) > 0 {
		log = &groupLog{}
		if log.reset, err = dimp.ParseReliableMessage(rec.Reset); err != nil {
			return bad("reset: %v", err)
		}
		for _, raw := range rec.Since[:min(len(rec.Since), maxGroupLog)] {
			rm, err := dimp.ParseReliableMessage(raw)
			if err != nil {
				return bad("command: %v", err)
			}
			log.since = append(log.since, rm)
		}
	}
	k := IDKey(s.ID)
	l.peers[k] = p
	l.learnGroup(p)
	g := l.groups[k]
	if g == nil {
		return bad("its bulletin names no founder")
	}
	g.Members = uniqueIDs(rec.Members)
	g.Requests = slices.DeleteFunc(uniqueIDs(rec.Requests), g.IsMember)
	if log != nil {
		l.groupLogs[k] = log
	}
	return nil
}

// Groups returns what the client knows of its groups (copies), in no
// particular order: those an earlier run kept, once the client runs, and
// those met since.
func (c *Client) Groups(ctx context.Context) ([]*Group, error) {
	var out []*Group
	err := c.do(ctx, func(l *loop) {
		for _, g := range l.groups {
			if !g.Owner.IsZero() {
				out = append(out, g.Copy())
			}
		}
	})
	return out, err
}
