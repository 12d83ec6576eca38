package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
)

// forwardTrio is alice, bob and carol on one station, with bob knowing
// alice (she wrote to him first), and a packer of alice's own to seal
// messages as she would.
type forwardTrio struct {
	alice, bob, carol *peer
	aliceID, bobID    *dimp.Identity
	aliceP            *dimp.Packer
}

func newForwardTrio(t *testing.T) *forwardTrio {
	t.Helper()
	st := startStation(t, t.TempDir(), "")
	f := &forwardTrio{aliceID: newUser(t, "alice"), bobID: newUser(t, "bob")}
	f.alice, f.bob = connect(t, st.url, f.aliceID), connect(t, st.url, f.bobID)
	f.carol = connect(t, st.url, newUser(t, "carol"))
	for _, p := range []*peer{f.alice, f.bob, f.carol} {
		p.waitRunning()
	}
	f.aliceP = dimp.NewPacker(f.aliceID)
	if _, err := f.alice.c.SendText(context.Background(), f.bob.c.Me(), "hi bob"); err != nil {
		t.Fatal(err)
	}
	f.bob.waitFor(`"hi bob"`, 15*time.Second, func([]client.Event) bool { return f.bob.messages["hi bob"] > 0 })
	return f
}

// forward has carol forward secrets to bob and returns what bob's client
// made of them.
func (f *forwardTrio) forward(t *testing.T, secrets ...*dimp.ReliableMessage) []client.ForwardedMessage {
	t.Helper()
	fc := &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward), Secrets: secrets}
	id, err := f.carol.c.Send(context.Background(), f.bob.c.Me(), fc)
	if err != nil {
		t.Fatal(err)
	}
	var got *client.MessageEvent
	f.bob.waitFor("carol's forward "+string(id), 15*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if m, ok := ev.(client.MessageEvent); ok && m.ID == id {
				got = &m
				return true
			}
		}
		return false
	})
	if _, ok := got.Message.Content.(*dimp.ForwardContent); !ok || !got.Message.Sender.SameAs(f.carol.c.Me()) {
		t.Fatalf("bob got %T from %s", got.Message.Content, got.Message.Sender)
	}
	return got.Forwarded
}

// sealForBob seals text as alice, for bob.
func (f *forwardTrio) sealForBob(t *testing.T, text string) *dimp.ReliableMessage {
	t.Helper()
	im := dimp.NewInstantMessage(f.aliceID.ID, f.bobID.ID, dimp.NewText(text))
	rm, err := f.aliceP.Seal(im, []*dimp.Profile{f.bobID.Profile()}, dimp.SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rm
}

func text(c dimp.Content) string {
	if tc, ok := c.(*dimp.TextContent); ok {
		return tc.Text
	}
	return fmt.Sprintf("%T", c)
}

// TestForwardedMessages: what bob sees of the messages carol forwards to
// him. Each is verified with its own signer's meta and visa and opened
// only when it was for bob: a message alice wrote to carol is signed by
// alice but not readable; one alice sealed for bob is; an altered
// signature, or a signer bob knows nothing of, is not verified.
func TestForwardedMessages(t *testing.T) {
	f := newForwardTrio(t)
	alice, bob, carol := f.alice.c.Me(), f.bob.c.Me(), f.carol.c.Me()

	t.Run("for carol", func(t *testing.T) {
		// The message as it reached carol's client, signed by alice.
		if _, err := f.alice.c.SendText(context.Background(), carol, "for carol only"); err != nil {
			t.Fatal(err)
		}
		var rm *dimp.ReliableMessage
		f.carol.waitFor("alice's frame", 15*time.Second, func(evs []client.Event) bool {
			for _, ev := range evs {
				fe, ok := ev.(client.FrameEvent)
				if ok && fe.Dir == client.In && fe.Layers != nil && fe.Layers.Instant != nil && fe.Layers.Reliable != nil &&
					text(fe.Layers.Instant.Content) == "for carol only" {
					rm = fe.Layers.Reliable
					return true
				}
			}
			return false
		})
		got := f.forward(t, rm)
		if len(got) != 1 {
			t.Fatalf("forwarded: %+v", got)
		}
		g := got[0]
		want := "encrypted for " + carol.String() + ": not readable here"
		if !g.Sender.SameAs(alice) || !g.Receiver.SameAs(carol) || !g.Verified || g.Content != nil || g.Problem != want {
			t.Errorf("got %s → %s verified %v content %v problem %q; want alice → carol, verified, no content, %q",
				g.Sender, g.Receiver, g.Verified, g.Content, g.Problem, want)
		}
	})

	t.Run("for bob", func(t *testing.T) {
		got := f.forward(t, f.sealForBob(t, "sealed for bob"))
		if len(got) != 1 {
			t.Fatalf("forwarded: %+v", got)
		}
		g := got[0]
		if !g.Sender.SameAs(alice) || !g.Receiver.SameAs(bob) || !g.Verified || text(g.Content) != "sealed for bob" || g.Problem != "" {
			t.Errorf("got %s → %s verified %v content %q problem %q", g.Sender, g.Receiver, g.Verified, text(g.Content), g.Problem)
		}
	})

	t.Run("altered signature", func(t *testing.T) {
		rm := alterSignature(t, f.sealForBob(t, "altered"))
		got := f.forward(t, rm)
		if len(got) != 1 {
			t.Fatalf("forwarded: %+v", got)
		}
		g := got[0]
		if !g.Sender.SameAs(alice) || g.Verified || g.Content != nil || !strings.Contains(g.Problem, "signature does not verify") {
			t.Errorf("got %s verified %v content %v problem %q; want not verified, the signature named",
				g.Sender, g.Verified, g.Content, g.Problem)
		}
	})

	t.Run("unknown signer", func(t *testing.T) {
		dave := newUser(t, "dave") // never connected: bob knows nothing of him
		im := dimp.NewInstantMessage(dave.ID, bob, dimp.NewText("from a stranger"))
		rm, err := dimp.NewPacker(dave).Seal(im, []*dimp.Profile{f.bobID.Profile()}, dimp.SealOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rm.Meta != nil {
			t.Fatal("the message carries a meta")
		}
		got := f.forward(t, rm)
		if len(got) != 1 {
			t.Fatalf("forwarded: %+v", got)
		}
		g := got[0]
		if !g.Sender.SameAs(dave.ID) || g.Verified || g.Content != nil || !strings.Contains(g.Problem, "not known here") {
			t.Errorf("got %s verified %v content %v problem %q; want not verified, sender not known",
				g.Sender, g.Verified, g.Content, g.Problem)
		}
	})

	t.Run("forty", func(t *testing.T) {
		var secrets []*dimp.ReliableMessage
		for i := range 40 {
			secrets = append(secrets, f.sealForBob(t, fmt.Sprintf("message %d", i)))
		}
		got := f.forward(t, secrets...)
		if len(got) != 17 {
			t.Fatalf("%d entries, want 16 checked and one line for the rest", len(got))
		}
		for i, g := range got[:16] {
			if !g.Verified || text(g.Content) != fmt.Sprintf("message %d", i) || g.Problem != "" {
				t.Errorf("message %d: verified %v content %q problem %q", i, g.Verified, text(g.Content), g.Problem)
			}
		}
		if last := got[16]; !last.Sender.IsZero() || last.Verified || last.Content != nil || last.Problem != "24 more messages, not checked" {
			t.Errorf("the last line: %+v", last)
		}
	})
}

// alterSignature returns rm with one byte of its signature changed, as it
// would arrive.
func alterSignature(t *testing.T, rm *dimp.ReliableMessage) *dimp.ReliableMessage {
	t.Helper()
	raw, err := rm.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(m["signature"].(string))
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)-1] ^= 0x01
	m["signature"] = base64.StdEncoding.EncodeToString(sig)
	raw, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out, err := dimp.ParseReliableMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
