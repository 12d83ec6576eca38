package ui

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"dimtui/client"
	"dimtui/client/history"
	"dimtui/dimp"
)

// loadCounted is counted that also counts the history's reads landed,
// the conversations and the pages, so that a test knows when they are
// drawn.
type loadCounted struct {
	counted
	convs, pages *atomic.Int64
}

func (c loadCounted) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg.(type) {
	case conversationsLoadedMsg:
		defer c.convs.Add(1)
	case pageLoadedMsg:
		defer c.pages.Add(1)
	}
	_, cmd := c.counted.Update(msg)
	return c, cmd
}

// histSession is a session whose backend has a history on disk, started
// as `dimtui chat` starts: no conversation open.
type histSession struct {
	*session
	convs, pages *atomic.Int64
}

func newHistSession(t *testing.T, w, h int, hf *histFake) *histSession {
	t.Helper()
	app := New(hf, Options{UsersEvery: -1}, WithTheme(true))
	n, convs, pages := &atomic.Int64{}, &atomic.Int64{}, &atomic.Int64{}
	tm := teatest.NewTestModel(t, loadCounted{counted{app, n}, convs, pages}, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.ANSI256)))
	t.Cleanup(func() { _ = tm.Quit() })
	return &histSession{session: &session{t: t, tm: tm, app: app, fake: hf.fakeBackend, n: n}, convs: convs, pages: pages}
}

// loaded waits until n reads of the history (of count) have landed.
func (s *histSession) loaded(count *atomic.Int64, n int64) {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for count.Load() < n {
		if time.Now().After(deadline) {
			s.t.Fatalf("%d reads of the history landed, want %d", count.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.settle()
}

// restoredHistory is what alice's history holds from an earlier run: a
// conversation with bob, both ways, with delivery states, a recall and an
// image; one line from moky.
func restoredHistory(t *testing.T) *histFake {
	t.Helper()
	hf := &histFake{fakeBackend: newFake(alice), msgs: map[string][]history.Message{}}
	var seq int64
	add := func(conv, from dimp.ID, min int, c dimp.Content, f func(*history.Message)) {
		seq++
		m := history.Message{Seq: seq, Conversation: conv, ID: from.String() + "#" + string(rune('a'+seq)),
			Sender: from, Out: from.SameAs(alice), Time: testTime(-3600 + 60*min), Content: dimp.MarshalContent(c)}
		if !m.Out {
			m.State, m.Read = int(client.Delivered), true
		}
		if f != nil {
			f(&m)
		}
		hf.msgs[client.IDKey(conv)] = append(hf.msgs[client.IDKey(conv)], m)
	}
	state := func(d client.Delivery) func(*history.Message) {
		return func(m *history.Message) { m.State = int(d) }
	}
	add(moky, moky, 0, dimp.NewText("the room is booked for nine"), nil)
	add(bob, alice, 1, dimp.NewText("are you coming to the workshop tomorrow?"), state(client.Read))
	add(bob, bob, 2, dimp.NewText("yes, and I'll bring the slides"), nil)
	add(bob, bob, 3, parsed(t, `{"type":18,"sn":6,"filename":"sunset.jpg","URL":"https://files.example/download/abc/77aa.jpg","key":{"algorithm":"AES","data":"AAAA"},"thumbnail":"`+benchThumb()+`"}`), nil)
	add(bob, alice, 4, dimp.NewText("wrong picture?"), func(m *history.Message) {
		m.State, m.Recalled = int(client.Read), true
	})
	add(bob, alice, 5, dimp.NewText("see you at nine"), state(client.Delivered))
	add(bob, alice, 6, dimp.NewText("bring the adapter too"), state(client.AtStation))
	return hf
}

// A restart, as `dimtui chat` starts: the history's conversations in the
// contacts, and bob's, opened with /to bob, as it was left: both sides,
// the ticks (◉ read, ✓✓ delivered, ✓ at the station), the recalled line
// struck out, the image's card with its thumbnail.
func TestGoldenHistoryConversation(t *testing.T) {
	hf := restoredHistory(t)
	s := newHistSession(t, goldenW, 40, hf)
	// The conversations are read as the program starts (sent here too, as
	// the program does not read them yet: TestHistoryContactsListedAtStart;
	// reading them twice changes nothing).
	s.tm.Send(s.app.panes[0].loadConversations()())
	s.loaded(s.convs, 1)
	s.events(handshakeEvents("ws://127.0.0.1:9394")...)
	s.typeText("/to bob")
	s.keys(keyEnter)
	s.loaded(s.pages, 1) // bob's newest page
	screen := s.screen()
	checkScreen(t, screen, goldenW, 40)
	text := ansi.Strip(string(screen))
	for _, want := range []string{"bob", "moky", "see you at nine", "↶ recalled by me", "[image] sunset.jpg"} {
		if !strings.Contains(text, want) {
			t.Errorf("the restored conversation lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "yes, and I'll bring the slides"); n != 1 {
		t.Errorf("bob's line shows %d times, want once:\n%s", n, text)
	}
	if strings.Contains(text, "the room is booked") {
		t.Errorf("moky's line shows in bob's conversation:\n%s", text)
	}
}

// The contacts list the history's conversations as soon as the program
// starts, before any conversation is opened, whoever is online.
func TestHistoryContactsListedAtStart(t *testing.T) {
	hf := restoredHistory(t)
	s := newHistSession(t, goldenW, goldenH, hf)
	s.events(handshakeEvents("ws://127.0.0.1:9394")...)
	waitLoads := time.Now().Add(5 * time.Second)
	for s.convs.Load() < 1 && time.Now().Before(waitLoads) {
		time.Sleep(10 * time.Millisecond)
	}
	s.settle()
	text := ansi.Strip(string(s.screen()))
	contacts := contactsColumn(text)
	for _, want := range []string{"bob", "moky"} {
		if !strings.Contains(contacts, want) {
			t.Errorf("after a restart the contacts do not list %s, whose conversation the history holds:\n%s", want, text)
		}
	}
}

// A broadcast bob sent to everyone@everywhere lands in the broadcasts'
// conversation, not bob's; /to everyone@everywhere opens it with the
// warning of who reads what is written there.
func TestGoldenHistoryBroadcasts(t *testing.T) {
	s := newSession(t, goldenW, goldenH)
	s.events(handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(client.UsersEvent{Time: testTime(3), Users: []dimp.ID{testEcho(), bob}})
	s.events(client.MessageEvent{Time: testTime(30), ID: "b1",
		Message: dimp.NewInstantMessage(bob, dimp.Everyone, dimp.NewText("the workshop moves to room 4, everyone"))})
	s.typeText("/to everyone@everywhere")
	s.keys(keyEnter)
	s.keys(keyCtrlT) // no timestamps: the warning is of the wall clock's time
	screen := s.screen()
	checkScreen(t, screen, goldenW, goldenH)
	text := ansi.Strip(string(screen))
	for _, want := range []string{"everyone", "the workshop moves to room 4", "a broadcast: what I write here goes unencrypted"} {
		if !strings.Contains(text, want) {
			t.Errorf("the broadcasts' conversation lacks %q:\n%s", want, text)
		}
	}
}

// contactsColumn is the text left of the contacts' border on each line.
func contactsColumn(screen string) string {
	var b strings.Builder
	for _, l := range strings.Split(screen, "\n") {
		if left, _, ok := strings.Cut(l, "│"); ok {
			b.WriteString(left + "\n")
		}
	}
	return b.String()
}
