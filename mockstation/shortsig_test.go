package mockstation_test

import (
	"testing"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
	"dimtui/dimp/dimptest"
	"dimtui/mockstation"
)

// TestShortRSASignatures: a user of dimchat's browser client whose meta
// fingerprint and visa signature lack their leading zero byte handshakes
// (the station used to close with "Visa not valid."), its message with a
// short signature is routed to bob, who verifies it, and a message whose
// key is encrypted to the station in a byte-short ciphertext is opened by
// the station.
func TestShortRSASignatures(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	key, err := crypto.GenerateRSA(1024)
	if err != nil {
		t.Fatal(err)
	}
	web, bob := dimptest.BrowserUser(t, key, "browser"), user(t, "bob")
	b := connect(t, st.url, bob)
	b.know(web)
	w := connect(t, st.url, web)
	w.know(bob)

	sent := dimptest.ShortSeal(t, w.packer, dimp.NewInstantMessage(web.ID, bob.ID, dimp.NewText("short signed")),
		[]*dimp.Profile{bob.Profile()}, dimp.SealOptions{})
	w.sendRM(sent)
	got := b.fromPeer(web)
	if text := got.im.Content.(*dimp.TextContent).Text; text != "short signed" || len(got.rm.Signature) != 127 {
		t.Errorf("bob got %q with a %d-byte signature", text, len(got.rm.Signature))
	}
	w.receipt(dimp.ReceiptDelivered)

	// The handshake again, its message key encrypted to the station's RSA
	// visa key in 127 bytes: the station decrypts it and answers DIM!.
	again := dimptest.ShortKeySeal(t, w.packer, dimp.NewInstantMessage(web.ID, w.station.ID, dimp.NewHandshake(dimp.HandshakeHello, w.session)),
		[]*dimp.Profile{w.station}, w.station.ID.String())
	w.sendRM(again)
	if hs, ok := w.next().im.Content.(*dimp.HandshakeCommand); !ok || hs.State() != dimp.HandshakeSuccess {
		t.Errorf("after a short encrypted key: %s", dimp.MarshalContent(hs))
	}
}
