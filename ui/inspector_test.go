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
