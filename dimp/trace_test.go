package dimp

import (
	"bytes"
	"testing"

	"dimtui/dimp/crypto"
)

// The trace names the keys that did each step: on the way out the signing
// key and the receiver's visa key the message key went to; on the way in
// the sender's key that verified, the receiver's key that decrypted and
// the message key itself, the same on both sides.
func TestKeyTraceNamesTheKeys(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustECC(t))
	bob := newTestUser(t, "bob", MetaMKM, mustRSA(t, 1024))
	pa, pb := NewPacker(alice), NewPacker(bob)

	rm, sealed, err := pa.SealTraced(NewInstantMessage(alice.ID, bob.ID, NewText("hi")), []*Profile{bob.Profile()}, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !crypto.SamePublicKey(sealed.Signer, alice.Meta.Key) {
		t.Errorf("sealed by %v, want alice's meta key", sealed.Signer)
	}
	bobVisa, _ := bob.Visa.VisaKey()
	if len(sealed.EncryptedTo) != 1 || sealed.EncryptedTo[0].Name != bob.ID.String() ||
		!crypto.SamePublicKey(sealed.EncryptedTo[0].Key, bobVisa) {
		t.Errorf("encrypted to %+v, want bob's visa key", sealed.EncryptedTo)
	}
	if sealed.Reused || sealed.MessageKey == nil || sealed.MessageKey.Algorithm() != crypto.AlgAES {
		t.Errorf("sealed with %v (reused %v), want a fresh AES key", sealed.MessageKey, sealed.Reused)
	}

	_, opened, err := pb.OpenTraced(wire(t, rm), alice.Profile())
	if err != nil {
		t.Fatal(err)
	}
	if !crypto.SamePublicKey(opened.Signer, alice.Meta.Key) {
		t.Errorf("verified by %v, want alice's meta key", opened.Signer)
	}
	if opened.Decrypter != bob.Decrypt[0] || opened.Entry != bob.ID.String() || opened.Reused {
		t.Errorf("decrypted by %v from %q (reused %v), want bob's visa key from his entry", opened.Decrypter, opened.Entry, opened.Reused)
	}
	if !bytes.Equal(opened.MessageKey.Data(), sealed.MessageKey.Data()) {
		t.Error("the message key opened is not the one sealed")
	}

	// The second message reuses the key, and says so on both sides.
	second, sealed2, _ := pa.SealTraced(NewInstantMessage(alice.ID, bob.ID, NewText("again")), []*Profile{bob.Profile()}, SealOptions{OmitKey: true})
	if !sealed2.Reused || len(sealed2.EncryptedTo) != 0 {
		t.Errorf("second seal: reused %v, encrypted to %v", sealed2.Reused, sealed2.EncryptedTo)
	}
	_, opened2, err := pb.OpenTraced(wire(t, second), alice.Profile())
	if err != nil {
		t.Fatal(err)
	}
	if !opened2.Reused || opened2.Decrypter != nil {
		t.Errorf("second open: reused %v, decrypted by %v", opened2.Reused, opened2.Decrypter)
	}

	// A signature that does not verify leaves the trace empty.
	bad := wire(t, rm)
	bad.Signature[len(bad.Signature)-1] ^= 1
	if _, tr, err := NewPacker(bob).OpenTraced(bad, alice.Profile()); err == nil || tr.Signer != nil || tr.MessageKey != nil {
		t.Errorf("bad signature: err %v, trace %+v", err, tr)
	}
}
