package ui

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// The chat state is tested here without a screen: events in, the
// conversations and their entries out.

// texts returns the text of every entry of a conversation, by kind.
func texts(c *conversation, kind entryKind) []string {
	var out []string
	for _, e := range c.entries {
		if e.kind == kind {
			out = append(out, e.text)
		}
	}
	return out
}

func received(sec int, id client.MessageID, from dimp.ID, text string) client.MessageEvent {
	return client.MessageEvent{Time: testTime(sec), ID: id, Message: dimp.NewInstantMessage(from, alice, dimp.NewText(text))}
}

func TestChatSentMessageFollowsItsDelivery(t *testing.T) {
	s := newChatState(alice, client.Status{})
	for _, ev := range handshakeEvents("ws://127.0.0.1:9394") {
		s.apply(ev)
	}
	s.open(bob)
	s.apply(client.SentEvent{Time: testTime(1), ID: "m1", Message: dimp.NewInstantMessage(alice, bob, dimp.NewText("hello bob"))})
	e := s.byMsg["m1"]
	if e == nil || !e.tracked || !e.out || e.text != "hello bob" || s.convOf[e] != s.conversation(bob) {
		t.Fatalf("the message sent is not indexed in bob's conversation: %+v", e)
	}
	for _, d := range []client.Delivery{client.Sending, client.AtStation, client.Failed} {
		v := e.version
		s.apply(client.DeliveryEvent{Time: testTime(2), ID: "m1", State: d, Detail: "no visa"})
		if e.delivery != d || e.version != v+1 {
			t.Errorf("after %s: delivery %s, version %d (was %d)", d, e.delivery, e.version, v)
		}
	}
	if e.detail != "no visa" {
		t.Errorf("the reason of the failure is %q", e.detail)
	}
	s.apply(client.ReceiptEvent{Time: testTime(3), From: testStation(), For: "m1", Receipt: dimp.NewReceipt("Message delivered.", nil)})
	s.apply(client.ReceiptEvent{Time: testTime(3), From: bob, For: "m1", Receipt: dimp.NewReceipt("", nil)})
	s.apply(client.ReceiptEvent{Time: testTime(3), From: testStation(), For: "login", Receipt: dimp.NewReceipt("Login received.", nil)})
	s.apply(client.ResentEvent{Time: testTime(4), ID: "m1", Tries: 2})
	want := []string{
		"station: Message delivered. — “hello bob”",
		"bob: (receipt) — “hello bob”",
		"resent “hello bob” (try 2): the station never acknowledged it",
	}
	if got := texts(s.conversation(bob), entryReceipt); !reflect.DeepEqual(got, want) {
		t.Errorf("receipts %q, want %q", got, want)
	}
}

func TestChatReceivedMessagesAndWhatIsRead(t *testing.T) {
	s := newChatState(alice, client.Status{})
	s.open(bob)
	if did := s.apply(received(1, "b1", bob, "in view")); !did.shown || did.opened {
		t.Errorf("a message in the open conversation: %+v, want it shown", did)
	}
	if ids := s.takeShown(); !reflect.DeepEqual(ids, []client.MessageID{"b1"}) {
		t.Errorf("to mark read %v, want [b1]", ids)
	}
	if ids := s.takeShown(); ids != nil {
		t.Errorf("marked read twice: %v", ids)
	}

	// Elsewhere, messages wait behind a "new messages" marker.
	s.apply(received(2, "m1", moky, "first"))
	if did := s.apply(received(3, "m2", moky, "second")); did.shown {
		t.Error("a message in another conversation is shown")
	}
	c := s.conversation(moky)
	if c.unread != 2 || c.entries[0].kind != entryUnread || !reflect.DeepEqual(texts(c, entryText), []string{"first", "second"}) {
		t.Errorf("moky's conversation: unread %d, entries %+v", c.unread, c.entries)
	}
	if s.unread(moky) != 2 || s.contacts.index(moky) < 0 {
		t.Errorf("moky: %d unread, contact row %d", s.unread(moky), s.contacts.index(moky))
	}
	s.open(moky)
	if ids := s.takeShown(); !reflect.DeepEqual(ids, []client.MessageID{"m1", "m2"}) || s.unread(moky) != 0 {
		t.Errorf("opening moky marks %v read, %d unread left", ids, s.unread(moky))
	}

	// Scrolled up, a message arrives unread and is marked once in view.
	c.follow = false
	if did := s.apply(received(4, "m3", moky, "third")); did.shown || c.unread != 1 {
		t.Errorf("scrolled up: %+v, unread %d", did, c.unread)
	}
	if ids := s.takeShown(); ids != nil {
		t.Errorf("marked read while scrolled up: %v", ids)
	}
	c.end()
	if ids := s.takeShown(); !reflect.DeepEqual(ids, []client.MessageID{"m3"}) {
		t.Errorf("back at the end: %v to mark read", ids)
	}
}

func TestChatStatusNotices(t *testing.T) {
	for _, stepping := range []bool{false, true} {
		s := newChatState(alice, client.Status{})
		s.stepping = stepping
		connected := 0
		for _, ev := range handshakeEvents("ws://127.0.0.1:9394") {
			did := s.apply(ev)
			if st, ok := ev.(client.StatusEvent); ok && st.Status.Handshake == dimp.HandshakeStart && st.Status.State == client.Handshaking {
				// While its frame is held, the Start notice says so.
				last := s.current.entries[len(s.current.entries)-1].text
				if held := strings.HasSuffix(last, "(held until you release it)"); held != stepping {
					t.Errorf("stepping %v: %q", stepping, last)
				}
			}
			if did.connected {
				connected++
			}
			if did.opened != (s.current != nil && len(s.current.entries) == 1) {
				t.Errorf("opened %v with %d notices", did.opened, len(s.current.entries))
			}
		}
		if connected != 1 || s.status.State != client.Running {
			t.Errorf("connected %d times, state %s", connected, s.status.State)
		}
		if !s.current.peer.Equal(dimp.AnyStation) || !s.noConversation() {
			t.Fatalf("the notices went to %s", s.current.peer)
		}
		notices := texts(s.current, entryNotice)
		if len(notices) != 5 || notices[0] != "connected to ws://127.0.0.1:9394" ||
			!strings.HasPrefix(notices[4], "handshake Success") {
			t.Fatalf("notices %q", notices)
		}
		// Once the handshake went past it, its frame was sent.
		if !strings.HasPrefix(notices[1], "handshake Start: sent “Hello world!”") || strings.Contains(notices[1], "held") {
			t.Errorf("stepping %v, after the handshake: %q", stepping, notices[1])
		}

		// A connection failing again and again is one notice, counted.
		st := s.status
		for i := range 3 {
			st.State, st.Err = client.Connecting, nil
			s.apply(client.StatusEvent{Time: testTime(10 + i), Status: st})
			st.State, st.Err = client.Error, errors.New("refused")
			s.apply(client.StatusEvent{Time: testTime(10 + i), Status: st})
		}
		last := s.current.entries[len(s.current.entries)-1]
		if last.text != "connection failed: refused; reconnecting" || !last.bad || last.repeat != 2 {
			t.Errorf("the last notice %q, bad %v, repeated %d times", last.text, last.bad, last.repeat)
		}
	}
}

func TestChatOpensTheEchoBotWithTheNotices(t *testing.T) {
	s := newChatState(alice, client.Status{})
	s.apply(client.ErrorEvent{Time: testTime(0), Err: errors.New("a frame that is not a DIM message")})
	s.apply(client.UsersEvent{Time: testTime(1), Unlisted: true})
	if s.current == nil || !s.noConversation() || !s.contacts.unlisted {
		t.Fatal("an unlisted answer opened a conversation")
	}
	did := s.apply(client.UsersEvent{Time: testTime(2), Users: []dimp.ID{testEcho(), bob, alice}})
	if !did.opened || !did.shown || !s.current.peer.SameAs(testEcho()) {
		t.Fatalf("%+v: opened %s, want the echo bot", did, s.current.peer)
	}
	if _, ok := s.convs[client.IDKey(dimp.AnyStation)]; ok || len(texts(s.current, entryNotice)) != 1 {
		t.Error("the notices did not move into the echo bot's conversation")
	}
	if c := s.contacts.byKey[client.IDKey(testEcho())]; c == nil || !c.bot || !c.online || s.contacts.index(alice) >= 0 {
		t.Errorf("contacts %+v", s.contacts.rows)
	}
	if did := s.apply(client.UsersEvent{Time: testTime(3), Users: []dimp.ID{testEcho(), moky}}); did.opened {
		t.Error("a conversation open was replaced")
	}
	if s.contacts.byKey[client.IDKey(bob)].online || !s.contacts.byKey[client.IDKey(moky)].online {
		t.Error("who is online was not updated")
	}
}

func TestChatStationTraffic(t *testing.T) {
	s := newChatState(alice, client.Status{})
	s.apply(received(0, "s0", testStation(), "before the handshake"))
	if s.contacts.byKey[client.IDKey(testStation())].station {
		t.Error("a station labelled before the handshake named one")
	}
	for _, ev := range handshakeEvents("ws://127.0.0.1:9394") {
		s.apply(ev)
	}
	fwd := client.MessageEvent{Time: testTime(1), ID: "f1",
		Message: dimp.NewInstantMessage(testStation(), alice, &dimp.ForwardContent{})}
	s.apply(fwd)
	if got := texts(s.conversation(testStation()), entryContent); len(got) != 0 {
		t.Errorf("the station's forward was shown: %q", got)
	}
	s.apply(received(2, "s1", testStation(), "welcome"))
	if !s.contacts.byKey[client.IDKey(testStation())].station {
		t.Error("the handshaken station is not labelled")
	}
}

func TestChatForgetsTheOldestPastItsBudget(t *testing.T) {
	s := newChatState(alice, client.Status{})
	s.open(bob)
	text := strings.Repeat("x", maxKeptText)
	n := 2 * conversationBytes / keptCost(maxKeptText)
	for i := range n {
		from := bob
		if i%2 == 1 {
			from = moky
		}
		id := client.MessageID(fmt.Sprint(i))
		s.apply(client.SentEvent{Time: testTime(i), ID: id, Message: dimp.NewInstantMessage(alice, from, dimp.NewText(text))})
	}
	if s.convBytes > conversationBytes {
		t.Errorf("the conversations cost %d bytes, budget %d", s.convBytes, conversationBytes)
	}
	sum := 0
	for _, c := range s.convs {
		for _, e := range c.entries {
			sum += e.cost
		}
	}
	if sum != s.convBytes || len(s.convOf) != len(s.byMsg) {
		t.Errorf("counted %d bytes, kept %d; %d entries indexed by conversation, %d by message", s.convBytes, sum, len(s.convOf), len(s.byMsg))
	}
	if s.byMsg["0"] != nil || s.byMsg[client.MessageID(fmt.Sprint(n-1))] == nil {
		t.Error("the oldest message is still indexed, or the newest is not")
	}
	// A delivery for a message forgotten changes nothing.
	s.apply(client.DeliveryEvent{Time: testTime(n), ID: "0", State: client.Read})
}

// TestHeldHandshakeNotice: the notice of a handshake step whose frame is
// held names the frame by its number, and says it was sent once it went,
// or dropped with its connection; it never says held of a frame gone.
func TestHeldHandshakeNotice(t *testing.T) {
	start := client.Status{State: client.Handshaking, Handshake: dimp.HandshakeStart}
	held := client.HeldEvent{Seq: 3, Dir: client.Out, Kind: client.KindHandshake, Raw: []byte("{}"), Number: 12}
	for _, tt := range []struct {
		name  string
		after client.Event
		want  string
	}{
		{"sent", client.FrameEvent{Dir: client.Out, Kind: client.KindHandshake, Raw: []byte("{}"), Number: 12},
			"handshake Start: sent “Hello world!” with my meta and visa, signed, to station@anywhere (frame #12)"},
		{"dropped", client.ReleasedEvent{Seq: 3, Dropped: true},
			"handshake Start: “Hello world!” with my meta and visa, signed, to station@anywhere (frame #12, dropped: the connection ended)"},
	} {
		s := newChatState(alice, client.Status{})
		s.stepping = true
		s.apply(client.StatusEvent{Time: testTime(0), Status: start})
		notice := s.current.entries[len(s.current.entries)-1]
		s.heldFrame(held)
		if want := "handshake Start: “Hello world!” with my meta and visa, signed, to station@anywhere (frame #12, held until you release it)"; notice.text != want {
			t.Errorf("%s, held: %q\nwant %q", tt.name, notice.text, want)
		}
		if f, ok := tt.after.(client.FrameEvent); ok {
			s.frameSent(f)
		} else {
			s.apply(tt.after)
		}
		if notice.text != tt.want {
			t.Errorf("%s: %q\nwant %q", tt.name, notice.text, tt.want)
		}
	}
}

// A message whose content names a group lands in the group's
// conversation, its sender named on the line; the group is a contact of
// its own, marked as a group. A group command shows there as its
// sender's word, with the members it names.
func TestChatGroupMessagesLandInTheirGroup(t *testing.T) {
	group := dimp.MustParseID("group-alice@hz519K77dgxczwCDEgBhokWzdgbhFRSDg")
	carol := dimp.MustParseID("carol@1Hzr8ZpD32Hy3b4Pb7b7Q1dUmNyNbd8LKa")
	s := newChatState(alice, client.Status{})
	s.open(bob)
	text := dimp.NewText("hello crew")
	text.Group = group
	s.apply(client.MessageEvent{Time: testTime(1), ID: "g1", Message: dimp.NewInstantMessage(bob, alice, text)})
	s.apply(received(2, "b1", bob, "just to alice"))

	g := s.conversation(group)
	if got := texts(g, entryText); !reflect.DeepEqual(got, []string{"hello crew"}) {
		t.Errorf("the group's conversation holds %q", got)
	}
	if e := g.entries[len(g.entries)-1]; !e.from.SameAs(bob) {
		t.Errorf("the group line is from %s, want bob", e.from)
	}
	if got := texts(s.conversation(bob), entryText); !reflect.DeepEqual(got, []string{"just to alice"}) {
		t.Errorf("bob's one-to-one conversation holds %q", got)
	}
	if g.unread != 1 {
		t.Errorf("the group has %d unread, want 1", g.unread)
	}
	if c := s.contacts.byKey[client.IDKey(group)]; c == nil {
		t.Error("the group is not among the contacts")
	}

	if got := s.membersText(group); !strings.Contains(got, "not known yet") {
		t.Errorf("members before any reset: %q", got)
	}
	s.apply(client.GroupCommandEvent{Time: testTime(3), From: bob, Group: group, Command: "reset", Members: []dimp.ID{bob, carol},
		Role: "owner", Change: client.GroupChange{Added: []dimp.ID{carol}},
		Now: &client.Group{ID: group, Owner: bob, Admins: []dimp.ID{carol}, Members: []dimp.ID{bob, alice, carol}}})
	if got, want := s.membersText(group), "group-alice: 3 members: bob, owner; alice (me); carol, administrator"; got != want {
		t.Errorf("members: %q, want %q", got, want)
	}
	if c := s.contacts.byKey[client.IDKey(group)]; c == nil || c.members != 3 {
		t.Errorf("the group's contact counts %+v", c)
	}
	s.apply(client.GroupCommandEvent{Time: testTime(4), From: carol, Group: group, Command: "reset", Members: []dimp.ID{carol},
		Role: "member", Change: client.GroupChange{Refused: client.GroupDenied, Reason: "only the owner or an administrator resets the members"}})
	want := []string{
		"bob (owner) sent “reset”: added carol",
		"carol (member) sent “reset”: refused, Permission denied. only the owner or an administrator resets the members",
	}
	if notices := texts(g, entryNotice); !reflect.DeepEqual(notices, want) {
		t.Errorf("the group commands show as %q", notices)
	}
	if last := g.entries[len(g.entries)-1]; !last.bad {
		t.Error("a refused group command is not marked as a failure")
	}
	s.apply(client.GroupRefusedEvent{Time: testTime(5), From: carol, Group: group, Reason: "not a member of the group: the message is not shown"})
	if last := g.entries[len(g.entries)-1]; !last.bad || last.text != "carol: not a member of the group: the message is not shown" {
		t.Errorf("a message from a non-member shows as %q (bad %v)", last.text, last.bad)
	}
	if len(texts(s.conversation(bob), entryNotice)) != 0 {
		t.Error("the group command landed in bob's one-to-one conversation")
	}
}

// A group message sent: its line of ticks counts the members at the
// furthest state any reached and names each one's; the routine receipts
// of its copies are not listed under it, a refusal is.
func TestChatGroupMessageTicks(t *testing.T) {
	group := dimp.MustParseID("group-alice@hz519K77dgxczwCDEgBhokWzdgbhFRSDg")
	carol := dimp.MustParseID("carol@1Hzr8ZpD32Hy3b4Pb7b7Q1dUmNyNbd8LKa")
	s := newChatState(alice, client.Status{})
	im := dimp.NewInstantMessage(alice, group, dimp.NewText("hello crew"))
	s.apply(client.SentEvent{Time: testTime(1), ID: "m1", Message: im})
	members := []client.MemberDelivery{{Member: bob, State: client.Read}, {Member: carol, State: client.Delivered}}
	s.apply(client.DeliveryEvent{Time: testTime(2), ID: "m1", State: client.Delivered, Members: members})
	s.apply(client.ReceiptEvent{Time: testTime(2), From: bob, For: "m1", Receipt: dimp.NewReceipt(dimp.ReceiptRead, nil)})
	s.apply(client.ReceiptEvent{Time: testTime(2), From: carol, For: "m1", Receipt: dimp.NewReceipt("Permission denied.", nil)})
	g := s.conversation(group)
	if got := texts(g, entryReceipt); len(got) != 1 || !strings.Contains(got[0], "Permission denied.") {
		t.Errorf("receipts listed under the group message: %q", got)
	}
	st := NewStyles(true)
	line := ansi.Strip(groupTicks(&st, members, display.Name))
	if want := "◉ 1/2 · bob ◉, carol ✓✓"; line != want {
		t.Errorf("ticks %q, want %q", line, want)
	}
	members[1] = client.MemberDelivery{Member: carol, State: client.Failed, Detail: "no visa"}
	if line := ansi.Strip(groupTicks(&st, members, display.Name)); !strings.Contains(line, "✗ 1") || !strings.Contains(line, "carol: no visa") {
		t.Errorf("a failed copy: %q", line)
	}
}

// Taken into a group while nothing has been said in the open
// conversation, the pane opens the group; once something has, it stays.
func TestChatOpensAGroupOneIsTakenInto(t *testing.T) {
	group := dimp.MustParseID("group-alice@hz519K77dgxczwCDEgBhokWzdgbhFRSDg")
	reset := client.GroupCommandEvent{Time: testTime(2), From: bob, Group: group, Command: "reset", Role: "owner",
		Members: []dimp.ID{bob, alice}, Change: client.GroupChange{Added: []dimp.ID{alice}},
		Now: &client.Group{ID: group, Name: "crew", Owner: bob, Members: []dimp.ID{bob, alice}}}
	s := newChatState(alice, client.Status{})
	s.open(bob)
	s.noticeAt(testTime(1), "connected", false)
	s.apply(reset)
	if !s.current.peer.SameAs(group) {
		t.Errorf("the open conversation is %s, want the group", s.current.peer)
	}
	s = newChatState(alice, client.Status{})
	s.open(bob)
	s.apply(received(1, "b1", bob, "hi alice"))
	s.apply(reset)
	if !s.current.peer.SameAs(bob) {
		t.Errorf("the open conversation moved to %s while bob's had a message", s.current.peer)
	}
}
