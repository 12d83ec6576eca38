package client

import (
	"bytes"
	"testing"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// frameEvents returns the frames among events.
func frameEvents(evs []Event) []FrameEvent {
	var out []FrameEvent
	for _, ev := range evs {
		if f, ok := ev.(FrameEvent); ok {
			out = append(out, f)
		}
	}
	return out
}

// A message received is reported with the keys that opened it, as they
// were used: the sender's meta key verified its signature, the user's visa
// key decrypted its message key, and the message key is the one the
// sender sealed it with. A message sent records the user's key that
// signed it and the receiver's visa key the message key went to.
func TestLayersNameTheKeys(t *testing.T) {
	l, alice := newTestLoop(t, newTestID(t, dimp.Station, "station"), 64)
	bob := newTestUser(t, "bob")
	l.peers[IDKey(bob.ID)] = bob.Profile()

	im := dimp.NewInstantMessage(bob.ID, alice.ID, dimp.NewText("hello alice"))
	rm, sealed, err := dimp.NewPacker(bob).SealTraced(im, []*dimp.Profile{alice.Profile()}, dimp.SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := rm.MarshalJSON()
	l.receive(raw, l.since)
	frames := frameEvents(drainEvents(l))
	if len(frames) == 0 || frames[0].Layers == nil {
		t.Fatalf("no frame with layers reported: %v", frames)
	}
	got := frames[0].Layers
	if s := got.Signer; s == nil || !s.Owner.SameAs(bob.ID) || s.Role != MetaKey || s.Kind() != "ECC secp256k1" || len(s.Fingerprint) != 8 {
		t.Errorf("signer %+v, want bob's meta key, ECC secp256k1, with a fingerprint", s)
	}
	mk := got.MessageKey
	if mk == nil {
		t.Fatal("no message key recorded")
	}
	if mk.Algorithm != "AES-256-CBC" || !bytes.Equal(mk.Key, sealed.MessageKey.Data()) || !bytes.Equal(mk.IV, rm.IV) || mk.Reused {
		t.Errorf("message key %s %x iv %x (reused %v), want AES-256-CBC %x iv %x", mk.Algorithm, mk.Key, mk.IV, mk.Reused, sealed.MessageKey.Data(), rm.IV)
	}
	if d := mk.DecryptedBy; d == nil || !d.Owner.SameAs(alice.ID) || d.Role != VisaKey || d.Kind() != "RSA-1024" || mk.Entry != alice.ID.String() {
		t.Errorf("decrypted by %+v from %q, want alice's visa key, RSA-1024, from her entry", d, mk.Entry)
	}

	// The receipt alice's client sent back: signed with her meta key, its
	// message key encrypted to bob's visa key.
	var receipt *outgoing
	for _, o := range l.outbox {
		if _, ok := o.im.Content.(*dimp.ReceiptCommand); ok {
			receipt = o
		}
	}
	if receipt == nil || receipt.layers == nil {
		t.Fatal("no receipt sealed")
	}
	out := receipt.layers
	if s := out.Signer; s == nil || !s.Owner.SameAs(alice.ID) || s.Role != MetaKey || s.Algorithm != crypto.AlgECC {
		t.Errorf("receipt signed by %+v, want alice's meta key", s)
	}
	if mk := out.MessageKey; mk == nil || len(mk.EncryptedTo) != 1 || mk.EncryptedTo[0].Name != bob.ID.String() ||
		mk.EncryptedTo[0].Key.Role != VisaKey || mk.EncryptedTo[0].Key.Kind() != "RSA-1024" || len(mk.Key) != 32 {
		t.Errorf("receipt's message key %+v, want an AES-256 key encrypted to bob's visa key", mk)
	}
}
