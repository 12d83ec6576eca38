package dimp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"dimtui/dimp"
	"dimtui/dimp/dimptest"
	"dimtui/dimp/internal/jsonx"
)

// Contents that hold contents: a combine-forward (0xCF) holds instant
// messages, each with a content of its own, and an array (0xCA) holds
// contents. A peer may nest them as deep as a frame allows. The parser
// recurses once per level, but every level is JSON nesting too, and the
// JSON scanner refuses input deeper than jsonx.MaxDepth (128) before any
// level is parsed: about 42 combine-forwards (three JSON levels each:
// message, content, list) or 63 arrays (two each) parse, more do not.

// nestedCombine is an instant message from sender whose content is a
// combine-forward holding a message whose content is another, depth
// combine-forwards in all, with a text at the bottom.
func nestedCombine(sender string, depth int) string {
	open := `{"sender":"` + sender + `","content":{"type":207,"messages":[`
	bottom := `{"sender":"` + sender + `","content":{"type":1,"sn":1,"text":"bottom"}}`
	return strings.Repeat(open, depth) + bottom + strings.Repeat(`]}}`, depth)
}

// nestedArray is an array content holding an array, depth arrays in all,
// with a text at the bottom.
func nestedArray(depth int) string {
	return strings.Repeat(`{"type":202,"contents":[`, depth) + `{"type":1,"sn":1,"text":"bottom"}` +
		strings.Repeat(`]}`, depth)
}

func TestNestedCombineForward(t *testing.T) {
	sender := dimptest.NewIdentity(t, dimp.User, "alice").ID.String()

	// 40 deep: read whole, down to the text.
	im, err := dimp.ParseInstantMessage([]byte(nestedCombine(sender, 40)))
	if err != nil {
		t.Fatalf("40 deep: %v", err)
	}
	levels := 0
	for {
		cf, ok := im.Content.(*dimp.CombineForwardContent)
		if !ok {
			break
		}
		if len(cf.Messages) != 1 {
			t.Fatalf("level %d: %d messages", levels, len(cf.Messages))
		}
		levels++
		im = cf.Messages[0]
	}
	if tc, ok := im.Content.(*dimp.TextContent); levels != 40 || !ok || tc.Text != "bottom" {
		t.Fatalf("40 deep: %d levels down to %T", levels, im.Content)
	}

	// 100 deep: refused, with names for what is wrong.
	_, err = dimp.ParseInstantMessage([]byte(nestedCombine(sender, 100)))
	if !errors.Is(err, dimp.ErrInvalidMessage) || !errors.Is(err, jsonx.ErrTooDeep) {
		t.Errorf("100 deep message: %v, want ErrInvalidMessage and ErrTooDeep", err)
	}
	// Its content alone, as a content.
	content := nestedCombine(sender, 100)
	content = content[strings.Index(content, `"content":`)+len(`"content":`) : len(content)-1]
	_, err = dimp.ParseContent([]byte(content))
	if !errors.Is(err, dimp.ErrInvalidContent) || !errors.Is(err, jsonx.ErrTooDeep) {
		t.Errorf("100 deep content: %v, want ErrInvalidContent and ErrTooDeep", err)
	}
}

func TestNestedArray(t *testing.T) {
	c, err := dimp.ParseContent([]byte(nestedArray(60)))
	if err != nil {
		t.Fatalf("60 deep: %v", err)
	}
	levels := 0
	for {
		a, ok := c.(*dimp.ArrayContent)
		if !ok {
			break
		}
		if len(a.Contents) != 1 {
			t.Fatalf("level %d: %d contents", levels, len(a.Contents))
		}
		levels++
		c = a.Contents[0]
	}
	if tc, ok := c.(*dimp.TextContent); levels != 60 || !ok || tc.Text != "bottom" {
		t.Fatalf("60 deep: %d levels down to %T", levels, c)
	}

	_, err = dimp.ParseContent([]byte(nestedArray(100)))
	if !errors.Is(err, dimp.ErrInvalidContent) || !errors.Is(err, jsonx.ErrTooDeep) {
		t.Errorf("100 deep: %v, want ErrInvalidContent and ErrTooDeep", err)
	}
}

// TestNestedInFullFrame: 10,000 levels, as many as a 1 MiB frame holds,
// are refused at once: the scanner stops at its depth limit without
// reading the rest, and nothing recurses past it.
func TestNestedInFullFrame(t *testing.T) {
	sender := dimptest.NewIdentity(t, dimp.User, "alice").ID.String()
	for _, c := range []struct {
		name  string
		input string
		parse func([]byte) error
		want  error
	}{
		{"combine-forward", nestedCombine(sender, 10000), func(b []byte) error {
			_, err := dimp.ParseInstantMessage(b)
			return err
		}, dimp.ErrInvalidMessage},
		{"array", nestedArray(10000), func(b []byte) error {
			_, err := dimp.ParseContent(b)
			return err
		}, dimp.ErrInvalidContent},
	} {
		if len(c.input) > 1<<20 {
			t.Fatalf("%s: %d bytes, more than a frame", c.name, len(c.input))
		}
		start := time.Now()
		err := c.parse([]byte(c.input))
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: %v to refuse", c.name, took)
		}
		if !errors.Is(err, c.want) || !errors.Is(err, jsonx.ErrTooDeep) {
			t.Errorf("%s: %v, want %v and ErrTooDeep", c.name, err, c.want)
		}
	}
}

// TestNestedThroughPipeline: a sender may seal a content nested 100 deep
// (writing it has no limit); the receiver's Open refuses it with an error
// that says so, as it comes out of the decryption.
func TestNestedThroughPipeline(t *testing.T) {
	w := dimptest.NewWorld(t)
	var c dimp.Content = dimp.NewText("bottom")
	for range 100 {
		c = &dimp.CombineForwardContent{Head: dimp.NewHead(dimp.ContentCombineForward), Title: "chat",
			Messages: []*dimp.InstantMessage{dimp.NewInstantMessage(w.Alice.ID, w.Bob.ID, c)}}
	}
	rm, _ := w.Seal(w.AliceP, w.Bob.ID, w.Bob.Profile(), c, true)
	_, err := w.BobP.Open(rm, w.Alice.Profile())
	// It decrypted: the fault is the content's, not the key's.
	if !errors.Is(err, jsonx.ErrTooDeep) || !errors.Is(err, dimp.ErrInvalidContent) || errors.Is(err, dimp.ErrDecrypt) ||
		!strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("open: %v, want ErrInvalidContent and ErrTooDeep, not ErrDecrypt", err)
	}
}
