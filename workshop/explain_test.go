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

// toBob seals content from alice to bob (meta and visa attached), as a
// frame alice sends knowing bob's visa.
func toBob(w *dimptest.World, c dimp.Content) (*dimp.ReliableMessage, frameInfo) {
	rm, im := w.Seal(w.AliceP, w.Bob.ID, w.Bob.Profile(), c, true)
	f := outFrame(w, rm, im)
	f.Know.LearnProfile(w.Bob.ID, w.Bob.Meta, w.Bob.Visa)
	return rm, f
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
	rm, f := toBob(w, dimp.NewText("hi bob"))
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
		"station": {"“Message delivered.”", "bob is online", "pushed it to bob's session", "alice's message to bob"},
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

// noMark checks that an explanation of a normal step says nothing is
// wrong, and (verified false) that nothing was verified yet.
func noMark(t *testing.T, what string, e Explanation, verified bool) {
	t.Helper()
	all := e.Title + e.Step + e.Signed + e.Encrypted + e.Station + e.Next
	if strings.Contains(all, "✗") {
		t.Errorf("%s: a normal step with ✗: %+v", what, e)
	}
	if !verified && strings.Contains(all, "✓") {
		t.Errorf("%s: not processed yet, and says ✓: %+v", what, e)
	}
}

// TestExplainFirstContact: bob's visa broadcast reaches alice, who does
// not know bob yet. Held, the panel says what alice will do; processed,
// what she did: asked for bob's key, then verified. A broadcast is called
// one, never a message to alice, and nothing is an error.
func TestExplainFirstContact(t *testing.T) {
	w := dimptest.NewWorld(t)
	rm, im := w.Seal(w.BobP, dimp.Everyone, nil, dimp.NewDocumentCommand(w.Bob.ID, w.Bob.Meta, []*dimp.Document{w.Bob.Visa}), false)
	raw, _ := rm.MarshalJSON()
	v := Viewpoint{Me: w.Alice.ID, Know: NewKnowledge()}

	// Held: the look ahead could not verify it, for want of bob's key.
	held := Frame{Dir: client.In, Raw: raw, Kind: client.KindCommand, Held: true,
		Layers: &client.Layers{Reliable: rm, KeyAsked: true, VerifyErr: client.ErrUnknownPeer}}
	e := v.Explain(held)
	noMark(t, "held", e, false)
	wants(t, "held", e, map[string][]string{
		"title":  {"bob → everyone@everywhere, pushed to alice: documents of bob"},
		"step":   {"visa broadcast"},
		"signed": {"Not checked yet", "alice does not know bob's key yet", "asks the station for bob's meta and visa"},
		"next":   {"Released, alice asks the station for bob's meta and visa"},
	})

	// Processed, once the answer to the query came.
	v.Know.LearnProfile(w.Bob.ID, w.Bob.Meta, w.Bob.Visa)
	done := held
	done.Held, done.Layers = false, &client.Layers{Reliable: rm, KeyAsked: true, Verified: true, Instant: im}
	e = v.Explain(done)
	noMark(t, "processed", e, true)
	wants(t, "processed", e, map[string][]string{
		"title":   {"bob → everyone@everywhere, pushed to alice: documents of bob"},
		"signed":  {"bob's meta key (secp256k1", "did not know bob's key when it came", "verified the signature with them", "✓ Verified"},
		"station": {"Pushed bob's visa broadcast to alice"},
		"next":    {"ACKs the frame"},
	})

	// The same broadcast again, forwarded inside a documents answer: a
	// duplicate, not acknowledged by itself.
	dup := done
	dup.Layers = &client.Layers{Reliable: rm, Forwarded: true, OpenErr: client.ErrDuplicate}
	e = v.Explain(dup)
	noMark(t, "duplicate", e, false)
	wants(t, "duplicate", e, map[string][]string{
		"title": {"inside the station's forward content to alice: documents of bob"},
		"step":  {"duplicate"},
		"next":  {"came before", "Not ACKed"},
	})
}

// TestExplainHeldIsNotVerified: a held frame from the station, which the
// look ahead verified, is not called verified: it is not processed yet.
func TestExplainHeldIsNotVerified(t *testing.T) {
	w := dimptest.NewWorld(t)
	rm, _ := w.Seal(w.StationP, w.Alice.ID, w.Alice.Profile(), dimp.NewHandshake(dimp.HandshakeOK, "k"), false)
	f := inFrame(w, rm, w.Station.Profile())
	f.Held = true
	e := explainFrame(f)
	noMark(t, "held DIM!", e, false)
	wants(t, "held DIM!", e, map[string][]string{
		"signed": {"Not checked yet: released, alice verifies it"},
		"next":   {"Released, alice verifies and opens it", "Running"},
	})
	f.Held = false
	wants(t, "DIM!", explainFrame(f), map[string][]string{"signed": {"✓ Verified"}})
}

// TestExplainAnswers: the station's answer to a visa is told as it came
// ("Document not changed." is not "stored"), and a message sent is told
// with the answers that came back, by frame number.
func TestExplainAnswers(t *testing.T) {
	w := dimptest.NewWorld(t)
	rm, im := w.Seal(w.AliceP, dimp.Everyone, nil, dimp.NewDocumentCommand(w.Alice.ID, w.Alice.Meta, []*dimp.Document{w.Alice.Visa}), false)
	f := outFrame(w, rm, im)
	e := explainFrame(f)
	wants(t, "visa broadcast", e, map[string][]string{
		"step":    {"visa broadcast"},
		"station": {"“Document received.” when the visa is new", "“Document not changed.” when it has this one"},
	})
	a := e.Answered([]Answer{{From: w.Station.ID, Text: "Document not changed.", Number: 21}})
	wants(t, "visa broadcast answered", a, map[string][]string{
		"station": {"checks that alice's meta key signed the visa", "It answered “Document not changed.” (frame #21)", "has this visa already"},
	})
	if strings.Contains(a.Station, "Document received.") || strings.Contains(a.Station, "stored it") {
		t.Errorf("answered “Document not changed.”: %q", a.Station)
	}
	if e.Answered(nil).Station != e.Station {
		t.Error("no answer changed the explanation")
	}

	for text, want := range map[string]string{
		"Document not changed.": "has this visa already; it checked it and stored nothing new",
		"Document received.":    "new to the station, which checked it against the meta and stored it",
	} {
		r := dimp.NewReceipt(text, dimp.OriginOf(rm, 0))
		rrm, _ := w.Seal(w.StationP, w.Alice.ID, w.Alice.Profile(), r, false)
		e := explainFrame(inFrame(w, rrm, w.Station.Profile()))
		noMark(t, text, e, true)
		wants(t, text, e, map[string][]string{"station": {"Says “" + text + "”", want}})
	}

	// A text: the station's answer, then bob's receipts.
	rm, im = w.Seal(w.AliceP, w.Bob.ID, w.Bob.Profile(), dimp.NewText("hi bob"), false)
	a = explainFrame(outFrame(w, rm, im)).Answered([]Answer{
		{From: w.Station.ID, Text: dimp.ReceiptDelivered, Number: 48},
		{From: w.Bob.ID, Text: dimp.ReceiptReceived, Number: 58},
		{From: w.Bob.ID, Text: dimp.ReceiptRead, Number: 60},
	})
	wants(t, "text answered", a, map[string][]string{
		"station": {"It answered “Message delivered.” (frame #48): bob is online"},
		"next":    {"bob's client answered “Message received.” (frame #58): ✓✓", "“Message read.” (frame #60): ◉"},
	})

	// The station's receipt for a receipt: nothing comes after it.
	r := dimp.NewReceipt(dimp.ReceiptReceived, nil)
	rm, _ = w.Seal(w.AliceP, w.Bob.ID, w.Bob.Profile(), r, false)
	rrm, _ := w.Seal(w.StationP, w.Alice.ID, w.Alice.Profile(), dimp.NewReceipt(dimp.ReceiptDelivered, dimp.OriginOf(rm, r.SN)), false)
	wants(t, "a receipt delivered", explainFrame(inFrame(w, rrm, w.Station.Profile())), map[string][]string{
		"next": {"no receipt for a receipt"},
	})
}

// A group command is explained as the group step it is: who may send it,
// and what the receiving member's client does with it.
func TestExplainGroupCommands(t *testing.T) {
	w := dimptest.NewWorld(t)
	group := dimp.MustParseID("group-alice@hz519K77dgxczwCDEgBhokWzdgbhFRSDg")
	reset := dimp.NewGroupCommand(dimp.CmdReset, group, []dimp.ID{w.Alice.ID, w.Bob.ID})
	_, f := toBob(w, reset)
	wants(t, "reset", explainFrame(f), map[string][]string{
		"step":    {"group command “reset”"},
		"station": {"Message delivered."},
		"next":    {"bob checks it against what it knows of group-alice", "owner listed first", "signed by its founder"},
	})
	// A member's copy of a message to the group: why there is a copy
	// per member, and how this one was made.
	text := dimp.NewText("hello crew")
	text.Group = group
	for _, once := range []bool{false, true} {
		_, f = toBob(w, text)
		f.Layers.Group = &client.GroupSend{Group: group, Member: w.Bob.ID, Members: 2, Once: once}
		want := []string{"copy for each member", "fewer than 16", "inside the content"}
		if once {
			f.Layers.Group.Members = 20
			want = []string{"copy for each member", "20 members", "encrypted once", "same signature"}
		}
		wants(t, "a group copy", explainFrame(f), map[string][]string{
			"step":      {"group message, bob's copy"},
			"encrypted": want,
			"next":      {"✓✓ 2/3"},
		})
	}
	_, f = toBob(w, &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward)})
	f.Layers.Group = &client.GroupSend{Group: group, Members: 3, Once: true, Via: w.Bob.ID}
	wants(t, "a group message through a bot", explainFrame(f), map[string][]string{
		"step":      {"through the group's bot"},
		"encrypted": {"names a bot", "3 members", "inside a forward"},
		"next":      {"bob checks that alice is a member"},
	})
	// The group's history, forwarded: broadcasts signed by their writer.
	signed, _ := w.Seal(w.AliceP, dimp.Anyone, nil, reset, false)
	history := &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward), Secrets: []*dimp.ReliableMessage{signed}}
	_, f = toBob(w, history)
	wants(t, "a group history sent", explainFrame(f), map[string][]string{
		"step": {"group history"},
		"next": {"signed by whoever gave it", "as if it came alone"},
	})
	fwd, _ := w.Seal(w.BobP, w.Alice.ID, w.Alice.Profile(), history, true)
	wants(t, "a group history received", explainFrame(inFrame(w, fwd, w.Bob.Profile())), map[string][]string{
		"step": {"group history"},
		"next": {"alice checks each with its writer's key"},
	})
	// The group's bulletin, sent to the station with its meta.
	gid, meta, err := dimp.NewGroupID(w.Alice.SignKey, "")
	if err != nil {
		t.Fatal(err)
	}
	bulletin, err := dimp.NewBulletin(dimp.Bulletin{Group: gid, Name: "crew", Founder: w.Alice.ID}, w.Alice.SignKey)
	if err != nil {
		t.Fatal(err)
	}
	up, upIm := w.Seal(w.AliceP, dimp.AnyStation, nil, dimp.NewDocumentCommand(gid, meta, []*dimp.Document{bulletin}), false)
	wants(t, "a bulletin uploaded", explainFrame(outFrame(w, up, upIm)), map[string][]string{
		"step":    {"group bulletin"},
		"station": {"signed by the meta's key (the founder's)", "Document received."},
		"next":    {"its owner (the founder) and administrators"},
	})
	in, _ := w.Seal(w.BobP, w.Alice.ID, w.Alice.Profile(), text, true)
	wants(t, "an incoming group message", explainFrame(inFrame(w, in, w.Bob.Profile())), map[string][]string{
		"step": {"group message"},
		"next": {"alice's copy of bob's message to the group group-alice", "is a member"},
	})
	expel := dimp.NewGroupCommand(dimp.CmdExpel, group, []dimp.ID{w.Alice.ID})
	brm, _ := w.Seal(w.BobP, w.Alice.ID, w.Alice.Profile(), expel, true)
	wants(t, "incoming expel", explainFrame(inFrame(w, brm, w.Bob.Profile())), map[string][]string{
		"step":    {"group command “expel”"},
		"station": {"Forwarded unchanged"},
		"next":    {"ignored", "reset", "no receipt"},
	})
}

// A message that crossed stations, and the receipts of a network: alice's
// station passed her message on, bob's station pushed it to bob.
func TestExplainNetwork(t *testing.T) {
	w := dimptest.NewWorld(t)
	other := dimptest.NewIdentity(t, dimp.Station, "far")
	rm, _ := toBob(w, dimp.NewText("hi bob"))

	redirected := dimp.NewReceipt("Message redirected.", dimp.OriginOf(rm, 0))
	rrm, _ := w.Seal(w.StationP, w.Alice.ID, w.Alice.Profile(), redirected, false)
	f := inFrame(w, rrm, w.Station.Profile())
	f.Status.Station = w.Station.ID
	wants(t, "redirected", explainFrame(f), map[string][]string{
		"station": {"“Message redirected.”", "logged in at another station", "stored it before this one deleted its copy"},
		"next":    {"✓ stays", "receiver's station says “Message delivered.”"},
	})

	delivered := dimp.NewReceipt(dimp.ReceiptDelivered, dimp.OriginOf(rm, 0))
	drm, _ := w.Seal(dimp.NewPacker(other), w.Alice.ID, w.Alice.Profile(), delivered, true)
	f = inFrame(w, drm, other.Profile())
	f.Status.Station = w.Station.ID
	wants(t, "delivered far away", explainFrame(f), map[string][]string{
		"station": {"is the station bob logged in at", "pushed it to bob's session", "signed this receipt itself"},
		"next":    {"✓✓"},
	})

	brm, _ := w.Seal(w.BobP, w.Alice.ID, w.Alice.Profile(), dimp.NewText("hi alice"), true)
	brm.Extra = dimp.Fields{}
	if err := brm.Extra.Set("traces", []map[string]any{{"did": other.ID.String(), "time": 1}, {"did": w.Station.ID.String()}}); err != nil {
		t.Fatal(err)
	}
	wants(t, "relayed text", explainFrame(inFrame(w, brm, w.Bob.Profile())), map[string][]string{
		"station": {"Passed on by 2 stations before alice's", "far@", "over a link", "still signed by bob"},
	})
}
