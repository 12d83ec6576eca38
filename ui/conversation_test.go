package ui

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/dimptest"
	"dimtui/display"
)

func fill(a *App, n int) {
	var evs []client.Event
	for i := range n {
		evs = append(evs, client.MessageEvent{Time: testTime(i), ID: client.MessageID(fmt.Sprintf("e%d", i)),
			Message: dimp.NewInstantMessage(testEcho(), alice, dimp.NewText(fmt.Sprintf("message %03d", i)))})
	}
	feed(a, evs...)
}

func TestScrollback(t *testing.T) {
	a, f := newTestApp(100, 30)
	fill(a, 100)
	screen := screenText(a)
	if !strings.Contains(screen, "message 099") || strings.Contains(screen, "message 070") {
		t.Fatalf("not at the newest messages:\n%s", screen)
	}
	update(t, a, f, keyPgUp)
	screen = screenText(a)
	if strings.Contains(screen, "message 099") || !strings.Contains(screen, "message 075") {
		t.Fatalf("PgUp did not scroll a page up:\n%s", screen)
	}
	if !strings.Contains(screen, "↑ PgUp · ↓ End") {
		t.Errorf("no scroll hints:\n%s", screen)
	}
	// New messages while scrolled up do not move the view.
	c := pane(a).chat.current
	top, topLine := c.top, c.topLine
	fill(a, 1)
	if c.follow || c.top != top || c.topLine != topLine || !strings.Contains(screenText(a), "message 075") {
		t.Error("a new message moved the view while scrolled up")
	}
	update(t, a, f, keyHome)
	screen = screenText(a)
	if !strings.Contains(screen, "message 000") {
		t.Fatalf("Home did not show the oldest message:\n%s", screen)
	}
	update(t, a, f, keyPgDown)
	if strings.Contains(screenText(a), "message 000") {
		t.Error("PgDn did not scroll down")
	}
	update(t, a, f, keyEnd)
	if !strings.Contains(screenText(a), "message 099") {
		t.Error("End did not go to the newest messages")
	}
	// The mouse wheel scrolls the conversation under the pointer.
	update(t, a, f, tea.MouseWheelMsg{X: 50, Y: 10, Button: tea.MouseWheelUp})
	if pane(a).chat.current.follow {
		t.Error("the wheel did not scroll up")
	}
	for range 10 {
		update(t, a, f, tea.MouseWheelMsg{X: 50, Y: 10, Button: tea.MouseWheelDown})
	}
	if !pane(a).chat.current.follow {
		t.Error("the wheel did not come back to the end")
	}
}

func TestUnreadMarkerAndMarkRead(t *testing.T) {
	a, f := newTestApp(100, 30)
	p := pane(a)
	feed(a, client.UsersEvent{Time: testTime(1), Users: []dimp.ID{testEcho(), bob}})
	// A message from bob while the echo bot's conversation is shown.
	msg := func(id string, text string) client.Event {
		return client.MessageEvent{Time: testTime(2), ID: client.MessageID(id), Message: dimp.NewInstantMessage(bob, alice, dimp.NewText(text))}
	}
	feed(a, msg("b1", "hi alice"), msg("b2", "are you there?"))
	if got := p.chat.convs[client.IDKey(bob)].unread; got != 2 {
		t.Fatalf("bob's unread count %d, want 2", got)
	}
	if !strings.Contains(screenText(a), " 2 ") {
		t.Errorf("the contacts do not show 2 unread:\n%s", screenText(a))
	}
	if len(f.readCalls()) != 0 {
		t.Fatal("messages marked read before they were shown")
	}
	// Opening bob's conversation shows them: marked read, marker shown.
	update(t, a, f, keyCtrlN)
	if !p.chat.current.peer.SameAs(bob) {
		t.Fatalf("ctrl+n opened %s", p.chat.current.peer)
	}
	if got := f.readCalls(); !reflect.DeepEqual(got, []client.MessageID{"b1", "b2"}) {
		t.Errorf("MarkRead calls %v, want [b1 b2]", got)
	}
	if p.chat.current.unread != 0 {
		t.Errorf("unread %d after opening", p.chat.current.unread)
	}
	if !strings.Contains(screenText(a), "new messages") {
		t.Errorf("no unread marker:\n%s", screenText(a))
	}
	// A message in the open conversation is read at once.
	update(t, a, f, EventMsg{Pane: 0, Event: msg("b3", "ok"), Replayed: true})
	if got := f.readCalls(); len(got) != 3 || got[2] != "b3" {
		t.Errorf("MarkRead calls %v, want b3 last", got)
	}
}

func TestDeliveryTicks(t *testing.T) {
	st := NewStyles(true)
	tests := []struct {
		d    client.Delivery
		want string
	}{
		{client.Sending, "○"}, {client.AtStation, "✓"}, {client.Delivered, "✓✓"}, {client.Read, "◉"}, {client.Failed, "✗"},
	}
	for _, tt := range tests {
		if got := ansi.Strip(renderTick(&st, tt.d)); got != tt.want {
			t.Errorf("tick for %s = %q, want %q", tt.d, got, tt.want)
		}
	}
	a, _ := newTestApp(100, 30)
	feed(a, client.SentEvent{Time: testTime(1), ID: "m1", Message: dimp.NewInstantMessage(alice, testEcho(), dimp.NewText("tick me"))},
		client.DeliveryEvent{Time: testTime(1), ID: "m1", State: client.Sending})
	line := func() string {
		for _, l := range strings.Split(screenText(a), "\n") {
			if strings.Contains(l, "tick me") {
				return strings.TrimRight(l, " ")
			}
		}
		return ""
	}
	for _, tt := range tests[1:] {
		feed(a, client.DeliveryEvent{Time: testTime(2), ID: "m1", State: tt.d, Detail: "refused by the station"})
		if l := line(); !strings.HasSuffix(l, " "+tt.want) {
			t.Errorf("after %s the line is %q, want it to end in %q", tt.d, l, tt.want)
		}
	}
	if !strings.Contains(screenText(a), "not sent: refused by the station") {
		t.Error("the reason of the failure is not shown")
	}
}

func TestReceiptsAreSetApart(t *testing.T) {
	a, _ := newTestApp(100, 30)
	feed(a, handshakeEvents("ws://127.0.0.1:9394")...)
	feed(a, client.SentEvent{Time: testTime(1), ID: "m1", Message: dimp.NewInstantMessage(alice, testEcho(), dimp.NewText("hi"))},
		client.ReceiptEvent{Time: testTime(1), From: testStation(), For: "m1", Receipt: dimp.NewReceipt("Message delivered.", nil)},
		client.ReceiptEvent{Time: testTime(1), From: testStation(), For: "other", Receipt: dimp.NewReceipt("Login received.", nil)})
	screen := screenText(a)
	if !strings.Contains(screen, "↪ station: Message delivered.") {
		t.Errorf("receipt not shown:\n%s", screen)
	}
	if strings.Contains(screen, "Login received.") {
		t.Error("a receipt for a protocol message was shown in the conversation")
	}
}

func TestOnlyTheHandshakenStationIsLabelled(t *testing.T) {
	a, _ := newTestApp(120, 30)
	p := pane(a)
	impostor := dimp.NewID(testStation().Name(), dimp.BTCAddress([]byte("another key"), byte(dimp.Station)), "")
	text := func(sec int, from dimp.ID, s string) client.Event {
		return client.MessageEvent{Time: testTime(sec), ID: client.MessageID(from.String() + s), Message: dimp.NewInstantMessage(from, alice, dimp.NewText(s))}
	}
	labelled := func(id dimp.ID) bool {
		c := p.chat.contacts.byKey[client.IDKey(id)]
		return c != nil && c.station
	}
	feed(a, text(0, testStation(), "before any handshake"))
	if labelled(testStation()) {
		t.Error("a station labelled before the handshake named one")
	}
	feed(a, handshakeEvents("ws://127.0.0.1:9394")...)
	feed(a, text(3, impostor, "I am your station"), text(4, testStation().WithTerminal("t1"), "welcome"))
	if labelled(impostor) {
		t.Error("a key that calls itself a station is labelled station")
	}
	if !labelled(testStation()) {
		t.Error("the handshaken station is not labelled station")
	}
	feed(a, client.SentEvent{Time: testTime(5), ID: "m1", Message: dimp.NewInstantMessage(alice, impostor, dimp.NewText("who are you?"))},
		client.ReceiptEvent{Time: testTime(6), From: impostor, For: "m1", Receipt: dimp.NewReceipt("Message delivered.", nil)})
	var receipts []string
	for _, e := range p.chat.conversation(impostor).entries {
		if e.kind == entryReceipt {
			receipts = append(receipts, e.text)
		}
	}
	if want := display.Name(impostor) + ": Message delivered. — “who are you?”"; len(receipts) != 1 || receipts[0] != want {
		t.Errorf("the impostor's receipt reads %q, want %q", receipts, want)
	}
}

func TestTimestampToggle(t *testing.T) {
	a, f := newTestApp(100, 30)
	fill(a, 3)
	if !strings.Contains(screenText(a), "09:30 echo") {
		t.Fatalf("no timestamps:\n%s", screenText(a))
	}
	update(t, a, f, keyCtrlT)
	if strings.Contains(screenText(a), "09:30 echo") || !strings.Contains(screenText(a), "echo  message 002") {
		t.Errorf("timestamps still shown:\n%s", screenText(a))
	}
}

func TestCopySelectedMessage(t *testing.T) {
	a, f := newTestApp(100, 30)
	fill(a, 5)
	p := pane(a)
	update(t, a, f, keyTab) // focus the conversation
	update(t, a, f, keyUp)
	update(t, a, f, keyUp)
	e := p.chat.current.selected()
	if e == nil || e.text != "message 003" {
		t.Fatalf("selected %+v, want message 003", e)
	}
	_, cmd := a.Update(keyCtrlY)
	if cmd == nil {
		t.Fatal("ctrl+y gave no command")
	}
	if !strings.Contains(p.flash, "copied 11 characters") {
		t.Errorf("flash %q", p.flash)
	}
	// App content copies as its JSON.
	extra := dimp.Fields{}
	_ = extra.Set("k", "v")
	c := dimp.NewAppContent(dimp.ContentApplication, "a", "m", "x", extra)
	en := contentEntry(c)
	if got := en.copyText(); !strings.Contains(got, `"app":"a"`) || !strings.Contains(got, `"k":"v"`) {
		t.Errorf("copy of app content = %s", got)
	}
}

func TestChatWithoutPeerOpensTheEchoBot(t *testing.T) {
	f := newFake(alice)
	a := New(f, Options{UsersEvery: -1, tick: testTick}, WithTheme(true))
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	feed(a, handshakeEvents("ws://127.0.0.1:9394")...)
	if p := pane(a); p.chat.current == nil || !p.chat.current.peer.Equal(dimp.AnyStation) {
		t.Fatal("the notices have no place to go")
	}
	update(t, a, f, EventMsg{Pane: 0, Event: client.UsersEvent{Time: testTime(2), Users: []dimp.ID{testEcho(), bob}}, Replayed: true})
	p := pane(a)
	if !p.chat.current.peer.SameAs(testEcho()) {
		t.Fatalf("opened %s, want the echo bot", p.chat.current.peer)
	}
	if !strings.Contains(screenText(a), "handshake Success") {
		t.Errorf("the notices were lost:\n%s", screenText(a))
	}
	if _, ok := p.chat.convs[client.IDKey(dimp.AnyStation)]; ok {
		t.Error("the placeholder conversation is still there")
	}
}

func TestRepeatedErrorsAreCounted(t *testing.T) {
	f := newFake(alice)
	a := New(f, Options{UsersEvery: -1, tick: testTick}, WithTheme(true))
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	for i := range 3 {
		st := client.Status{State: client.Connecting, URL: "ws://127.0.0.1:1", Attempt: i}
		feed(a, client.StatusEvent{Time: testTime(i), Status: st})
		st.State, st.Err, st.Attempt = client.Error, errRefused, i+1
		feed(a, client.StatusEvent{Time: testTime(i), Status: st})
	}
	screen := screenText(a)
	if n := strings.Count(screen, "reconnecting"); n != 1 {
		t.Errorf("the error shows %d times, want once with a count:\n%s", n, screen)
	}
	if !strings.Contains(screen, "reconnecting (×3)") || !strings.Contains(screen, "No conversation yet") {
		t.Errorf("no count or no placeholder title:\n%s", screen)
	}
}

func TestUsersUnlisted(t *testing.T) {
	a, f := newTestApp(100, 30)
	feed(a, client.UsersEvent{Time: testTime(1), Users: []dimp.ID{testEcho(), bob}})
	if s := screenText(a); !strings.Contains(s, "Contacts 2 online") {
		t.Fatalf("no count of the users online:\n%s", s)
	}
	feed(a, client.UsersEvent{Time: testTime(2), Unlisted: true})
	s := screenText(a)
	if !strings.Contains(s, "Contacts online: ?") || !strings.Contains(s, "bob") {
		t.Fatalf("after the station refused to list its users:\n%s", s)
	}
	p := pane(a)
	update(t, a, f, callDoneMsg{pane: p.id, what: "who is online", err: client.ErrNoUserList})
	if p.flash != "" {
		t.Errorf("the periodic question flashed %q", p.flash)
	}
	update(t, a, f, callDoneMsg{pane: p.id, what: "who is online", err: client.ErrNoUserList, flash: "asked"})
	if !strings.Contains(p.flash, "does not list its users") {
		t.Errorf("/who flashed %q", p.flash)
	}
	feed(a, client.UsersEvent{Time: testTime(3), Users: []dimp.ID{testEcho()}})
	if s := screenText(a); !strings.Contains(s, "Contacts 1 online") {
		t.Errorf("a later answer is not shown:\n%s", s)
	}
}

// A file from a peer reads as a card in the conversation, not as JSON,
// and shows so on the screen once its conversation is open.
func TestContentShownAsCard(t *testing.T) {
	a, _ := newTestApp(120, 30)
	p := pane(a)
	file, err := dimp.ParseContent([]byte(`{"type":16,"sn":5,"filename":"report.pdf","URL":"https://files.example/up/abc","key":{"algorithm":"AES"}}`))
	if err != nil {
		t.Fatal(err)
	}
	feed(a, client.MessageEvent{Time: testTime(1), ID: "f1", Message: dimp.NewInstantMessage(bob, alice, file)})
	p.open(bob)
	screen := screenText(a)
	for _, want := range []string{"[file] report.pdf", "at https://files.example/…/abc", "encrypted, its key in the message: /save fetches and decrypts it"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, `"sn"`) {
		t.Errorf("a JSON dump on the screen:\n%s", screen)
	}
}

// /page and /card send a page and a name card to the open conversation;
// a page that is not http(s) is refused before anything is sent.
func TestShareCommands(t *testing.T) {
	a, f := newTestApp(120, 30)
	p := pane(a)
	p.open(bob)
	for _, line := range []string{"/page https://dim.chat/ DIM home", "/page ftp://x/", "/card bob"} {
		for _, r := range line {
			runAll(t, a, tea.KeyPressMsg{Code: r, Text: string(r)})
		}
		runAll(t, a, keyEnter)
	}
	var sent []dimp.Content
	for _, c := range f.sentCalls() {
		if c.to.SameAs(bob) {
			sent = append(sent, c.content)
		}
	}
	if len(sent) != 2 {
		t.Fatalf("sent %d contents, want 2 (the page and the card): %v", len(sent), sent)
	}
	if pg, ok := sent[0].(*dimp.PageContent); !ok || pg.URL != "https://dim.chat/" || pg.Title != "DIM home" {
		t.Errorf("first sent %s", dimp.MarshalContent(sent[0]))
	}
	if nc, ok := sent[1].(*dimp.NameCardContent); !ok || !nc.ID.SameAs(bob) || nc.Name != "bob" {
		t.Errorf("second sent %s", dimp.MarshalContent(sent[1]))
	}
}

// /reply quotes the selected message: its sender, serial number and text
// go in the quote's origin, and the quote reads as a reply on the screen.
func TestReplyQuotesTheSelectedMessage(t *testing.T) {
	a, f := newTestApp(120, 30)
	p := pane(a)
	hi := dimp.NewText("shall we meet?")
	feed(a, client.MessageEvent{Time: testTime(1), ID: "m1", Message: dimp.NewInstantMessage(bob, alice, hi)})
	p.open(bob)
	for _, r := range "/reply yes, at noon" {
		runAll(t, a, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	runAll(t, a, keyEnter)
	var q *dimp.QuoteContent
	for _, c := range f.sentCalls() {
		if qc, ok := c.content.(*dimp.QuoteContent); ok && c.to.SameAs(bob) {
			q = qc
		}
	}
	if q == nil {
		t.Fatal("no quote sent")
	}
	var text string
	if q.Text != "yes, at noon" || q.Origin == nil || !q.Origin.Sender.SameAs(bob) || q.Origin.SN != hi.SN ||
		q.Origin.Extra.Get("text", &text) != nil || text != "shall we meet?" {
		t.Errorf("quote %s", dimp.MarshalContent(q))
	}
	// The reply reads as the answered line, then the answer.
	feed(a, client.SentEvent{Time: testTime(2), ID: "r1", Message: dimp.NewInstantMessage(alice, bob, q)})
	lines := strings.Split(screenText(a), "\n")
	quoted, reply := -1, -1
	for i, l := range lines {
		if strings.Contains(l, "▎bob: “shall we meet?”") {
			quoted = i
		}
		if strings.Contains(l, "yes, at noon") && !strings.Contains(l, "/reply") {
			reply = i
		}
	}
	if quoted < 0 || reply != quoted+1 {
		t.Errorf("quoted line at %d, reply at %d, want the reply right under it:\n%s", quoted, reply, screenText(a))
	}
}

// Enter on a reply selects the message it quotes; on a quote of a
// message that is not in the history it says so and selects nothing new.
func TestEnterOnAQuoteJumpsToTheQuotedMessage(t *testing.T) {
	a, _ := newTestApp(120, 30)
	p := pane(a)
	hi := dimp.NewText("shall we meet?")
	feed(a, client.MessageEvent{Time: testTime(1), ID: "m1", Message: dimp.NewInstantMessage(bob, alice, hi)})
	for i := range 5 {
		feed(a, client.MessageEvent{Time: testTime(2 + i), ID: client.MessageID(fmt.Sprint("x", i)), Message: dimp.NewInstantMessage(bob, alice, dimp.NewText(fmt.Sprint("filler ", i)))})
	}
	o := &dimp.Origin{Sender: bob, Receiver: alice, SN: hi.SN, Type: "1", Extra: dimp.Fields{}}
	_ = o.Extra.Set("text", "shall we meet?")
	q := &dimp.QuoteContent{Head: dimp.NewHead(dimp.ContentQuote), Text: "see above", Origin: o}
	feed(a, client.MessageEvent{Time: testTime(9), ID: "q1", Message: dimp.NewInstantMessage(bob, alice, q)})
	missing := &dimp.QuoteContent{Head: dimp.NewHead(dimp.ContentQuote), Text: "and this?",
		Origin: &dimp.Origin{Sender: bob, Receiver: alice, SN: 424242, Type: "1"}}
	feed(a, client.MessageEvent{Time: testTime(10), ID: "q2", Message: dimp.NewInstantMessage(bob, alice, missing)})
	p.open(bob)
	p.setFocus(focusConversation)

	runAll(t, a, tea.KeyPressMsg{Code: tea.KeyUp}) // the newest: the quote of a missing message
	runAll(t, a, keyEnter)
	if s := screenText(a); !strings.Contains(s, "not in this conversation's history") {
		t.Errorf("a quote of a missing message does not say so:\n%s", s)
	}
	runAll(t, a, tea.KeyPressMsg{Code: tea.KeyUp})
	if e := p.chat.current.selected(); e == nil || e.id != "q1" {
		t.Fatalf("selected %+v, want the reply q1", e)
	}
	runAll(t, a, keyEnter)
	if e := p.chat.current.selected(); e == nil || e.id != "m1" {
		t.Fatalf("Enter on the reply selected %+v, want the quoted m1", e)
	}
}

// Enter on a name card opens a chat with the user it introduces.
func TestEnterOnANameCardOpensItsChat(t *testing.T) {
	a, _ := newTestApp(120, 30)
	p := pane(a)
	carol := dimptest.NewIdentity(t, dimp.User, "carol").ID
	card := &dimp.NameCardContent{Head: dimp.NewHead(dimp.ContentNameCard), ID: carol, Name: "Carol C."}
	feed(a, client.MessageEvent{Time: testTime(1), ID: "c1", Message: dimp.NewInstantMessage(bob, alice, card)})
	p.open(bob)
	if s := screenText(a); !strings.Contains(s, "[name card] Carol C.") {
		t.Fatalf("no card on the screen:\n%s", s)
	}
	p.setFocus(focusConversation)
	runAll(t, a, keyEnter)
	if p.chat.current == nil || !p.chat.current.peer.SameAs(carol) {
		t.Fatalf("Enter on the card opened %v, want carol's chat", p.chat.current)
	}
}

// ctrl+e shows an unknown content's JSON under its one-line card, and
// hides it again.
func TestCtrlEShowsTheJSONOfAnUnknownContent(t *testing.T) {
	a, _ := newTestApp(120, 30)
	p := pane(a)
	odd, err := dimp.ParseContent([]byte(`{"type":119,"sn":7,"weather":"sunny"}`))
	if err != nil {
		t.Fatal(err)
	}
	feed(a, client.MessageEvent{Time: testTime(1), ID: "u1", Message: dimp.NewInstantMessage(bob, alice, odd)})
	p.open(bob)
	if s := screenText(a); !strings.Contains(s, "[content 0x77]") || strings.Contains(s, "sunny") {
		t.Fatalf("want the one-line card and no JSON:\n%s", s)
	}
	p.setFocus(focusConversation)
	runAll(t, a, tea.KeyPressMsg{Code: 'e', Mod: tea.ModCtrl})
	if s := screenText(a); !strings.Contains(s, `"weather": "sunny"`) {
		t.Errorf("ctrl+e shows no JSON:\n%s", s)
	}
	runAll(t, a, tea.KeyPressMsg{Code: 'e', Mod: tea.ModCtrl})
	if s := screenText(a); strings.Contains(s, "sunny") {
		t.Errorf("ctrl+e again leaves the JSON:\n%s", s)
	}
}
