package mockstation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// frameSeeds are frames as clients send them, and broken ones.
var frameSeeds = []string{
	"", "PING", "PONG", "NOOP", "OK", "ACK:", `ACK:{"time":1700000000,"signature":"c2ln"}`, "ACK:{",
	"{", "{}", "{}\n{}", "\n\n{\"sender\":\"a\"}\r\n  \n{\"sender\":\"b\"}\n", "{\u00a0\n\u0085{}",
	"eyJzZW5kZXIiOiJhIn0=", "\x00\xff\xfe", "PING\n", " PING",
}

// FuzzFrame: classifyFrame, messageLines and ackSignature take any frame
// without panicking; only a frame that starts with '{' is split, into its
// non-blank lines, trimmed, in order; an ACK's signature is the one its
// JSON names.
func FuzzFrame(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		kind := classifyFrame(data)
		switch kind {
		case frameAck:
			if !bytes.HasPrefix(data, prefixAck) {
				t.Fatalf("%q taken for an ACK", data)
			}
			if sig, ok := ackSignature(data[len(prefixAck):]); ok {
				var m map[string]any
				if sig == "" || json.Unmarshal(data[len(prefixAck):], &m) != nil || m["signature"] != sig {
					t.Fatalf("signature %q read from %q", sig, data)
				}
			}
			return
		case frameLines:
			if data[0] != '{' {
				t.Fatalf("%q split into lines", data)
			}
		default:
			return
		}
		// The frame's pieces between line breaks, trimmed, blank ones left
		// out, in order: white space is Unicode's, so a line may end in the
		// middle of what looks like a character's bytes.
		var want [][]byte
		for _, piece := range bytes.Split(data, []byte{'\n'}) {
			if piece = bytes.TrimSpace(piece); len(piece) > 0 {
				want = append(want, piece)
			}
		}
		n := 0
		for line := range messageLines(data) {
			if len(line) == 0 || bytes.IndexByte(line, '\n') >= 0 || len(bytes.TrimSpace(line)) != len(line) {
				t.Fatalf("line %q of %q", line, data)
			}
			if n >= len(want) || !bytes.Equal(line, want[n]) {
				t.Fatalf("line %d of %q is %q, want %q", n, data, line, want)
			}
			n++
		}
		if n != len(want) {
			t.Fatalf("%d lines of %q, want %q", n, data, want)
		}
		for range messageLines(data) {
			break // stopping early is fine
		}
	})
}

// memTransport is a connection that delivers one frame and records what
// the station writes.
type memTransport struct {
	frame  []byte
	sent   bool
	taken  chan struct{} // closed when the reader asks for more: the frame is in the pipeline
	closed chan struct{}
	once   sync.Once

	mu     sync.Mutex
	out    [][]byte
	reason string
}

func newMemTransport(frame []byte) *memTransport {
	return &memTransport{frame: frame, taken: make(chan struct{}), closed: make(chan struct{})}
}

func (t *memTransport) readPayload() ([]byte, error) {
	if !t.sent {
		t.sent = true
		return t.frame, nil
	}
	close(t.taken)
	<-t.closed
	return nil, net.ErrClosed
}

func (t *memTransport) writePayload(data []byte, _ string) error {
	select {
	case <-t.closed:
		return net.ErrClosed
	default:
	}
	t.mu.Lock()
	t.out = append(t.out, bytes.Clone(data))
	t.mu.Unlock()
	return nil
}

func (t *memTransport) close(_ websocket.StatusCode, reason string) {
	t.mu.Lock()
	t.reason = reason
	t.mu.Unlock()
	t.closeNow()
}

func (t *memTransport) closeNow() { t.once.Do(func() { close(t.closed) }) }

// sessionDeadline bounds the handling of one frame in FuzzSessionFrame.
const sessionDeadline = 10 * time.Second

// FuzzSessionFrame hands one frame to a whole session of a real station
// (SQLite store, verification, routing, answers), before or after the
// handshake: the session handles it within sessionDeadline, never panics,
// and writes nothing but PONG and DIM messages; a close reason fits a
// close frame.
func FuzzSessionFrame(f *testing.F) {
	s, err := New(f.Context(), Config{DataDir: f.TempDir(), HandshakeTimeout: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	alice, bob := newUser(f, "alice"), newUser(f, "bob")
	if _, err := s.learn(context.Background(), alice.Profile(), alice.Meta, alice.Visa); err != nil {
		f.Fatal(err)
	}
	for _, seed := range frameSeeds {
		f.Add(false, []byte(seed))
		f.Add(true, []byte(seed))
	}
	packer := dimp.NewPacker(alice)
	seal := func(to dimp.ID, p *dimp.Profile, content dimp.Content, attach bool) []byte {
		rm, err := packer.Seal(dimp.NewInstantMessage(alice.ID, to, content), []*dimp.Profile{p}, dimp.SealOptions{Attach: attach})
		if err != nil {
			f.Fatal(err)
		}
		raw, err := rm.MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		return raw
	}
	text := seal(bob.ID, bob.Profile(), dimp.NewText("hello bob"), false)
	hello := seal(s.ID(), s.Profile(), dimp.NewHandshake(dimp.HandshakeHello, ""), true)
	users := seal(s.ID(), s.Profile(), dimp.NewText(activeUsersText), false)
	var sig struct {
		Signature string `json:"signature"`
	}
	json.Unmarshal(text, &sig)
	for _, frame := range [][]byte{text, hello, users,
		bytes.Join([][]byte{text, users}, []byte("\n")),
		append(append([]byte("\n "), hello...), "\r\n\n"...),
		[]byte(`ACK:{"time":1700000000,"signature":"` + sig.Signature + `"}`)} {
		f.Add(false, frame)
		f.Add(true, frame)
	}

	f.Fuzz(func(t *testing.T, handshaken bool, frame []byte) {
		tr := newMemTransport(frame)
		if !s.track() {
			t.Fatal("station closed")
		}
		c := s.newConn(tr, "192.0.2.1:4000")
		if handshaken {
			c.register(alice.ID, alice.Profile())
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.run()
		}()
		deadline := time.NewTimer(sessionDeadline)
		defer deadline.Stop()
		settled := make(chan struct{})
		go func() {
			select {
			case <-tr.taken:
			case <-done:
			}
			c.settle() // the frame handled and answered
			c.drain(sessionDeadline)
			close(settled)
		}()
		select {
		case <-settled:
		case <-deadline.C:
			t.Fatalf("frame %q not handled in %s", frame, sessionDeadline)
		}
		tr.closeNow()
		select {
		case <-done:
		case <-deadline.C:
			t.Fatalf("session did not end in %s after frame %q", sessionDeadline, frame)
		}

		tr.mu.Lock()
		defer tr.mu.Unlock()
		for _, out := range tr.out {
			if bytes.Equal(out, payloadPong) {
				continue
			}
			if _, err := dimp.ParseReliableMessage(out); err != nil {
				t.Fatalf("station wrote %q for %q: %v", out, frame, err)
			}
		}
		if len(tr.reason) > 123 || !utf8.ValidString(tr.reason) {
			t.Fatalf("close reason %q", tr.reason)
		}
	})
}

// newUser makes a user as dimchat's clients do: an MKM meta on a
// secp256k1 key and a visa with an RSA-1024 key.
func newUser(tb testing.TB, name string) *dimp.Identity {
	tb.Helper()
	return newNicknamed(tb, name, name)
}

// newNicknamed makes a user whose visa name may differ from its ID's name.
func newNicknamed(tb testing.TB, name, nickname string) *dimp.Identity {
	tb.Helper()
	sign, err := crypto.GenerateECC()
	if err != nil {
		tb.Fatal(err)
	}
	visa, err := crypto.GenerateRSA(1024)
	if err != nil {
		tb.Fatal(err)
	}
	id, err := dimp.NewIdentity(dimp.User, dimp.MetaMKM, name, nickname, sign, visa)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// NewUser is newUser for the package's external tests.
var NewUser = newUser

// NewNicknamed is newNicknamed for the package's external tests.
var NewNicknamed = newNicknamed

// A close reason longer than a close frame holds is cut on the wire and
// kept whole for the log, where the operator looks for why.
func TestCloseReasonKeptWholeForTheLog(t *testing.T) {
	long := "attached visa: " + strings.Repeat("signature does not verify ", 10) + "é"
	var ce *closeError
	if !errors.As(closeWith(websocket.StatusPolicyViolation, "%s", long), &ce) {
		t.Fatal("not a close error")
	}
	if len(ce.reason) > 123 || !utf8.ValidString(ce.reason) || !strings.HasSuffix(ce.reason, "...") {
		t.Errorf("reason sent: %q (%d bytes)", ce.reason, len(ce.reason))
	}
	if ce.full != long {
		t.Errorf("reason logged: %q", ce.full)
	}
}
