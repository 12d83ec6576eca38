package ui

import (
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/dimp"
)

const testSession = "3f2a91b07c4e55d0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6c19d"

// handshakeEvents are the events of a connection and a full handshake.
func handshakeEvents(url string) []client.Event {
	st := testStation()
	s := client.Status{URL: url, State: client.Connecting}
	var out []client.Event
	add := func(sec int, f func(*client.Status)) {
		f(&s)
		out = append(out, client.StatusEvent{Time: testTime(sec), Status: s})
	}
	add(0, func(s *client.Status) {})
	add(0, func(s *client.Status) { s.State = client.Connected })
	add(0, func(s *client.Status) { s.State, s.Handshake = client.Handshaking, dimp.HandshakeStart })
	add(1, func(s *client.Status) { s.Handshake, s.Session, s.Station = dimp.HandshakeAgain, testSession, st })
	add(1, func(s *client.Status) { s.Handshake = dimp.HandshakeRestart })
	add(1, func(s *client.Status) { s.State, s.Handshake = client.Running, dimp.HandshakeSuccess })
	add(2, func(s *client.Status) { s.RTT = 1800 * time.Microsecond })
	return out
}

// chatEvents are a conversation with the echo bot: two texts answered,
// an app content, deliveries at every stage, receipts.
func chatEvents(me dimp.ID) []client.Event {
	echo := testEcho()
	var out []client.Event
	sent := func(sec int, id client.MessageID, c dimp.Content) {
		out = append(out, client.SentEvent{Time: testTime(sec), ID: id, Message: dimp.NewInstantMessage(me, echo, c)},
			client.DeliveryEvent{Time: testTime(sec), ID: id, State: client.Sending})
	}
	deliver := func(sec int, id client.MessageID, d client.Delivery, detail string) {
		out = append(out, client.DeliveryEvent{Time: testTime(sec), ID: id, State: d, Detail: detail})
	}
	recv := func(sec int, id client.MessageID, c dimp.Content) {
		out = append(out, client.MessageEvent{Time: testTime(sec), ID: id, Message: dimp.NewInstantMessage(echo, me, c)})
	}
	receipt := func(sec int, from dimp.ID, text string, forID client.MessageID) {
		out = append(out, client.ReceiptEvent{Time: testTime(sec), From: from, For: forID,
			Receipt: dimp.NewReceipt(text, nil)})
	}
	sent(60, "m1", dimp.NewText("hello, echo"))
	deliver(60, "m1", client.AtStation, "Message delivered.")
	receipt(60, testStation(), "Message delivered.", "m1")
	deliver(61, "m1", client.Delivered, "Message received.")
	receipt(61, echo, "Message received.", "m1")
	recv(61, "e1", dimp.NewText("echo: hello, echo"))
	deliver(62, "m1", client.Read, "Message read.")
	sent(120, "m2", dimp.NewText("A longer message, to show that lines wrap under the text column and not under the names, however narrow the terminal is."))
	deliver(120, "m2", client.AtStation, "")
	deliver(121, "m2", client.Delivered, "")
	recv(121, "e2", dimp.NewText("echo: A longer message, to show that lines wrap under the text column and not under the names, however narrow the terminal is."))
	extra := dimp.Fields{}
	_ = extra.Set("bottle", "a message in a bottle")
	_ = extra.Set("depth", 42)
	sent(180, "m3", dimp.NewAppContent(dimp.ContentApplication, "chat.dim.sechat", "drift_bottle", "throw", extra))
	deliver(180, "m3", client.AtStation, "")
	recv(181, "e3", dimp.NewAppContent(dimp.ContentCustomized, "chat.dim.sechat", "drift_bottle", "echo", extra.Clone()))
	sent(240, "m4", dimp.NewText("this one is still on its way"))
	sent(241, "m5", dimp.NewText("and this one failed"))
	deliver(242, "m5", client.Failed, "no visa for the receiver")
	return out
}

// feed hands events to the app as its listener would, dropping the
// commands (the calls they make are tested elsewhere).
func feed(a *App, evs ...client.Event) {
	for _, ev := range evs {
		a.Update(EventMsg{Pane: 0, Event: ev, Replayed: true})
	}
}

// newTestApp returns an app for alice, sized w×h, dark theme, talking to
// the echo bot.
func newTestApp(w, h int) (*App, *fakeBackend) {
	f := newFake(alice)
	a := New(f, Options{Peer: testEcho(), Bots: []dimp.ID{testEcho()}, UsersEvery: -1, tick: testTick}, WithTheme(true))
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return a, f
}

var errRefused = errors.New("dial ws://127.0.0.1:9394: connection refused")
