package ui

import (
	"errors"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/dimptest"
)

// bidi is every bidirectional formatting character: the embeddings and
// overrides U+202A–U+202E, the isolates U+2066–U+2069 and the marks LRM,
// RLM and ALM. Any of them in a peer's text could reorder what the screen
// shows ("Trojan Source").
const bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

// TestPeerTextShowsNoBidiControls feeds a peer's ID, visa name, message,
// receipt, errors and raw frame, all full of bidi controls, to every screen
// and checks that none reaches it.
func TestPeerTextShowsNoBidiControls(t *testing.T) {
	evil := dimptest.NewIdentity(t, dimp.User, "\u202eevil\u2066")
	from := dimp.NewID(evil.ID.Name(), evil.ID.Address(), "term\u202e")
	station := dimp.NewID("st\u202eation", dimp.BTCAddress([]byte("evil station"), byte(dimp.Station)), "")
	text := dimp.NewText("hello \u202eolleh\u202c \u2067rtl\u2069 \u200emark\u061c")
	im := dimp.NewInstantMessage(from, alice, text)
	rm := &dimp.ReliableMessage{SecureMessage: dimp.SecureMessage{Envelope: im.Envelope, Data: "ZGF0YQ=="}}
	raw := []byte(`{"sender":"` + from.String() + `","receiver":"` + alice.String() + `","data":"\u202e` + "\u202e" + `"}`)

	a, f := newTestApp(120, 40)
	s := client.Status{URL: "ws://127.0.0.1:9394", State: client.Running, Handshake: dimp.HandshakeSuccess, Session: testSession, Station: station}
	feed(a,
		client.StatusEvent{Time: testTime(0), Status: s},
		client.UsersEvent{Time: testTime(1), Users: []dimp.ID{from}},
		client.PeerEvent{Time: testTime(1), Profile: evil.Profile()},
		client.MessageEvent{Time: testTime(2), ID: "e1", Message: im},
		client.ReceiptEvent{Time: testTime(3), From: from, Receipt: dimp.NewReceipt("read \u202eyb\u202c", nil)},
		client.ErrorEvent{Time: testTime(4), Err: errors.New("bad visa of " + from.String() + ": \u2066x\u2069")},
		client.FrameEvent{Time: testTime(5), Dir: client.In, Raw: raw, Kind: client.KindText,
			Layers: &client.Layers{Reliable: rm, Verified: true, Instant: im}},
	)
	a.panes[0].open(from)
	sent := dimp.NewInstantMessage(alice, from, dimp.NewText("to evil"))
	feed(a,
		client.SentEvent{Time: testTime(6), ID: "m1", Message: sent},
		client.DeliveryEvent{Time: testTime(7), ID: "m1", State: client.Failed, Detail: "refused: \u202edeliah\u202c"},
	)
	check := func(what string) {
		t.Helper()
		for i, line := range strings.Split(ansi.Strip(a.Render()), "\n") {
			if strings.ContainsAny(line, bidi) {
				t.Errorf("%s: a bidi control reached line %d: %+q", what, i, line)
			}
		}
		if v := a.View(); strings.ContainsAny(v.WindowTitle, bidi) {
			t.Errorf("%s: window title %+q", what, v.WindowTitle)
		}
	}
	eachScreen(t, a, f, check)
	update(t, a, f, keyTab)
	check("contacts")
	// A second "evil" without the override: the names collide, so the form
	// is addressed with the full ID, override and all, as the peer's ID is.
	twin := dimp.NewID("evil", dimp.BTCAddress([]byte("twin"), byte(dimp.User)), "")
	feed(a, client.UsersEvent{Time: testTime(8), Users: []dimp.ID{from, twin}})
	update(t, a, f, keyCtrlX)
	check("form with the full ID")
	update(t, a, f, keyEsc)
	s.State, s.Err = client.Error, errors.New("station "+station.String()+" said \u202eno")
	feed(a, client.StatusEvent{Time: testTime(9), Status: s})
	check("error status")
}
