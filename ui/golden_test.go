package ui

import (
	"bytes"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"dimtui/client"
	"dimtui/dimp"
)

func TestMain(m *testing.M) {
	// Times in goldens are written in UTC whatever the machine's zone.
	time.Local = time.UTC
	os.Exit(m.Run())
}

// goldenW and goldenH are the size of every golden screen but the small one.
const goldenW, goldenH = 100, 30

// counted wraps the App to count the events it handled, so that a test
// knows when everything it sent has been drawn.
type counted struct {
	*App
	events *atomic.Int64
}

func (c counted) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if _, ok := msg.(EventMsg); ok {
		defer c.events.Add(1)
	}
	_, cmd := c.App.Update(msg)
	return c, cmd
}

// session runs an App in a real Bubble Tea program (teatest) with a fake
// backend; events go through the backend's channel as from a client.
type session struct {
	t    *testing.T
	tm   *teatest.TestModel
	app  *App
	fake *fakeBackend
	n    *atomic.Int64
	sent int64
}

func newSession(t *testing.T, w, h int) *session {
	t.Helper()
	return newSessionAs(t, w, h, alice)
}

// newSessionAs is newSession for the user me.
func newSessionAs(t *testing.T, w, h int, me dimp.ID) *session {
	t.Helper()
	f := newFake(me)
	f.autoSent = true
	app := New(f, Options{Peer: testEcho(), Bots: []dimp.ID{testEcho()}, UsersEvery: -1}, WithTheme(true))
	n := &atomic.Int64{}
	tm := teatest.NewTestModel(t, counted{app, n}, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.ANSI256)))
	t.Cleanup(func() { _ = tm.Quit() })
	return &session{t: t, tm: tm, app: app, fake: f, n: n}
}

// events sends events through the backend and waits until the UI handled
// them all.
func (s *session) events(evs ...client.Event) {
	s.t.Helper()
	for _, ev := range evs {
		s.fake.events <- ev
	}
	s.sent += int64(len(evs))
	s.settle()
}

// settle waits until the UI handled every event sent so far, including
// those the fake backend made when the UI called Send.
func (s *session) settle() {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		want := s.sent + int64(2*len(s.fake.sentCalls()))
		if s.n.Load() >= want && len(s.fake.events) == 0 {
			time.Sleep(20 * time.Millisecond) // let the last key or result land
			if s.n.Load() >= want {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.t.Fatalf("the UI handled %d events, want %d", s.n.Load(), s.sent)
}

// keys types keys (see press) and waits for the UI.
func (s *session) keys(keys ...tea.Msg) {
	for _, k := range keys {
		s.tm.Send(k)
	}
	time.Sleep(30 * time.Millisecond)
	s.settle()
}

// typeText types text key by key.
func (s *session) typeText(text string) {
	s.tm.Type(text)
	time.Sleep(30 * time.Millisecond)
	s.settle()
}

// screen stops the program and returns its last screen, downsampled to
// the ANSI 256-colour profile so that goldens do not depend on the
// terminal.
func (s *session) screen() []byte {
	s.t.Helper()
	if err := s.tm.Quit(); err != nil {
		s.t.Fatal(err)
	}
	// The final model wraps s.app (counted, or loadCounted): the program
	// has ended when FinalModel returns, so s.app is drawn as it left it.
	s.tm.FinalModel(s.t, teatest.WithFinalTimeout(5*time.Second))
	return downsample(s.app.Render())
}

func downsample(screen string) []byte {
	var buf bytes.Buffer
	w := &colorprofile.Writer{Forward: &buf, Profile: colorprofile.ANSI256}
	_, _ = w.Write([]byte(screen))
	return buf.Bytes()
}

// checkScreen checks a screen's size and compares it with its golden file.
func checkScreen(t *testing.T, screen []byte, w, h int) {
	t.Helper()
	lines := strings.Split(string(screen), "\n")
	if len(lines) != h {
		t.Errorf("screen has %d lines, want %d", len(lines), h)
	}
	golden.RequireEqual(t, screen)
}

// Key presses used by the tests.
var (
	keyEnter    = tea.KeyPressMsg{Code: tea.KeyEnter}
	keyAltEnter = tea.KeyPressMsg{Code: tea.KeyEnter, Mod: tea.ModAlt}
	keyTab      = tea.KeyPressMsg{Code: tea.KeyTab}
	keyShiftTab = tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	keyEsc      = tea.KeyPressMsg{Code: tea.KeyEscape}
	keyUp       = tea.KeyPressMsg{Code: tea.KeyUp}
	keyPgUp     = tea.KeyPressMsg{Code: tea.KeyPgUp}
	keyPgDown   = tea.KeyPressMsg{Code: tea.KeyPgDown}
	keyHome     = tea.KeyPressMsg{Code: tea.KeyHome}
	keyEnd      = tea.KeyPressMsg{Code: tea.KeyEnd}
	keySpace    = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	keyF1       = tea.KeyPressMsg{Code: tea.KeyF1}
	keyCtrlO    = tea.KeyPressMsg{Code: 'o', Mod: tea.ModCtrl}
	keyCtrlX    = tea.KeyPressMsg{Code: 'x', Mod: tea.ModCtrl}
	keyCtrlT    = tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl}
	keyCtrlY    = tea.KeyPressMsg{Code: 'y', Mod: tea.ModCtrl}
	keyCtrlN    = tea.KeyPressMsg{Code: 'n', Mod: tea.ModCtrl}
	keyZ        = tea.KeyPressMsg{Code: 'z', Text: "z"}
)

func TestGoldenHandshake(t *testing.T) {
	s := newSession(t, goldenW, goldenH)
	s.events(handshakeEvents("ws://127.0.0.1:9394")[:4]...)
	checkScreen(t, s.screen(), goldenW, goldenH)
}

func TestGoldenConnectionError(t *testing.T) {
	s := newSession(t, goldenW, goldenH)
	evs := handshakeEvents("ws://127.0.0.1:9394")
	s.events(evs...)
	st := evs[len(evs)-1].(client.StatusEvent).Status
	st.State, st.Err, st.Attempt, st.Session = client.Error, errRefused, 2, ""
	s.events(client.StatusEvent{Time: testTime(30), Status: st})
	checkScreen(t, s.screen(), goldenW, goldenH)
}

func TestGoldenChat(t *testing.T) {
	s := newSession(t, goldenW, goldenH)
	s.events(handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(client.UsersEvent{Time: testTime(3), Users: []dimp.ID{testEcho(), bob, moky}})
	s.events(chatEvents(alice)...)
	checkScreen(t, s.screen(), goldenW, goldenH)
}

func TestGoldenChatSmall(t *testing.T) {
	s := newSession(t, 80, 24)
	s.events(handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(client.UsersEvent{Time: testTime(3), Users: []dimp.ID{testEcho(), bob, moky}})
	s.events(chatEvents(alice)...)
	checkScreen(t, s.screen(), 80, 24)
}

// The inspector peels the message alice sent bob, in bob's client: the
// key each layer was opened with, and the message key itself.
func TestGoldenInspector(t *testing.T) {
	s := newSessionAs(t, goldenW, goldenH, bob)
	s.events(handshakeEvents("ws://127.0.0.1:9394")...)
	s.events(vectorFrame(t))
	s.events(client.FrameEvent{Time: testTime(6), Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing})
	s.keys(keyCtrlO, keyUp, keyZ)
	checkScreen(t, s.screen(), goldenW, goldenH)
}

func TestGoldenForm(t *testing.T) {
	s := newSession(t, goldenW, goldenH)
	s.events(handshakeEvents("ws://127.0.0.1:9394")...)
	s.keys(keyCtrlX)
	s.typeText("chat.dim.sechat")
	s.keys(keyTab)
	s.typeText("drift_bottle")
	s.keys(keyTab)
	s.typeText("throw")
	s.keys(keyTab)
	s.typeText(`{"bottle": "hi", "depth": }`)
	checkScreen(t, s.screen(), goldenW, goldenH)
}

func TestGoldenHelp(t *testing.T) {
	s := newSession(t, goldenW, goldenH)
	s.events(handshakeEvents("ws://127.0.0.1:9394")...)
	s.keys(keyF1)
	checkScreen(t, s.screen(), goldenW, goldenH)
}

func TestGoldenSendFlow(t *testing.T) {
	// Typing and Enter go through the program: the fake backend reports the
	// message sent, then the station's and the bot's receipts arrive.
	s := newSession(t, goldenW, goldenH)
	s.events(handshakeEvents("ws://127.0.0.1:9394")...)
	s.typeText("hello")
	s.keys(keyEnter)
	calls := s.fake.sentCalls()
	if len(calls) != 1 || !calls[0].to.SameAs(testEcho()) {
		t.Fatalf("sent %v, want one message to the echo bot", calls)
	}
	if txt, ok := calls[0].content.(*dimp.TextContent); !ok || txt.Text != "hello" {
		t.Fatalf("sent %#v, want the text hello", calls[0].content)
	}
	id := client.MessageID(alice.String() + "#1")
	s.events(client.DeliveryEvent{Time: testTime(1), ID: id, State: client.AtStation},
		client.DeliveryEvent{Time: testTime(1), ID: id, State: client.Delivered},
		client.MessageEvent{Time: testTime(1), ID: "e1", Message: dimp.NewInstantMessage(testEcho(), alice, dimp.NewText("echo: hello"))})
	screen := s.screen()
	checkScreen(t, screen, goldenW, goldenH)
	if got := s.fake.readCalls(); len(got) != 1 || got[0] != "e1" {
		t.Errorf("MarkRead calls %v, want [e1]: the reply was shown", got)
	}
}
