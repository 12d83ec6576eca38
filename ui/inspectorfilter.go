package ui

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// The inspector lists every frame by default, and a live client sends
// many that are housekeeping: PINGs and their PONGs, ACKs, the handshake,
// documents and login commands, the "active users" question. A filter
// (one key cycles it) and a search narrow the list to what one is looking
// for. Both are decided once per frame and per change of filter or query
// (see frameRec.matches), never while drawing.

// frameFilter chooses the frames the inspector lists, by their
// client.FrameKind and, for chat only, who they are between.
type frameFilter int

const (
	// filterAll lists every frame (and the control-frames toggle may
	// hide the control frames).
	filterAll frameFilter = iota
	// filterMessages lists the DIM messages that are not the handshake
	// nor a command: kinds text, app, other (any other content), receipt,
	// and message (one whose content could not be read). Not the control
	// frames (ping: PING, PONG, NOOP, OK; ack), the handshake, or commands
	// (documents, meta, login, report, group history commands).
	filterMessages
	// filterChat lists what users wrote each other: kinds text, app,
	// other and message, not to or from a station (the "active users"
	// question and its answer, the station's forwarded documents). Not
	// the receipts: the delivery ticks in the conversation show them.
	filterChat
	filterCount
)

// String names the filter as the inspector's title says it.
func (f frameFilter) String() string {
	switch f {
	case filterMessages:
		return "messages"
	case filterChat:
		return "chat only"
	}
	return "all frames"
}

// next is the filter the cycling key goes to: all, messages, chat only,
// and all again.
func (f frameFilter) next() frameFilter { return (f + 1) % filterCount }

// admits reports whether the filter lists a frame.
func (f frameFilter) admits(r *frameRec) bool {
	switch f {
	case filterMessages:
		switch r.kind {
		case client.KindText, client.KindApp, client.KindOther, client.KindReceipt, client.KindMessage:
			return true
		}
		return false
	case filterChat:
		switch r.kind {
		case client.KindText, client.KindApp, client.KindOther, client.KindMessage:
			return !withStation(r)
		}
		return false
	}
	return true
}

// withStation reports whether a message frame is to or from a station
// rather than between users.
func withStation(r *frameRec) bool {
	if r.layers == nil || r.layers.Reliable == nil {
		return false
	}
	isStation := func(id dimp.ID) bool {
		return id.Type() == dimp.Station || id.SameAs(dimp.AnyStation) || id.SameAs(dimp.EveryStations)
	}
	return isStation(r.layers.Reliable.Sender) || isStation(r.layers.Reliable.Receiver)
}

// maxQuery bounds the inspector's search query, in runes.
const maxQuery = 100

// searchText is what a search looks in besides the raw frame, lower-cased
// once when the frame is recorded: its summary, its sender's and
// receiver's names and IDs, and the content in the clear (a text in full,
// an app content's app, mod, act and extra fields), which the raw frame
// only holds encrypted.
func searchText(f *frameRec) string {
	var b strings.Builder
	b.WriteString(f.summary)
	if l := f.layers; l != nil && l.Reliable != nil {
		for _, id := range []dimp.ID{l.Reliable.Sender, l.Reliable.Receiver} {
			b.WriteString("\n" + display.Name(id) + "\n" + id.String())
		}
		if im := l.Instant; im != nil && !f.unprocessed() {
			switch c := im.Content.(type) {
			case *dimp.TextContent:
				b.WriteString("\n" + c.Text)
			case *dimp.AppContent:
				b.WriteString("\n" + c.App + "\n" + c.Mod + "\n" + c.Act)
				for k, v := range c.Extra {
					b.WriteString("\n" + k + "\n" + string(v))
				}
			}
		}
	}
	return strings.ToLower(b.String())
}

// matches reports whether the frame contains needle (lower-cased; ""
// matches every frame) in its search text or its raw bytes, ignoring
// case. The answer is kept with the needle it was for, so that drawing
// and listing again cost nothing until the query changes; a needle that
// extends one the frame did not contain is not looked for again.
func (f *frameRec) matches(needle string) bool {
	if needle == "" {
		return true
	}
	if f.query == needle {
		return f.hit
	}
	hit := false
	if f.query == "" || f.hit || !strings.Contains(needle, f.query) {
		hit = strings.Contains(f.hay, needle) || containsFold(f.raw, needle)
	}
	f.query, f.hit = needle, hit
	return hit
}

// containsFold reports whether b contains needle, a lower-cased string,
// ignoring case; without allocating when needle is ASCII (JSON's
// punctuation and names mostly are: a multi-byte rune of b then never
// matches one of its bytes).
func containsFold(b []byte, needle string) bool {
	n := len(needle)
	if n == 0 {
		return true
	}
	for i := range n {
		if needle[i] >= utf8.RuneSelf {
			return bytes.Contains(bytes.ToLower(b), []byte(needle))
		}
	}
	first := needle[0]
	for i := 0; i+n <= len(b); i++ {
		if lowerASCII(b[i]) != first {
			continue
		}
		j := 1
		for j < n && lowerASCII(b[i+j]) == needle[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
