package workshop

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"dimtui/client"
	"dimtui/dimp"
)

// A replayed frame names the keys the live one did: the transcript keeps
// the signer and the message key with the keys that sealed or opened it.
func TestTranscriptKeepsTheKeys(t *testing.T) {
	alice := dimp.MustParseID("alice@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB")
	bob := dimp.MustParseID("bob@1KTtckknLw3AxD1WK4oLYpVN7RkQevC8wK")
	signer := &client.KeyUse{Owner: alice, Role: client.MetaKey, Algorithm: "ECC", Bits: 256, Fingerprint: "0a1b2c3d"}
	visa := client.KeyUse{Owner: bob, Role: client.VisaKey, Algorithm: "RSA", Bits: 1024, Fingerprint: "55667788"}
	mk := &client.MessageKey{Algorithm: "AES-256-CBC", Key: bytes.Repeat([]byte{7}, 32), IV: bytes.Repeat([]byte{9}, 16),
		Entry: bob.String(), EncryptedTo: []client.Recipient{{Name: bob.String(), Key: visa}}}
	group := dimp.MustParseID("group-alice@hz519K77dgxczwCDEgBhokWzdgbhFRSDg")
	copyOf := &client.GroupSend{Group: group, Member: bob, Members: 20, Once: true}
	r := NewRecorder()
	r.Observe(0, Viewpoint{Me: alice, Know: NewKnowledge()}, client.FrameEvent{Time: at(1), Dir: client.Out,
		Raw: []byte(`{"sender":"x"}`), Kind: client.KindText, Layers: &client.Layers{Verified: true, Signer: signer, MessageKey: mk,
			Group: copyOf}})

	text, evs := readBack(t, r.Snapshot(), "frame")
	if !strings.Contains(text, `"signer":{"owner":"`+alice.String()+`","role":"meta","algorithm":"ECC"`) {
		t.Errorf("the JSON Lines does not name the signer:\n%s", text)
	}
	if len(evs) != 1 {
		t.Fatalf("%d frames read back, want 1", len(evs))
	}
	got := evs[0].(client.FrameEvent).Layers
	if !reflect.DeepEqual(got.Signer, signer) {
		t.Errorf("signer read back %+v, want %+v", got.Signer, signer)
	}
	if !reflect.DeepEqual(got.MessageKey, mk) {
		t.Errorf("message key read back %+v, want %+v", got.MessageKey, mk)
	}
	// A member's copy of a group message says so when played back.
	if g := got.Group; g == nil || !g.Group.SameAs(group) || !g.Member.SameAs(bob) || g.Members != 20 || !g.Once {
		t.Errorf("group copy read back %+v, want %+v", g, copyOf)
	}
}

// A damaged key in a transcript loses the key's name, not the frame.
func TestTranscriptDamagedKeys(t *testing.T) {
	line := `{"time":"2026-12-05T09:00:00Z","event":"frame","pane":0,"dir":"in","kind":"text","raw":{"sender":"x"},` +
		`"signer":{"owner":"not an id","role":"meta","algorithm":"RSA"},` +
		`"message_key":{"algorithm":"AES-256-CBC","decrypted_by":{"owner":"bob@1KTtckknLw3AxD1WK4oLYpVN7RkQevC8wK","role":"boss"},` +
		`"encrypted_to":[{"name":"x","key":{"owner":"","role":"visa"}}]}}`
	var rec Record
	tr, err := ReadTranscript(strings.NewReader(`{"event":"transcript","version":1,"time":"2026-12-05T09:00:00Z","pane":0}` + "\n" + line + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tr.Records {
		if r.Event == "frame" {
			rec = r
		}
	}
	ev, err := rec.ClientEvent()
	if err != nil {
		t.Fatalf("a damaged key lost the frame: %v", err)
	}
	l := ev.(client.FrameEvent).Layers
	if l.Signer != nil || l.MessageKey == nil || l.MessageKey.DecryptedBy != nil || len(l.MessageKey.EncryptedTo) != 0 {
		t.Errorf("damaged keys read back as %+v / %+v", l.Signer, l.MessageKey)
	}
}

// A group command a peer sent is kept in the transcript and played back
// as the same event; the handout names it.
func TestTranscriptKeepsGroupCommands(t *testing.T) {
	alice := dimp.MustParseID("alice@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB")
	bob := dimp.MustParseID("bob@1KTtckknLw3AxD1WK4oLYpVN7RkQevC8wK")
	group := dimp.MustParseID("group-alice@hz519K77dgxczwCDEgBhokWzdgbhFRSDg")
	want := client.GroupCommandEvent{Time: at(1), From: alice, Group: group, Command: "invite", Members: []dimp.ID{bob},
		Role: "owner", Change: client.GroupChange{Added: []dimp.ID{bob}}}
	r := NewRecorder()
	r.Observe(0, Viewpoint{Me: bob, Know: NewKnowledge()}, want)
	snap := r.Snapshot()

	var md bytes.Buffer
	snap.writeMarkdown(&md, "t.jsonl")
	if !strings.Contains(md.String(), "received from alice the group command “invite” for group-alice: bob") {
		t.Errorf("the handout does not name the group command:\n%s", md.String())
	}
	// A group message's delivery keeps each member's state.
	r.Observe(0, Viewpoint{Me: bob, Know: NewKnowledge()}, client.DeliveryEvent{Time: at(2), ID: "m1", State: client.Delivered,
		Members: []client.MemberDelivery{{Member: alice, State: client.Read}, {Member: bob, State: client.Failed, Detail: "no visa"}}})
	snap = r.Snapshot()
	if _, dels := readBack(t, snap, "delivery"); len(dels) != 1 ||
		!reflect.DeepEqual(dels[0].(client.DeliveryEvent).Members, []client.MemberDelivery{{Member: alice, State: client.Read},
			{Member: bob, State: client.Failed, Detail: "no visa"}}) {
		t.Errorf("deliveries read back: %+v", dels)
	}
	_, evs := readBack(t, snap, "group")
	if len(evs) != 1 {
		t.Fatalf("%d group records read back, want 1", len(evs))
	}
	got := evs[0].(client.GroupCommandEvent)
	if !got.Time.Equal(want.Time) || !got.From.SameAs(alice) || !got.Group.SameAs(group) || got.Command != "invite" ||
		len(got.Members) != 1 || !got.Members[0].SameAs(bob) || got.Role != "owner" ||
		len(got.Change.Added) != 1 || !got.Change.Added[0].SameAs(bob) || got.Change.Refused != "" {
		t.Errorf("read back %+v, want %+v", got, want)
	}
}

// readBack writes a recording's JSON Lines, reads it back, and returns
// the text and the events of the records named event.
func readBack(t *testing.T, snap *Recording, event string) (string, []client.Event) {
	t.Helper()
	var buf bytes.Buffer
	if err := snap.writeJSONL(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	tr, err := ReadTranscript(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var evs []client.Event
	for _, rec := range tr.Records {
		if rec.Event != event {
			continue
		}
		ev, err := rec.ClientEvent()
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return text, evs
}

// The transcript lists its panes in their order, whichever spoke first.
func TestTranscriptPanesInOrder(t *testing.T) {
	alice := dimp.MustParseID("alice@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB")
	bob := dimp.MustParseID("bob@1KTtckknLw3AxD1WK4oLYpVN7RkQevC8wK")
	r := NewRecorder()
	r.Observe(1, Viewpoint{Me: bob, Know: NewKnowledge()}, client.ErrorEvent{Time: at(1), Err: errors.New("first")})
	r.Observe(0, Viewpoint{Me: alice, Know: NewKnowledge()}, client.ErrorEvent{Time: at(2), Err: errors.New("second")})
	if p := r.Snapshot().panes; len(p) != 2 || p[0].Pane != 0 || p[1].Pane != 1 {
		t.Errorf("panes %+v", p)
	}
}
