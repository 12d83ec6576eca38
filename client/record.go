package client

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"dimtui/client/history"
	"dimtui/dimp"
)

// The client keeps in its history (Config.History) what it showed the
// user: each message received or sent, with its conversation, and how far
// a message sent got, so that a restarted client shows the conversations
// as they were. It records an event once the UI has it (Client.emit): a
// message the client could not hand over is offered again by the station
// and recorded then. Recording the same event twice changes nothing (see
// history.DB.AddMessage), so a redelivery after a crash is no second row.
// A failure to record is logged and does not stop the client: the
// conversation is shown all the same, and only a restart shows less.

// recorder writes the events the client emits to its history. Only the
// client's loop emits, so only it uses a recorder.
type recorder struct {
	h   *history.DB
	me  dimp.ID
	log *slog.Logger
	// met is the contacts recorded this run, with the name recorded: a
	// contact is written again only when its name changes, not once a
	// message.
	met map[string]string
}

func newRecorder(h *history.DB, me dimp.ID, log *slog.Logger) *recorder {
	if h == nil {
		return nil
	}
	return &recorder{h: h, me: me, log: log, met: map[string]string{}}
}

// record keeps what ev changes of the conversations. The UI has the
// event: it is recorded even when the client is stopping meanwhile (the
// write is short, bounded by the database's busy time-out), or the last
// events shown before a quit would be missing after the restart.
func (r *recorder) record(ctx context.Context, ev Event) {
	if r == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	var err error
	switch e := ev.(type) {
	case MessageEvent:
		err = r.message(ctx, e.ID, e.Message, e.Time, false)
	case SentEvent:
		err = r.message(ctx, e.ID, e.Message, e.Time, true)
	case DeliveryEvent:
		err = r.h.SetDelivery(ctx, string(e.ID), int(e.State), e.Detail)
		if err == nil && len(e.Members) > 0 {
			err = r.members(ctx, e)
		}
	case ReceiptEvent:
		err = r.receipt(ctx, e)
	case GroupCommandEvent:
		err = r.groupNotice(ctx, e)
	case ProfileEvent:
		err = r.profileNotice(ctx, e)
	case PeerEvent:
		if p := e.Profile; p != nil {
			name, _ := VisaName(p.Visa()) // as shown: bounded, made safe
			err = r.contact(ctx, p.ID, name)
		}
	}
	if err != nil {
		r.log.Warn("history: not recorded", "event", fmt.Sprintf("%T", ev), "err", err)
	}
}

// ConversationOf is the conversation a message belongs to: for one sent
// (out), its receiver; for one received, the group its content names, the
// broadcasts' conversation for one to everyone@everywhere, else its
// sender's one-to-one conversation.
func ConversationOf(im *dimp.InstantMessage, out bool) dimp.ID {
	switch g := im.Content.Header().Group; {
	case out:
		return im.Receiver
	case g.IsGroup() && !g.IsBroadcast():
		return g
	case im.Receiver.SameAs(dimp.Everyone):
		return dimp.Everyone
	}
	return im.Sender
}

// message records a message received or sent in its conversation
// (ConversationOf); a recall marks the message it takes back instead of
// adding a row.
func (r *recorder) message(ctx context.Context, id MessageID, im *dimp.InstantMessage, at time.Time, out bool) error {
	if im == nil || im.Content == nil {
		return nil
	}
	h := im.Content.Header()
	conv := ConversationOf(im, out)
	if IsRecall(im.Content) {
		return r.h.MarkRecalled(ctx, conv, im.Sender, h.SN)
	}
	content, cut := keptContent(im.Content)
	m := history.Message{Conversation: conv, ID: string(id), Sender: im.Sender, Time: at, Out: out,
		Type: h.Type, Content: content, Cut: cut}
	if out {
		m.State = history.Sending
	}
	if _, err := r.h.AddMessage(ctx, m); err != nil {
		return err
	}
	if err := r.contact(ctx, conv, ""); err != nil {
		return err
	}
	if !out && !conv.SameAs(im.Sender) {
		return r.contact(ctx, im.Sender, "")
	}
	return nil
}

// members keeps a group message's delivery to each member.
func (r *recorder) members(ctx context.Context, e DeliveryEvent) error {
	raw, err := json.Marshal(e.Members)
	if err != nil {
		return err
	}
	return r.h.SetMembers(ctx, string(e.ID), raw)
}

// profileNotice keeps a peer's new visa name in their conversation, when
// there is one (a group's member the user never talked to gets none).
func (r *recorder) profileNotice(ctx context.Context, e ProfileEvent) error {
	if e.NoticeID == "" || e.Self || e.ID.IsZero() {
		return nil
	}
	if has, err := r.h.HasConversation(ctx, e.ID); err != nil || !has {
		return err
	}
	raw, err := json.Marshal(ProfileNotice{Name: e.Name, Old: e.Old})
	if err != nil {
		return err
	}
	_, err = r.h.AddMessage(ctx, history.Message{Kind: history.KindProfileNotice, Conversation: e.ID, ID: e.NoticeID,
		Sender: e.ID, Time: e.Time, Content: raw, Read: true, State: history.Delivered})
	return err
}

// maxNoticeIDs bounds each list of IDs a group notice keeps: a command
// may name a thousand members, and the notice says only the first few.
const maxNoticeIDs = 100

// groupNotice keeps what a group command did in the group's conversation,
// as a notice the user has read (the UI showed it as it came).
func (r *recorder) groupNotice(ctx context.Context, e GroupCommandEvent) error {
	if e.NoticeID == "" || e.Group.IsZero() || e.From.IsZero() {
		return nil
	}
	n := GroupNotice{From: e.From, Command: e.Command, Members: e.Members, Change: e.Change, Role: e.Role}
	if e.Now != nil {
		n.Name = e.Now.Name
	}
	cut := false
	for _, list := range []*[]dimp.ID{&n.Members, &n.Change.Added, &n.Change.Removed, &n.Change.Requested, &n.Change.Hired, &n.Change.Fired} {
		if len(*list) > maxNoticeIDs {
			*list, cut = (*list)[:maxNoticeIDs], true
		}
	}
	raw, err := json.Marshal(n)
	if err != nil {
		return err
	}
	_, err = r.h.AddMessage(ctx, history.Message{Kind: history.KindGroupNotice, Conversation: e.Group, ID: e.NoticeID,
		Sender: e.From, Time: e.Time, Out: e.From.SameAs(r.me), Content: raw, Cut: cut, Read: true, State: history.Delivered})
	if err != nil {
		return err
	}
	return r.contact(ctx, e.Group, n.Name)
}

// receipt moves a message sent by an earlier run, which this run's outbox
// does not know (For is empty): the peer's receipt names it by its serial
// number. A receipt about a message this run sent comes with a
// DeliveryEvent, which records it.
func (r *recorder) receipt(ctx context.Context, e ReceiptEvent) error {
	rc := e.Receipt
	if e.For != "" || rc == nil || rc.Origin == nil || rc.Origin.SN == 0 || e.From.IsZero() ||
		e.From.Type() == dimp.Station || e.From.SameAs(r.me) {
		return nil
	}
	if o := rc.Origin.Sender; !o.IsZero() && !o.SameAs(r.me) {
		return nil
	}
	state := history.Delivered
	switch rc.Text {
	case dimp.ReceiptRead:
		state = history.Read
	case dimp.ReceiptReceived:
	default:
		return nil
	}
	id := string(messageID(r.me, rc.Origin.SN))
	raw, err := r.h.SentMembers(ctx, id)
	if err != nil || len(raw) == 0 {
		if err == nil {
			err = r.h.SetDelivery(ctx, id, state, rc.Text)
		}
		return err
	}
	// A group message: the receipt moves its writer's copy, and the
	// message is as far as groupState says.
	var members []MemberDelivery
	if err := json.Unmarshal(raw, &members); err != nil {
		return fmt.Errorf("members of %s kept: %w", id, err)
	}
	i := slices.IndexFunc(members, func(m MemberDelivery) bool { return m.Member.SameAs(e.From) })
	if i < 0 || members[i].State == Failed || members[i].State >= Delivery(state) {
		return nil
	}
	members[i].State, members[i].Detail = Delivery(state), rc.Text
	if raw, err = json.Marshal(members); err != nil {
		return err
	}
	if err := r.h.SetMembers(ctx, id, raw); err != nil {
		return err
	}
	// As the loop reports a group message of this run (groupDelivery).
	return r.h.SetDelivery(ctx, id, int(groupState(members)), groupDetail(members))
}

// contact records a peer or group met, with its name when known; not the
// user, nor a broadcast ID.
func (r *recorder) contact(ctx context.Context, id dimp.ID, name string) error {
	if id.IsZero() || id.IsBroadcast() || id.SameAs(r.me) {
		return nil
	}
	k := IDKey(id)
	if had, ok := r.met[k]; ok && (name == "" || name == had) {
		return nil
	}
	if err := r.h.SetContact(ctx, id, name); err != nil {
		return err
	}
	if name == "" {
		name = r.met[k]
	}
	r.met[k] = name
	return nil
}

// markRead records that the user read a message received.
func (r *recorder) markRead(ctx context.Context, id MessageID) {
	if r == nil {
		return
	}
	if err := r.h.MarkMessageRead(ctx, string(id)); err != nil {
		r.log.Warn("history: read mark not recorded", "id", id, "err", err)
	}
}

// keptContent is a content as the history keeps it: its JSON, or, when
// that is longer than history.MaxContent, its head: the JSON with its long
// strings cut (each ends with NotKept's mark), or for a content with too
// many of them, a text content with the JSON's head, under the same serial
// number. cut says it is a head.
func keptContent(c dimp.Content) (raw []byte, cut bool) {
	raw = dimp.MarshalContent(c)
	if len(raw) <= history.MaxContent {
		return raw, false
	}
	for _, limit := range []int{history.MaxContent / 2, maxKeptString} {
		if small, ok := ShrinkJSON(raw, limit); ok && len(small) <= history.MaxContent {
			if _, err := dimp.ParseContent(small); err == nil {
				return small, true
			}
		}
	}
	h := c.Header()
	t := dimp.NewText(KeptText(string(raw), history.MaxContent/2))
	t.SN, t.Time, t.Group = h.SN, h.Time, h.Group
	return dimp.MarshalContent(t), true
}

// IsRecall reports whether a content takes back an earlier one of its
// sender, as dimchat's apps recall: a text whose `action` is "recall",
// with the original's serial number.
func IsRecall(c dimp.Content) bool {
	t, ok := c.(*dimp.TextContent)
	if !ok {
		return false
	}
	var action string
	return t.Extra.Get("action", &action) == nil && action == "recall"
}

// Conversations lists the conversations kept in the history, the newest
// first; none without a history. It reads the database directly (see
// history.DB: safe from any goroutine), not through the client's loop, so
// it works before Run and while the loop is busy.
func (c *Client) Conversations(ctx context.Context) ([]history.Conversation, error) {
	if c.cfg.History == nil {
		return nil, nil
	}
	return c.cfg.History.Conversations(ctx)
}

// Page returns up to n messages of conv kept in the history before the
// sequence number before (0: the newest), oldest first; none without a
// history. See history.DB.Page.
func (c *Client) Page(ctx context.Context, conv dimp.ID, before int64, n int) ([]history.Message, error) {
	if c.cfg.History == nil {
		return nil, nil
	}
	return c.cfg.History.Page(ctx, conv, before, n)
}

// ClearConversation forgets conv's messages in the history (/clear); the
// messages already processed stay known, so none of them is shown again
// when the station offers it again.
func (c *Client) ClearConversation(ctx context.Context, conv dimp.ID) error {
	if c.cfg.History == nil {
		return nil
	}
	return c.cfg.History.Clear(ctx, conv)
}
