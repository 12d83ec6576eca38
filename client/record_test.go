package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/client/history"
	"dimtui/dimp"
)

// The history's delivery states are the client's.
func TestHistoryDeliveryValues(t *testing.T) {
	pairs := [][2]int{{int(client.Sending), history.Sending}, {int(client.AtStation), history.AtStation},
		{int(client.Delivered), history.Delivered}, {int(client.Read), history.Read}, {int(client.Failed), history.Failed}}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("client %d, history %d", p[0], p[1])
		}
	}
}

// textOf returns the text of a content kept in the history.
func textOf(t *testing.T, m history.Message) string {
	t.Helper()
	if m.Err != nil {
		t.Fatalf("message %d: %v", m.Seq, m.Err)
	}
	c, err := dimp.ParseContent(m.Content)
	if err != nil {
		t.Fatalf("message %d: the content does not parse: %v", m.Seq, err)
	}
	tc, ok := c.(*dimp.TextContent)
	if !ok {
		t.Fatalf("message %d: %T, want a text", m.Seq, c)
	}
	return tc.Text
}

func sentText(t *testing.T, p *peer, to dimp.ID, text string) client.MessageID {
	t.Helper()
	id, err := p.c.SendText(context.Background(), to, text)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func waitText(p *peer, text string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%.20q", text), 10*time.Second, func([]client.Event) bool { return p.messages[text] > 0 })
}

func waitDelivery(p *peer, id client.MessageID, want client.Delivery) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%s %s", id, want), 10*time.Second, func(evs []client.Event) bool {
		d, _ := delivery(evs, id)
		return d == want
	})
}

// receivedID returns the ID of the message received with this text.
func receivedID(p *peer, text string) client.MessageID {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := received(p.events, func(c dimp.Content) bool { tc, ok := c.(*dimp.TextContent); return ok && tc.Text == text })
	if m == nil {
		p.t.Fatalf("%q not received", text)
	}
	return m.ID
}

// Alice and bob talk through a real station; bob's client stops, and a new
// client on bob's identity and history reads the conversation back as it
// was: the messages in order, each way, with their delivery states, the
// one alice recalled, a long one kept as its head, what bob read. A read
// receipt that comes to the new client for a message the old one sent
// still moves it.
func TestHistoryAcrossClientRestart(t *testing.T) {
	ctx := context.Background()
	st := startStation(t, t.TempDir(), "")
	aliceID, bobID := newUser(t, "alice"), newUser(t, "bob")
	bobPath := filepath.Join(t.TempDir(), "bob.history.db")
	alice := connectWithHistory(t, st.url, aliceID, filepath.Join(t.TempDir(), "alice.history.db"))
	bobHistory, err := history.Open(ctx, bobPath, bobID.ID, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bob := connectWith(t, client.Config{URL: st.url, Identity: bobID, History: bobHistory})
	alice.waitRunning()
	bob.waitRunning()

	a1 := sentText(t, alice, bobID.ID, "a1: hello bob")
	waitText(bob, "a1: hello bob")
	b1 := sentText(t, bob, aliceID.ID, "b1: hello alice")
	waitText(alice, "b1: hello alice")
	b2 := sentText(t, bob, aliceID.ID, "b2: how are you?")
	waitText(alice, "b2: how are you?")
	// a2 is recalled by alice, as dimchat's apps do: a text with the
	// original's serial number whose action is "recall".
	a2 := dimp.NewText("a2: oops")
	a2ID, err := alice.c.Send(ctx, bobID.ID, a2)
	if err != nil {
		t.Fatal(err)
	}
	waitText(bob, "a2: oops")
	long := "a3: " + strings.Repeat("long ", 30000) // 150 KB
	sentText(t, alice, bobID.ID, long)
	waitText(bob, long)
	recall := dimp.NewText("_(message recalled)_")
	recall.SN = a2.SN
	recall.Extra = dimp.Fields{}
	if err := recall.Extra.Set("action", "recall"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Send(ctx, bobID.ID, recall); err != nil {
		t.Fatal(err)
	}
	waitText(bob, "_(message recalled)_")
	if err := bob.c.MarkRead(ctx, receivedID(bob, "a1: hello bob")); err != nil {
		t.Fatal(err)
	}
	waitDelivery(alice, a1, client.Read)
	if err := alice.c.MarkRead(ctx, receivedID(alice, "b1: hello alice")); err != nil {
		t.Fatal(err)
	}
	waitDelivery(bob, b1, client.Read)
	waitDelivery(bob, b2, client.Delivered)

	bob.stop()
	if err := bobHistory.Close(); err != nil {
		t.Fatal(err)
	}
	bob2 := connectWithHistory(t, st.url, bobID, bobPath)
	bob2.waitRunning()
	// b2 read now: bob2 did not send it, and still records alice's receipt.
	if err := alice.c.MarkRead(ctx, receivedID(alice, "b2: how are you?")); err != nil {
		t.Fatal(err)
	}
	// The client records an event once it handed it over: the history
	// is looked at until it has it.
	bob2.waitFor("alice's read receipt for b2 in the history", 10*time.Second, func([]client.Event) bool {
		p, err := bob2.c.Page(ctx, aliceID.ID, 0, 50)
		for _, m := range p {
			if m.ID == string(b2) {
				return err == nil && m.State == history.Read
			}
		}
		return false
	})

	convs, err := bob2.c.Conversations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var withAlice *history.Conversation
	for i := range convs {
		if convs[i].ID.SameAs(aliceID.ID) {
			withAlice = &convs[i]
		}
	}
	// Unread: a2 and a3 (a1 was read; the recall is no message of its own).
	if withAlice == nil || withAlice.Count != 5 || withAlice.Unread != 2 || withAlice.Name != "Alice" {
		t.Fatalf("bob's conversations %+v, want one with Alice: 5 messages, 2 unread", convs)
	}
	page, err := bob2.c.Page(ctx, aliceID.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		text     string
		out      bool
		state    int
		recalled bool
		read     bool
	}
	var got []line
	for _, m := range page {
		text := textOf(t, m)
		if m.Cut {
			if !strings.HasPrefix(text, "a3: long long") || len(m.Content) > history.MaxContent || !strings.Contains(text, "more not kept") {
				t.Errorf("the long message kept as %d bytes: %.40q…", len(m.Content), text)
			}
			text = "a3 (cut)"
		}
		got = append(got, line{text, m.Out, m.State, m.Recalled, m.Read})
	}
	want := []line{
		{"a1: hello bob", false, history.Delivered, false, true},
		{"b1: hello alice", true, history.Read, false, false},
		{"b2: how are you?", true, history.Read, false, false},
		{"a2: oops", false, history.Delivered, true, false},
		{"a3 (cut)", false, history.Delivered, false, false},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bob's conversation with alice after the restart\n got %v\nwant %v", got, want)
	}
	if len(page) == 5 && (page[0].ID != string(receivedID(bob, "a1: hello bob")) || page[1].ID != string(b1)) {
		t.Errorf("IDs %s %s, want %s %s", page[0].ID, page[1].ID, receivedID(bob, "a1: hello bob"), b1)
	}

	// Alice's side: her recall marked her own message.
	ap, err := alice.c.Page(ctx, bobID.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ap {
		if m.ID == string(a2ID) && (!m.Out || !m.Recalled) {
			t.Errorf("alice's a2: out %v recalled %v, want both", m.Out, m.Recalled)
		}
	}

	// /clear forgets the conversation, for good.
	if err := bob2.c.ClearConversation(ctx, aliceID.ID); err != nil {
		t.Fatal(err)
	}
	if p, err := bob2.c.Page(ctx, aliceID.ID, 0, 50); err != nil || len(p) != 0 {
		t.Errorf("after ClearConversation: %d messages, %v", len(p), err)
	}
}

// A client without a history records nothing and reads nothing.
func TestNoHistory(t *testing.T) {
	c, err := client.New(client.Config{URL: "ws://127.0.0.1:1", Identity: newUser(t, "alice")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if convs, err := c.Conversations(ctx); err != nil || convs != nil {
		t.Errorf("Conversations: %v, %v", convs, err)
	}
	if p, err := c.Page(ctx, c.Me(), 0, 10); err != nil || p != nil {
		t.Errorf("Page: %v, %v", p, err)
	}
	if err := c.ClearConversation(ctx, c.Me()); err != nil {
		t.Error(err)
	}
}

// The station is killed (SIGKILL) while alice's messages stream to bob,
// and bob restarts on his history meanwhile: the station offers again what
// it never had acknowledged, and bob's history keeps every message once.
func TestHistoryStationKilled(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 150
	}
	ctx := context.Background()
	alice, bob, bob2 := killedMidStream(t, n, func(i int) string { return fmt.Sprintf("m-%04d", i) })
	bob2.waitFor("every message in the history", 120*time.Second, func([]client.Event) bool {
		convs, err := bob2.c.Conversations(ctx)
		for _, c := range convs {
			if c.ID.SameAs(alice.c.Me()) {
				return err == nil && c.Count >= n
			}
		}
		return false
	})
	var all []string
	for before := int64(0); ; {
		p, err := bob2.c.Page(ctx, alice.c.Me(), before, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			break
		}
		var texts []string
		for _, m := range p {
			texts = append(texts, textOf(t, m))
		}
		all = append(texts, all...)
		before = p[0].Seq
	}
	count := map[string]int{}
	for _, s := range all {
		count[s]++
	}
	for i := range n {
		if c := count[fmt.Sprintf("m-%04d", i)]; c != 1 {
			t.Errorf("m-%04d is in the history %d times", i, c)
		}
	}
	if len(all) != n {
		t.Errorf("%d messages in the history, want %d", len(all), n)
	}
	t.Logf("shown by the first run %d, by the second %d", bob.shown(), bob2.shown())
}

// A message is kept in the conversation the terminal shows it in: a
// broadcast in the broadcasts' one, a group message in its group's, one
// sent in its receiver's, any other in its sender's.
func TestConversationOf(t *testing.T) {
	alice, bob := newUser(t, "alice").ID, newUser(t, "bob").ID
	group := dimp.NewID("crew", dimp.BTCAddress([]byte("crew"), byte(dimp.Group)), "")
	inGroup := dimp.NewText("hi crew")
	inGroup.Group = group
	for _, tc := range []struct {
		name string
		im   *dimp.InstantMessage
		out  bool
		want dimp.ID
	}{
		{"received", dimp.NewInstantMessage(bob, alice, dimp.NewText("hi")), false, bob},
		{"sent", dimp.NewInstantMessage(alice, bob, dimp.NewText("hi")), true, bob},
		{"group", dimp.NewInstantMessage(bob, alice, inGroup), false, group},
		{"broadcast", dimp.NewInstantMessage(bob, dimp.Everyone, dimp.NewText("hi all")), false, dimp.Everyone},
	} {
		if got := client.ConversationOf(tc.im, tc.out); !got.SameAs(tc.want) {
			t.Errorf("%s: in %s, want %s", tc.name, got, tc.want)
		}
	}
}

// A peer's new visa name is kept as a notice in their conversation, so
// that a restart still says why their lines carry another name.
func TestProfileNoticeKept(t *testing.T) {
	ctx := context.Background()
	st := startStation(t, t.TempDir(), "")
	aliceID, bobID := newUser(t, "alice"), newUser(t, "bob")
	alice := connectWithHistory(t, st.url, aliceID, filepath.Join(t.TempDir(), "alice.history.db"))
	bob := connect(t, st.url, bobID)
	alice.waitRunning()
	bob.waitRunning()
	sentText(t, bob, aliceID.ID, "hello alice")
	waitText(alice, "hello alice")
	if err := bob.c.SetProfile(ctx, "Bobby", ""); err != nil {
		t.Fatal(err)
	}
	var notice string
	alice.waitFor("bob's new name in her history", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if p, ok := ev.(client.ProfileEvent); ok && p.Update && p.Name == "Bobby" {
				notice = p.NoticeID
			}
		}
		if notice == "" {
			return false
		}
		page, err := alice.c.Page(ctx, bobID.ID, 0, 10)
		return err == nil && len(page) == 2 && page[1].ID == notice
	})
	page, err := alice.c.Page(ctx, bobID.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var n client.ProfileNotice
	if err := json.Unmarshal(page[1].Content, &n); err != nil || page[1].Kind != history.KindProfileNotice || n.Name != "Bobby" || n.Old != "Bob" {
		t.Errorf("the notice kept: kind %d, %+v (%v)", page[1].Kind, n, err)
	}
}

// A peer who renamed themselves while dimtui was not running: the first
// visa of theirs after the restart is reported as a change from the name
// the history kept, once; the next restart, with no change, reports none.
func TestProfileChangedWhileAway(t *testing.T) {
	ctx := context.Background()
	st := startStation(t, t.TempDir(), "")
	aliceID, bobID := newUser(t, "alice"), newUser(t, "bob")
	path := filepath.Join(t.TempDir(), "alice.history.db")
	alice := connectWithHistory(t, st.url, aliceID, path)
	bob := connect(t, st.url, bobID)
	alice.waitRunning()
	bob.waitRunning()
	sentText(t, bob, aliceID.ID, "before")
	waitText(alice, "before")
	alice.stop()
	if err := bob.c.SetProfile(ctx, "Bobby", ""); err != nil {
		t.Fatal(err)
	}

	changed := func(p *peer) []client.ProfileEvent {
		p.mu.Lock()
		defer p.mu.Unlock()
		var out []client.ProfileEvent
		for _, ev := range p.events {
			if e, ok := ev.(client.ProfileEvent); ok && e.Update && e.ID.SameAs(bobID.ID) {
				out = append(out, e)
			}
		}
		return out
	}
	again := connectWithHistory(t, st.url, aliceID, path)
	again.waitRunning()
	sentText(t, bob, aliceID.ID, "after")
	waitText(again, "after")
	if got := changed(again); len(got) != 1 || got[0].Old != "Bob" || got[0].Name != "Bobby" || got[0].NoticeID == "" {
		t.Fatalf("after the restart: %+v, want one change from Bob to Bobby", got)
	}
	again.stop()

	third := connectWithHistory(t, st.url, aliceID, path)
	third.waitRunning()
	sentText(t, bob, aliceID.ID, "once more")
	waitText(third, "once more")
	if got := changed(third); len(got) != 0 {
		t.Errorf("a restart with no change reported %+v", got)
	}
}
