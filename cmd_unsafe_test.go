package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"

	"dimtui/dimp"
)

// rawUnsafe reports a character escapeUnsafe must have escaped.
func rawUnsafe(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028')
	})
}

// TestInspectEscapesPeerText: what the inspection commands print of a
// peer's name, document type and message text carries no control or bidi
// character raw, only as a \u escape; JSON output still reads back to the
// peer's text, and errors are escaped too.
func TestInspectEscapesPeerText(t *testing.T) {
	dir := t.TempDir()
	const name = "\u202eevil\u2066\u009b"
	evil := newUser(t, name)
	meta := writeMarshaled(t, dir, "meta.json", evil.Meta)
	out, err := run(t, "meta", "check", meta)
	if err != nil || rawUnsafe(out) || !strings.HasPrefix(out, `\u202eevil\u2066\u009b@`) {
		t.Errorf("meta check: %+q, %v", out, err)
	}
	doc := dimp.NewDocument(evil.ID, "visa\u202e\u2028")
	if err := doc.Set("key", evil.Decrypt[0].PublicKey()); err != nil {
		t.Fatal(err)
	}
	if err := doc.Sign(evil.SignKey); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "doc", "verify", writeMarshaled(t, dir, "doc.json", doc), "--meta", meta)
	if err != nil || rawUnsafe(out) || !strings.HasPrefix(out, `visa\u202e\u2028 of \u202eevil`) {
		t.Errorf("doc verify: %+q, %v", out, err)
	}

	bob := newUser(t, "bob")
	const text = "hi \u202eolleh\u202c \x7f\u0085\u2028"
	rm, err := dimp.NewPacker(evil).Seal(dimp.NewInstantMessage(evil.ID, bob.ID, dimp.NewText(text)),
		[]*dimp.Profile{bob.Profile()}, dimp.SealOptions{Attach: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "msg", "open", writeMarshaled(t, dir, "msg.json", rm), "--key", writeMarshaled(t, dir, "bob.json", bob.Decrypt[0]))
	if err != nil || rawUnsafe(out) {
		t.Fatalf("msg open: %+q, %v", out, err)
	}
	var im struct {
		Sender  string `json:"sender"`
		Content struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal([]byte(out), &im); err != nil || im.Content.Text != text || im.Sender != evil.ID.String() {
		t.Errorf("msg open output reads back as %+q from %+q (%v), want %+q", im.Content.Text, im.Sender, err, text)
	}

	var stderr bytes.Buffer
	printError(&stderr, errors.New("bad visa of "+evil.ID.String()+": \x1b]0;pwned\x07"))
	if got := stderr.String(); rawUnsafe(got) || !strings.Contains(got, `\u001b]0;pwned\u0007`) {
		t.Errorf("printError wrote %+q", got)
	}
}
