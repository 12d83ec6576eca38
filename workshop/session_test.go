package workshop

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/dimptest"
)

// at is a time of the recorded session: sec seconds after a fixed start,
// so that transcripts do not depend on the clock.
func at(sec int) time.Time {
	return time.Date(2025, 11, 26, 9, 30, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second)
}

// session is alice's side of a short workshop session, as her client
// reports it: the handshake with her Hello, a text from bob, a PING, a
// text to bob and how far it got, who is online, an error. It has three
// frames; the first message is bob's.
func session(w *dimptest.World) []client.Event {
	hello := dimp.NewHandshake(dimp.HandshakeHello, "")
	hello.Group = dimp.EveryStations
	hrm, him := w.Seal(w.AliceP, dimp.AnyStation, nil, hello, true)
	hraw, _ := hrm.MarshalJSON()
	in, msg := textFrom(w, 3, "hi alice")
	st := client.Status{URL: "ws://127.0.0.1:9394", State: client.Handshaking, Handshake: dimp.HandshakeStart}
	running := st
	running.State, running.Handshake, running.Station = client.Running, dimp.HandshakeSuccess, w.Station.ID
	running.Session = "3f2a91b07c4e55d0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6c19d"
	echo := dimp.NewID("echo", dimp.BTCAddress([]byte("echo fingerprint"), byte(dimp.User)), "")
	return []client.Event{
		client.StatusEvent{Time: at(0), Status: client.Status{URL: st.URL, State: client.Connecting}},
		client.StatusEvent{Time: at(0), Status: st},
		client.FrameEvent{Time: at(1), Dir: client.Out, Raw: hraw, Kind: client.KindHandshake,
			Layers: &client.Layers{Reliable: hrm, Verified: true, Instant: him}},
		client.StatusEvent{Time: at(2), Status: running},
		in, msg,
		client.FrameEvent{Time: at(4), Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing},
		client.SentEvent{Time: at(5), ID: "m1", Message: dimp.NewInstantMessage(w.Alice.ID, w.Bob.ID, dimp.NewText("hi bob"))},
		client.DeliveryEvent{Time: at(5), ID: "m1", State: client.AtStation, Detail: "Message delivered."},
		client.ReceiptEvent{Time: at(5), From: w.Station.ID, For: "m1", Receipt: dimp.NewReceipt(dimp.ReceiptDelivered, nil)},
		client.UsersEvent{Time: at(6), Users: []dimp.ID{w.Bob.ID, echo}},
		client.ErrorEvent{Time: at(7), Err: fmt.Errorf("frame from the station: %w", dimp.ErrInvalidMessage)},
	}
}

// textFrom is a text of bob's to alice at sec: the frame as alice's client
// reports it (whole, however long) and the message.
func textFrom(w *dimptest.World, sec int, text string) (client.FrameEvent, client.MessageEvent) {
	w.T.Helper()
	rm, _ := w.Seal(w.BobP, w.Alice.ID, w.Alice.Profile(), dimp.NewText(text), true)
	raw, _ := rm.MarshalJSON()
	im, err := w.AliceP.Open(rm, w.Bob.Profile())
	if err != nil {
		w.T.Fatal(err)
	}
	return client.FrameEvent{Time: at(sec), Dir: client.In, Raw: raw, Kind: client.KindText,
			Layers: &client.Layers{Reliable: rm, Verified: true, Instant: im}},
		client.MessageEvent{Time: at(sec), ID: client.MessageID(fmt.Sprintf("%s#%d", w.Bob.ID, sec)), Message: im}
}

// record records events of alice's pane (pane 0) as the UI does, and a
// station notice after them.
func record(w *dimptest.World, evs ...client.Event) *Recorder {
	r := NewRecorder()
	v := Viewpoint{Me: w.Alice.ID, Know: NewKnowledge()}
	v.Know.LearnProfile(w.Alice.ID, w.Alice.Meta, w.Alice.Visa)
	for _, ev := range evs {
		r.Observe(0, v, ev) // before the pane handles the event
		if s, ok := ev.(client.StatusEvent); ok {
			v.Status = s.Status
		}
	}
	r.Notice(0, w.Alice.ID, StationNotice{Time: at(70), User: w.Alice.ID, Text: "expired alice's session"})
	return r
}

// jsonl is what a recorder writes as JSON Lines.
func jsonl(t testing.TB, r *Recorder) string {
	t.Helper()
	var b strings.Builder
	if err := r.Snapshot().writeJSONL(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A notice of one of the demo's stations keeps the station's name in the
// transcript, its Markdown and its replay.
func TestNetworkNoticeRecorded(t *testing.T) {
	w := dimptest.NewWorld(t)
	r := NewRecorder()
	r.Notice(0, w.Alice.ID, StationNotice{Time: time.Unix(100, 0), User: w.Alice.ID, Station: "B", Kind: NoticeNetwork,
		Text: "took bob's message for alice from station A and stored it"})
	lines := jsonl(t, r)
	if !strings.Contains(lines, `"from":"B"`) {
		t.Errorf("JSON Lines without the station:\n%s", lines)
	}
	var md bytes.Buffer
	r.Snapshot().writeMarkdown(&md, lines)
	if !strings.Contains(md.String(), "▲ station B: took bob's message for alice from station A") {
		t.Errorf("Markdown:\n%s", md.String())
	}
}
