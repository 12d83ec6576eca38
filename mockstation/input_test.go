package mockstation_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
	"dimtui/mockstation"
)

func TestBadInput(t *testing.T) {
	alice, bob, mallory := user(t, "alice"), user(t, "bob"), user(t, "mallory")
	st := startStation(t, mockstation.Config{MaxFrame: 64 << 10, TimeWindow: time.Minute})
	st.disconnect(t, connect(t, st.url, bob))
	st.disconnect(t, connect(t, st.url, mallory))

	// mutate returns a copy of a valid message to bob with one member set
	// to raw JSON (or removed when raw is "").
	valid := func(c *client) *dimp.ReliableMessage { return c.seal(bob.ID, dimp.NewText("x"), false) }
	mutate := func(c *client, member, raw string) []byte {
		b, _ := valid(c).MarshalJSON()
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if raw == "" {
			delete(m, member)
		} else {
			m[member] = json.RawMessage(raw)
		}
		out, _ := json.Marshal(m)
		return out
	}
	cases := []struct {
		name    string
		frame   func(c *client) []byte
		receipt string // the answer; "" when it is not a receipt
		noError bool   // not a refusal: the receipt carries no error detail
	}{
		{name: "invalid JSON", frame: func(*client) []byte { return []byte(`{"sender": "alice@`) }, receipt: "Message not valid."},
		{name: "binary junk", frame: func(*client) []byte { return []byte{0xff, 0x00, 0x13, 0x37, 0x80} }, receipt: "Message not valid."},
		{name: "JSON array", frame: func(*client) []byte { return []byte(`[1,2,3]`) }, receipt: "Message not valid."},
		{name: "deeply nested", frame: func(*client) []byte {
			return []byte(`{"sender":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`)
		}, receipt: "Message not valid."},
		{name: "bad base64 data", frame: func(c *client) []byte { return mutate(c, "data", `"!!!not base64!!!"`) }, receipt: "Message not valid."},
		{name: "bad base64 signature", frame: func(c *client) []byte { return mutate(c, "signature", `"%%%"`) }, receipt: "Message not valid."},
		{name: "unsigned", frame: func(c *client) []byte { return mutate(c, "signature", "") }, receipt: "Message not signed."},
		{name: "wrong signature", frame: func(c *client) []byte {
			other, _ := valid(c).MarshalJSON()
			var m map[string]json.RawMessage
			json.Unmarshal(other, &m)
			return mutate(c, "signature", string(m["data"]))
		}, receipt: "Signature not verified."},
		{name: "forged sender", frame: func(*client) []byte {
			// A genuine message of mallory's, sent on alice's connection.
			m := dial(t, st.url, mallory)
			m.know(bob)
			b, _ := m.seal(bob.ID, dimp.NewText("from mallory"), false).MarshalJSON()
			return b
		}, receipt: "Sender not handshaken on this connection."},
		{name: "time out of window", frame: func(c *client) []byte { return mutate(c, "time", "1000000000") }, receipt: "Message time out of window."},
		{name: "bad attached meta", frame: func(c *client) []byte {
			b, _ := mallory.Meta.MarshalJSON()
			return mutate(c, "meta", string(b))
		}, receipt: "Meta does not match the sender."},
		{name: "wrong session key", frame: func(c *client) []byte {
			b, _ := c.seal(st.srv.ID(), dimp.NewHandshake(dimp.HandshakeHello, "not-the-key"), false).MarshalJSON()
			return b
		}, receipt: ""},
		{name: "unknown command", frame: func(c *client) []byte {
			b, _ := c.seal(st.srv.ID(), dimp.NewListCommand("frobnicate", nil), false).MarshalJSON()
			return b
		}, receipt: "Command not support.", noError: true},
		{name: "group receiver", frame: func(c *client) []byte {
			group, err := alice.Meta.GenerateID(dimp.Group, "")
			if err != nil {
				t.Fatal(err)
			}
			im := dimp.NewInstantMessage(alice.ID, group, dimp.NewText("to the group"))
			rm, err := c.packer.Seal(im, []*dimp.Profile{bob.Profile()}, dimp.SealOptions{})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := rm.MarshalJSON()
			return b
		}, receipt: "Group message not supported: send it to each member."},
	}
	a := connect(t, st.url, alice)
	a.know(bob)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a.writeFrame(websocket.MessageBinary, tc.frame(a))
			if tc.receipt != "" {
				r := a.receipt(tc.receipt)
				if r.Header().Extra["error"] == nil && !tc.noError {
					t.Errorf("refusal without error detail: %s", dimp.MarshalContent(r))
				}
			} else if hs, ok := a.next().im.Content.(*dimp.HandshakeCommand); !ok || hs.State() != dimp.HandshakeAgain {
				t.Errorf("want DIM?, got %v", hs)
			}
			// Still serving, on the same connection.
			a.send(bob.ID, dimp.NewText("still there?"))
			a.receipt(dimp.ReceiptCached)
		})
	}

	// dave never introduced himself and attaches nothing.
	d := dial(t, st.url, user(t, "dave"))
	d.know(bob)
	unknown, _ := d.seal(bob.ID, dimp.NewText("who am I?"), false).MarshalJSON()
	d.close()
	closing := []struct {
		name  string
		early bool // before the handshake
		frame []byte
		code  websocket.StatusCode
	}{
		{"junk before handshake", true, []byte("GET / HTTP/1.1"), websocket.StatusPolicyViolation},
		{"unknown sender before handshake", true, unknown, websocket.StatusPolicyViolation},
		{"oversized frame", false, []byte(`{"data":"` + strings.Repeat("A", 70<<10) + `"}`), websocket.StatusMessageTooBig},
	}
	for _, tc := range closing {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, st.url, alice)
			if !tc.early {
				c.handshake()
			}
			c.writeFrame(websocket.MessageText, tc.frame)
			err := c.closeErr()
			var ce websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tc.code || ce.Reason == "" {
				t.Fatalf("closed with %v, want status %d and a reason", err, tc.code)
			}
			t.Logf("closed: %d %q", ce.Code, ce.Reason)
		})
	}
	// The station still serves.
	a.send(bob.ID, dimp.NewText("after all that"))
	a.receipt(dimp.ReceiptCached)
	connect(t, st.url, alice).close()
}

func TestRateLimit(t *testing.T) {
	st := startStation(t, mockstation.Config{RateLimit: 1, RateBurst: 5})
	c := dial(t, st.url, user(t, "alice"))
	for range 10 { // the station closes the connection on the sixth
		if err := c.ws.Write(t.Context(), websocket.MessageText, []byte("PING")); err != nil {
			break
		}
	}
	var pongs int
	for f := range c.frames {
		if string(f) == "PONG" {
			pongs++
		}
	}
	var ce websocket.CloseError
	if err := c.closeErr(); !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation {
		t.Fatalf("closed with %v, want policy violation", err)
	}
	if pongs != 5 {
		t.Errorf("%d PONGs before the limit, want 5", pongs)
	}
}

func TestControlFrames(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	c := connect(t, st.url, user(t, "alice"))
	for _, f := range []string{"PONG", "NOOP", "OK", "", "ACK:not json", `ACK:{"signature":"x"}`} {
		c.writeFrame(websocket.MessageText, []byte(f))
	}
	c.writeFrame(websocket.MessageBinary, []byte("PING"))
	if f := c.nextFrame(); string(f) != "PONG" {
		t.Errorf("PING answered %q", f)
	}
	// Several messages in one frame, one per line.
	var lines []string
	for _, text := range []string{"active users", "active users"} {
		b, _ := c.seal(st.srv.ID(), dimp.NewText(text), false).MarshalJSON()
		lines = append(lines, string(b))
	}
	c.writeFrame(websocket.MessageText, []byte(strings.Join(lines, "\n")+"\n"))
	for range lines {
		if _, ok := c.next().im.Content.(*dimp.TextContent); !ok {
			t.Error("a line went unanswered")
		}
	}
}

// TestGarbage feeds randomly damaged copies of valid messages to the
// station: every one is answered or ignored, none crashes it, and the
// connection keeps serving in order.
func TestGarbage(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob := user(t, "alice"), user(t, "bob")
	st.disconnect(t, connect(t, st.url, bob))
	a := connect(t, st.url, alice)
	a.know(bob)
	rng := rand.New(rand.NewPCG(1, 2))
	templates := [][]byte{}
	for _, to := range []dimp.ID{bob.ID, st.srv.ID(), dimp.AnyStation, dimp.Everyone} {
		b, _ := a.seal(to, dimp.NewText("garbage in"), true).MarshalJSON()
		templates = append(templates, b)
	}
	for range 300 {
		b := slices.Clone(templates[rng.IntN(len(templates))])
		switch rng.IntN(4) {
		case 0: // flip some bytes
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
		case 1: // cut it short
			b = b[:rng.IntN(len(b))]
		case 2: // repeat a slice of it inside
			i, j := rng.IntN(len(b)), rng.IntN(len(b))
			if i > j {
				i, j = j, i
			}
			b = slices.Concat(b[:j], b[i:j], b[j:])
		case 3: // a digit or quote somewhere
			b[rng.IntN(len(b))] = "0\"{}[],:\\"[rng.IntN(9)]
		}
		if len(b) > 0 && (b[0] == 'P' || b[0] == 'A' || b[0] == 'N' || b[0] == 'O') {
			continue // not a control payload by accident
		}
		a.writeFrame(websocket.MessageBinary, b)
	}
	sentinel := a.send(bob.ID, dimp.NewText("sentinel"))
	for {
		raw := a.nextFrame()
		rm, err := dimp.ParseReliableMessage(raw)
		if err != nil || !rm.Sender.Equal(st.srv.ID()) {
			continue // a broadcast echoed to... nobody else is online; skip anything odd
		}
		im, err := a.packer.Open(rm, a.station)
		if err != nil {
			t.Fatalf("station answer does not open: %v", err)
		}
		if r, ok := im.Content.(*dimp.ReceiptCommand); ok && r.Origin != nil && r.Origin.Signature == sentinel.SignatureText() {
			if r.Text != dimp.ReceiptCached {
				t.Errorf("sentinel: %q", r.Text)
			}
			break
		}
	}
	connect(t, st.url, alice).close()
}

// TestNoPaddingOracle sends the station messages whose key fails in
// different ways — not RSA at all, RSA that decrypts to a random key, RSA
// with bad padding — and checks that every refusal reads the same: a
// station that told them apart would be a PKCS#1 v1.5 padding oracle.
func TestNoPaddingOracle(t *testing.T) {
	alice := user(t, "alice")
	st := startStation(t, mockstation.Config{})
	a := connect(t, st.url, alice)
	stationKey, err := st.srv.Profile().EncryptKeys()
	if err != nil {
		t.Fatal(err)
	}
	size := 128 // the station's RSA-1024 visa key
	withKey := func(ek []byte) []byte {
		rm := a.seal(st.srv.ID(), dimp.NewText("active users"), false)
		for k := range rm.Keys {
			rm.Keys[k] = base64.StdEncoding.EncodeToString(ek)
		}
		data, _ := rm.DataBytes()
		rm.Signature, _ = alice.SignKey.Sign(data)
		raw, _ := rm.MarshalJSON()
		return raw
	}
	garbageKey, _ := stationKey[0].Key.Encrypt([]byte("not a key map at all"))
	cases := map[string][]byte{
		"bad padding":       withKey(bytes.Repeat([]byte{0x42}, size)),
		"wrong length":      withKey([]byte{1, 2, 3}),
		"decrypts to junk":  withKey(garbageKey),
		"a real random key": withKey(mustEncrypt(t, stationKey[0].Key, `{"algorithm":"AES","data":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`)),
	}
	var first string
	for name, frame := range cases {
		a.writeFrame(websocket.MessageBinary, frame)
		r := a.receipt("Message not decrypted.")
		got := r.Text + " / " + string(r.Extra["error"])
		if first == "" {
			first = got
		} else if got != first {
			t.Errorf("%s: refusal %q differs from %q", name, got, first)
		}
	}
}

func mustEncrypt(t *testing.T, k crypto.EncryptKey, plain string) []byte {
	t.Helper()
	ct, err := k.Encrypt([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	return ct
}
