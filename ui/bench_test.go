package ui

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/client/transfer"
	"dimtui/dimp"
)

// benchCards are the contents other than text the benchmark's
// conversation shows, one of each kind.
func benchCards() []dimp.Content {
	var out []dimp.Content
	for _, raw := range []string{
		`{"type":16,"sn":1,"filename":"report.pdf","URL":"https://files.example/up/abc.pdf","key":{"algorithm":"AES","data":"AAAA"}}`,
		`{"type":32,"sn":2,"title":"DIM","URL":"https://dim.chat/","desc":"decentralized messaging"}`,
		`{"type":51,"sn":3,"did":"moky@4DnqXWdTV8wuZgfqSCX9GjE2kNq7HJrUgQ","name":"Albert Moky"}`,
		`{"type":55,"sn":4,"text":"agreed","origin":{"sender":"moky@4DnqXWdTV8wuZgfqSCX9GjE2kNq7HJrUgQ","type":1,"sn":3,"text":"shall we?"}}`,
		`{"type":65,"sn":5,"currency":"DIMT","amount":12.5}`,
		`{"type":202,"sn":6,"contents":[{"type":1,"text":"a"},{"type":1,"text":"b"}]}`,
		`{"type":119,"sn":7,"weather":"sunny"}`,
		`{"type":18,"sn":8,"filename":"photo.jpg","URL":"https://files.example/up/p.jpg","thumbnail":"` + benchThumb() + `"}`,
		`{"type":1,"sn":9,"format":"markdown","text":"# Notes\n\n- **bold** point\n- ` + "`code`" + ` point\n\n| user | last seen |\n|---|---|\n| moky | _now_ |"}`,
	} {
		c, err := dimp.ParseContent([]byte(raw))
		if err != nil {
			panic(err)
		}
		out = append(out, c)
	}
	return out
}

// benchThumb is a thumbnail as an app sends one: a small JPEG picture
// (a gradient) as a data URI.
func benchThumb() string {
	img := image.NewRGBA(image.Rect(0, 0, 160, 120))
	for y := range 120 {
		for x := range 160 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y * 2), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	thumb, err := transfer.Thumbnail(buf.Bytes())
	if err != nil {
		panic(err)
	}
	return thumb
}

// benchApp returns an app at 100×30 whose conversation with the echo bot
// holds n entries: texts of every length in both directions, app cards,
// content cards (file, page, name card, quote, money, array, unknown),
// receipts and notices.
func benchApp(n int) *App {
	a, _ := newTestApp(100, 30)
	feed(a, handshakeEvents("ws://127.0.0.1:9394")...)
	echo := testEcho()
	extra := dimp.Fields{}
	_ = extra.Set("bottle", "a message in a bottle")
	cards := benchCards()
	evs := make([]client.Event, 0, n)
	for i := range n {
		text := fmt.Sprintf("message %d: %s", i, strings.Repeat("lorem ipsum dolor ", i%13))
		switch i % 10 {
		case 3:
			evs = append(evs, client.MessageEvent{Time: testTime(i), ID: client.MessageID(fmt.Sprintf("app%d", i)),
				Message: dimp.NewInstantMessage(echo, alice, dimp.NewAppContent(dimp.ContentCustomized, "chat.dim.sechat", "drift_bottle", "echo", extra))})
		case 7:
			// Every kind of card, in turn.
			evs = append(evs, client.MessageEvent{Time: testTime(i), ID: client.MessageID(fmt.Sprintf("c%d", i)),
				Message: dimp.NewInstantMessage(echo, alice, cards[(i/10)%len(cards)])})
		case 5:
			evs = append(evs, client.ReceiptEvent{Time: testTime(i), From: echo, For: client.MessageID(fmt.Sprintf("m%d", i-1)),
				Receipt: dimp.NewReceipt("Message received.", nil)})
		case 0, 2, 4, 6, 8:
			id := client.MessageID(fmt.Sprintf("m%d", i))
			evs = append(evs, client.SentEvent{Time: testTime(i), ID: id, Message: dimp.NewInstantMessage(alice, echo, dimp.NewText(text))},
				client.DeliveryEvent{Time: testTime(i), ID: id, State: client.Delivery(i % 4)})
		default:
			evs = append(evs, client.MessageEvent{Time: testTime(i), ID: client.MessageID(fmt.Sprintf("e%d", i)),
				Message: dimp.NewInstantMessage(echo, alice, dimp.NewText("echo: "+text))})
		}
	}
	feed(a, evs...)
	return a
}

// BenchmarkRender10k measures drawing a whole frame (status bar, contacts,
// conversation, composer) with 10,000 entries in the conversation's
// scrollback. Target: at most 5 ms a frame.
func BenchmarkRender10k(b *testing.B) {
	const n = 10000
	b.Run("newest", func(b *testing.B) {
		a := benchApp(n)
		a.Render()
		b.ResetTimer()
		for b.Loop() {
			a.Render()
		}
	})
	b.Run("scrolled-to-middle", func(b *testing.B) {
		a := benchApp(n)
		f := newFake(alice)
		update(b, a, f, keyHome)
		for range 2000 {
			update(b, a, f, keyPgDown)
		}
		a.Render()
		b.ResetTimer()
		for b.Loop() {
			a.Render()
		}
	})
	b.Run("page-up-each-frame", func(b *testing.B) {
		a := benchApp(n)
		a.Render()
		b.ResetTimer()
		for b.Loop() {
			a.Update(keyPgUp)
			a.Render()
		}
	})
	b.Run("new-message-each-frame", func(b *testing.B) {
		a := benchApp(n)
		a.Render()
		i := 0
		b.ResetTimer()
		for b.Loop() {
			i++
			feed(a, client.MessageEvent{Time: testTime(i), ID: client.MessageID(fmt.Sprintf("x%d", i)),
				Message: dimp.NewInstantMessage(testEcho(), alice, dimp.NewText("echo: one more line"))})
			a.Render()
		}
	})
	b.Run("resize-each-frame", func(b *testing.B) {
		// Every frame at a new width: nothing cached fits, the visible
		// entries are wrapped again (and only they).
		a := benchApp(n)
		w := 100
		b.ResetTimer()
		for b.Loop() {
			w = 200 - w + 1 // 100, 101, 100, ...
			a.Update(tea.WindowSizeMsg{Width: w, Height: 30})
			a.Render()
		}
	})
	b.Run("cards-only-resize-each-frame", func(b *testing.B) {
		// The worst case for cards: every message a card (thumbnails and
		// Markdown among them), each frame at a new width.
		a, _ := newTestApp(100, 30)
		cards := benchCards()
		evs := make([]client.Event, 0, n)
		for i := range n {
			evs = append(evs, client.MessageEvent{Time: testTime(i), ID: client.MessageID(fmt.Sprintf("c%d", i)),
				Message: dimp.NewInstantMessage(testEcho(), alice, cards[i%len(cards)])})
		}
		feed(a, evs...)
		w := 100
		b.ResetTimer()
		for b.Loop() {
			w = 200 - w + 1
			a.Update(tea.WindowSizeMsg{Width: w, Height: 30})
			a.Render()
		}
	})
	b.Run("home-cold", func(b *testing.B) {
		// The worst case: jumping to the oldest message at a width never
		// drawn before.
		a := benchApp(n)
		w := 100
		b.ResetTimer()
		for b.Loop() {
			w = 200 - w + 1
			a.Update(tea.WindowSizeMsg{Width: w, Height: 30})
			a.Update(keyHome)
			a.Render()
			a.Update(keyEnd)
		}
	})
}
