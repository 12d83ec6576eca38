package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/dimptest"
	"dimtui/display"
	"dimtui/workshop"
)

// bigText is a text of n bytes from bob to alice: the frame as alice's
// client would report it if it did not cut it, and the message.
func bigText(w *dimptest.World, sec, n int) (client.FrameEvent, client.MessageEvent) {
	text := fmt.Sprintf("%04d ", sec) + strings.Repeat("lorem ipsum ", n/12+1)[:n-5]
	rm, _ := w.Seal(w.BobP, w.Alice.ID, w.Alice.Profile(), dimp.NewText(text), true)
	raw, _ := rm.MarshalJSON()
	im, err := w.AliceP.Open(rm, w.Bob.Profile())
	if err != nil {
		w.T.Fatal(err)
	}
	id := client.MessageID(fmt.Sprintf("%s#%d", w.Bob.ID, sec))
	return client.FrameEvent{Time: testTime(sec), Dir: client.In, Raw: raw, Kind: client.KindText,
			Layers: &client.Layers{Reliable: rm, Verified: true, Instant: im}},
		client.MessageEvent{Time: testTime(sec), ID: id, Message: im}
}

// A message of 700 KB is kept by its head everywhere the UI keeps it: in
// the inspector (with its size and digest), in the conversation (with a
// visible mark of what was left out), in the transcript, which still
// reads back and replays.
func TestLongMessageIsKeptByItsHead(t *testing.T) {
	w := dimptest.NewWorld(t)
	f := newFake(w.Alice.ID)
	dir := t.TempDir()
	a := newWorkshopApp(120, 40, WorkshopOptions{ExportDir: dir, Now: func() time.Time { return testTime(0) }}, f)
	pane(a).open(w.Bob.ID)
	fr, msg := bigText(w, 1, 700<<10)
	deliver(a, 0, fr, msg)
	p := pane(a)

	kept := p.inspector.frames[len(p.inspector.frames)-1]
	if kept.cut == nil || kept.cut.Size != len(fr.Raw) || kept.cut.SHA256 != sha256.Sum256(fr.Raw) || len(kept.raw) > maxKeptFrame {
		t.Fatalf("inspector keeps %d bytes, cut %+v", len(kept.raw), kept.cut)
	}
	st := NewStyles(true)
	detail := ansi.Strip(strings.Join(renderLayers(&st, alice, kept, 120, false), "\n"))
	for _, want := range []string{"only the head of this frame is kept", display.Size(len(fr.Raw)), "✓ signature ok",
		"✓ decrypted", "more not kept"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the kept frame's layers lack %q:\n%s", want, detail)
		}
	}
	if row := ansi.Strip(frameRow(&st, kept, 100)); !strings.Contains(row, display.Size(len(fr.Raw))) {
		t.Errorf("the frame's row does not give its size: %s", row)
	}

	e := p.chat.current.entries[len(p.chat.current.entries)-1]
	if len(e.text) > maxKeptText+100 || !strings.HasSuffix(e.text, client.NotKept(700<<10-maxKeptText)) {
		t.Errorf("the conversation keeps %d bytes ending %q", len(e.text), e.text[len(e.text)-40:])
	}
	if screen := screenText(a); !strings.Contains(screen, "… 700 KB more not kept") {
		t.Errorf("the screen does not say what was not kept:\n%s", screen)
	}

	for _, r := range "/export big" {
		runAll(t, a, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	runAll(t, a, keyEnter)
	raw, err := os.ReadFile(filepath.Join(dir, "big.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > 100<<10 {
		t.Errorf("the transcript of one message has %d bytes", len(raw))
	}
	tr, err := workshop.ReadTranscript(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var frame client.FrameEvent
	var text string
	for _, rec := range tr.Records {
		ev, err := rec.ClientEvent()
		if err != nil {
			t.Fatal(err)
		}
		switch ev := ev.(type) {
		case client.FrameEvent:
			frame = ev
		case client.MessageEvent:
			text = ev.Message.Content.(*dimp.TextContent).Text
		}
	}
	if frame.Cut == nil || *frame.Cut != *kept.cut || frame.Layers.Instant == nil || !frame.Layers.Verified {
		t.Errorf("the frame read back: cut %+v, layers %+v", frame.Cut, frame.Layers)
	}
	if !strings.HasPrefix(text, "0001 lorem ipsum") || !strings.HasSuffix(text, "more not kept") || len(text) > maxKeptText+100 {
		t.Errorf("the message read back has %d bytes", len(text))
	}
	md, err := os.ReadFile(filepath.Join(dir, "big.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Only the head of this frame was kept"; !strings.Contains(string(md), want) ||
		!strings.Contains(string(md), hex.EncodeToString(kept.cut.SHA256[:])) {
		t.Errorf("the Markdown does not say the frame was cut")
	}
}

// Whatever comes, what a pane keeps stays within its budgets, the oldest
// going first; the newest message still shows. (The workshop's transcript
// is held to its own budget by workshop.TestTranscriptIsBounded.)
func TestWhatThePaneKeepsIsBounded(t *testing.T) {
	w := dimptest.NewWorld(t)
	f := newFake(w.Alice.ID)
	a := newWorkshopApp(120, 40, WorkshopOptions{}, f)
	p := pane(a)
	p.open(w.Bob.ID)
	base, _ := heapInUse()

	garbage := bytes.Repeat([]byte("garbage "), 900<<10/8)
	for i := range 300 {
		copy(garbage, fmt.Sprintf("%08d", i))
		deliver(a, 0, client.FrameEvent{Time: testTime(i), Dir: client.In, Raw: garbage, Kind: client.KindOther,
			Layers: &client.Layers{ParseErr: dimp.ErrInvalidMessage}},
			client.ErrorEvent{Time: testTime(i), Err: fmt.Errorf("frame from the station: %w at %d", dimp.ErrInvalidMessage, i)})
	}
	text := strings.Repeat("lorem ipsum ", 20<<10/12)
	for i := range 3000 {
		deliver(a, 0, client.MessageEvent{Time: testTime(i), ID: client.MessageID(fmt.Sprint(i)),
			Message: dimp.NewInstantMessage(w.Bob.ID, w.Alice.ID, dimp.NewText(fmt.Sprintf("%04d %s", i, text)))})
		if i%100 == 0 {
			a.Render() // the conversation renders, and caches, what it shows
		}
	}
	deliver(a, 0, client.MessageEvent{Time: testTime(3000), ID: "last",
		Message: dimp.NewInstantMessage(w.Bob.ID, w.Alice.ID, dimp.NewText("the newest one"))})

	if p.inspector.bytes > inspectorBytes || len(p.inspector.frames) == 0 {
		t.Errorf("inspector: %d frames cost %d bytes, budget %d", len(p.inspector.frames), p.inspector.bytes, inspectorBytes)
	}
	if p.chat.convBytes > conversationBytes {
		t.Errorf("conversations cost %d bytes, budget %d", p.chat.convBytes, conversationBytes)
	}
	if c := p.chat.conversation(w.Bob.ID); len(c.entries) >= 3000 || len(c.entries) < 100 {
		t.Errorf("the conversation keeps %d entries of 3,000", len(c.entries))
	}
	if !strings.Contains(screenText(a), "the newest one") {
		t.Errorf("the newest message does not show:\n%s", screenText(a))
	}
	inuse, _ := heapInUse()
	t.Logf("after 300 frames of 900 KB and 3,000 messages of 20 KB: heap in use %.1f MB (%.1f MB before)", mb(inuse), mb(base))
	if inuse > heapBudget {
		t.Errorf("heap in use %.1f MB, want under %.0f MB", mb(inuse), mb(heapBudget))
	}
	runtime.KeepAlive(a)
}

// The conversation forgets its oldest entries keeping the view on the
// entries it was on.
func TestForgettingKeepsTheView(t *testing.T) {
	c := newConversation(bob)
	for i := range 5 {
		c.add(&entry{kind: entryText, text: fmt.Sprint(i)})
	}
	c.top, c.topLine, c.sel, c.follow = 2, 1, 3, false
	c.markUnread()
	if e := c.dropFirst(); e.text != "0" || c.top != 1 || c.topLine != 1 || c.sel != 2 {
		t.Errorf("after dropping %q: top %d line %d sel %d", e.text, c.top, c.topLine, c.sel)
	}
	c.top, c.sel = 0, 0
	c.dropFirst()
	if c.topLine != 0 || c.sel != -1 {
		t.Errorf("dropping the top and selected entry: line %d sel %d", c.topLine, c.sel)
	}

	// The notices gathered before a conversation move into the first one
	// opened, and are counted once.
	st := NewStyles(true)
	p := NewPane(0, newFake(alice), Options{UsersEvery: -1}, &st, DefaultKeyMap())
	p.notice("connected", false)
	p.notice("handshake", false)
	p.open(bob)
	sum := 0
	for _, e := range p.chat.current.entries {
		sum += e.cost
	}
	if len(p.chat.current.entries) != 2 || p.chat.convBytes != sum {
		t.Errorf("%d entries moved, counted %d bytes, want %d", len(p.chat.current.entries), p.chat.convBytes, sum)
	}
}
