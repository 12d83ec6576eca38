package ui

import (
	"errors"
	"strings"
	"testing"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// newIdentity makes an identity as dimtui makes users and its station: a
// secp256k1 meta key and an RSA-1024 visa key.
func newIdentity(t testing.TB, typ dimp.EntityType, name string) *dimp.Identity {
	t.Helper()
	sign, err := crypto.GenerateECC()
	if err != nil {
		t.Fatal(err)
	}
	visa, err := crypto.GenerateRSA(1024)
	if err != nil {
		t.Fatal(err)
	}
	id, err := dimp.NewIdentity(typ, dimp.MetaMKM, name, name, sign, visa)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// protocolWorld is alice, bob and a station, able to seal real messages.
type protocolWorld struct {
	t                       testing.TB
	alice, bob, station     *dimp.Identity
	aliceP, bobP, stationPk *dimp.Packer
}

func newWorld(t testing.TB) *protocolWorld {
	w := &protocolWorld{t: t, alice: newIdentity(t, dimp.User, "alice"), bob: newIdentity(t, dimp.User, "bob"),
		station: newIdentity(t, dimp.Station, "gsp-s001")}
	w.aliceP, w.bobP, w.stationPk = dimp.NewPacker(w.alice), dimp.NewPacker(w.bob), dimp.NewPacker(w.station)
	return w
}

// seal packs content from one identity to a receiver and returns the frame
// as the sender's client reports it.
func (w *protocolWorld) seal(from *dimp.Packer, to dimp.ID, toProfile *dimp.Profile, c dimp.Content, attach bool) (*dimp.ReliableMessage, *dimp.InstantMessage) {
	w.t.Helper()
	im := dimp.NewInstantMessage(from.Me.ID, to, c)
	var profiles []*dimp.Profile
	if toProfile != nil {
		profiles = []*dimp.Profile{toProfile}
	}
	rm, err := from.Seal(im, profiles, dimp.SealOptions{Attach: attach})
	if err != nil {
		w.t.Fatal(err)
	}
	return rm, im
}

// outFrame is a frame alice sends.
func (w *protocolWorld) outFrame(rm *dimp.ReliableMessage, im *dimp.InstantMessage) frameInfo {
	raw, _ := rm.MarshalJSON()
	return frameInfo{dir: client.Out, raw: raw, kind: client.KindCommand, me: w.alice.ID,
		layers: &client.Layers{Reliable: rm, Verified: true, Instant: im}, know: newKnowledge()}
}

// inFrame is a frame alice receives, opened as her client would.
func (w *protocolWorld) inFrame(rm *dimp.ReliableMessage, from *dimp.Profile) frameInfo {
	w.t.Helper()
	raw, _ := rm.MarshalJSON()
	l := &client.Layers{Reliable: rm}
	im, err := w.aliceP.Open(rm, from)
	switch {
	case errors.Is(err, dimp.ErrSignature):
		l.VerifyErr = err
	case err != nil:
		w.t.Fatal(err)
	default:
		l.Verified, l.Instant = true, im
	}
	return frameInfo{dir: client.In, raw: raw, kind: client.KindCommand, me: w.alice.ID, layers: l, know: newKnowledge(),
		status: client.Status{State: client.Handshaking}}
}

// wants checks that each part of an explanation says what it must.
func wants(t *testing.T, what string, e explanation, want map[string][]string) {
	t.Helper()
	parts := map[string]string{"title": e.Title, "step": e.Step, "signed": e.Signed, "encrypted": e.Encrypted,
		"station": e.Station, "next": e.Next}
	for part, subs := range want {
		for _, s := range subs {
			if !strings.Contains(parts[part], s) {
				t.Errorf("%s: %s = %q\nwant it to contain %q", what, part, parts[part], s)
			}
		}
	}
}

func TestExplainHandshake(t *testing.T) {
	w := newWorld(t)
	const session = "3f2a91b07c4e55d0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6c19d"

	// Start: a broadcast with alice's meta and visa.
	hello := dimp.NewHandshake(dimp.HandshakeHello, "")
	hello.Group = dimp.EveryStations
	rm, im := w.seal(w.aliceP, dimp.AnyStation, nil, hello, true)
	f := w.outFrame(rm, im)
	f.know.learnProfile(w.alice.ID, w.alice.Meta, w.alice.Visa)
	wants(t, "Hello (Start)", explainFrame(f), map[string][]string{
		"title":     {"alice → station@anywhere: Hello world!"},
		"step":      {"handshake Start"},
		"signed":    {"alice's meta key (secp256k1, ECDSA/SHA-256)", "data (the content's JSON)"},
		"encrypted": {"No", "station@anywhere", "Meta and visa attached"},
		"station":   {"meta generates alice's ID", "visa is signed by the meta key", "DIM?", "encrypted to alice's visa key"},
		"next":      {"Again"},
	})

	// Again: DIM?, signed by the station, the key encrypted to alice.
	ask := dimp.NewHandshake(dimp.HandshakeAsk, session)
	rm, _ = w.seal(w.stationPk, w.alice.ID, w.alice.Profile(), ask, true)
	f = w.inFrame(rm, w.station.Profile())
	f.know.learnProfile(w.alice.ID, w.alice.Meta, w.alice.Visa)
	f.held = true
	e := explainFrame(f)
	wants(t, "DIM?", e, map[string][]string{
		"title":     {"station gsp-s001 → alice: DIM?"},
		"step":      {"handshake Again"},
		"signed":    {"the station's meta key (secp256k1", "meta and visa attached"},
		"encrypted": {"alice's visa key (RSA-1024, PKCS#1 v1.5)", "session key 3f2a91b0…c19d"},
		"station":   {"made this key for this connection", "learns the station's ID"},
		"next":      {"Restart", "encrypted to the station and signed"},
	})
	// The same DIM? while Running: the station forgot the session.
	f.status.State = client.Running
	wants(t, "DIM? while Running", explainFrame(f), map[string][]string{
		"station": {"forgot the session"},
		"next":    {"resends what the station never acknowledged"},
	})
	// Sent with force before the handshake.
	ask.Force = true
	rm, _ = w.seal(w.stationPk, w.alice.ID, w.alice.Profile(), ask, false)
	f = w.inFrame(rm, w.station.Profile())
	wants(t, "DIM? with force", explainFrame(f), map[string][]string{"station": {"Sent with force"}})

	// Restart: encrypted to the station's visa key.
	rm, im = w.seal(w.aliceP, w.station.ID, w.station.Profile(), dimp.NewHandshake(dimp.HandshakeHello, session), false)
	f = w.outFrame(rm, im)
	f.know.learnProfile(w.station.ID, w.station.Meta, w.station.Visa)
	wants(t, "Hello (Restart)", explainFrame(f), map[string][]string{
		"step":      {"handshake Restart"},
		"signed":    {"the ciphertext"},
		"encrypted": {"AES-256-CBC", "the station's visa key (RSA-1024"},
		"station":   {"compares the session key 3f2a91b0…c19d", "DIM!"},
		"next":      {"Success"},
	})

	// Success.
	rm, _ = w.seal(w.stationPk, w.alice.ID, w.alice.Profile(), dimp.NewHandshake(dimp.HandshakeOK, session), false)
	wants(t, "DIM!", explainFrame(w.inFrame(rm, w.station.Profile())), map[string][]string{
		"step": {"handshake Success"},
		"next": {"Running", "broadcasts visa and login"},
	})
}

func TestExplainChat(t *testing.T) {
	w := newWorld(t)
	// A text to bob: encrypted to bob, routed, not readable by the station.
	rm, im := w.seal(w.aliceP, w.bob.ID, w.bob.Profile(), dimp.NewText("hi bob"), true)
	f := w.outFrame(rm, im)
	f.know.learnProfile(w.bob.ID, w.bob.Meta, w.bob.Visa)
	wants(t, "text", explainFrame(f), map[string][]string{
		"title":     {"alice → bob: text “hi bob”"},
		"step":      {"chat message"},
		"encrypted": {"bob's visa key (RSA-1024", "only bob can read it", "first contact"},
		"station":   {"handshaken on this connection", "cannot decrypt", "Message delivered.", "Message cached."},
		"next":      {"✓✓"},
	})

	// The station's receipts: delivered, and a refusal with its reason.
	delivered := dimp.NewReceipt(dimp.ReceiptDelivered, dimp.OriginOf(rm, 0))
	rrm, _ := w.seal(w.stationPk, w.alice.ID, w.alice.Profile(), delivered, false)
	wants(t, "delivered", explainFrame(w.inFrame(rrm, w.station.Profile())), map[string][]string{
		"step":    {"receipt"},
		"station": {"pushed it to the receiver's session", "alice's message to bob"},
		"next":    {"✓ at the station", "ACKs the frame"},
	})
	refused := dimp.NewReceipt("Signature not verified.", dimp.OriginOf(rm, 0))
	refused.Extra = dimp.Fields{}
	_ = refused.Extra.Set("error", "bad signature")
	rrm, _ = w.seal(w.stationPk, w.alice.ID, w.alice.Profile(), refused, false)
	wants(t, "refused", explainFrame(w.inFrame(rrm, w.station.Profile())), map[string][]string{
		"station": {"Refused alice's message to bob", "Signature not verified.", "bad signature"},
		"next":    {"✗"},
	})

	// bob's text to alice, then the same with a damaged signature.
	brm, _ := w.seal(w.bobP, w.alice.ID, w.alice.Profile(), dimp.NewText("hi alice"), true)
	wants(t, "incoming text", explainFrame(w.inFrame(brm, w.bob.Profile())), map[string][]string{
		"signed":  {"bob's meta key", "meta and visa attached"},
		"station": {"Forwarded unchanged"},
		"next":    {"Message received.", "ACKs"},
	})
	brm2, _ := w.seal(w.bobP, w.alice.ID, w.alice.Profile(), dimp.NewText("tampered"), false)
	brm2.Signature[len(brm2.Signature)/2] ^= 0xFF
	wants(t, "bad signature", explainFrame(w.inFrame(brm2, w.bob.Profile())), map[string][]string{
		"signed": {"✗ It does not verify", "drops the message"},
	})
}

func TestExplainControlFrames(t *testing.T) {
	alice := dimp.MustParseID("alice@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB")
	for _, tt := range []struct {
		dir  client.Direction
		raw  string
		want string
	}{
		{client.Out, "PING", "PONG comes back"},
		{client.In, "PONG", "round trip"},
		{client.In, "PING", "answers PONG"},
		{client.Out, `ACK:{"time":1,"signature":"abc"}`, "deletes its stored copy"},
	} {
		e := explainFrame(frameInfo{dir: tt.dir, raw: []byte(tt.raw), me: alice})
		all := e.Title + " " + e.Station + " " + e.Next
		if !strings.Contains(all, tt.want) || !strings.Contains(e.Signed, "Nothing") {
			t.Errorf("%s %s: %+v, want %q", tt.dir, tt.raw, e, tt.want)
		}
	}
}
