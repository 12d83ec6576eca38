package ui

import (
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
)

// testTick is Options.tick for tests: a timer is set, not waited for.
// Its command reports it at once as a timerSet, which run leaves out of
// what a command produced (a test that wants it to fire calls fire).
func testTick(d time.Duration, fire func(time.Time) tea.Msg) tea.Cmd {
	return func() tea.Msg { return timerSet{after: d, fire: fire} }
}

// timerSet is a timer a pane set (see testTick).
type timerSet struct {
	after time.Duration
	fire  func(time.Time) tea.Msg
}

// commandTimeout is how long run lets a command take. Nothing a pane asks
// of the fake backend waits, nor do the timers of testTick: a command
// still running after this is hung.
const commandTimeout = 2 * time.Second

// run executes a command the way the program would and returns the
// messages it produced, timers aside. A command that does not return in
// commandTimeout fails the test.
func run(t testing.TB, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	if cmd == nil {
		return nil
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case m := <-ch:
		switch m := m.(type) {
		case tea.BatchMsg:
			var out []tea.Msg
			for _, c := range m {
				out = append(out, run(t, c)...)
			}
			return out
		case timerSet, nil:
			return nil
		}
		return []tea.Msg{m}
	case <-time.After(commandTimeout):
		t.Fatalf("a command (%s) did not return in %v", runtime.FuncForPC(reflect.ValueOf(cmd).Pointer()).Name(), commandTimeout)
		return nil
	}
}

// update passes a message to the app and runs what it asks for, feeding
// the results and the fake backend's events back, as the program would.
func update(t testing.TB, a *App, f *fakeBackend, msg tea.Msg) {
	t.Helper()
	queue := []tea.Msg{msg}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		_, cmd := a.Update(m)
		queue = append(queue, run(t, cmd)...)
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

func typeIn(t testing.TB, a *App, f *fakeBackend, text string) {
	t.Helper()
	for _, r := range text {
		update(t, a, f, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// screenText renders the app without styles.
func screenText(a *App) string { return ansi.Strip(a.Render()) }

func pane(a *App) *Pane { return a.panes[0] }

func TestComposerSendsTextAndNewline(t *testing.T) {
	a, f := newTestApp(100, 30)
	typeIn(t, a, f, "first line")
	update(t, a, f, keyAltEnter)
	typeIn(t, a, f, "second line")
	if got := pane(a).composer.value(); got != "first line\nsecond line" {
		t.Fatalf("composer holds %q", got)
	}
	update(t, a, f, keyEnter)
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
	update(t, a, f, keyEnter)
	if n := len(f.sentCalls()); n != 1 {
		t.Errorf("%d messages sent after an empty Enter", n)
	}
}

func TestSlashCommands(t *testing.T) {
	a, f := newTestApp(100, 30)
	feed(a, client.UsersEvent{Time: testTime(1), Users: []dimp.ID{testEcho(), bob, moky, alice}})
	p := pane(a)

	typeIn(t, a, f, "/to bob")
	update(t, a, f, keyEnter)
	if !p.chat.current.peer.SameAs(bob) {
		t.Fatalf("/to bob opened %s", p.chat.current.peer)
	}
	typeIn(t, a, f, "//etc/passwd is a path")
	update(t, a, f, keyEnter)
	calls := f.sentCalls()
	if len(calls) != 1 || calls[0].content.(*dimp.TextContent).Text != "/etc/passwd is a path" || !calls[0].to.SameAs(bob) {
		t.Fatalf("// did not send the text to bob: %+v", calls)
	}

	typeIn(t, a, f, "/inspect")
	update(t, a, f, keyEnter)
	if !p.showInspector {
		t.Error("/inspect did not open the inspector")
	}
	update(t, a, f, keyEsc)
	typeIn(t, a, f, "/app")
	update(t, a, f, keyEnter)
	if p.mode != modeForm || p.form.to.Value() != "bob" {
		t.Errorf("/app did not open the form for bob (mode %d)", p.mode)
	}
	update(t, a, f, keyEsc)
	if p.mode != modeChat {
		t.Error("Esc did not close the form")
	}

	typeIn(t, a, f, "/who")
	update(t, a, f, keyEnter)
	if f.users == 0 {
		t.Error("/who did not ask for the active users")
	}

	typeIn(t, a, f, "/help")
	update(t, a, f, keyEnter)
	if a.state != stateHelp {
		t.Error("/help did not open the help")
	}
	update(t, a, f, keyEsc)
	if a.state != stateRunning {
		t.Error("Esc did not close the help")
	}

	typeIn(t, a, f, "/to nobody")
	update(t, a, f, keyEnter)
	if !strings.Contains(p.flash, "nobody called") {
		t.Errorf("unknown name: flash %q", p.flash)
	}
	typeIn(t, a, f, "/frobnicate")
	update(t, a, f, keyEnter)
	if !strings.Contains(p.flash, "unknown command") {
		t.Errorf("unknown command: flash %q", p.flash)
	}

	typeIn(t, a, f, "/quit")
	_, cmd := a.Update(keyEnter)
	if msgs := run(t, cmd); len(msgs) != 1 || !reflect.DeepEqual(msgs[0], tea.QuitMsg{}) {
		t.Errorf("/quit gave %v, want a QuitMsg", msgs)
	}
}

func TestQuestionMarkOpensHelpOnlyOnAnEmptyLine(t *testing.T) {
	a, f := newTestApp(120, 40)
	typeIn(t, a, f, "why?")
	if a.state == stateHelp || pane(a).composer.value() != "why?" {
		t.Fatalf("? in a sentence opened the help (composer %q)", pane(a).composer.value())
	}
	pane(a).composer.reset()
	typeIn(t, a, f, "?")
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
	help.open()
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
		{"command is case-insensitive", "/INS", 1, "/inspect "},
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
	update(t, a, f, keyTab)
	if p.focus != focusConversation {
		t.Fatalf("focus %d after Tab, want the conversation", p.focus)
	}
	update(t, a, f, keyTab)
	if p.focus != focusContacts {
		t.Fatalf("focus %d after 2 Tabs, want the contacts", p.focus)
	}
	update(t, a, f, keyShiftTab)
	if p.focus != focusConversation {
		t.Fatalf("focus %d after Shift+Tab, want the conversation", p.focus)
	}
	// Typing in the conversation goes to the composer.
	typeIn(t, a, f, "x")
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

// The form opens with its examples as hints, not as values: Enter on it
// as it opened sends the example content (the drift bottle), and the
// Extra field counts the fields that will go.
func TestFormSendsTheExampleWhenLeftEmpty(t *testing.T) {
	a, f := newTestApp(100, 30)
	p := pane(a)
	update(t, a, f, keyCtrlX)
	if p.mode != modeForm || p.form.focus != fieldApp || p.form.to.Value() != "echo" {
		t.Fatalf("form: mode %d, focus %d, to %q", p.mode, p.form.focus, p.form.to.Value())
	}
	checkHas(t, "fresh form", screenText(a), []string{
		"example: chat.dim.sechat — Enter takes it", "example: drift_bottle — Enter takes it",
		"example: throw — Enter takes it", `example: {"text": "hello", "n": 1}`,
		"✓ the example: JSON object, 2 fields",
	}, []string{"is required", "0 fields"})

	update(t, a, f, keyEnter)
	calls := f.sentCalls()
	if len(calls) != 1 {
		t.Fatalf("Enter on the fresh form sent %d messages, want 1:\n%s", len(calls), screenText(a))
	}
	c, ok := calls[0].content.(*dimp.AppContent)
	if !ok {
		t.Fatalf("sent %T, want app content", calls[0].content)
	}
	if c.Type != dimp.ContentApplication || c.App != "chat.dim.sechat" || c.Mod != "drift_bottle" || c.Act != "throw" ||
		string(c.Extra["text"]) != `"hello"` || string(c.Extra["n"]) != "1" || len(c.Extra) != 2 || !calls[0].to.SameAs(testEcho()) {
		t.Errorf("sent %+v (extra %q) to %s, want the example to echo", c, c.Extra, calls[0].to)
	}
	if p.mode != modeChat {
		t.Error("the form stayed open after sending")
	}

	// {} typed sends no extra fields, and says so.
	update(t, a, f, keyCtrlX)
	for range 3 {
		update(t, a, f, keyTab)
	}
	typeIn(t, a, f, "{}")
	checkHas(t, "empty object", screenText(a), []string{"✓ JSON object, 0 fields"}, []string{"the example"})
	update(t, a, f, keyEnter)
	if calls := f.sentCalls(); len(calls) != 2 || len(calls[1].content.(*dimp.AppContent).Extra) != 0 {
		t.Errorf("{} sent %d messages, the last with extra %v", len(calls), calls[len(calls)-1].content)
	}
}

// What the user types is checked as it is typed: bad JSON refuses to
// send with where it is wrong, whatever the other fields take.
func TestFormValidatesAndSends(t *testing.T) {
	a, f := newTestApp(100, 30)
	p := pane(a)
	update(t, a, f, keyCtrlX)
	typeIn(t, a, f, "chat.dim.game")
	update(t, a, f, keyTab)
	typeIn(t, a, f, "chess")
	update(t, a, f, keyTab)
	typeIn(t, a, f, "move")
	update(t, a, f, keyTab)
	typeIn(t, a, f, `{"from": "e2", "to": }`)
	if !strings.Contains(screenText(a), "line 1, column 22") {
		t.Errorf("the JSON error is not shown as it is typed:\n%s", screenText(a))
	}
	update(t, a, f, keyEnter)
	if len(f.sentCalls()) != 0 || p.mode != modeForm {
		t.Fatal("a form with bad JSON was sent")
	}
	checkHas(t, "bad JSON", screenText(a), []string{"✗ line 1, column 22: invalid character '}' looking for"}, []string{"✓ JSON object"})
	if p.form.focus != fieldExtra {
		t.Errorf("focus %d after a refused send, want the extra field", p.form.focus)
	}
	for range 2 {
		update(t, a, f, tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	typeIn(t, a, f, `"e4"}`)
	if !strings.Contains(screenText(a), "✓ JSON object, 2 fields") {
		t.Errorf("valid JSON not acknowledged:\n%s", screenText(a))
	}
	// The type: back to the type field, switch to customized.
	for range 4 {
		update(t, a, f, keyShiftTab)
	}
	if p.form.focus != fieldType {
		t.Fatalf("focus %d, want the type field", p.form.focus)
	}
	update(t, a, f, keySpace)
	update(t, a, f, keyEnter)
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
// Only the station the client handshook with is labelled station: a key
// whose ID has the station type but another address is a peer like any
// other, in the contacts and in front of its receipts. Before the
// handshake names the station, nobody is.
func TestStatusBar(t *testing.T) {
	st := NewStyles(true)
	s := client.Status{State: client.Handshaking, Handshake: dimp.HandshakeRestart, Session: testSession,
		Station: testStation(), URL: "ws://127.0.0.1:9394", RTT: 12 * time.Millisecond}
	lines := renderStatus(&st, s, alice, "", "", 100, nil)
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
	got = ansi.Strip(strings.Join(renderStatus(&st, s, alice, "", "", 100, nil), "\n"))
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
func eachScreen(t testing.TB, a *App, f *fakeBackend, check func(what string)) {
	t.Helper()
	check("chat")
	update(t, a, f, keyCtrlO)
	check("inspector")
	update(t, a, f, keyZ)
	check("zoomed inspector")
	update(t, a, f, keyCtrlO)
	update(t, a, f, keyCtrlX)
	check("form")
	update(t, a, f, keyEsc)
	update(t, a, f, keyF1)
	check("help")
	update(t, a, f, keyEsc)
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
		eachScreen(t, a, f, check)
		// Resize on the fly.
		update(t, a, f, tea.WindowSizeMsg{Width: w + 7, Height: h + 3})
		w, h = w+7, h+3
		check("resized")
	}
}

func TestSplitPanes(t *testing.T) {
	fa, fb := newFake(alice), newFake(bob)
	a := NewSplit([]PaneSpec{{fa, Options{Peer: bob, UsersEvery: -1, tick: testTick}}, {fb, Options{Peer: alice, UsersEvery: -1, tick: testTick}}}, WithTheme(true))
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

// A station that refuses to say who is online (dimchat's dimples station)
// leaves the contacts as they were and says the count is unknown; the
// periodic question it refuses flashes no error, /who does.

// A flash leaves the footer after four seconds; an older flash's timer
// does not cut a newer one short.
func TestFlashExpires(t *testing.T) {
	a, _ := newTestApp(100, 30)
	p := pane(a)
	older, ok := p.setFlash("first", false)().(timerSet)
	if !ok || older.after != 4*time.Second {
		t.Fatalf("the flash set %+v, want a timer of 4 s", older)
	}
	newer := p.setFlash("second", false)().(timerSet)
	a.Update(older.fire(testTime(4)))
	if p.flash != "second" {
		t.Errorf("the first flash's timer cleared the second: flash %q", p.flash)
	}
	a.Update(newer.fire(testTime(5)))
	if p.flash != "" || strings.Contains(screenText(a), "second") {
		t.Errorf("the flash stayed: %q", p.flash)
	}
}
