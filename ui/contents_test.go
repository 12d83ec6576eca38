package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/dimp"
)

// parsed parses a content the test writes as JSON.
func parsed(t testing.TB, raw string) dimp.Content {
	t.Helper()
	c, err := dimp.ParseContent([]byte(raw))
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return c
}

// Each kind of content, as a peer sends it, drawn in the conversation: a
// golden screen per card (testdata/TestGoldenCards/*.golden).
func TestGoldenCards(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   client.MessageEvent
	}{
		{"file", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":16,"sn":5,"filename":"report.pdf","URL":"https://files.example/download/abc/0d3f.pdf","key":{"algorithm":"AES","data":"AAAA"},"IV":"AAAA"}`))}},
		{"image", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":18,"sn":6,"filename":"sunset.jpg","URL":"https://files.example/download/abc/77aa.jpg","key":{"algorithm":"AES","data":"AAAA"},"thumbnail":"`+benchThumb()+`"}`))}},
		{"bad-thumbnail", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":18,"sn":7,"filename":"not-a-picture.jpg","URL":"https://files.example/x.jpg","thumbnail":"data:image/jpeg;base64,aGVsbG8gd29ybGQ="}`))}},
		{"file-not-http", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":16,"sn":8,"filename":"passwd","URL":"file:///etc/passwd"}`))}},
		{"page", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":32,"sn":9,"title":"DIM — decentralized messaging","URL":"https://dim.chat/","desc":"Own your identity, keep your keys."}`))}},
		{"name-card", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":51,"sn":10,"did":"`+moky.String()+`","name":"Albert Moky","avatar":"https://a.example/m.png"}`))}},
		{"quote", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":55,"sn":11,"text":"yes, at noon","origin":{"sender":"`+alice.String()+`","type":1,"sn":3,"text":"shall we meet?"}}`))}},
		{"money", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":65,"sn":12,"currency":"DIMT","amount":12.5,"remitter":"`+bob.String()+`","remittee":"`+alice.String()+`"}`))}},
		{"history", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":207,"sn":13,"title":"lunch plans","messages":[{"sender":"`+moky.String()+`","receiver":"`+bob.String()+`","time":1700000000,"content":{"type":1,"sn":1,"text":"noon?"}},{"sender":"`+bob.String()+`","receiver":"`+moky.String()+`","time":1700000060,"content":{"type":1,"sn":2,"text":"noon."}}]}`))}},
		{"array", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":202,"sn":14,"contents":[{"type":1,"text":"one"},{"type":32,"title":"two","URL":"https://two.example/"},{"type":1,"text":"three"}]}`))}},
		{"forward", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward),
			Secrets: []*dimp.ReliableMessage{{}, {}, {}}}),
			Forwarded: []client.ForwardedMessage{
				{Sender: moky, Receiver: alice, Verified: true, Content: dimp.NewText("the keys are in the drawer")},
				{Sender: moky, Receiver: bob, Verified: true, Problem: "encrypted for " + bob.String() + ": not readable here"},
				{Sender: moky, Receiver: alice, Problem: "its signature does not verify: signature mismatch"},
			}}},
		{"forwarded-copy", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":1,"sn":15,"text":"meet at the station","traces":[{"ID":"`+moky.String()+`","did":"`+moky.String()+`","time":1700000000}]}`))}},
		{"markdown", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t,
			`{"type":1,"sn":16,"format":"markdown","text":"## Agenda\n\n- **keys**: who holds them\n- `+"`/save`"+` the minutes\n\n| who | when |\n|---|---|\n| moky | _noon_ |"}`))}},
		{"unknown", client.MessageEvent{Message: dimp.NewInstantMessage(bob, alice, parsed(t, `{"type":119,"sn":17,"weather":"sunny"}`))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, goldenW, 22)
			s.events(handshakeEvents("ws://127.0.0.1:9394")...)
			ev := tc.ev
			ev.Time, ev.ID = testTime(5), "m-"+client.MessageID(tc.name)
			s.events(ev)
			s.app.panes[0].open(bob)
			checkScreen(t, s.screen(), goldenW, 22)
		})
	}
}

// recallOf is a peer's recall of its message sn, in dimchat apps' form.
func recallOf(sn int64) *dimp.TextContent {
	c := dimp.NewText("_(message recalled)_")
	c.SN = sn
	c.Extra = dimp.Fields{}
	_ = c.Extra.Set("action", "recall")
	return c
}

// /recall takes my selected message back as dimchat's apps do (a text with
// its serial number, action recall), and strikes it out here; a peer's
// recall strikes out that peer's message, and only that peer's.
func TestRecall(t *testing.T) {
	a, f := newTestApp(120, 30)
	p := pane(a)
	now := time.Now()
	mine := dimp.NewText("I sent this by mistake")
	feed(a, client.SentEvent{Time: now, ID: "s1", Message: dimp.NewInstantMessage(alice, bob, mine)})
	theirs := dimp.NewText("so did I")
	feed(a, client.MessageEvent{Time: now, ID: "r1", Message: dimp.NewInstantMessage(bob, alice, theirs)})
	p.open(bob)
	p.setFocus(focusConversation)
	runAll(t, a, keyUp) // bob's: not mine
	typeLine(t, a, "/recall")
	if s := screenText(a); !strings.Contains(s, "only my own messages") {
		t.Errorf("recalling a peer's message is not refused:\n%s", s)
	}
	p.setFocus(focusConversation)
	runAll(t, a, keyUp)
	if e := p.chat.current.selected(); e == nil || e.id != "s1" {
		t.Fatalf("selected %+v, want my message", e)
	}
	typeLine(t, a, "/recall")
	calls := f.sentCalls()
	if len(calls) != 1 {
		t.Fatalf("sent %d contents, want the recall", len(calls))
	}
	rc, ok := calls[0].content.(*dimp.TextContent)
	var action, format string
	var origin struct {
		Type int   `json:"type"`
		SN   int64 `json:"sn"`
	}
	if !ok || rc.SN != mine.SN || rc.Extra.Get("action", &action) != nil || action != "recall" ||
		rc.Extra.Get("format", &format) != nil || format != "markdown" || rc.Extra.Get("origin", &origin) != nil ||
		origin.SN != mine.SN || origin.Type != 1 || rc.Text != "_(message recalled)_" {
		t.Fatalf("recall sent %s", dimp.MarshalContent(calls[0].content))
	}
	feed(a, client.SentEvent{Time: now, ID: "s1", Message: dimp.NewInstantMessage(alice, bob, rc)})
	if s := screenText(a); !strings.Contains(s, "↶ recalled by me") || strings.Count(s, "I sent this by mistake") != 1 {
		t.Errorf("my recalled message is not struck out in place:\n%s", s)
	}

	// moky claims bob's serial number: nothing of bob's is taken back.
	feed(a, client.MessageEvent{Time: now, ID: "x1", Message: dimp.NewInstantMessage(moky, alice, recallOf(theirs.SN))})
	if s := screenText(a); strings.Contains(s, "recalled by its sender") {
		t.Errorf("another sender's recall struck bob's message:\n%s", s)
	}
	feed(a, client.MessageEvent{Time: now, ID: "r1", Message: dimp.NewInstantMessage(bob, alice, recallOf(theirs.SN))})
	if s := screenText(a); !strings.Contains(s, "↶ recalled by its sender") || strings.Contains(s, "_(message recalled)_") {
		t.Errorf("bob's recall does not strike his message out in place:\n%s", s)
	}

	// Too late: dimchat's apps recall within 128 s.
	old := dimp.NewText("long ago")
	feed(a, client.SentEvent{Time: now.Add(-time.Hour), ID: "s2", Message: dimp.NewInstantMessage(alice, bob, old)})
	p.chat.current.sel = p.chat.current.indexOf("s2")
	typeLine(t, a, "/recall")
	if s := screenText(a); !strings.Contains(s, "within 2m8s") {
		t.Errorf("a late recall is not refused:\n%s", s)
	}
}

// /forward sends a copy of the selected message that names where it came
// from, as dimchat's apps forward; such a copy reads as the forwarder's
// word.
func TestForwardCopy(t *testing.T) {
	a, f := newTestApp(120, 30)
	p := pane(a)
	orig := dimp.NewText("the keys are in the drawer")
	feed(a, client.MessageEvent{Time: testTime(1), ID: "m1", Message: dimp.NewInstantMessage(bob, alice, orig)})
	p.open(bob)
	typeLine(t, a, "/forward "+moky.String())
	calls := f.sentCalls()
	if len(calls) != 1 || !calls[0].to.SameAs(moky) {
		t.Fatalf("sent %v, want one forward to moky", calls)
	}
	c, ok := calls[0].content.(*dimp.TextContent)
	var traces []map[string]any
	if !ok || c.Text != orig.Text || c.SN == orig.SN || c.Extra.Get("traces", &traces) != nil || len(traces) != 1 ||
		traces[0]["did"] != bob.String() || traces[0]["ID"] != bob.String() {
		t.Fatalf("forwarded %s", dimp.MarshalContent(calls[0].content))
	}
	// A picture goes with its thumbnail, which the conversation keeps
	// apart from the content.
	pic := parsed(t, `{"type":18,"sn":30,"filename":"sunset.jpg","URL":"https://files.example/p.jpg","thumbnail":"`+benchThumb()+`"}`)
	feed(a, client.MessageEvent{Time: testTime(3), ID: "p1", Message: dimp.NewInstantMessage(bob, alice, pic)})
	p.open(bob) // /forward showed moky's chat, where the copy went
	typeLine(t, a, "/forward "+moky.String())
	calls = f.sentCalls()
	if len(calls) != 2 {
		t.Fatalf("the picture was not forwarded: %q (in %s)", p.flash, p.chat.current.peer)
	}
	if fc, ok := calls[len(calls)-1].content.(*dimp.FileContent); !ok || len(fc.Thumbnail) == 0 || fc.URL != "https://files.example/p.jpg" {
		t.Errorf("forwarded picture %s", dimp.MarshalContent(calls[len(calls)-1].content))
	}

	// Received by moky, it says it is a copy.
	raw, _ := json.Marshal(traces)
	got := dimp.NewText(orig.Text)
	got.Extra = dimp.Fields{"traces": raw}
	feed(a, client.MessageEvent{Time: testTime(2), ID: "m2", Message: dimp.NewInstantMessage(moky, alice, got)})
	p.open(moky)
	if s := screenText(a); !strings.Contains(s, "» forwarded from bob: a copy, not signed by bob") {
		t.Errorf("a forwarded copy does not say so:\n%s", s)
	}
}

// /save writes the selected file where the user asked and says where;
// without a file selected it says what to do; a transfer that lasts shows
// a bar in the footer.
func TestSaveAndProgress(t *testing.T) {
	a, _ := newTestApp(120, 30)
	p := pane(a)
	feed(a, client.MessageEvent{Time: testTime(1), ID: "t1", Message: dimp.NewInstantMessage(bob, alice, dimp.NewText("hello"))})
	p.open(bob)
	typeLine(t, a, "/save")
	if s := screenText(a); !strings.Contains(s, "select a file") {
		t.Errorf("/save on a text does not say what to do:\n%s", s)
	}
	file := parsed(t, `{"type":16,"sn":5,"filename":"../../report.pdf","URL":"https://files.example/download/abc/0d3f.pdf","key":{"algorithm":"AES","data":"AAAA"}}`)
	feed(a, client.MessageEvent{Time: testTime(2), ID: "f1", Message: dimp.NewInstantMessage(bob, alice, file)})
	dir := t.TempDir()
	typeLine(t, a, "/save "+dir)
	want := filepath.Join(dir, "report.pdf")
	if b, err := os.ReadFile(want); err != nil || string(b) != "https://files.example/download/abc/0d3f.pdf" {
		t.Fatalf("saved %q, %v; want the file in %s", b, err, dir)
	}
	if s := screenText(a); !strings.Contains(s, "saved ../../report.pdf") || !strings.Contains(s, want) {
		t.Errorf("the notice does not say where it went:\n%s", s)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if e.Name() == "report.pdf" {
			t.Errorf("a file was written outside the chosen directory")
		}
	}

	// ctrl+s on the selected file saves it in ~/Downloads.
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := os.Mkdir(filepath.Join(home, "Downloads"), 0o700); err != nil {
		t.Fatal(err)
	}
	p.setFocus(focusConversation)
	runAll(t, a, tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl})
	if _, err := os.Stat(filepath.Join(home, "Downloads", "report.pdf")); err != nil {
		t.Errorf("ctrl+s did not save into Downloads: %v", err)
	}

	// A transfer under way for a while: its bar.
	p.xfer = &transferState{seq: 99, verb: "uploading", name: "big.iso", start: time.Now().Add(-time.Second), done: 512 << 10, total: 1 << 20}
	p.xfer.bar = newTransferBar()
	p.flash = "" // the earlier /save's, which the footer shows first
	s := screenText(a)
	if !strings.Contains(s, "uploading big.iso") || !strings.Contains(s, "(50%)") || !strings.Contains(s, "█") {
		t.Errorf("no progress bar in the footer:\n%s", s)
	}
}
