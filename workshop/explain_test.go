package workshop

import (
	"errors"
	"strings"
	"testing"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/dimptest"
)

// outFrame is a frame alice sends.
func outFrame(w *dimptest.World, rm *dimp.ReliableMessage, im *dimp.InstantMessage) frameInfo {
	raw, _ := rm.MarshalJSON()
	return frameInfo{Frame{Dir: client.Out, Raw: raw, Kind: client.KindCommand,
		Layers: &client.Layers{Reliable: rm, Verified: true, Instant: im}}, Viewpoint{Me: w.Alice.ID, Know: NewKnowledge()}}
}

// inFrame is a frame alice receives, opened as her client would.
func inFrame(w *dimptest.World, rm *dimp.ReliableMessage, from *dimp.Profile) frameInfo {
	w.T.Helper()
	raw, _ := rm.MarshalJSON()
	l := &client.Layers{Reliable: rm}
	im, err := w.AliceP.Open(rm, from)
	switch {
	case errors.Is(err, dimp.ErrSignature):
		l.VerifyErr = err
	case err != nil:
		w.T.Fatal(err)
	default:
		l.Verified, l.Instant = true, im
	}
	return frameInfo{Frame{Dir: client.In, Raw: raw, Kind: client.KindCommand, Layers: l},
		Viewpoint{Me: w.Alice.ID, Know: NewKnowledge(), Status: client.Status{State: client.Handshaking}}}
}

// explainFrame explains a frame from its viewpoint.
func explainFrame(f frameInfo) Explanation { return f.Explain(f.Frame) }

// wants checks that each part of an explanation says what it must.
func wants(t *testing.T, what string, e Explanation, want map[string][]string) {
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
	w := dimptest.NewWorld(t)
	const session = "3f2a91b07c4e55d0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6c19d"

	// Start: a broadcast with alice's meta and visa.
	hello := dimp.NewHandshake(dimp.HandshakeHello, "")
	hello.Group = dimp.EveryStations
	rm, im := w.Seal(w.AliceP, dimp.AnyStation, nil, hello, true)
	f := outFrame(w, rm, im)
	f.Know.LearnProfile(w.Alice.ID, w.Alice.Meta, w.Alice.Visa)
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
	rm, _ = w.Seal(w.StationP, w.Alice.ID, w.Alice.Profile(), ask, true)
	f = inFrame(w, rm, w.Station.Profile())
	f.Know.LearnProfile(w.Alice.ID, w.Alice.Meta, w.Alice.Visa)
	f.Held = true
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
	f.Status.State = client.Running
	wants(t, "DIM? while Running", explainFrame(f), map[string][]string{
		"station": {"forgot the session"},
		"next":    {"resends what the station never acknowledged"},
	})
	// Sent with force before the handshake.
	ask.Force = true
	rm, _ = w.Seal(w.StationP, w.Alice.ID, w.Alice.Profile(), ask, false)
	f = inFrame(w, rm, w.Station.Profile())
	wants(t, "DIM? with force", explainFrame(f), map[string][]string{"station": {"Sent with force"}})

	// Restart: encrypted to the station's visa key.
	rm, im = w.Seal(w.AliceP, w.Station.ID, w.Station.Profile(), dimp.NewHandshake(dimp.HandshakeHello, session), false)
	f = outFrame(w, rm, im)
	f.Know.LearnProfile(w.Station.ID, w.Station.Meta, w.Station.Visa)
	wants(t, "Hello (Restart)", explainFrame(f), map[string][]string{
		"step":      {"handshake Restart"},
		"signed":    {"the ciphertext"},
		"encrypted": {"AES-256-CBC", "the station's visa key (RSA-1024"},
		"station":   {"compares the session key 3f2a91b0…c19d", "DIM!"},
		"next":      {"Success"},
	})

	// Success.
	rm, _ = w.Seal(w.StationP, w.Alice.ID, w.Alice.Profile(), dimp.NewHandshake(dimp.HandshakeOK, session), false)
	wants(t, "DIM!", explainFrame(inFrame(w, rm, w.Station.Profile())), map[string][]string{
		"step": {"handshake Success"},
		"next": {"Running", "broadcasts visa and login"},
	})
}

func TestExplainChat(t *testing.T) {
	w := dimptest.NewWorld(t)
	// A text to bob: encrypted to bob, routed, not readable by the station.
	rm, im := w.Seal(w.AliceP, w.Bob.ID, w.Bob.Profile(), dimp.NewText("hi bob"), true)
	f := outFrame(w, rm, im)
	f.Know.LearnProfile(w.Bob.ID, w.Bob.Meta, w.Bob.Visa)
	wants(t, "text", explainFrame(f), map[string][]string{
		"title":     {"alice → bob: text “hi bob”"},
		"step":      {"chat message"},
		"encrypted": {"bob's visa key (RSA-1024", "only bob can read it", "first contact"},
		"station":   {"handshaken on this connection", "cannot decrypt", "Message delivered.", "Message cached."},
		"next":      {"✓✓"},
	})

	// The station's receipts: delivered, and a refusal with its reason.
	delivered := dimp.NewReceipt(dimp.ReceiptDelivered, dimp.OriginOf(rm, 0))
	rrm, _ := w.Seal(w.StationP, w.Alice.ID, w.Alice.Profile(), delivered, false)
	wants(t, "delivered", explainFrame(inFrame(w, rrm, w.Station.Profile())), map[string][]string{
		"step":    {"receipt"},
		"station": {"pushed it to the receiver's session", "alice's message to bob"},
		"next":    {"✓ at the station", "ACKs the frame"},
	})
	refused := dimp.NewReceipt("Signature not verified.", dimp.OriginOf(rm, 0))
	refused.Extra = dimp.Fields{}
	_ = refused.Extra.Set("error", "bad signature")
	rrm, _ = w.Seal(w.StationP, w.Alice.ID, w.Alice.Profile(), refused, false)
	wants(t, "refused", explainFrame(inFrame(w, rrm, w.Station.Profile())), map[string][]string{
		"station": {"Refused alice's message to bob", "Signature not verified.", "bad signature"},
		"next":    {"✗"},
	})

	// bob's text to alice, then the same with a damaged signature.
	brm, _ := w.Seal(w.BobP, w.Alice.ID, w.Alice.Profile(), dimp.NewText("hi alice"), true)
	wants(t, "incoming text", explainFrame(inFrame(w, brm, w.Bob.Profile())), map[string][]string{
		"signed":  {"bob's meta key", "meta and visa attached"},
		"station": {"Forwarded unchanged"},
		"next":    {"Message received.", "ACKs"},
	})
	brm2, _ := w.Seal(w.BobP, w.Alice.ID, w.Alice.Profile(), dimp.NewText("tampered"), false)
	brm2.Signature[len(brm2.Signature)/2] ^= 0xFF
	wants(t, "bad signature", explainFrame(inFrame(w, brm2, w.Bob.Profile())), map[string][]string{
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
		e := explainFrame(frameInfo{Frame{Dir: tt.dir, Raw: []byte(tt.raw)}, Viewpoint{Me: alice}})
		all := e.Title + " " + e.Station + " " + e.Next
		if !strings.Contains(all, tt.want) || !strings.Contains(e.Signed, "Nothing") {
			t.Errorf("%s %s: %+v, want %q", tt.dir, tt.raw, e, tt.want)
		}
	}
}

func TestExplainSearch(t *testing.T) {
	w := dimptest.NewWorld(t)
	rm, im := w.Seal(w.AliceP, dimp.Archivist, nil, dimp.NewSearchCommand("lark"), false)
	wants(t, "search", explainFrame(outFrame(w, rm, im)), map[string][]string{
		"title":     {"alice → archivist@anywhere: search “lark”"},
		"step":      {"search"},
		"encrypted": {"No", "archivist@anywhere is a broadcast ID"},
		"station":   {"visa name or ID", "metas and visas"},
		"next":      {"no visa query"},
	})
	q := dimp.NewSearchCommand("lark")
	a := dimp.NewSearchAnswer(q, w.Station.ID, []dimp.ID{w.Bob.ID})
	rm, _ = w.Seal(w.StationP, w.Alice.ID, w.Alice.Profile(), a, false)
	wants(t, "answer", explainFrame(inFrame(w, rm, w.Station.Profile())), map[string][]string{
		"title":   {"search answer, 1 user"},
		"step":    {"search answer"},
		"station": {"1 user found"},
		"next":    {"learns them", "ACKs"},
	})
}
