package mockstation

import (
	"bytes"
	"encoding/json"
	"iter"
)

// Control payloads of dimples' WebSocket framing (spec/station.md §1.2).
var (
	payloadPing = []byte("PING")
	payloadPong = []byte("PONG")
	payloadNoop = []byte("NOOP")
	payloadOK   = []byte("OK")
	prefixAck   = []byte("ACK:")
)

// frameKind is what a client's frame (a WebSocket message, or the body of
// an MTP package) is, read the way dimples reads it.
type frameKind uint8

const (
	frameNothing frameKind = iota // empty, PONG, NOOP or OK: nothing to do
	framePing                     // PING: answered with PONG
	frameAck                      // ACK:{…}: an acknowledgement (see ackSignature)
	frameMessage                  // one message not starting with '{', parsed whole
	frameLines                    // starts with '{': messages, one per line (see messageLines)
)

// classifyFrame tells what a client's frame is.
func classifyFrame(data []byte) frameKind {
	switch {
	case bytes.HasPrefix(data, prefixAck):
		return frameAck
	case len(data) == 0, bytes.Equal(data, payloadPong), bytes.Equal(data, payloadNoop), bytes.Equal(data, payloadOK):
		return frameNothing
	case bytes.Equal(data, payloadPing):
		return framePing
	case data[0] != '{':
		return frameMessage
	}
	return frameLines
}

// messageLines yields the messages of a frame of kind frameLines: its
// lines, trimmed of white space, blank ones left out. dimples' clients
// send several messages in one frame so, and a message's JSON has no raw
// line break.
func messageLines(data []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for line := range bytes.SplitSeq(data, []byte{'\n'}) {
			if line = bytes.TrimSpace(line); len(line) > 0 && !yield(line) {
				return
			}
		}
	}
}

// ackSignature reads the signature that the body of an ACK: frame names,
// `{"time":…,"signature":"…"}` as dimchat's browser client writes it;
// false when it names none. The member's name must be exactly
// "signature": encoding/json would match a struct field's name in any
// case.
func ackSignature(body []byte) (string, bool) {
	var ack map[string]json.RawMessage
	if json.Unmarshal(body, &ack) != nil {
		return "", false
	}
	var sig string
	if json.Unmarshal(ack["signature"], &sig) != nil || sig == "" {
		return "", false
	}
	return sig, true
}
