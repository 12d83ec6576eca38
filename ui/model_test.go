package ui

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// run executes a command the way the program would and returns the
// messages it produced; commands still waiting after a moment (timers)
// are dropped.
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case m := <-ch:
		if b, ok := m.(tea.BatchMsg); ok {
			var out []tea.Msg
			for _, c := range b {
				out = append(out, run(c)...)
			}
			return out
		}
		if m == nil {
			return nil
		}
		return []tea.Msg{m}
	case <-time.After(100 * time.Millisecond):
		return nil
	}
}

// update passes a message to the app and runs what it asks for, feeding
// the results and the fake backend's events back, as the program would.
func update(a *App, f *fakeBackend, msg tea.Msg) {
	queue := []tea.Msg{msg}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		_, cmd := a.Update(m)
		queue = append(queue, run(cmd)...)
		for {
			select {
			case ev := <-f.events:
				queue = append(queue, EventMsg{Pane: 0, Event: ev, Replayed: true})
				continue
			default:
			}
			break
		}
	}
}

func typeIn(a *App, f *fakeBackend, text string) {
	for _, r := range text {
		update(a, f, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// screenText renders the app without styles.
func screenText(a *App) string { return ansi.Strip(a.Render()) }

func pane(a *App) *Pane { return a.panes[0] }

func TestComposerSendsTextAndNewline(t *testing.T) {
	a, f := newTestApp(100, 30)
	typeIn(a, f, "first line")
	update(a, f, keyAltEnter)
	typeIn(a, f, "second line")
	if got := pane(a).composer.value(); got != "first line\nsecond line" {
		t.Fatalf("composer holds %q", got)
	}
	update(a, f, keyEnter)
	calls := f.sentCalls()
	if len(calls) != 1 {
		t.Fatalf("%d messages sent, want 1", len(calls))
	}
	if txt := calls[0].content.(*dimp.TextContent).Text; txt != "first line\nsecond line" || !calls[0].to.SameAs(testEcho()) {
		t.Errorf("sent %q to %s", txt, calls[0].to)
	}
	if got := pane(a).composer.value(); got != "" {
		t.Errorf("composer not emptied: %q", got)
	}
	if !strings.Contains(screenText(a), "second line") {
		t.Errorf("the sent message is not shown:\n%s", screenText(a))
	}
	// An empty line sends nothing.
	update(a, f, keyEnter)
	if n := len(f.sentCalls()); n != 1 {
		t.Errorf("%d messages sent after an empty Enter", n)
	}
}

func TestSlashCommands(t *testing.T) {
	a, f := newTestApp(100, 30)
	feed(a, client.UsersEvent{Time: testTime(1), Users: []dimp.ID{testEcho(), bob, moky, alice}})
	p := pane(a)

	typeIn(a, f, "/to bob")
	update(a, f, keyEnter)
	if !p.chat.current.peer.SameAs(bob) {
		t.Fatalf("/to bob opened %s", p.chat.current.peer)
	}
	typeIn(a, f, "//etc/passwd is a path")
	update(a, f, keyEnter)
	calls := f.sentCalls()
	if len(calls) != 1 || calls[0].content.(*dimp.TextContent).Text != "/etc/passwd is a path" || !calls[0].to.SameAs(bob) {
		t.Fatalf("// did not send the text to bob: %+v", calls)
	}

	typeIn(a, f, "/inspect")
	update(a, f, keyEnter)
	if !p.showInspector {
		t.Error("/inspect did not open the inspector")
	}
	update(a, f, keyEsc)
	typeIn(a, f, "/app")
	update(a, f, keyEnter)
	if p.mode != modeForm || p.form.to.Value() != "bob" {
		t.Errorf("/app did not open the form for bob (mode %d)", p.mode)
	}
	update(a, f, keyEsc)
	if p.mode != modeChat {
		t.Error("Esc did not close the form")
	}

	typeIn(a, f, "/who")
	update(a, f, keyEnter)
	if f.users == 0 {
		t.Error("/who did not ask for the active users")
	}

	typeIn(a, f, "/help")
	update(a, f, keyEnter)
	if a.state != stateHelp {
		t.Error("/help did not open the help")
	}
	update(a, f, keyEsc)
	if a.state != stateRunning {
		t.Error("Esc did not close the help")
	}

	typeIn(a, f, "/to nobody")
	update(a, f, keyEnter)
	if !strings.Contains(p.flash, "nobody called") {
		t.Errorf("unknown name: flash %q", p.flash)
	}
	typeIn(a, f, "/frobnicate")
	update(a, f, keyEnter)
	if !strings.Contains(p.flash, "unknown command") {
		t.Errorf("unknown command: flash %q", p.flash)
	}

	typeIn(a, f, "/quit")
	_, cmd := a.Update(keyEnter)
	if msgs := run(cmd); len(msgs) != 1 || !reflect.DeepEqual(msgs[0], tea.QuitMsg{}) {
		t.Errorf("/quit gave %v, want a QuitMsg", msgs)
	}
}

func TestQuestionMarkOpensHelpOnlyOnAnEmptyLine(t *testing.T) {
	a, f := newTestApp(100, 30)
	typeIn(a, f, "why?")
	if a.state == stateHelp || pane(a).composer.value() != "why?" {
		t.Fatalf("? in a sentence opened the help (composer %q)", pane(a).composer.value())
	}
	pane(a).composer.reset()
	typeIn(a, f, "?")
	if a.state != stateHelp {
		t.Fatal("? on an empty line did not open the help")
	}
	screen := screenText(a)
	for _, want := range []string{"keys and commands", "ctrl+o/f2", "inspector on/off", "/to", "Delivery ticks"} {
		if !strings.Contains(screen, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestHelpIsGeneratedFromTheKeyMap(t *testing.T) {
	keys := DefaultKeyMap()
	keys.Inspector.SetHelp("f9", "peek at frames")
	st := NewStyles(true)
	help := newHelpOverlay(&st, keys, slashCommands())
	help.setSize(140, 60)
	out := ansi.Strip(help.view())
	if !strings.Contains(out, "f9") || !strings.Contains(out, "peek at frames") {
		t.Errorf("help does not follow the key map:\n%s", out)
	}
}

func TestCompletion(t *testing.T) {
	ids := []string{"bob", bob.String(), "bobby", "echo", testEcho().String()}
	tests := []struct {
		name  string
		input string
		tabs  int
		want  string
	}{
		{"unique command", "/t", 1, "/to "},
		{"command prefix then cycle", "/", 1, "/to"},
		{"second tab cycles", "/", 2, "/app"},
		{"third tab cycles", "/", 3, "/who"},
		{"command is case-insensitive", "/IN", 1, "/inspect "},
		{"common prefix of IDs", "/to b", 1, "/to bob"},
		{"then the candidates in turn", "/to b", 2, "/to bob"},
		{"next candidate", "/to b", 3, "/to bob@1KTtckknLw3AxD1WK4oLYpVN7RkQevC8wK"},
		{"unique ID", "/to ec", 1, "/to echo"},
		{"full ID by prefix", "/app echo@", 1, "/app " + testEcho().String()},
		{"no ID completion for /who", "/who b", 1, "/who b"},
		{"plain text is not completed", "hello", 1, "hello"},
	}
	st := NewStyles(true)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newComposer(&st, DefaultKeyMap())
			c.setValue(tt.input)
			for range tt.tabs {
				c.complete(ids)
			}
			if got := c.value(); got != tt.want {
				t.Errorf("%q + %d tab(s) = %q, want %q", tt.input, tt.tabs, got, tt.want)
			}
		})
	}
}

func TestTabWithNothingToCompleteMovesTheFocus(t *testing.T) {
	a, f := newTestApp(100, 30)
	p := pane(a)
	update(a, f, keyTab)
	if p.focus != focusConversation {
		t.Fatalf("focus %d after Tab, want the conversation", p.focus)
	}
	update(a, f, keyTab)
	if p.focus != focusContacts {
		t.Fatalf("focus %d after 2 Tabs, want the contacts", p.focus)
	}
	update(a, f, keyShiftTab)
	if p.focus != focusConversation {
		t.Fatalf("focus %d after Shift+Tab, want the conversation", p.focus)
	}
	// Typing in the conversation goes to the composer.
	typeIn(a, f, "x")
	if p.focus != focusComposer || p.composer.value() != "x" {
		t.Errorf("typing in the conversation: focus %d, composer %q", p.focus, p.composer.value())
	}
}

func TestParseExtra(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{"", map[string]string{}, ""},
		{"  \n ", map[string]string{}, ""},
		{`{"a": 1, "b": "two", "c": [1, 2], "d": {"e": null}}`,
			map[string]string{"a": "1", "b": `"two"`, "c": "[1,2]", "d": `{"e":null}`}, ""},
		{`{"n": 12345678901234567890}`, map[string]string{"n": "12345678901234567890"}, ""},
		{`{"a": }`, nil, "line 1, column 7"},
		{"{\n  \"a\": 1,\n  \"b\" 2\n}", nil, "line 3, column 7"},
		{`{"a": 1`, nil, "incomplete"},
		{`[1, 2]`, nil, "must be a JSON object"},
		{`"text"`, nil, "must be a JSON object"},
		{`null`, nil, "not null"},
		{`{"a": 1} {"b": 2}`, nil, "only one JSON object"},
		{`{"app": "x"}`, nil, `"app" is set by the form`},
		{`{"type": 1}`, nil, `"type" is set by the form`},
	}
	for _, tt := range tests {
		got, err := parseExtra(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseExtra(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseExtra(%q): %v", tt.in, err)
			continue
		}
		gotS := map[string]string{}
		for k, v := range got {
			gotS[k] = string(v)
		}
		if !reflect.DeepEqual(gotS, tt.want) {
			t.Errorf("parseExtra(%q) = %v, want %v", tt.in, gotS, tt.want)
		}
	}
}

func TestFormValidatesAndSends(t *testing.T) {
	a, f := newTestApp(100, 30)
	p := pane(a)
	update(a, f, keyCtrlX)
	if p.mode != modeForm || p.form.focus != fieldApp || p.form.to.Value() != "echo" {
		t.Fatalf("form: mode %d, focus %d, to %q", p.mode, p.form.focus, p.form.to.Value())
	}
	// Enter with empty fields sends nothing and shows what is missing.
	update(a, f, keyEnter)
	if len(f.sentCalls()) != 0 || p.mode != modeForm {
		t.Fatal("an incomplete form was sent")
	}
	if !strings.Contains(screenText(a), "app is required") {
		t.Errorf("no error shown for the missing app:\n%s", screenText(a))
	}
	typeIn(a, f, "chat.dim.game")
	update(a, f, keyTab)
	typeIn(a, f, "chess")
	update(a, f, keyTab)
	typeIn(a, f, "move")
	update(a, f, keyTab)
	typeIn(a, f, `{"from": "e2", "to": }`)
	if !strings.Contains(screenText(a), "line 1, column 22") {
		t.Errorf("the JSON error is not shown as it is typed:\n%s", screenText(a))
	}
	update(a, f, keyEnter)
	if len(f.sentCalls()) != 0 {
		t.Fatal("a form with bad JSON was sent")
	}
	for range 2 {
		update(a, f, tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	typeIn(a, f, `"e4"}`)
	if !strings.Contains(screenText(a), "✓ JSON object, 2 fields") {
		t.Errorf("valid JSON not acknowledged:\n%s", screenText(a))
	}
	// The type: back to the type field, switch to customized.
	for range 4 {
		update(a, f, keyShiftTab)
	}
	if p.form.focus != fieldType {
		t.Fatalf("focus %d, want the type field", p.form.focus)
	}
	update(a, f, keySpace)
	update(a, f, keyEnter)
	calls := f.sentCalls()
	if len(calls) != 1 {
		t.Fatalf("%d messages sent, want 1", len(calls))
	}
	c, ok := calls[0].content.(*dimp.AppContent)
	if !ok {
		t.Fatalf("sent %T, want app content", calls[0].content)
	}
	if c.Type != dimp.ContentCustomized || c.App != "chat.dim.game" || c.Mod != "chess" || c.Act != "move" ||
		string(c.Extra["from"]) != `"e2"` || string(c.Extra["to"]) != `"e4"` || !calls[0].to.SameAs(testEcho()) {
		t.Errorf("sent %+v to %s", c, calls[0].to)
	}
	if p.mode != modeChat {
		t.Error("the form stayed open after sending")
	}
	screen := screenText(a)
	if !strings.Contains(screen, "customized 0xCC") || !strings.Contains(screen, "chess") {
		t.Errorf("the sent content is not shown as a card:\n%s", screen)
	}
}

func TestFormReceiverMustResolve(t *testing.T) {
	st := NewStyles(true)
	l := newContactList()
	l.ensure(bob)
	form := newAppForm(&st, DefaultKeyMap(), "carol", l.resolve)
	if e := form.fieldError(fieldTo); !strings.Contains(e, "nobody called") {
		t.Errorf("unknown receiver: %q", e)
	}
	form.to.SetValue(moky.String())
	if e := form.fieldError(fieldTo); e != "" {
		t.Errorf("a full ID was refused: %q", e)
	}
	form.to.SetValue("bob")
	if e := form.fieldError(fieldTo); e != "" {
		t.Errorf("a known name was refused: %q", e)
	}
}

// fill adds n text messages from the echo bot, each one line, to the
// current conversation.
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
	update(a, f, keyPgUp)
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
	update(a, f, keyHome)
	screen = screenText(a)
	if !strings.Contains(screen, "message 000") {
		t.Fatalf("Home did not show the oldest message:\n%s", screen)
	}
	update(a, f, keyPgDown)
	if strings.Contains(screenText(a), "message 000") {
		t.Error("PgDn did not scroll down")
	}
	update(a, f, keyEnd)
	if !strings.Contains(screenText(a), "message 099") {
		t.Error("End did not go to the newest messages")
	}
	// The mouse wheel scrolls the conversation under the pointer.
	update(a, f, tea.MouseWheelMsg{X: 50, Y: 10, Button: tea.MouseWheelUp})
	if pane(a).chat.current.follow {
		t.Error("the wheel did not scroll up")
	}
	for range 10 {
		update(a, f, tea.MouseWheelMsg{X: 50, Y: 10, Button: tea.MouseWheelDown})
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
	if got := p.chat.convs[idKey(bob)].unread; got != 2 {
		t.Fatalf("bob's unread count %d, want 2", got)
	}
	if !strings.Contains(screenText(a), " 2 ") {
		t.Errorf("the contacts do not show 2 unread:\n%s", screenText(a))
	}
	if len(f.readCalls()) != 0 {
		t.Fatal("messages marked read before they were shown")
	}
	// Opening bob's conversation shows them: marked read, marker shown.
	update(a, f, keyCtrlN)
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
	update(a, f, EventMsg{Pane: 0, Event: msg("b3", "ok"), Replayed: true})
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

// Only the station the client handshook with is labelled station: a key
// whose ID has the station type but another address is a peer like any
// other, in the contacts and in front of its receipts. Before the
// handshake names the station, nobody is.
func TestOnlyTheHandshakenStationIsLabelled(t *testing.T) {
	a, _ := newTestApp(120, 30)
	p := pane(a)
	impostor := dimp.NewID(testStation().Name(), dimp.BTCAddress([]byte("another key"), byte(dimp.Station)), "")
	text := func(sec int, from dimp.ID, s string) client.Event {
		return client.MessageEvent{Time: testTime(sec), ID: client.MessageID(from.String() + s), Message: dimp.NewInstantMessage(from, alice, dimp.NewText(s))}
	}
	labelled := func(id dimp.ID) bool {
		c := p.chat.contacts.byKey[idKey(id)]
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

func TestStatusBar(t *testing.T) {
	st := NewStyles(true)
	s := client.Status{State: client.Handshaking, Handshake: dimp.HandshakeRestart, Session: testSession,
		Station: testStation(), URL: "ws://127.0.0.1:9394", RTT: 12 * time.Millisecond}
	lines := renderStatus(&st, s, alice, "", 100)
	got := ansi.Strip(strings.Join(lines, "\n"))
	for _, want := range []string{"Handshaking", "Start → Again → [Restart] → Success", "3f2a91b0…c19d",
		"gsp-s001@", "ws://127.0.0.1:9394", "rtt 12 ms", "me alice"} {
		if !strings.Contains(got, want) {
			t.Errorf("status bar lacks %q:\n%s", want, got)
		}
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w != 100 {
			t.Errorf("status line is %d wide, want 100: %q", w, ansi.Strip(l))
		}
	}
	s.State, s.Err, s.Attempt = client.Error, errors.New("connection lost: EOF"), 3
	got = ansi.Strip(strings.Join(renderStatus(&st, s, alice, "", 100), "\n"))
	for _, want := range []string{"Error · retry 3", "[✗ Error]", "✗ connection lost: EOF"} {
		if !strings.Contains(got, want) {
			t.Errorf("error status lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "[Restart]") {
		t.Error("a handshake step is still marked current in the Error state")
	}
}

func TestNameColoursAreStable(t *testing.T) {
	st := NewStyles(true)
	for _, id := range []dimp.ID{alice, bob, moky, testEcho()} {
		i := nameColorIndex(id, len(st.NamePalette))
		if j := nameColorIndex(id.WithTerminal("phone"), len(st.NamePalette)); i != j {
			t.Errorf("%s has colour %d, with a terminal %d", id, i, j)
		}
		if i != nameColorIndex(dimp.MustParseID(id.String()), len(st.NamePalette)) {
			t.Errorf("%s: colour changes between parses", id)
		}
	}
	seen := map[int]bool{}
	for _, id := range []dimp.ID{alice, bob, moky, testEcho(), testStation()} {
		seen[nameColorIndex(id, len(st.NamePalette))] = true
	}
	if len(seen) < 2 {
		t.Error("every user got the same colour")
	}
}

func TestPeerEscapeSequencesNeverReachTheScreen(t *testing.T) {
	a, _ := newTestApp(100, 30)
	feed(a, client.MessageEvent{Time: testTime(1), ID: "x", Message: dimp.NewInstantMessage(testEcho(), alice, dimp.NewText("\x1b[2J\x1b]0;pwned\x07hi"))})
	if strings.Contains(a.Render(), "\x1b[2J") || strings.Contains(a.Render(), "pwned\x07") {
		t.Error("escape sequences from a peer reached the screen")
	}
}

// eachScreen shows the chat, the inspector, the zoomed inspector, the
// app-content form and the help in turn, calling check on each, and
// returns to the chat.
func eachScreen(a *App, f *fakeBackend, check func(what string)) {
	check("chat")
	update(a, f, keyCtrlO)
	check("inspector")
	update(a, f, keyZ)
	check("zoomed inspector")
	update(a, f, keyCtrlO)
	update(a, f, keyCtrlX)
	check("form")
	update(a, f, keyEsc)
	update(a, f, keyF1)
	check("help")
	update(a, f, keyEsc)
}

func TestEveryScreenFitsItsSize(t *testing.T) {
	sizes := [][2]int{{80, 24}, {100, 30}, {60, 16}, {132, 43}, {200, 60}, {40, 10}}
	for _, sz := range sizes {
		w, h := sz[0], sz[1]
		a, f := newTestApp(w, h)
		feed(a, handshakeEvents("ws://127.0.0.1:9394")...)
		feed(a, chatEvents(alice)...)
		feed(a, vectorFrame(t))
		check := func(what string) {
			t.Helper()
			lines := strings.Split(a.Render(), "\n")
			if len(lines) != h {
				t.Errorf("%dx%d %s: %d lines", w, h, what, len(lines))
			}
			for i, l := range lines {
				if lw := ansi.StringWidth(l); lw > w {
					t.Errorf("%dx%d %s: line %d is %d wide: %q", w, h, what, i, lw, ansi.Strip(l))
				}
			}
		}
		eachScreen(a, f, check)
		// Resize on the fly.
		update(a, f, tea.WindowSizeMsg{Width: w + 7, Height: h + 3})
		w, h = w+7, h+3
		check("resized")
	}
}

func TestTimestampToggle(t *testing.T) {
	a, f := newTestApp(100, 30)
	fill(a, 3)
	if !strings.Contains(screenText(a), "09:30 echo") {
		t.Fatalf("no timestamps:\n%s", screenText(a))
	}
	update(a, f, keyCtrlT)
	if strings.Contains(screenText(a), "09:30 echo") || !strings.Contains(screenText(a), "echo  message 002") {
		t.Errorf("timestamps still shown:\n%s", screenText(a))
	}
}

func TestCopySelectedMessage(t *testing.T) {
	a, f := newTestApp(100, 30)
	fill(a, 5)
	p := pane(a)
	update(a, f, keyTab) // focus the conversation
	update(a, f, keyUp)
	update(a, f, keyUp)
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

func TestMouseSelectsContactsAndFrames(t *testing.T) {
	a, f := newTestApp(100, 30)
	feed(a, client.UsersEvent{Time: testTime(1), Users: []dimp.ID{testEcho(), bob}})
	p := pane(a)
	row := 2 + 1 + p.chat.contacts.index(bob) // status bar, title row
	update(a, f, tea.MouseClickMsg{X: 5, Y: row, Button: tea.MouseLeft})
	if !p.chat.current.peer.SameAs(bob) {
		t.Fatalf("a click on bob's row opened %s", p.chat.current.peer)
	}
	feed(a, handshakeEvents("ws://127.0.0.1:9394")...)
	feed(a, vectorFrame(t), client.FrameEvent{Time: testTime(9), Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing})
	update(a, f, keyCtrlO)
	x := p.layout().insp.x + 5
	update(a, f, tea.MouseClickMsg{X: x, Y: p.layout().insp.y + 1, Button: tea.MouseLeft})
	if p.inspector.current() != 0 {
		t.Errorf("a click on the first frame selected %d", p.inspector.current())
	}
}

func TestInspectorLayers(t *testing.T) {
	st := NewStyles(true)
	fr := vectorFrame(t)
	rec := frameRec{seq: 1, at: fr.Time, dir: fr.Dir, kind: fr.Kind, raw: fr.Raw, layers: fr.Layers}
	for _, w := range []int{60, 120} {
		for _, full := range []bool{false, true} {
			got := ansi.Strip(strings.Join(renderLayers(&st, rec, w, full), "\n"))
			for _, want := range []string{"1 Reliable", "✓ signature ok", `"F": "alice@1U3SL`,
				"2 Secure", "112 B encrypted", "data (AES-256-CBC)", "IV", "t52p/FVPzW5YD4gKF7Sa3g==", "key for bob@",
				"3 Instant", "✓ decrypted", `"text": "Hello, Bob!`} {
				if !strings.Contains(got, want) {
					t.Errorf("width %d full %v: layers lack %q:\n%s", w, full, want, got)
				}
			}
		}
	}

	// A message whose signature did not verify is not opened.
	bad := rec
	bad.layers = &client.Layers{Reliable: fr.Layers.Reliable, VerifyErr: dimp.ErrSignature}
	got := ansi.Strip(strings.Join(renderLayers(&st, bad, 80, false), "\n"))
	for _, want := range []string{"✗ not verified", dimp.ErrSignature.Error(), "only after its signature verifies"} {
		if !strings.Contains(got, want) {
			t.Errorf("unverified frame lacks %q:\n%s", want, got)
		}
	}

	// A broadcast is plain.
	hs := dimp.NewHandshake(dimp.HandshakeHello, "")
	hs.Group = dimp.EveryStations
	im := dimp.NewInstantMessage(alice, dimp.AnyStation, hs)
	rm := &dimp.ReliableMessage{SecureMessage: dimp.SecureMessage{Envelope: im.Envelope, Data: string(dimp.MarshalContent(hs))}}
	plain := frameRec{seq: 2, dir: client.Out, kind: client.KindHandshake, raw: []byte(`{"sender":"x"}`),
		layers: &client.Layers{Reliable: rm, Verified: true, Instant: im}}
	got = ansi.Strip(strings.Join(renderLayers(&st, plain, 80, false), "\n"))
	for _, want := range []string{"✓ signed by me", "plain", "not encrypted", "✓ what I wrote", `"title": "Hello world!"`} {
		if !strings.Contains(got, want) {
			t.Errorf("broadcast frame lacks %q:\n%s", want, got)
		}
	}

	// Control frames and frames that are not messages.
	ping := frameRec{seq: 3, dir: client.Out, kind: client.KindPing, raw: []byte("PING")}
	if got := ansi.Strip(strings.Join(renderLayers(&st, ping, 80, false), "\n")); !strings.Contains(got, "Control frame") || !strings.Contains(got, "PING") {
		t.Errorf("ping frame:\n%s", got)
	}
	junk := frameRec{seq: 4, dir: client.In, kind: client.KindOther, raw: []byte("{nope"),
		layers: &client.Layers{ParseErr: errors.New("invalid JSON")}}
	if got := ansi.Strip(strings.Join(renderLayers(&st, junk, 80, false), "\n")); !strings.Contains(got, "✗ not a DIM message") || !strings.Contains(got, "{nope") {
		t.Errorf("unparsable frame:\n%s", got)
	}
}

func TestInspectorListFollowsAndSelects(t *testing.T) {
	in := newInspector(nil, DefaultKeyMap(), 3, inspectorBytes)
	for i := range 5 {
		in.add(alice, client.FrameEvent{Time: testTime(i), Dir: client.Out, Raw: []byte(fmt.Sprintf("PING %d", i)), Kind: client.KindPing})
	}
	if len(in.frames) != 3 || in.frames[0].seq != 3 {
		t.Fatalf("kept frames %d..., want the last 3", in.frames[0].seq)
	}
	if in.current() != 2 {
		t.Errorf("follows %d, want the newest", in.current())
	}
	in.move(-1)
	in.add(alice, client.FrameEvent{Time: testTime(9), Raw: []byte("PONG"), Kind: client.KindPing})
	if f := in.frames[in.current()]; string(f.raw) != "PING 3" {
		t.Errorf("selection moved to %q when a frame arrived", f.raw)
	}
	in.last()
	if in.current() != len(in.frames)-1 {
		t.Error("last() does not follow the newest frame")
	}
}

func TestFrameSummaries(t *testing.T) {
	fr := vectorFrame(t)
	rec := frameRec{dir: fr.Dir, kind: fr.Kind, raw: fr.Raw, layers: fr.Layers}
	if got := frameSummary(bob, rec); got != "alice→me “Hello, Bob! 你好 👋”" {
		t.Errorf("summary = %q", got)
	}
	rec.layers = &client.Layers{Reliable: fr.Layers.Reliable, VerifyErr: dimp.ErrSignature}
	if got := frameSummary(bob, rec); got != "alice→me (not verified)" {
		t.Errorf("summary = %q", got)
	}
}

func TestSplitPanes(t *testing.T) {
	fa, fb := newFake(alice), newFake(bob)
	a := NewSplit([]PaneSpec{{fa, Options{Peer: bob, UsersEvery: -1}}, {fb, Options{Peer: alice, UsersEvery: -1}}}, WithTheme(true))
	a.Update(EventMsg{Pane: 1, Event: client.MessageEvent{Time: testTime(1), ID: "x",
		Message: dimp.NewInstantMessage(alice, bob, dimp.NewText("to the second pane"))}, Replayed: true})
	for _, size := range [][2]int{{200, 30}, {100, 40}} {
		a.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		lines := strings.Split(a.Render(), "\n")
		if len(lines) != size[1] {
			t.Fatalf("%v: %d lines", size, len(lines))
		}
		screen := ansi.Strip(a.Render())
		if strings.Count(screen, "me alice") != 1 || strings.Count(screen, "me bob") != 1 {
			t.Errorf("%v: both status bars should show:\n%s", size, screen)
		}
		if strings.Count(screen, "to the second pane") != 1 {
			t.Errorf("%v: the event went to the wrong pane:\n%s", size, screen)
		}
	}
	// f6 moves the focus: typing goes to the second pane.
	a.Update(tea.KeyPressMsg{Code: tea.KeyF6})
	a.Update(tea.KeyPressMsg{Code: 'q', Text: "q"})
	if a.panes[1].composer.value() != "q" || a.panes[0].composer.value() != "" {
		t.Error("f6 did not move the focus to the second pane")
	}
	// With one pane, f6 is not in the help.
	one, _ := newTestApp(100, 30)
	one.Update(showHelpMsg{})
	if strings.Contains(screenText(one), "f6") {
		t.Error("f6 is in the help of a single pane")
	}
}

func TestChatWithoutPeerOpensTheEchoBot(t *testing.T) {
	f := newFake(alice)
	a := New(f, Options{UsersEvery: -1}, WithTheme(true))
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	feed(a, handshakeEvents("ws://127.0.0.1:9394")...)
	if p := pane(a); p.chat.current == nil || !p.chat.current.peer.Equal(dimp.AnyStation) {
		t.Fatal("the notices have no place to go")
	}
	update(a, f, EventMsg{Pane: 0, Event: client.UsersEvent{Time: testTime(2), Users: []dimp.ID{testEcho(), bob}}, Replayed: true})
	p := pane(a)
	if !p.chat.current.peer.SameAs(testEcho()) {
		t.Fatalf("opened %s, want the echo bot", p.chat.current.peer)
	}
	if !strings.Contains(screenText(a), "handshake Success") {
		t.Errorf("the notices were lost:\n%s", screenText(a))
	}
	if _, ok := p.chat.convs[idKey(dimp.AnyStation)]; ok {
		t.Error("the placeholder conversation is still there")
	}
}

func TestRepeatedErrorsAreCounted(t *testing.T) {
	f := newFake(alice)
	a := New(f, Options{UsersEvery: -1}, WithTheme(true))
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

// A station that refuses to say who is online (dimchat's dimples station)
// leaves the contacts as they were and says the count is unknown; the
// periodic question it refuses flashes no error, /who does.
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
	update(a, f, callDoneMsg{pane: p.id, what: "who is online", err: client.ErrNoUserList})
	if p.flash != "" {
		t.Errorf("the periodic question flashed %q", p.flash)
	}
	update(a, f, callDoneMsg{pane: p.id, what: "who is online", err: client.ErrNoUserList, flash: "asked"})
	if !strings.Contains(p.flash, "does not list its users") {
		t.Errorf("/who flashed %q", p.flash)
	}
	feed(a, client.UsersEvent{Time: testTime(3), Users: []dimp.ID{testEcho()}})
	if s := screenText(a); !strings.Contains(s, "Contacts 1 online") {
		t.Errorf("a later answer is not shown:\n%s", s)
	}
}
