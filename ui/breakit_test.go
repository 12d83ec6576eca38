package ui

import (
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/workshop"
)

// What a presenter sees of the break-it commands: each fault says what
// came of it and what brings the protocol back.

// stationSays hands the app a notice of the station's.
func stationSays(a *App, n workshop.StationNotice) {
	a.Update(stationNoticeMsg{n: n, ok: true})
}

// statusLine returns the first line of the first pane's status bar.
func statusLine(a *App) string {
	for _, l := range strings.Split(screenText(a), "\n") {
		if strings.Contains(l, "handshake") {
			return l
		}
	}
	return ""
}

func TestDropSaysWhatResendsTheMessage(t *testing.T) {
	a := newWorkshopApp(140, 40, WorkshopOptions{Station: newFakeStation()}, newFake(alice))
	deliver(a, 0, handshakeEvents("ws://127.0.0.1:9394")...)
	stationSays(a, workshop.StationNotice{Time: testTime(9), User: alice, Kind: workshop.NoticeDrop,
		Text: "dropped alice's message to echo (812 bytes) as it arrived: no receipt will come"})
	screen := strings.Join(strings.Fields(screenText(a)), " ")
	for _, want := range []string{"▲ station: dropped alice's message", "my message stays ○",
		"ctrl+r reconnects, /expire makes the station ask for one"} {
		if !strings.Contains(screen, want) {
			t.Errorf("no %q after a drop:\n%s", want, screenText(a))
		}
	}
	// A push lost on its way in: the next session brings it.
	stationSays(a, workshop.StationNotice{Time: testTime(10), User: alice, Kind: workshop.NoticeDrop, ToClient: true, Text: "dropped its push"})
	if screen := strings.Join(strings.Fields(screenText(a)), " "); !strings.Contains(screen, "it comes at my next session (ctrl+r reconnects)") {
		t.Errorf("no hint after a lost push:\n%s", screenText(a))
	}
}

func TestAskedReconnectIsANeutralNotice(t *testing.T) {
	a, f := newTestApp(120, 30)
	for _, ev := range handshakeEvents("ws://127.0.0.1:9394") {
		update(t, a, f, EventMsg{Replayed: true, Event: ev})
	}
	update(t, a, f, EventMsg{Replayed: true, Event: client.StatusEvent{Time: testTime(20),
		Status: client.Status{State: client.Error, Err: client.ErrReconnectAsked, URL: "ws://127.0.0.1:9394", Attempt: 1}}})
	screen := screenText(a)
	if strings.Contains(screen, "connection failed") || strings.Contains(screen, "✗ reconnect") {
		t.Errorf("an asked reconnect shows as a failure:\n%s", screen)
	}
	if !strings.Contains(screen, "• reconnecting, as asked") {
		t.Errorf("no neutral notice of the reconnect:\n%s", screen)
	}
}

func TestStationGoingAwaySaysItInWords(t *testing.T) {
	a, f := newTestApp(120, 30)
	for _, ev := range handshakeEvents("ws://127.0.0.1:9394") {
		update(t, a, f, EventMsg{Replayed: true, Event: ev})
	}
	const goingAway = 1001 // RFC 6455 §7.4.1
	update(t, a, f, EventMsg{Replayed: true, Event: client.StatusEvent{Time: testTime(20), Status: client.Status{State: client.Error,
		Err: &client.ClosedError{Status: goingAway, Reason: "station shutting down"}, URL: "ws://127.0.0.1:9394", Attempt: 1}}})
	screen := screenText(a)
	if !strings.Contains(screen, "• the station went away (it restarts or shuts down); reconnecting") {
		t.Errorf("no plain notice of the restart:\n%s", screen)
	}
	if strings.Contains(screen, "StatusGoingAway") || strings.Contains(screen, "failed to get reader") {
		t.Errorf("the library's words are on the screen:\n%s", screen)
	}
}

func TestRefusedMessageSaysItWasSent(t *testing.T) {
	a, f := newTestApp(120, 30)
	id := client.MessageID(alice.String() + "#1")
	for _, ev := range []client.Event{
		client.SentEvent{Time: testTime(1), ID: id, Message: dimp.NewInstantMessage(alice, testEcho(), dimp.NewText("tampered with"))},
		client.DeliveryEvent{Time: testTime(1), ID: id, State: client.Sending},
		client.DeliveryEvent{Time: testTime(2), ID: id, State: client.Failed, Detail: "Signature not verified.", Refused: true},
	} {
		update(t, a, f, EventMsg{Replayed: true, Event: ev})
	}
	screen := screenText(a)
	if strings.Contains(screen, "not sent") || !strings.Contains(screen, "sent, refused by the station: Signature not verified.") {
		t.Errorf("a refused message is not said to be sent and refused:\n%s", screen)
	}
}

func TestDelayHasANoticeAndABadge(t *testing.T) {
	fa, fb := newFake(alice), newFake(bob)
	a := newWorkshopApp(200, 40, WorkshopOptions{Station: newFakeStation()}, fa, fb)
	stationSays(a, workshop.StationNotice{Time: testTime(9), User: alice, Kind: workshop.NoticeDelay, Delay: 2 * time.Second,
		Text: "holds every message to alice for 2s before pushing it"})
	if !strings.Contains(screenText(a), "▲ station: holds every message to alice for 2s") {
		t.Errorf("no ▲ notice of the delay:\n%s", screenText(a))
	}
	if !strings.Contains(statusLine(a), "▲ delay 2s") {
		t.Errorf("no badge while the delay lasts: %q", statusLine(a))
	}
	if strings.Count(screenText(a), "▲ delay") != 1 {
		t.Errorf("the badge is not on alice's pane alone:\n%s", screenText(a))
	}
	// Lifted, the badge goes; a delay for everyone marks every pane.
	stationSays(a, workshop.StationNotice{Time: testTime(10), User: alice, Kind: workshop.NoticeDelay, Text: "no longer delays the messages to alice"})
	if strings.Contains(screenText(a), "▲ delay") {
		t.Errorf("the badge stays after /delay off: %q", statusLine(a))
	}
	stationSays(a, workshop.StationNotice{Time: testTime(11), Kind: workshop.NoticeDelay, Delay: 500 * time.Millisecond, Text: "holds every message"})
	if n := strings.Count(screenText(a), "▲ delay 500ms"); n != 2 {
		t.Errorf("%d badges for a delay for everyone, want 2", n)
	}
}

func TestWhoListsTheUsersOnline(t *testing.T) {
	a, f := newTestApp(120, 30)
	for _, ev := range handshakeEvents("ws://127.0.0.1:9394") {
		update(t, a, f, EventMsg{Replayed: true, Event: ev})
	}
	typeIn(t, a, f, "/who")
	update(t, a, f, keyEnter)
	if f.users == 0 {
		t.Fatal("/who did not ask the station")
	}
	update(t, a, f, EventMsg{Replayed: true, Event: client.UsersEvent{Time: testTime(30), Users: []dimp.ID{alice, bob, testEcho()}}})
	screen := screenText(a)
	for _, want := range []string{"online at the station: 3", "alice@1U3SL…v1nB (me, this pane)", "bob@1KTtc…C8wK", "(bot)"} {
		if !strings.Contains(screen, want) {
			t.Errorf("no %q in the answer to /who:\n%s", want, screen)
		}
	}
	// The periodic question's answers stay in the contacts.
	update(t, a, f, EventMsg{Replayed: true, Event: client.UsersEvent{Time: testTime(40), Users: []dimp.ID{alice}}})
	if strings.Contains(screenText(a), "online at the station: 1") {
		t.Error("an answer /who did not ask for was listed")
	}
}
