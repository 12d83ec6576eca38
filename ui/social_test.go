package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/dimp"
)

// socialFake is a backend with profiles, lists and a name service.
type socialFake struct {
	*fakeBackend
	mu      sync.Mutex
	profile []string // name|avatar of each SetProfile
	blocked []dimp.ID
	names   map[string][]dimp.ID
}

func (s *socialFake) SetProfile(_ context.Context, name, avatar string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profile = append(s.profile, name+"|"+avatar)
	return nil
}
func (s *socialFake) Block(_ context.Context, ids []dimp.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked = append(s.blocked, ids...)
	return nil
}
func (s *socialFake) Unblock(context.Context, []dimp.ID) error { return nil }
func (s *socialFake) Mute(context.Context, []dimp.ID) error    { return nil }
func (s *socialFake) Unmute(context.Context, []dimp.ID) error  { return nil }
func (s *socialFake) ResolveName(_ context.Context, name string) ([]dimp.ID, error) {
	ids := s.names[name]
	switch len(ids) {
	case 0:
		return nil, client.ErrNameUnknown
	case 1:
		return ids, nil
	}
	return ids, &client.AmbiguousNameError{Name: name, IDs: ids}
}

func newSocialApp(t *testing.T) (*App, *socialFake) {
	t.Helper()
	f := &socialFake{fakeBackend: newFake(alice), names: map[string][]dimp.ID{}}
	a := New(f, Options{Peer: testEcho(), Bots: []dimp.ID{testEcho()}, UsersEvery: -1, tick: testTick}, WithTheme(true))
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	return a, f
}

// typeAndRun types a command and runs what it starts, so that its
// answer lands.
func typeAndRun(t *testing.T, a *App, line string) {
	t.Helper()
	p := pane(a)
	p.composer.reset()
	for _, r := range line {
		p.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	runCmd(t, a, p.Update(keyEnter))
}

// /nick re-signs my visa with the name; /block sends the list; /to NAME
// asks the station's name service when no contact has the name, and
// lists the IDs of a name several users share.
func TestSocialCommands(t *testing.T) {
	a, f := newSocialApp(t)
	typeAndRun(t, a, "/nick Alice A.")
	if len(f.profile) != 1 || f.profile[0] != "Alice A.|" {
		t.Errorf("SetProfile calls %q, want the new name", f.profile)
	}
	feed(a, client.ProfileEvent{Time: testTime(1), ID: alice, Name: "Alice A.", Self: true})
	if s := screenText(a); !strings.Contains(s, "my visa now names me “Alice A.”") {
		t.Errorf("no notice of my new name:\n%s", s)
	}

	feed(a, client.MessageEvent{Time: testTime(2), ID: "b1", Message: dimp.NewInstantMessage(bob, alice, dimp.NewText("hi"))})
	typeAndRun(t, a, "/block bob")
	if len(f.blocked) != 1 || !f.blocked[0].SameAs(bob) {
		t.Errorf("Block calls %v, want bob", f.blocked)
	}
	feed(a, client.ListsEvent{Time: testTime(3), Block: []dimp.ID{bob}, Loaded: true, Dropped: 2})
	typeAndRun(t, a, "/block")
	if s := screenText(a); !strings.Contains(s, "blocked: bob; muted: nobody; 2 messages from blocked users not shown") {
		t.Errorf("/block alone does not list:\n%s", s)
	}

	f.names["moky"] = []dimp.ID{moky}
	typeAndRun(t, a, "/to moky")
	if p := pane(a); p.chat.current == nil || !p.chat.current.peer.SameAs(moky) {
		t.Errorf("/to moky did not open moky's chat through the name service")
	}
	twin2 := dimp.MustParseID("moky@1KTtckknLw3AxD1WK4oLYpVN7RkQevC8wK")
	f.names["twin"] = []dimp.ID{moky, twin2}
	typeAndRun(t, a, "/to twin")
	if s := screenText(a); !strings.Contains(s, `2 users are called "twin"`) || !strings.Contains(s, twin2.String()) {
		t.Errorf("an ambiguous name does not list its IDs:\n%s", s)
	}
	typeAndRun(t, a, "/to nobody")
	if s := screenText(a); !strings.Contains(s, "nobody called") {
		t.Errorf("an unknown name is not said:\n%s", s)
	}
}

// A peer's visa name shows in the contacts and on their chat lines; a
// change of it is a notice in their conversation.
func TestVisaNamesShown(t *testing.T) {
	a, _ := newSocialApp(t)
	p := pane(a)
	feed(a, client.MessageEvent{Time: testTime(1), ID: "b1", Message: dimp.NewInstantMessage(bob, alice, dimp.NewText("hello there"))})
	feed(a, client.ProfileEvent{Time: testTime(2), ID: bob, Name: "Bobby"})
	p.open(bob)
	s := screenText(a)
	if !strings.Contains(s, "Bobby") {
		t.Errorf("bob's visa name is not shown:\n%s", s)
	}
	feed(a, client.ProfileEvent{Time: testTime(3), ID: bob, Name: "Robert", Old: "Bobby", Update: true})
	s = screenText(a)
	if !strings.Contains(s, "bob now calls themself “Robert” (was “Bobby”)") {
		t.Errorf("a changed visa name is not told:\n%s", s)
	}
	if strings.Contains(s, "Bobby ") || p.chat.nameOf(bob) != "Robert" {
		t.Errorf("the chat lines still name bob by his old visa name:\n%s", s)
	}
	if !strings.Contains(s, "Message Robert") {
		t.Errorf("the composer does not name bob by his visa name:\n%s", s)
	}
}

// A broadcast lands in a conversation of its own, not in its sender's;
// /to everyone@everywhere opens it with a warning of who reads it, and a
// line written there goes to everyone.
func TestBroadcastConversation(t *testing.T) {
	a, f := newSocialApp(t)
	p := pane(a)
	feed(a, client.MessageEvent{Time: testTime(1), ID: "b1", Message: dimp.NewInstantMessage(bob, dimp.Everyone, dimp.NewText("hello, everyone"))})
	if c := p.chat.convs[client.IDKey(bob)]; c != nil && c.hasMessages() {
		t.Error("a broadcast landed in bob's one-to-one conversation")
	}
	typeAndRun(t, a, "/to everyone@everywhere")
	s := screenText(a)
	for _, want := range []string{"hello, everyone", "a broadcast: what I write here goes unencrypted", "everyone"} {
		if !strings.Contains(s, want) {
			t.Errorf("the broadcasts' conversation lacks %q:\n%s", want, s)
		}
	}
	typeAndRun(t, a, "hi all")
	calls := f.sentCalls()
	if len(calls) != 1 || !calls[0].to.SameAs(dimp.Everyone) {
		t.Errorf("sent %v, want one message to everyone@everywhere", calls)
	}
}

// A peer the station last listed as offline shows online as soon as a
// message or receipt of theirs comes that they sent a moment ago; one the
// station kept while they were away does not.
func TestHeardFromShowsOnline(t *testing.T) {
	a, _ := newSocialApp(t)
	p := pane(a)
	feed(a, client.UsersEvent{Time: time.Now(), Users: []dimp.ID{alice}})
	p.chat.contacts.ensure(bob)
	p.chat.contacts.ensure(moky)
	old := dimp.NewInstantMessage(moky, alice, dimp.NewText("kept while you were away"))
	old.Time = float64(time.Now().Add(-2*time.Hour).UnixMilli()) / 1000
	feed(a, client.MessageEvent{Time: time.Now(), ID: "m1", Message: old})
	if p.chat.contacts.byKey[client.IDKey(moky)].online {
		t.Error("a message two hours old shows its sender online")
	}
	fresh := dimp.NewInstantMessage(bob, alice, dimp.NewText("just now"))
	feed(a, client.MessageEvent{Time: time.Now(), ID: "b1", Message: fresh})
	if !p.chat.contacts.byKey[client.IDKey(bob)].online {
		t.Error("a message sent a moment ago does not show bob online")
	}
	rc := dimp.NewReceipt(dimp.ReceiptRead, nil)
	feed(a, client.ReceiptEvent{Time: time.Now(), From: moky, Receipt: rc})
	if !p.chat.contacts.byKey[client.IDKey(moky)].online {
		t.Error("a receipt sent a moment ago does not show moky online")
	}
}
