package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/dimptest"
)

var keyDown = tea.KeyPressMsg{Code: tea.KeyDown}

// searchScreen runs /search WORDS in a fresh app where bob is online.
func searchScreen(t *testing.T, w, h int, words string) (*App, *fakeBackend) {
	t.Helper()
	a, f := newTestApp(w, h)
	feed(a, handshakeEvents("ws://127.0.0.1:9394")...)
	feed(a, client.UsersEvent{Time: testTime(3), Users: []dimp.ID{testEcho(), bob}})
	typeIn(t, a, f, "/search "+words)
	update(t, a, f, keyEnter)
	return a, f
}

func TestSearchResultsOpenAChat(t *testing.T) {
	carol := dimptest.NewIdentity(t, dimp.User, "carol")
	if err := carol.Visa.Set("name", "Caroline Lark"); err != nil {
		t.Fatal(err)
	}
	if err := carol.Visa.Sign(carol.SignKey); err != nil {
		t.Fatal(err)
	}
	a, f := searchScreen(t, 100, 30, "  lark   ")
	p := pane(a)
	if got := f.searchCalls(); len(got) != 1 || got[0] != "lark" {
		t.Fatalf("searched %q, want [lark]", got)
	}
	if p.mode != modeSearch || !strings.Contains(screenText(a), "searching…") {
		t.Fatalf("mode %d, screen:\n%s", p.mode, screenText(a))
	}
	// An answer to another question is not this one's.
	feed(a, client.SearchEvent{Time: testTime(4), Keywords: "other", Results: []client.SearchResult{{ID: moky}}})
	if strings.Contains(screenText(a), "moky") {
		t.Fatal("the answer to another search was shown")
	}
	feed(a, client.SearchEvent{Time: testTime(4), Keywords: "lark", Results: []client.SearchResult{
		{ID: carol.ID, Profile: carol.Profile()}, {ID: bob}, {ID: alice}}})
	screen := screenText(a)
	for _, want := range []string{"3 users found", "Caroline Lark", carol.ID.String(), "● bob", "alice (you)"} {
		if !strings.Contains(screen, want) {
			t.Errorf("results lack %q:\n%s", want, screen)
		}
	}
	for _, want := range []string{"enter chat with the user", "esc close the results"} {
		if !strings.Contains(screen, want) {
			t.Errorf("footer lacks %q", want)
		}
	}
	// Up stops at the top; Down twice reaches me, whom Enter does not open.
	update(t, a, f, keyUp)
	update(t, a, f, keyDown)
	update(t, a, f, keyDown)
	update(t, a, f, keyDown)
	update(t, a, f, keyEnter)
	if p.mode != modeSearch || !strings.Contains(p.flash, "you") {
		t.Fatalf("Enter on myself: mode %d, flash %q", p.mode, p.flash)
	}
	update(t, a, f, keyUp)
	update(t, a, f, keyUp)
	update(t, a, f, keyEnter)
	if p.mode != modeChat || p.search != nil || !p.chat.current.peer.SameAs(carol.ID) || p.focus != focusComposer {
		t.Fatalf("Enter on carol: mode %d, current %v", p.mode, p.chat.current.peer)
	}
	if c := p.chat.contacts.byKey[client.IDKey(carol.ID)]; c == nil || c.nick != "Caroline Lark" {
		t.Errorf("carol's contact %+v, want her visa name", c)
	}
	if !strings.Contains(screenText(a), "carol (Caroline Lark)") {
		t.Errorf("the chat's title does not name her:\n%s", screenText(a))
	}
	// Typing now goes to carol.
	typeIn(t, a, f, "hello carol")
	update(t, a, f, keyEnter)
	if calls := f.sentCalls(); len(calls) != 1 || !calls[0].to.SameAs(carol.ID) {
		t.Errorf("sent %+v, want a message to carol", calls)
	}
}

func TestSearchFailsAndCloses(t *testing.T) {
	a, f := searchScreen(t, 100, 30, "bob")
	p := pane(a)
	feed(a, client.SearchEvent{Time: testTime(4), Keywords: "bob", Err: client.ErrSearchUnanswered})
	if !strings.Contains(screenText(a), "✗ "+client.ErrSearchUnanswered.Error()) {
		t.Errorf("failure not shown:\n%s", screenText(a))
	}
	update(t, a, f, keyEnter) // nothing to open
	if p.mode != modeSearch {
		t.Fatal("Enter with no results closed the box")
	}
	update(t, a, f, keyEsc)
	if p.mode != modeChat || p.search != nil || strings.Contains(screenText(a), "Search bob") {
		t.Fatal("Esc did not close the results")
	}
	// A late answer after closing changes nothing.
	feed(a, client.SearchEvent{Time: testTime(5), Keywords: "bob", Results: []client.SearchResult{{ID: bob}}})
	if p.mode != modeChat {
		t.Fatal("a late answer opened the box")
	}
	// Nothing found; then no words at all.
	typeIn(t, a, f, "/search nobody")
	update(t, a, f, keyEnter)
	feed(a, client.SearchEvent{Time: testTime(6), Keywords: "nobody", Results: []client.SearchResult{}})
	if !strings.Contains(screenText(a), "nobody found") {
		t.Errorf("empty answer:\n%s", screenText(a))
	}
	update(t, a, f, keyEsc)
	typeIn(t, a, f, "/search")
	update(t, a, f, keyEnter)
	if p.mode != modeChat || !strings.Contains(p.flash, "/search WORDS") {
		t.Errorf("/search without words: mode %d, flash %q", p.mode, p.flash)
	}
	// A backend that cannot search (a replay) says so.
	b := New(struct{ Backend }{f}, Options{UsersEvery: -1, tick: testTick}, WithTheme(true))
	update(t, b, f, tea.WindowSizeMsg{Width: 100, Height: 30})
	typeIn(t, b, f, "/search bob")
	update(t, b, f, keyEnter)
	if p := pane(b); p.mode != modeChat || !strings.Contains(p.flash, "live connection") {
		t.Errorf("search without a Searcher: mode %d, flash %q", p.mode, p.flash)
	}
}

func TestSearchInHelpAndEverySize(t *testing.T) {
	st := NewStyles(true)
	help := newHelpOverlay(&st, DefaultKeyMap(), slashCommands())
	help.setSize(160, 80)
	help.open()
	out := ansi.Strip(help.view())
	for _, want := range []string{"/search", "find users by name or ID", "Search results", "chat with the user", "close the results"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	for _, sz := range [][2]int{{80, 24}, {60, 16}, {40, 10}, {200, 60}} {
		a, _ := searchScreen(t, sz[0], sz[1], "bob")
		feed(a, client.SearchEvent{Time: testTime(4), Keywords: "bob", Results: []client.SearchResult{{ID: bob}, {ID: moky}, {ID: testEcho()}, {ID: alice}}})
		lines := strings.Split(a.Render(), "\n")
		if len(lines) != sz[1] {
			t.Errorf("%dx%d: %d lines", sz[0], sz[1], len(lines))
		}
		for i, l := range lines {
			if lw := ansi.StringWidth(l); lw > sz[0] {
				t.Errorf("%dx%d: line %d is %d wide: %q", sz[0], sz[1], i, lw, ansi.Strip(l))
			}
		}
	}
}

func TestGoldenSearch(t *testing.T) {
	s := newSession(t, goldenW, goldenH)
	s.events(handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(client.UsersEvent{Time: testTime(3), Users: []dimp.ID{testEcho(), bob}})
	s.typeText("/search o")
	s.keys(keyEnter)
	s.events(client.SearchEvent{Time: testTime(4), Keywords: "o", Results: []client.SearchResult{
		{ID: bob}, {ID: testEcho()}, {ID: moky}}})
	s.keys(keyDown)
	checkScreen(t, s.screen(), goldenW, goldenH)
}
