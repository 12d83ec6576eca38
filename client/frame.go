package client

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"dimtui/dimp"
)

// A station, or a peer through an honest one, may send frames up to
// Config.MaxFrame (1 MiB) as fast as the connection carries them, and
// whoever keeps the frames reported (the UI's inspector, a transcript)
// would keep every byte of them. So a frame longer than Config.FrameHead
// is reported by its head: the frame with every long JSON string cut (or,
// when it is not JSON, its first bytes), its whole size and SHA-256 in
// FrameCut, and Layers opened again from what is kept, so that nothing an
// event holds points into the whole frame and it is freed once processed.

// DefaultFrameHead is how much of one frame an event carries by default:
// every handshake, receipt and documents answer is smaller, so only frames
// with a big content (or garbage) are cut.
const DefaultFrameHead = 16 << 10

// maxKeptString bounds one JSON string of a frame reported by its head. A
// signature, a key or a visa stays whole (an RSA-4096 signature is 684
// characters of Base64, a visa's data a few hundred); a message's data or
// a long text is cut.
const maxKeptString = 4096

// maxKeptError bounds the text of an error reported with a cut frame.
const maxKeptError = 1024

// FrameCut says that a frame is reported by its head only, and what the
// whole frame was.
type FrameCut struct {
	Size   int               // the whole frame's length in bytes
	SHA256 [sha256.Size]byte // the whole frame's digest
}

// NotKept is the marker that ends a text of which n more bytes were not
// kept: "… 684 KB more not kept".
func NotKept(n int) string {
	if n < 1000 {
		return fmt.Sprintf("… %d bytes more not kept", n)
	}
	return fmt.Sprintf("… %d KB more not kept", (n+500)/1000)
}

// KeptText returns s when it is at most limit bytes long, else a copy of
// its first limit bytes (not cutting a character in two) and, on a line of
// its own, the mark of what was left out: "… 684 KB more not kept".
func KeptText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.Clone(s[:n]) + "\n" + NotKept(len(s)-n)
}

// Shrunk returns the event as it is kept: unchanged when its frame is at
// most limit bytes long (or was cut already, or limit is not positive),
// else reported by its head (see shrinkFrame).
func (e FrameEvent) Shrunk(limit int) FrameEvent {
	if e.Cut == nil && limit > 0 && len(e.Raw) > limit {
		e.Raw, e.Layers, e.Cut = shrinkFrame(e.Raw, e.Layers, limit)
	}
	return e
}

// Shrunk returns the held frame's event as it is kept, as FrameEvent.Shrunk.
func (e HeldEvent) Shrunk(limit int) HeldEvent {
	if e.Cut == nil && limit > 0 && len(e.Raw) > limit {
		e.Raw, e.Layers, e.Cut = shrinkFrame(e.Raw, e.Layers, limit)
	}
	return e
}

// shrinkFrame returns the head of a frame longer than limit, layers that
// hold only what the head shows, and the whole frame's size and digest.
// The head of a JSON frame is the frame with every string longer than
// 4 KB cut and ended with NotKept's marker (still JSON, with every member
// in place) when that fits in limit; else, and for any other frame, its
// first limit bytes. The layers keep the verdicts (verified, the errors),
// and the messages parsed again from the head; nothing in the results
// shares memory with raw or with the layers given.
func shrinkFrame(raw []byte, layers *Layers, limit int) ([]byte, *Layers, *FrameCut) {
	cut := &FrameCut{Size: len(raw), SHA256: sha256.Sum256(raw)}
	head, isJSON := ShrinkJSON(raw, maxKeptString)
	if !isJSON || len(head) > limit {
		head, isJSON = headBytes(raw, limit), false
	}
	if layers == nil {
		return head, nil, cut
	}
	slim := &Layers{Verified: layers.Verified, ParseErr: shortError(layers.ParseErr),
		VerifyErr: shortError(layers.VerifyErr), OpenErr: shortError(layers.OpenErr),
		Signer: layers.Signer, MessageKey: layers.MessageKey} // small, and nothing of the frame
	if rm := layers.Reliable; rm != nil {
		if isJSON {
			slim.Reliable, _ = dimp.ParseReliableMessage(head)
		}
		if slim.Reliable == nil {
			// What the head does not show is left out: the envelope,
			// and the start of the data.
			slim.Reliable = &dimp.ReliableMessage{SecureMessage: dimp.SecureMessage{Envelope: rm.Envelope,
				Data: headString(rm.Data, maxKeptString)}}
		}
	}
	if im := layers.Instant; im != nil {
		slim.Instant = shrinkInstant(im, limit)
	}
	return head, slim, cut
}

// shrinkInstant returns a copy of an instant message with every long
// string of its content cut; at worst its envelope and the content's type.
func shrinkInstant(im *dimp.InstantMessage, limit int) *dimp.InstantMessage {
	if b, err := im.MarshalJSON(); err == nil {
		if small, ok := ShrinkJSON(b, maxKeptString); ok && len(small) <= limit {
			if out, err := dimp.ParseInstantMessage(small); err == nil {
				return out
			}
		}
	}
	out := &dimp.InstantMessage{Envelope: im.Envelope}
	if im.Content != nil {
		h := im.Content.Header()
		out.Content = &dimp.UnknownContent{Head: dimp.Head{Type: h.Type, SN: h.SN, Time: h.Time, Group: h.Group}}
	}
	return out
}

// shortError returns err, or an error with its text cut when that is long.
func shortError(err error) error {
	if err == nil || len(err.Error()) <= maxKeptError {
		return err
	}
	s := err.Error()
	return errors.New(headString(s, maxKeptError) + NotKept(len(s)-len(headString(s, maxKeptError))))
}

// ShrinkJSON returns a copy of raw, a JSON text, with every string (values
// and member names) longer than maxString bytes cut to about maxString
// bytes and ended with NotKept's marker: still valid JSON with every member
// in place. ok is false when raw is not JSON; then out is nil.
func ShrinkJSON(raw []byte, maxString int) (out []byte, ok bool) {
	if !json.Valid(raw) {
		return nil, false
	}
	out = make([]byte, 0, min(len(raw), 4*maxString+1024))
	for i := 0; i < len(raw); {
		if raw[i] != '"' {
			j := bytes.IndexByte(raw[i:], '"')
			if j < 0 {
				j = len(raw) - i
			}
			out = append(out, raw[i:i+j]...)
			i += j
			continue
		}
		// A string: raw[i] is its opening quote. cutAt is where its
		// content is cut, end its closing quote.
		start, cutAt := i+1, -1
		j := start
		for raw[j] != '"' {
			if cutAt < 0 && j-start >= maxString {
				cutAt = j
			}
			switch {
			case raw[j] == '\\' && raw[j+1] == 'u':
				j += 6
			case raw[j] == '\\':
				j += 2
			case raw[j] < utf8.RuneSelf:
				j++
			default:
				_, n := utf8.DecodeRune(raw[j:])
				j += n
			}
		}
		if cutAt < 0 {
			out = append(out, raw[i:j+1]...)
		} else {
			out = append(out, raw[i:cutAt]...)
			out = append(out, NotKept(j-cutAt)...)
			out = append(out, '"')
		}
		i = j + 1
	}
	if cap(out)-len(out) > len(out)/4 {
		out = bytes.Clone(out) // what is kept holds no room it does not use
	}
	return out, true
}

// headBytes copies the first limit bytes of b, not cutting a UTF-8
// character in two.
func headBytes(b []byte, limit int) []byte {
	if len(b) <= limit {
		return bytes.Clone(b)
	}
	n := limit
	for k := 0; k < utf8.UTFMax && n > 0 && !utf8.RuneStart(b[n]); k++ {
		n--
	}
	return bytes.Clone(b[:n])
}

// headString is headBytes for a string: its first bytes, a copy.
func headString(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	return string(headBytes([]byte(s[:limit+1]), limit))
}
