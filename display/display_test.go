package display

import (
	"testing"
	"unicode"
)

// bidi is every bidirectional formatting character: the embeddings and
// overrides U+202A–U+202E, the isolates U+2066–U+2069 and the marks LRM,
// RLM and ALM.
const bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

func TestSanitizeDropsBidiControls(t *testing.T) {
	for _, r := range bidi {
		if !isBidiControl(r) {
			t.Fatalf("%U is not a bidi control", r)
		}
	}
	if got, want := Sanitize("pay \u202eevil\u202c now\u2066x\u2069 \u200ea\u200f\u061c\u2028b\u2029", true), "pay evil nowx a b "; got != want {
		t.Errorf("Sanitize = %q, want %q", got, want)
	}
	// Joiners that emoji and scripts need stay.
	if s := "👩\u200d💻 क्\u200dष"; Sanitize(s, false) != s {
		t.Errorf("Sanitize changed %q to %q", s, Sanitize(s, false))
	}
}

func TestSanitizeDropsControlCharacters(t *testing.T) {
	in := "red\x1b[31m text\x07 \x1b]52;c;AAAA\x07tab\tnl\nend\u009b"
	if got, want := Sanitize(in, true), "red[31m text ]52;c;AAAAtab    nl\nend"; got != want {
		t.Errorf("Sanitize = %q, want %q", got, want)
	}
	if got := Sanitize("a\nb", false); got != "a b" {
		t.Errorf("Sanitize without newlines = %q", got)
	}
}

func TestDropBidiKeepsStyling(t *testing.T) {
	in := "\x1b[1mbold\u202e\x1b[0m x\u2066"
	if got, want := DropBidi(in), "\x1b[1mbold\x1b[0m x"; got != want {
		t.Errorf("DropBidi = %q, want %q", got, want)
	}
	for _, r := range bidi {
		if !unicode.Is(unicode.Bidi_Control, r) {
			t.Errorf("%U is not a Bidi_Control character", r)
		}
	}
}
