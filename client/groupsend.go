package client

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"dimtui/dimp"
	"dimtui/display"
)

// Sending to a group, the way dimples' group emitter does it: the station
// does not deliver a message addressed to a group ID, so the sender makes
// one message per member. A small group (fewer than groupSplitLimit
// members besides the sender) gets one instant message per member,
// addressed to the member with the group named in the content, each
// sealed on its own. A larger group's message is sealed once, the message
// key encrypted for every member in `keys`, and split: one copy per
// member, addressed to it, exposing the group and keeping only its key.
// Either way each member's copy is tracked alone and the message's
// delivery is their sum.

// groupSplitLimit is the member count (the sender left out) from which a
// group message is sealed once for all members rather than once per
// member, as dimples' emitter decides.
const groupSplitLimit = 16

// GroupSend says how one frame of a group message was made; the inspector
// shows it beside the frame's layers.
type GroupSend struct {
	Group dimp.ID
	// Once: the message was sealed once, its key encrypted for every
	// member whose visa was known, and split into a copy per member.
	// Otherwise each member's copy was sealed on its own.
	Once bool
	// Member is who this frame is for; Members how many members the
	// message went to (the sender left out).
	Member  dimp.ID
	Members int
	// Via: the message went, sealed once, to this bot of the group's (its
	// assistant), which passes a copy to each member; Member is then zero.
	Via dimp.ID
}

// Way says in a sentence how the message was sealed.
func (g *GroupSend) Way() string {
	if !g.Via.IsZero() {
		return fmt.Sprintf("sealed once for %d members, the key encrypted for each, and sent to the group's bot %s, "+
			"which passes a copy to each member (its bulletin names the bot, as dimples does)", g.Members, display.Name(g.Via))
	}
	if g.Once {
		return fmt.Sprintf("sealed once for %d members, the key encrypted for each, then split: this copy for %s (%d or more members, as dimples does)",
			g.Members, display.Name(g.Member), groupSplitLimit)
	}
	return fmt.Sprintf("one message per member, each sealed alone: this one for %s (%d of fewer than %d members, as dimples does)",
		display.Name(g.Member), g.Members, groupSplitLimit)
}

// MemberDelivery is how far a group message got to one member.
type MemberDelivery struct {
	Member  dimp.ID  `json:"member"`
	State   Delivery `json:"state"`
	Detail  string   `json:"detail,omitempty"`
	Refused bool     `json:"refused,omitempty"`
}

// sendGroup sends a queued group message o to each member of its group
// but the user: the copies are tracked in the outbox beside o.
func (l *loop) sendGroup(o *outgoing) {
	group := o.im.Receiver
	g := l.groups[IDKey(group)]
	me := l.c.me.ID
	switch {
	case g == nil || len(g.Members) == 0:
		l.query(group)
		l.setDelivery(o, Failed, "the members of "+display.Name(group)+" are not known yet: its owner has not told me")
		return
	case !g.IsMember(me):
		l.setDelivery(o, Failed, "I am not a member of "+groupName(g))
		return
	}
	var others []dimp.ID
	for _, m := range g.Members {
		if !m.SameAs(me) {
			others = append(others, m)
		}
	}
	if len(others) == 0 {
		l.setDelivery(o, Failed, groupName(g)+" has no other members")
		return
	}
	once := len(others) >= groupSplitLimit || len(g.Assistants) > 0
	for _, m := range others {
		c := &outgoing{id: o.id + MessageID("→"+IDKey(m)), parent: o, member: m, state: Sending, seq: o.seq,
			im: dimp.NewInstantMessage(me, m, o.im.Content)}
		c.im.Time = o.im.Time
		o.copies = append(o.copies, c)
		l.outbox[c.id] = c
	}
	var sealOnce []*outgoing
	var profiles []*dimp.Profile
	for _, c := range o.copies {
		p := l.peers[IDKey(c.member)]
		switch {
		case p == nil:
			// Its visa first; it is then sealed alone.
			l.waitOut[IDKey(c.member)] = append(l.waitOut[IDKey(c.member)], c)
			l.query(c.member)
		case once:
			sealOnce, profiles = append(sealOnce, c), append(profiles, p)
		default:
			l.seal(c, p)
		}
	}
	switch {
	case len(sealOnce) == 0:
	case len(g.Assistants) > 0:
		l.sendToAssistant(o, g.Assistants[0], sealOnce, profiles)
	default:
		l.sealForAll(o, sealOnce, profiles)
	}
}

// sendToAssistant seals a group message once for the members whose visas
// are known, exposing the group and the serial number on its envelope,
// and sends it inside a forward to the group's bot, which checks that the
// sender is a member and passes each member a copy. The members' receipts
// name the message's signature, as if it had come from the sender.
func (l *loop) sendToAssistant(o *outgoing, bot dimp.ID, copies []*outgoing, profiles []*dimp.Profile) {
	o.im.Group = o.im.Receiver
	rm, err := l.packer.Seal(o.im, profiles, dimp.SealOptions{})
	if err == nil {
		if rm.Extra == nil {
			rm.Extra = dimp.Fields{}
		}
		err = rm.Extra.Set("sn", o.im.Content.Header().SN)
	}
	if err != nil {
		for _, c := range copies {
			l.setDelivery(c, Failed, err.Error())
		}
		return
	}
	o.sig = rm.SignatureText()
	l.bySig[o.sig] = o
	for _, c := range copies {
		c.viaBot = true
	}
	fc := &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward), Secrets: []*dimp.ReliableMessage{rm}}
	if _, err := l.sendWith(bot, fc, false, func(fwd *outgoing) { fwd.carries = o }); err != nil {
		for _, c := range copies {
			l.setDelivery(c, Failed, err.Error())
		}
	}
}

// sealForAll seals a large group's message once for the members whose
// visas are known, and writes a copy for each.
func (l *loop) sealForAll(o *outgoing, copies []*outgoing, profiles []*dimp.Profile) {
	attach := slices.ContainsFunc(profiles, func(p *dimp.Profile) bool { return !l.attached[IDKey(p.ID)] })
	rm, trace, err := l.packer.SealTraced(o.im, profiles, dimp.SealOptions{Attach: attach})
	if err != nil {
		for _, c := range copies {
			l.setDelivery(c, Failed, err.Error())
		}
		return
	}
	for i, c := range copies {
		l.attached[IDKey(c.member)] = true
		c.im = o.im
		c.rm = rm.Trim(c.member)
		c.raw, _ = c.rm.MarshalJSON()
		c.layers = sealedLayers(c.rm, o.im, l.c.me, profiles[i:i+1], trace)
		c.layers.Group = o.groupSend(c)
		if l.state == Running {
			c.tries++
			l.writeMessage(c.raw, c.layers)
		}
	}
	// The copies share their signature, which names the message: a
	// receipt is matched to its member by who sends it or whom it names.
	o.sig = rm.SignatureText()
	l.bySig[o.sig] = o
}

// groupSend describes copy c of group message o for its frame's layers.
func (o *outgoing) groupSend(c *outgoing) *GroupSend {
	// A copy sealed alone names the group only inside its content; one
	// split from the message sealed once exposes it.
	return &GroupSend{Group: o.im.Receiver, Once: c.rm != nil && !c.rm.Group.IsZero(), Member: c.member, Members: len(o.copies)}
}

// copyFor finds the member's copy of group message o: the member sent a
// receipt, or the station's receipt names it as the receiver.
func (o *outgoing) copyFor(member dimp.ID) *outgoing {
	for _, c := range o.copies {
		if c.member.SameAs(member) {
			return c
		}
	}
	return nil
}

// groupDelivery reports a group message's delivery after one of its
// copies moved: it has got as far as its least advanced copy that did not
// fail, and failed only when every copy did.
func (l *loop) groupDelivery(o *outgoing) {
	members := make([]MemberDelivery, 0, len(o.copies))
	settled := true
	for _, c := range o.copies {
		members = append(members, MemberDelivery{Member: c.member, State: c.state, Detail: c.detail, Refused: c.refused})
		if c.state != Read && c.state != Failed {
			settled = false
		}
	}
	least := groupState(members)
	o.state = least
	l.c.emit(l.ctx, DeliveryEvent{Time: time.Now(), ID: o.id, State: least, Detail: groupDetail(members), Members: members})
	if settled {
		for _, c := range o.copies {
			l.forget(c)
		}
		l.forget(o)
	}
}

// groupState is how far a group message got with members: as far as its
// least advanced member that did not fail; Failed only when every one did.
func groupState(members []MemberDelivery) Delivery {
	least, failed := Read, 0
	for _, m := range members {
		switch {
		case m.State == Failed:
			failed++
		case m.State < least:
			least = m.State
		}
	}
	if failed == len(members) {
		return Failed
	}
	return least
}

// groupDetail sums up the members' states: "✓✓ 2/3 · ✗ 1".
func groupDetail(members []MemberDelivery) string {
	count := map[Delivery]int{}
	for _, m := range members {
		count[m.State]++
	}
	var parts []string
	reached := 0
	for _, d := range []Delivery{Read, Delivered, AtStation} {
		reached += count[d]
		if count[d] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d/%d", d, reached, len(members)))
		}
	}
	if n := count[Failed]; n > 0 {
		parts = append(parts, fmt.Sprintf("failed %d", n))
	}
	return strings.Join(parts, " · ")
}

// groupName names a group by its bulletin's name, else its ID's.
func groupName(g *Group) string {
	if g.Name != "" {
		return display.Sanitize(g.Name, false)
	}
	return display.Name(g.ID)
}
