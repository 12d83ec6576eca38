package ui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
)

var (
	keyF     = tea.KeyPressMsg{Code: 'f', Text: "f"}
	keySlash = tea.KeyPressMsg{Code: '/', Text: "/"}
	keyBack  = tea.KeyPressMsg{Code: tea.KeyBackspace}
)

// messageFrame is a frame of a message from one to another, opened.
func messageFrame(sec int, dir client.Direction, kind client.FrameKind, from, to dimp.ID, c dimp.Content) client.FrameEvent {
	im := dimp.NewInstantMessage(from, to, c)
	rm := &dimp.ReliableMessage{SecureMessage: dimp.SecureMessage{Envelope: im.Envelope, Data: "c2VjcmV0"}}
	raw := fmt.Sprintf(`{"sender":%q,"receiver":%q,"data":"c2VjcmV0"}`, from, to)
	return client.FrameEvent{Time: testTime(sec), Dir: dir, Kind: kind, Raw: []byte(raw),
		Layers: &client.Layers{Reliable: rm, Verified: true, Instant: im}}
}

// housekeepingAndChat is what a live client's inspector fills with: the
// handshake, PINGs and PONGs, a documents command, the "active users"
// question to the station, a receipt and an ACK, around two chat
// messages (a text from bob, an app content to moky).
func housekeepingAndChat() []client.Event {
	st := testStation()
	extra := dimp.Fields{}
	_ = extra.Set("text", "hello")
	return []client.Event{
		messageFrame(1, client.Out, client.KindHandshake, alice, st, dimp.NewHandshake(dimp.HandshakeHello, "")),
		client.FrameEvent{Time: testTime(2), Dir: client.Out, Raw: []byte("PING"), Kind: client.KindPing},
		client.FrameEvent{Time: testTime(2), Dir: client.In, Raw: []byte("PONG"), Kind: client.KindPing},
		messageFrame(3, client.Out, client.KindCommand, alice, st, dimp.NewDocumentCommand(bob, nil, nil)),
		messageFrame(4, client.Out, client.KindText, alice, st, dimp.NewText("active users")),
		messageFrame(5, client.In, client.KindText, bob, alice, dimp.NewText("see you at the harbour at nine, bring the blue lantern")),
		client.FrameEvent{Time: testTime(5), Dir: client.Out, Raw: []byte(`ACK:{"time":5}`), Kind: client.KindAck},
		messageFrame(6, client.In, client.KindReceipt, st, alice, dimp.NewReceipt(dimp.ReceiptDelivered, nil)),
		messageFrame(7, client.Out, client.KindApp, alice, moky, dimp.NewAppContent(dimp.ContentApplication, "chat.dim.sechat", "drift_bottle", "throw", extra)),
	}
}

// inspectorList is the inspector's title and list as drawn, without
// styles.
func inspectorList(p *Pane) string {
	listH, _ := inspectorGeometry(p.inspector.h)
	return strings.Join(strings.Split(ansi.Strip(p.inspector.view()), "\n")[:listH+1], "\n")
}

// f cycles the list through all frames, the messages (no handshake,
// commands or control frames) and the chat only (no receipts, nothing
// with the station), and the title says which.
func TestInspectorFilterCycles(t *testing.T) {
	a, f := newTestApp(140, 50)
	p := pane(a)
	feed(a, housekeepingAndChat()...)
	update(t, a, f, keyCtrlO)
	if p.focus != focusInspector {
		t.Fatalf("ctrl+o left the focus on %v", p.focus)
	}
	checkHas(t, "all frames", inspectorList(p), []string{"Inspector · 9 frames", "Hello world!", "PING", "PONG",
		"command document", "“active users”", "harbour", "ACK:", "receipt", "drift_bottle"}, []string{" of 9"})

	update(t, a, f, keyF)
	checkHas(t, "messages", inspectorList(p), []string{"Inspector · 4 of 9 frames · messages",
		"“active users”", "harbour", "receipt", "drift_bottle"}, []string{"Hello world!", "PING", "PONG", "command", "ACK:"})

	update(t, a, f, keyF)
	checkHas(t, "chat only", inspectorList(p), []string{"Inspector · 2 of 9 frames · chat only", "harbour", "drift_bottle"},
		[]string{"Hello world!", "PING", "command", "active users", "receipt", "ACK:"})

	update(t, a, f, keyF)
	checkHas(t, "all again", inspectorList(p), []string{"Inspector · 9 frames", "PING", "receipt"}, []string{" of 9", "chat only"})

	// c under a filter lists every frame, control frames too.
	update(t, a, f, keyF)
	update(t, a, f, tea.KeyPressMsg{Code: 'c', Text: "c"})
	checkHas(t, "c from messages", inspectorList(p), []string{"Inspector · 9 frames", "PING"}, []string{"messages"})
}

// A selected frame the filter hides gives way to the nearest one listed,
// not to nothing; one the filter keeps stays selected.
func TestInspectorFilterKeepsASensibleSelection(t *testing.T) {
	a, f := newTestApp(140, 50)
	p := pane(a)
	feed(a, housekeepingAndChat()...)
	update(t, a, f, keyCtrlO)
	update(t, a, f, tea.KeyPressMsg{Code: tea.KeyHome})
	update(t, a, f, keyDown)
	update(t, a, f, keyDown) // the PONG
	if cur := p.inspector.currentFrame(); cur == nil || string(cur.raw) != "PONG" {
		t.Fatalf("selected %+v, want the PONG", cur)
	}
	update(t, a, f, keyF) // messages: the PONG is hidden, the nearest after it listed
	if cur := p.inspector.currentFrame(); cur == nil || !strings.Contains(cur.summary, "active users") {
		t.Fatalf("with the PONG hidden the inspector selected %+v, want the active-users question", cur)
	}
	update(t, a, f, keyDown) // bob's text
	update(t, a, f, keyF)    // chat only: still listed, still selected
	if cur := p.inspector.currentFrame(); cur == nil || !strings.Contains(cur.summary, "harbour") {
		t.Errorf("chat only moved the selection to %+v, want bob's text", cur)
	}
	checkHas(t, "layers", screenText(a), []string{"Frame #6"}, nil)
}

// / opens a search line: the frames whose summary, names or raw bytes
// hold the query (any case) are listed, and the title says the query; Esc
// clears it and lists them all, the frame found still selected.
func TestInspectorSearch(t *testing.T) {
	a, f := newTestApp(140, 50)
	p := pane(a)
	feed(a, housekeepingAndChat()...)
	update(t, a, f, keyCtrlO)
	update(t, a, f, keySlash)
	checkHas(t, "search line", inspectorList(p), []string{" / ", "type to search", "esc clears"}, nil)
	checkHas(t, "footer", screenText(a), []string{"⌫ delete", "esc clear the search"}, nil)

	// A word of a text, past what the summary shows of it.
	typeIn(t, a, f, "Lantern")
	checkHas(t, "by text", inspectorList(p), []string{"Inspector · 1 of 9 frames · search “Lantern”", "harbour", "1 frame · esc clears"},
		[]string{"PING", "drift_bottle", "receipt"})
	if cur := p.inspector.currentFrame(); cur == nil || !strings.Contains(cur.summary, "harbour") {
		t.Errorf("the search selected %+v, want bob's text", cur)
	}

	// Esc clears the search (and gives the keys back to the composer):
	// every frame is listed again, the one found still selected.
	update(t, a, f, keyEsc)
	checkHas(t, "cleared", inspectorList(p), []string{"Inspector · 9 frames", "PING", "drift_bottle"}, []string{"search “", "esc clears"})
	if cur := p.inspector.currentFrame(); cur == nil || !strings.Contains(cur.summary, "harbour") {
		t.Errorf("after Esc the inspector selected %+v, want bob's text still", cur)
	}

	// A peer's name, in any case; letters that are keys elsewhere (f, c)
	// are typed into the query while the line is open.
	update(t, a, f, keyTab) // composer → conversation → contacts → inspector
	for p.focus != focusInspector {
		update(t, a, f, keyTab)
	}
	update(t, a, f, keySlash)
	typeIn(t, a, f, "MOKY")
	checkHas(t, "by name", inspectorList(p), []string{"Inspector · 1 of 9 frames · search “MOKY”", "drift_bottle"}, []string{"harbour"})
	for range 4 {
		update(t, a, f, keyBack)
	}
	typeIn(t, a, f, "cmd")
	checkHas(t, "filter key typed", inspectorList(p), []string{"search “cmd”"}, []string{"· messages"})

	// The raw frame: the encrypted data of every message frame, which
	// no summary shows.
	for range 3 {
		update(t, a, f, keyBack)
	}
	typeIn(t, a, f, "C2VJCMV0")
	checkHas(t, "by raw", inspectorList(p), []string{"6 of 9 frames", "harbour", "receipt"}, []string{"PING", "ACK:"})

	// Nothing found says so, and how to get out.
	typeIn(t, a, f, "zzz")
	checkHas(t, "nothing", screenText(a), []string{"0 of 9 frames", "No frame contains “C2VJCMV0zzz”: esc clears the search."}, nil)

	// Backspace on an empty query closes the line; the keys are keys again.
	for range 12 {
		update(t, a, f, keyBack)
	}
	if p.inspector.searching || p.focus != focusInspector {
		t.Fatalf("backspace on an empty query: searching %v, focus %v", p.inspector.searching, p.focus)
	}
	update(t, a, f, keyF)
	checkHas(t, "f after the search", inspectorList(p), []string{"· messages"}, []string{"esc clears"})
}

// A search with the filter: both narrow the list, and the title says both.
func TestInspectorSearchWithinTheFilter(t *testing.T) {
	a, f := newTestApp(140, 50)
	p := pane(a)
	feed(a, housekeepingAndChat()...)
	update(t, a, f, keyCtrlO)
	update(t, a, f, keyF) // messages
	update(t, a, f, keySlash)
	typeIn(t, a, f, "GSP-S001")
	// The station is in the handshake, the command, the question and the
	// receipt; the messages filter keeps the question and the receipt.
	checkHas(t, "both", inspectorList(p), []string{"Inspector · 2 of 9 frames · messages · search “GSP-S001”", "active users", "receipt"},
		[]string{"Hello world!", "command"})
}

// The search's answer is kept per frame: the list is made again when the
// query or the filter changes, not when it is drawn, and a longer query
// looks again only in the frames that held the shorter one.
func TestInspectorSearchIsCached(t *testing.T) {
	in := newInspector(nil, DefaultKeyMap(), 5000, inspectorBytes)
	for _, ev := range housekeepingAndChat() {
		in.add(alice, ev.(client.FrameEvent))
	}
	in.setQuery("har")
	if len(in.rows) != 1 {
		t.Fatalf("%d frames hold “har”", len(in.rows))
	}
	// A frame that did not hold "har" cannot hold "harbour": changed
	// behind the inspector's back, it is not looked at again.
	ping := &in.frames[1]
	ping.raw = []byte("harbour")
	in.setQuery("harbour")
	if len(in.rows) != 1 || ping.hit {
		t.Errorf("“harbour” looked again in a frame without “har”: %d rows", len(in.rows))
	}
	// A shorter one looks in every frame.
	in.setQuery("harbo")
	if len(in.rows) != 2 {
		t.Errorf("“harbo”: %d rows, want 2", len(in.rows))
	}
}

func TestContainsFold(t *testing.T) {
	for _, tt := range []struct {
		b, needle string
		want      bool
	}{
		{"Hello, Bob", "bob", true}, {"HELLO", "hello", true}, {"hello", "hellos", false}, {"", "a", false},
		{"你好 Bob", "bob", true}, {"ÄPFEL", "äpfel", true}, {"abc", "", true}, {"aab", "ab", true},
	} {
		if got := containsFold([]byte(tt.b), tt.needle); got != tt.want {
			t.Errorf("containsFold(%q, %q) = %v", tt.b, tt.needle, got)
		}
	}
}

// BenchmarkInspectorSearch types a query into an inspector holding 5,000
// frames of 2 kB, and draws it after each key.
func BenchmarkInspectorSearch(b *testing.B) {
	st := NewStyles(true)
	in := newInspector(&st, DefaultKeyMap(), 5000, inspectorBytes)
	pad := strings.Repeat("x", 2000)
	for i := range 5000 {
		ev := messageFrame(i, client.In, client.KindText, bob, alice, dimp.NewText(fmt.Sprintf("message %d", i)))
		ev.Raw = append(ev.Raw, pad...)
		in.add(alice, ev)
	}
	in.setSize(100, 40)
	b.ResetTimer()
	for range b.N {
		for _, q := range []string{"m", "me", "mes", "mess", "message 4", "message 49", "message 499"} {
			in.setQuery(q)
			_ = in.view()
		}
		in.closeSearch()
	}
}
