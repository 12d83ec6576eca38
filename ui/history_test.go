package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/client/history"
	"dimtui/dimp"
)

// histFake is a backend with a history on disk, as a client with a
// history database has: conversations and pages of messages.
type histFake struct {
	*fakeBackend
	mu      sync.Mutex
	msgs    map[string][]history.Message // by conversation, oldest first
	cleared []dimp.ID
	pages   int
	unread  map[string]int // by conversation
}

func (h *histFake) Conversations(context.Context) ([]history.Conversation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []history.Conversation
	for _, ms := range h.msgs {
		if len(ms) > 0 {
			out = append(out, history.Conversation{ID: ms[0].Conversation, Last: ms[len(ms)-1].Time, Count: len(ms),
				Unread: h.unread[client.IDKey(ms[0].Conversation)]})
		}
	}
	return out, nil
}

func (h *histFake) Page(_ context.Context, conv dimp.ID, before int64, n int) ([]history.Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pages++
	var older []history.Message
	for _, m := range h.msgs[client.IDKey(conv)] {
		if before == 0 || m.Seq < before {
			older = append(older, m)
		}
	}
	return older[max(len(older)-n, 0):], nil
}

func (h *histFake) ClearConversation(_ context.Context, conv dimp.ID) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cleared = append(h.cleared, conv)
	delete(h.msgs, client.IDKey(conv))
	return nil
}

// runCmd runs a command and what it returns, as Bubble Tea would, so that
// the history's reads land.
func runCmd(t *testing.T, a *App, cmd tea.Cmd) {
	t.Helper()
	for _, msg := range run(t, cmd) {
		runAll(t, a, msg)
	}
}

// A restart shows the conversations as they were: the contacts from the
// history, the open conversation's newest messages with their delivery
// ticks and recalls, older ones as the user scrolls up; /clear forgets one.
func TestHistoryShownAfterARestart(t *testing.T) {
	f := newFake(alice)
	h := &histFake{fakeBackend: f, msgs: map[string][]history.Message{}}
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var seq int64
	for i := range 450 {
		seq++
		m := history.Message{Seq: seq, Conversation: bob, ID: fmt.Sprintf("m%d", i), Time: base.Add(time.Duration(i) * time.Minute)}
		text := fmt.Sprintf("old message %03d", i)
		if i%2 == 0 {
			m.Sender, m.Out, m.State = alice, true, history.Read
		} else {
			m.Sender = bob
		}
		if i == 448 {
			text, m.Recalled = "taken back", true
		}
		if i == 446 {
			m.State = history.Sending // the run that sent it quit before the station took it
		}
		m.Content = dimp.MarshalContent(dimp.NewText(text))
		h.msgs[client.IDKey(bob)] = append(h.msgs[client.IDKey(bob)], m)
	}
	a := New(h, Options{Peer: bob, UsersEvery: -1, tick: testTick}, WithTheme(true))
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	p := pane(a)
	runCmd(t, a, p.loadConversations()) // as Init does

	s := screenText(a)
	for _, want := range []string{"old message 449", "↶ recalled by me", "◉", "not sent: dimtui quit before the station took it"} {
		if !strings.Contains(s, want) {
			t.Errorf("after a restart the screen lacks %q:\n%s", want, s)
		}
	}
	messages := func() int {
		n := 0
		for _, e := range p.chat.current.entries {
			if e.kind != entryUnread {
				n++
			}
		}
		return n
	}
	if n := messages(); n != historyPage {
		t.Fatalf("%d entries read at first, want one page of %d", n, historyPage)
	}
	// Scrolling to the top reads the older pages, until none is left.
	for range 40 {
		runCmd(t, a, p.Update(keyPgUp))
	}
	if s := screenText(a); !strings.Contains(s, "old message 000") {
		t.Errorf("scrolled to the top, the oldest message is not shown:\n%s", s)
	}
	if n := messages(); n != 450 {
		t.Errorf("%d entries after scrolling back, want 450", n)
	}
	pages := h.pages
	runCmd(t, a, p.Update(keyPgUp))
	if h.pages != pages {
		t.Errorf("the history was read again after its oldest message")
	}

	// A message that came in this run is not shown twice.
	feed(a, client.MessageEvent{Time: base.Add(time.Hour * 9), ID: "m449", Message: dimp.NewInstantMessage(bob, alice, dimp.NewText("old message 449"))})
	runCmd(t, a, p.Update(keyEnd))
	if c := strings.Count(screenText(a), "old message 449"); c != 1 {
		t.Errorf("a message in the history and in this run shows %d times", c)
	}

	// /clear forgets the conversation, here and on disk.
	typeLine(t, a, "/clear")
	runCmd(t, a, p.clearConversation())
	if len(p.chat.current.entries) != 0 || len(h.cleared) == 0 || !h.cleared[0].SameAs(bob) {
		t.Errorf("after /clear: %d entries, cleared %v", len(p.chat.current.entries), h.cleared)
	}
}

// groupsHist is a history backend that also knows groups, as a client
// that kept them does.
type groupsHist struct {
	*histFake
	groups []*client.Group
}

func (g *groupsHist) Groups(context.Context) ([]*client.Group, error) { return g.groups, nil }

// noticeRow is a group's notice as the client keeps it.
func noticeRow(t *testing.T, seq int64, group dimp.ID, id string, n client.GroupNotice) history.Message {
	t.Helper()
	raw, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return history.Message{Seq: seq, Kind: history.KindGroupNotice, Conversation: group, ID: id, Sender: n.From,
		Time: testTime(int(seq)), Content: raw, Read: true}
}

// After a restart a group's conversation shows what its commands did, as
// it was said when they came, between its messages; the group's name and
// members are known before anyone sends it again; a notice that came in
// this run and is in the history is shown once; one that does not read
// says so.
func TestGroupNoticesFromHistory(t *testing.T) {
	group := dimp.MustParseID("group-alice@hz519K77dgxczwCDEgBhokWzdgbhFRSDg")
	carol := testEcho()
	f := newFake(alice)
	h := &groupsHist{histFake: &histFake{fakeBackend: f, msgs: map[string][]history.Message{}},
		groups: []*client.Group{{ID: group, Name: "crew", Owner: bob, Members: []dimp.ID{bob, alice, carol}}}}
	hello := dimp.NewText("hello crew")
	hello.Group = group
	mine := dimp.NewText("mine, read by bob")
	mine.Group = group
	rows := []history.Message{
		noticeRow(t, 1, group, "notice#1", client.GroupNotice{From: bob, Command: dimp.CmdReset, Role: "owner",
			Members: []dimp.ID{bob, alice}, Change: client.GroupChange{Added: []dimp.ID{alice}}, Name: "crew"}),
		{Seq: 2, Conversation: group, ID: "m2", Sender: bob, Time: testTime(2), Type: dimp.ContentText, Content: dimp.MarshalContent(hello)},
		noticeRow(t, 3, group, "notice#3", client.GroupNotice{From: alice, Command: dimp.CmdInvite, Role: "member",
			Change: client.GroupChange{Requested: []dimp.ID{carol}}, Name: "crew"}),
		{Seq: 4, Kind: history.KindGroupNotice, Conversation: group, ID: "notice#4", Sender: bob, Time: testTime(4), Content: []byte(`{}`)},
		{Seq: 5, Conversation: group, ID: "a5", Sender: alice, Out: true, State: history.Delivered, Time: testTime(5),
			Type: dimp.ContentText, Content: dimp.MarshalContent(mine),
			Members: []byte(`[{"member":"` + bob.String() + `","state":3},{"member":"` + carol.String() + `","state":2}]`)},
	}
	h.msgs[client.IDKey(group)] = rows
	a := New(h, Options{Peer: group, UsersEvery: -1, tick: testTick}, WithTheme(true))
	a.Update(tea.WindowSizeMsg{Width: 160, Height: 30})
	p := pane(a)
	p.chat.contacts.ensure(bob).nick = "Bob Builder" // his visa's name
	runCmd(t, a, p.loadConversations())

	s := screenText(a)
	for _, want := range []string{
		"Bob Builder (owner) sent “reset”: added alice",
		"hello crew",
		"I asked the owner and administrators to add echo",
		"a group notice in the history does not read: it names no sender",
		"crew",
		"◉ 1/2 · Bob Builder ◉, echo ✓✓", // the ticks of each member, as they were
		"Message # crew",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the group's conversation after a restart lacks %q:\n%s", want, s)
		}
	}
	if got := p.chat.membersText(group); !strings.Contains(got, "crew: 3 members") || !strings.Contains(got, "Bob Builder, owner") {
		t.Errorf("/members after a restart: %q", got)
	}

	// A notice of this run, read again with the next page, shows once.
	live := client.GroupCommandEvent{Time: testTime(5), From: bob, Group: group, Command: dimp.CmdExpel, Role: "owner",
		Change: client.GroupChange{Removed: []dimp.ID{carol}}, NoticeID: "notice#5"}
	feed(a, live)
	h.mu.Lock()
	h.msgs[client.IDKey(group)] = append([]history.Message{noticeRow(t, 5, group, "notice#5", client.GroupNotice{
		From: bob, Command: dimp.CmdExpel, Role: "owner", Change: client.GroupChange{Removed: []dimp.ID{carol}}})}, rows...)
	h.mu.Unlock()
	p.chat.current.hist = historyState{}
	runCmd(t, a, p.loadPage(p.chat.current))
	if c := strings.Count(screenText(a), "removed echo"); c != 1 {
		t.Errorf("a notice of this run that is in the history shows %d times", c)
	}
}

// A message an earlier run did not get to the station is sent again with
// /resend, as a new message (a new serial number), and the first says so;
// one that was sent, or whose history kept only its head, is not.
func TestResendNotSent(t *testing.T) {
	f := newFake(alice)
	h := &histFake{fakeBackend: f, msgs: map[string][]history.Message{}}
	lost := dimp.NewText("lost in the quit")
	lost.SN = 77
	delivered := dimp.NewText("this one arrived")
	long := dimp.NewText("the head of a long one")
	h.msgs[client.IDKey(bob)] = []history.Message{
		{Seq: 1, Conversation: bob, ID: "a1", Sender: alice, Out: true, State: history.Delivered, Time: testTime(1), Type: dimp.ContentText, Content: dimp.MarshalContent(delivered)},
		{Seq: 2, Conversation: bob, ID: "a2", Sender: alice, Out: true, State: history.Sending, Time: testTime(2), Type: dimp.ContentText, Content: dimp.MarshalContent(long), Cut: true},
		{Seq: 3, Conversation: bob, ID: "a3", Sender: alice, Out: true, State: history.Sending, Time: testTime(3), Type: dimp.ContentText, Content: dimp.MarshalContent(lost)},
	}
	a := New(h, Options{Peer: bob, UsersEvery: -1, tick: testTick}, WithTheme(true))
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	p := pane(a)
	runCmd(t, a, p.loadConversations())

	typeAndRun(t, a, "/resend")
	f.mu.Lock()
	sent := slices.Clone(f.sent)
	f.mu.Unlock()
	if len(sent) != 1 {
		t.Fatalf("%d messages sent, want the one not sent", len(sent))
	}
	tc, ok := sent[0].content.(*dimp.TextContent)
	if !ok || tc.Text != "lost in the quit" || tc.SN == lost.SN || !sent[0].to.SameAs(bob) {
		t.Errorf("sent %+v to %s, want the text again with a new serial number", sent[0].content, sent[0].to)
	}
	if s := screenText(a); !strings.Contains(s, "sent again below") {
		t.Errorf("the message sent again does not say so:\n%s", s)
	}
	for sel, want := range map[int]string{0: "this message was sent", 1: "only the head of this message was kept"} {
		p.chat.current.sel = slices.IndexFunc(p.chat.current.entries, func(e *entry) bool { return e.id == client.MessageID([]string{"a1", "a2"}[sel]) })
		typeAndRun(t, a, "/resend")
		if s := screenText(a); !strings.Contains(s, want) {
			t.Errorf("/resend on %s: the screen lacks %q:\n%s", []string{"a1", "a2"}[sel], want, s)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sent) != 1 {
		t.Errorf("%d messages sent after the refusals, want 1", len(f.sent))
	}
}

// What an earlier run received and the user did not read is still unread
// after a restart: the contacts count it, the open conversation marks
// where it begins and, once it is shown, it is marked read (its sender
// told).
func TestUnreadAfterARestart(t *testing.T) {
	f := newFake(alice)
	h := &histFake{fakeBackend: f, msgs: map[string][]history.Message{}}
	row := func(seq int64, conv, from dimp.ID, id, text string, read bool) history.Message {
		return history.Message{Seq: seq, Conversation: conv, ID: id, Sender: from, Time: testTime(int(seq)),
			Type: dimp.ContentText, Content: dimp.MarshalContent(dimp.NewText(text)), Read: read, Out: from.SameAs(alice)}
	}
	h.msgs[client.IDKey(bob)] = []history.Message{
		{Seq: 0, Kind: history.KindProfileNotice, Conversation: bob, ID: "profile#1", Sender: bob, Time: testTime(0),
			Content: []byte(`{"name":"Bobby","old":"Bob"}`), Read: true},
		row(1, bob, bob, "b1", "read yesterday", true),
		row(2, bob, alice, "a1", "my answer", false),
		row(3, bob, bob, "b2", "not read yet", false),
		row(4, bob, bob, "b3", "nor this", false),
	}
	h.msgs[client.IDKey(moky)] = []history.Message{
		row(5, moky, moky, "m1", "one", false),
		row(6, moky, moky, "m2", "two", false),
	}
	h.unread = map[string]int{client.IDKey(bob): 2, client.IDKey(moky): 2}
	a := New(h, Options{Peer: bob, UsersEvery: -1, tick: testTick}, WithTheme(true))
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	p := pane(a)
	runCmd(t, a, p.loadConversations())

	if n := p.chat.unread(moky); n != 2 {
		t.Errorf("moky's conversation counts %d unread, want 2", n)
	}
	var kinds []string
	for _, e := range p.chat.current.entries {
		if e.kind == entryUnread {
			kinds = append(kinds, "marker")
		} else {
			kinds = append(kinds, e.text)
		}
	}
	if want := []string{"bob now calls themself “Bobby” (was “Bob”): a new visa, signed by their key",
		"read yesterday", "my answer", "marker", "not read yet", "nor this"}; !slices.Equal(kinds, want) {
		t.Errorf("bob's conversation: %q, want %q", kinds, want)
	}
	f.mu.Lock()
	read := slices.Clone(f.read)
	f.mu.Unlock()
	if !slices.Equal(read, []client.MessageID{"b2", "b3"}) {
		t.Errorf("marked read %v, want b2 and b3", read)
	}
}
