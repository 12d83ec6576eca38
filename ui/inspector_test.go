package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
)

func TestMouseSelectsContactsAndFrames(t *testing.T) {
	a, f := newTestApp(100, 30)
	feed(a, client.UsersEvent{Time: testTime(1), Users: []dimp.ID{testEcho(), bob}})
	p := pane(a)
	row := 2 + 1 + p.chat.contacts.index(bob) // status bar, title row
	update(t, a, f, tea.MouseClickMsg{X: 5, Y: row, Button: tea.MouseLeft})
	if !p.chat.current.peer.SameAs(bob) {
		t.Fatalf("a click on bob's row opened %s", p.chat.current.peer)
	}
	feed(a, handshakeEvents("ws://127.0.0.1:9394")...)
	feed(a, vectorFrame(t), client.FrameEvent{Time: testTime(9), Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing})
	update(t, a, f, keyCtrlO)
	x := p.layout().insp.x + 5
	update(t, a, f, tea.MouseClickMsg{X: x, Y: p.layout().insp.y + 1, Button: tea.MouseLeft})
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
			got := ansi.Strip(strings.Join(renderLayers(&st, bob, rec, w, full), "\n"))
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
	got := ansi.Strip(strings.Join(renderLayers(&st, bob, bad, 80, false), "\n"))
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
	got = ansi.Strip(strings.Join(renderLayers(&st, bob, plain, 80, false), "\n"))
	for _, want := range []string{"✓ signed by me", "plain", "not encrypted", "✓ what I wrote", `"title": "Hello world!"`} {
		if !strings.Contains(got, want) {
			t.Errorf("broadcast frame lacks %q:\n%s", want, got)
		}
	}

	// A content with a card: the card above the JSON in the Instant layer.
	page := &dimp.PageContent{Head: dimp.NewHead(dimp.ContentPage), Title: "DIM home", URL: "https://dim.chat/"}
	pim := dimp.NewInstantMessage(bob, alice, page)
	carded := frameRec{seq: 5, dir: client.In, kind: client.KindMessage, raw: []byte(`{"sender":"x"}`),
		layers: &client.Layers{Reliable: fr.Layers.Reliable, Verified: true, Instant: pim}}
	got = ansi.Strip(strings.Join(renderLayers(&st, bob, carded, 80, false), "\n"))
	card, js := strings.Index(got, "[page] DIM home"), strings.Index(got, `"title": "DIM home"`)
	if card < 0 || js < 0 || card > js {
		t.Errorf("the Instant layer lacks the card above the JSON:\n%s", got)
	}

	// Control frames and frames that are not messages.
	ping := frameRec{seq: 3, dir: client.Out, kind: client.KindPing, raw: []byte("PING")}
	if got := ansi.Strip(strings.Join(renderLayers(&st, bob, ping, 80, false), "\n")); !strings.Contains(got, "Control frame") || !strings.Contains(got, "PING") {
		t.Errorf("ping frame:\n%s", got)
	}
	junk := frameRec{seq: 4, dir: client.In, kind: client.KindOther, raw: []byte("{nope"),
		layers: &client.Layers{ParseErr: errors.New("invalid JSON")}}
	if got := ansi.Strip(strings.Join(renderLayers(&st, bob, junk, 80, false), "\n")); !strings.Contains(got, "✗ not a DIM message") || !strings.Contains(got, "{nope") {
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

// layersText draws a frame's layers as me sees them, without styles.
func layersText(me dimp.ID, f frameRec, w int) string {
	st := NewStyles(true)
	return ansi.Strip(strings.Join(renderLayers(&st, me, f, w, false), "\n"))
}

// checkHas reports every want missing from got, and every unwanted found.
func checkHas(t *testing.T, what, got string, want, unwanted []string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(got, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, got)
		}
	}
	for _, s := range unwanted {
		if strings.Contains(got, s) {
			t.Errorf("%s shows %q:\n%s", what, s, got)
		}
	}
}

// Each layer of a message bob received names the key that did its step:
// alice's meta key verified the signature, bob's visa key decrypted the
// message key, and the message key itself is shown with its IV.
func TestInspectorNamesTheKeys(t *testing.T) {
	fr := vectorFrame(t)
	rec := frameRec{seq: 1, at: fr.Time, dir: fr.Dir, kind: fr.Kind, raw: fr.Raw, layers: fr.Layers}
	for _, w := range []int{60, 200} { // stacked, and in three columns
		checkHas(t, fmt.Sprintf("width %d", w), layersText(bob, rec, w), []string{
			"✓ signature ok", "verified with alice's meta key", "RSA-1024", "PKCS#1 v1.5/SHA-256", "fp " + fr.Layers.Signer.Fingerprint,
			"message key (AES-256-CBC)", "kmcH8MDgFUumuNEP/cL/mZr2tWcKz4BP4Q6k2JdPdW8=", "t52p/FVPzW5YD4gKF7Sa3g==",
			"decrypted with my visa key", "fp " + fr.Layers.MessageKey.DecryptedBy.Fingerprint, "from “key for bob” below",
		}, nil)
	}

	// Stacked, the peel in three lines comes first.
	overview := strings.Join(strings.Split(layersText(bob, rec, 60), "\n")[:5], "\n")
	checkHas(t, "overview", overview, []string{"Reliable  ✓ verified with alice's meta key · RSA-1024",
		"Secure    AES-256-CBC key, decrypted with my visa", "Instant   “Hello, Bob!"}, nil)

	// alice's meta key on secp256k1, as dimtui makes them.
	ecc := rec
	l := *fr.Layers
	l.Signer = &client.KeyUse{Owner: alice, Role: client.MetaKey, Algorithm: "ECC", Bits: 256, Fingerprint: "0a1b2c3d"}
	ecc.layers = &l
	checkHas(t, "ECC signer", layersText(bob, ecc, 80), []string{"verified with alice's meta key", "ECC secp256k1", "ECDSA/SHA-256", "fp 0a1b2c3d"}, nil)

	// A key the sender reused: no private key opened it this time.
	reused := rec
	l2 := *fr.Layers
	l2.MessageKey = &client.MessageKey{Algorithm: "AES-256-CBC", Key: fr.Layers.MessageKey.Key, Reused: true}
	reused.layers = &l2
	checkHas(t, "reused key", layersText(bob, reused, 80),
		[]string{"message key (AES-256-CBC)", "The key of alice → me, kept from an earlier message"}, []string{"decrypted with"})

	// Going out: the key that signed it, the receiver's key the message
	// key was encrypted to.
	out := frameRec{seq: 2, dir: client.Out, kind: client.KindText, raw: fr.Raw, layers: &client.Layers{
		Reliable: fr.Layers.Reliable, Verified: true, Instant: dimp.NewInstantMessage(bob, alice, dimp.NewText("hi")),
		Signer: &client.KeyUse{Owner: bob, Role: client.MetaKey, Algorithm: "RSA", Bits: 2048, Fingerprint: "11223344"},
		MessageKey: &client.MessageKey{Algorithm: "AES-256-CBC", Key: make([]byte, 32), EncryptedTo: []client.Recipient{
			{Name: alice.String(), Key: client.KeyUse{Owner: alice, Role: client.VisaKey, Algorithm: "RSA", Bits: 1024, Fingerprint: "55667788"}}}},
	}}
	checkHas(t, "outgoing", layersText(bob, out, 80), []string{"✓ signed by me", "with my meta key", "RSA-2048", "fp 11223344",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "A new key for", "encrypted to alice's visa key", "RSA-1024 · PKCS#1 v1.5 · fp 55667788"}, nil)
}

// A copy of a message already received (the station offering it again
// after a crash) is acknowledged and not opened: the inspector says so,
// not that it failed to decrypt.
func TestInspectorDuplicateIsNotAFailure(t *testing.T) {
	fr := vectorFrame(t)
	rec := frameRec{seq: 1, at: fr.Time, dir: fr.Dir, kind: fr.Kind, raw: fr.Raw,
		layers: &client.Layers{Reliable: fr.Layers.Reliable, OpenErr: client.ErrDuplicate}}
	checkHas(t, "duplicate", layersText(bob, rec, 80),
		[]string{"already received: acknowledged, not opened again", "shown when first received"}, []string{"✗ not decrypted"})

	failed := rec
	failed.layers = &client.Layers{Reliable: fr.Layers.Reliable, OpenErr: dimp.ErrSignature}
	checkHas(t, "failure", layersText(bob, failed, 80), []string{"✗ not decrypted"}, []string{"already received"})
}

// A frame step-through holds is listed, but the client has not verified
// nor decrypted it: the inspector says so, whatever its preview opened,
// until it is released; the frame the client then processed takes its
// place, numbered as any other.
func TestHeldFrameIsNotProcessedYet(t *testing.T) {
	a, f := newTestApp(120, 40)
	p := pane(a)
	fr := vectorFrame(t)
	preview := &client.Layers{Reliable: fr.Layers.Reliable, Verified: true, Instant: fr.Layers.Instant}
	feed(a, client.HeldEvent{Time: fr.Time, Seq: 7, Dir: client.In, Raw: fr.Raw, Kind: fr.Kind, Layers: preview})
	update(t, a, f, keyCtrlO)
	held := p.inspector.currentFrame()
	if held == nil || held.held != 7 {
		t.Fatalf("the held frame is not listed: %+v", held)
	}
	checkHas(t, "held frame", layersText(alice, *held, 120),
		[]string{"⏸ not processed yet", "Not decrypted yet", "⏸ not opened yet"},
		[]string{"✓ signature ok", "verified with", "✓ decrypted", "Hello, Bob", "message key ("})
	// Held, it has its number in the session already, and keeps it.
	checkHas(t, "inspector", screenText(a), []string{"⏸ held", "Frame #1", "not processed yet"}, nil)
	checkHas(t, "summary", held.summary, []string{"(not processed yet)"}, []string{"Hello"})

	feed(a, client.ReleasedEvent{Time: fr.Time, Seq: 7}, fr)
	if n := len(p.inspector.frames); n != 1 {
		t.Fatalf("%d frames after the release, want the processed one only", n)
	}
	if cur := p.inspector.currentFrame(); cur.held != 0 || cur.seq != 1 {
		t.Errorf("after the release the inspector shows %+v, want frame #1 still", cur)
	}
	checkHas(t, "released frame", screenText(a), []string{"Frame #1", "✓ signature ok", "verified with"}, []string{"⏸"})
}

// c hides the control frames (PING, PONG, ACK) from the list, and says so
// in the title; receipts are DIM messages and stay.
func TestInspectorHidesControlFrames(t *testing.T) {
	a, f := newTestApp(120, 40)
	p := pane(a)
	fr := vectorFrame(t)
	receipt := client.FrameEvent{Time: testTime(8), Dir: client.In, Kind: client.KindReceipt, Raw: fr.Raw,
		Layers: &client.Layers{Reliable: fr.Layers.Reliable, Verified: true,
			Instant: dimp.NewInstantMessage(bob, alice, dimp.NewReceipt(dimp.ReceiptReceived, nil))}}
	feed(a, client.FrameEvent{Time: testTime(5), Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing},
		client.FrameEvent{Time: testTime(5), Dir: client.In, Raw: []byte("PONG"), Kind: client.KindPing},
		fr, client.FrameEvent{Time: testTime(6), Dir: client.Out, Raw: []byte(`ACK:{"time":1}`), Kind: client.KindAck},
		receipt, client.FrameEvent{Time: testTime(9), Dir: client.In, Raw: []byte("NOOP"), Kind: client.KindPing})
	update(t, a, f, keyCtrlO)
	list := func() string {
		listH, _ := inspectorGeometry(p.inspector.h)
		return strings.Join(strings.Split(ansi.Strip(p.inspector.view()), "\n")[:listH+1], "\n")
	}
	checkHas(t, "all frames", list(), []string{"Inspector · 6 frames", "PING", "PONG", "ACK:", "receipt", "NOOP"}, nil)

	update(t, a, f, tea.KeyPressMsg{Code: 'c', Text: "c"})
	checkHas(t, "control frames hidden", list(), []string{"Inspector · 2 of 6 frames · control frames hidden", "Hello, Bob", "receipt"},
		[]string{"PING", "PONG", "ACK:", "NOOP"})
	if got := len(p.inspector.rows); got != 2 {
		t.Errorf("%d rows listed, want the text and the receipt", got)
	}

	update(t, a, f, tea.KeyPressMsg{Code: 'c', Text: "c"})
	checkHas(t, "listed again", list(), []string{"Inspector · 6 frames", "PING", "ACK:"}, []string{"hidden"})
}

// Enter on a message selected in the conversation selects the frame that
// carried it (not the newest frame), opening the inspector; Enter on that
// frame goes back to the message.
func TestJumpBetweenMessageAndFrame(t *testing.T) {
	f := newFake(bob)
	a := New(f, Options{Peer: alice, UsersEvery: -1, tick: testTick}, WithTheme(true))
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	p := pane(a)
	feed(a, handshakeEvents("ws://127.0.0.1:9394")...)

	first := vectorFrame(t)
	im := first.Layers.Instant
	second := dimp.NewInstantMessage(alice, bob, dimp.NewText("a second one"))
	mine := dimp.NewInstantMessage(bob, alice, dimp.NewText("and mine"))
	frameOf := func(dir client.Direction, m *dimp.InstantMessage) client.FrameEvent {
		return client.FrameEvent{Time: testTime(12), Dir: dir, Kind: client.KindText, Raw: first.Raw,
			Layers: &client.Layers{Reliable: first.Layers.Reliable, Verified: true, Instant: m}}
	}
	feed(a, first, client.MessageEvent{Time: testTime(10), ID: client.MessageIDOf(im), Message: im},
		frameOf(client.In, second), client.MessageEvent{Time: testTime(11), ID: client.MessageIDOf(second), Message: second},
		client.SentEvent{Time: testTime(12), ID: client.MessageIDOf(mine), Message: mine}, frameOf(client.Out, mine),
		client.FrameEvent{Time: testTime(13), Dir: client.In, Raw: []byte("PONG"), Kind: client.KindPing})

	p.setFocus(focusConversation)
	update(t, a, f, keyUp) // my message
	update(t, a, f, keyUp) // the second
	update(t, a, f, keyUp) // the first
	if e := p.chat.current.selected(); e == nil || e.id != client.MessageIDOf(im) {
		t.Fatalf("selected %+v, want alice's first message", e)
	}
	update(t, a, f, keyEnter)
	if !p.showInspector || p.focus != focusInspector {
		t.Fatalf("Enter on a message did not open the inspector on it (shown %v, focus %v)", p.showInspector, p.focus)
	}
	if cur := p.inspector.currentFrame(); cur == nil || cur.seq != 1 {
		t.Fatalf("the inspector selected %+v, want frame #1", cur)
	}
	checkHas(t, "flash", p.flash, []string{"frame #1"}, nil)

	// Back: from my own message's frame to my message.
	p.inspector.move(2)
	update(t, a, f, keyEnter)
	if p.focus != focusConversation {
		t.Fatalf("Enter on a frame left the focus on %v", p.focus)
	}
	if e := p.chat.current.selected(); e == nil || e.id != client.MessageIDOf(mine) || p.chat.current.sel < 0 {
		t.Errorf("Enter on frame #3 selected %+v, want my message", e)
	}

	// A control frame carries no message.
	p.setFocus(focusInspector)
	p.inspector.move(1)
	update(t, a, f, keyEnter)
	if p.focus != focusInspector || !strings.Contains(p.flash, "no chat message") {
		t.Errorf("Enter on a PONG: focus %v, flash %q", p.focus, p.flash)
	}
}

// In the split view, the inspector opens on the newest message the client
// processed, not on the PONG after it, with the control frames hidden.
func TestSplitInspectorOpensOnTheLatestMessage(t *testing.T) {
	fa, fb := newFake(alice), newFake(bob)
	a := newWorkshopApp(200, 50, WorkshopOptions{}, fa, fb)
	fr := vectorFrame(t)
	deliver(a, 0, fr, client.FrameEvent{Time: testTime(6), Dir: client.Out, Raw: []byte(`ACK:{"time":1}`), Kind: client.KindAck},
		client.FrameEvent{Time: testTime(7), Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing},
		client.FrameEvent{Time: testTime(7), Dir: client.In, Raw: []byte("PONG"), Kind: client.KindPing})
	runAll(t, a, keyCtrlO)
	p := pane(a)
	if cur := p.inspector.currentFrame(); cur == nil || cur.seq != 1 {
		t.Fatalf("the inspector opened on %+v, want the text, frame #1", cur)
	}
	listH, detailH := inspectorGeometry(p.inspector.h)
	if listH < 10 || detailH < 2*listH {
		t.Errorf("in a %d-row inspector the list has %d rows and the layers %d", p.inspector.h, listH, detailH)
	}
	checkHas(t, "split inspector", screenText(a), []string{"control frames hidden", "Frame #1", "verified with"}, []string{"PONG"})
}
