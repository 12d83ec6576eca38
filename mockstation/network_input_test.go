package mockstation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/dimp/dimptest"
	"dimtui/mockstation"
)

// linkAck is an acknowledgement a station sends over a link.
type linkAck struct {
	Signature, Receiver, Error string
	Retry                      bool
}

// ackFor waits for the station's acknowledgement of rm over the link,
// skipping the other frames (logins, broadcasts).
func (c *client) ackFor(rm *dimp.ReliableMessage) linkAck {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("link closed: %v", c.closeErr())
			}
			body, isAck := bytes.CutPrefix(f, []byte("ACK:"))
			if !isAck {
				continue
			}
			var a linkAck
			if err := json.Unmarshal(body, &a); err != nil {
				c.t.Fatalf("acknowledgement %q: %v", f, err)
			}
			if a.Signature == rm.SignatureText() {
				return a
			}
		case <-deadline:
			c.t.Fatalf("no acknowledgement of the message in %v", waitFor)
		}
	}
}

// relayed is rm as a neighbour passes it: with traces and the sender's
// meta and visa.
func relayed(t *testing.T, rm *dimp.ReliableMessage, sender *dimp.Identity, traces ...string) *dimp.ReliableMessage {
	t.Helper()
	out := *rm
	out.Extra = rm.Extra.Clone()
	if out.Extra == nil {
		out.Extra = dimp.Fields{}
	}
	if len(traces) > 0 {
		if err := out.Extra.Set("traces", traces); err != nil {
			t.Fatal(err)
		}
	}
	out.Meta, out.Visa = sender.Meta, sender.Visa
	return &out
}

// sealedBy seals content from one user to another, as the user's client
// would.
func sealedBy(t *testing.T, from, to *dimp.Identity, content dimp.Content) *dimp.ReliableMessage {
	t.Helper()
	rm, err := dimp.NewPacker(from).Seal(dimp.NewInstantMessage(from.ID, to.ID, content), []*dimp.Profile{to.Profile()}, dimp.SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rm
}

// loginOf is user's login naming station, as a broadcast to everyone.
func loginOf(t *testing.T, u *dimp.Identity, station dimp.ID) *dimp.ReliableMessage {
	t.Helper()
	lc := dimp.NewLogin(u.ID, "test", &dimp.LoginStation{ID: station, Host: "127.0.0.1", Port: 9394})
	rm, err := dimp.NewPacker(u).Seal(dimp.NewInstantMessage(u.ID, dimp.Everyone, lc), nil, dimp.SealOptions{Attach: true})
	if err != nil {
		t.Fatal(err)
	}
	return rm
}

// What a neighbour passes is checked like anything else: a login it
// claims for a user who logged in elsewhere, a message whose signature is
// wrong, a message in a loop, and a local user's message played back over
// the link are each refused with a reason, and nothing reaches the local
// user but the genuine message.
func TestLinkRefusesWhatANeighbourCannotSay(t *testing.T) {
	var notices []mockstation.Notice
	noticed := make(chan mockstation.Notice, 64)
	st := startServed(t, mockstation.Config{OnNotice: func(n mockstation.Notice) { noticed <- n }})
	fake := dimptest.NewIdentity(t, dimp.Station, "fake")
	other := dimptest.NewIdentity(t, dimp.Station, "other")
	link := connectLink(t, st.url, fake)
	bob := connect(t, st.url, user(t, "bob"))
	bob.sendRM(loginOf(t, bob.me, st.srv.ID()))
	bob.receipt("Login received.")
	eve := user(t, "eve")

	eventuallyStatus(t, st.srv, "the link is listed", func(s mockstation.Status) bool {
		return len(s.Links) == 1 && s.Links[0].Station == fake.ID.String() && !s.Links[0].Dialed
	})

	// eve logged in at another station: the fake one cannot claim her.
	link.sendRM(loginOf(t, eve, other.ID))
	waitNotice(t, noticed, &notices, mockstation.NoticeRefused)
	// Her login at the fake station is taken.
	link.sendRM(loginOf(t, eve, fake.ID))
	eventuallyStatus(t, st.srv, "eve is known at the fake station", func(s mockstation.Status) bool {
		return slices.ContainsFunc(s.Elsewhere, func(u mockstation.UserLocation) bool {
			return u.User == eve.ID.String() && u.Station == fake.ID.String() && u.Route == fake.ID.String()
		})
	})

	// A genuine message from eve to bob: stored, acknowledged, delivered.
	hello := relayed(t, sealedBy(t, eve, bob.me, dimp.NewText("hello bob")), eve)
	link.sendRM(hello)
	if a := link.ackFor(hello); a.Error != "" || a.Retry || a.Receiver != bob.me.ID.String() {
		t.Errorf("acknowledgement of a genuine message: %+v", a)
	}
	bob.know(eve)
	got := bob.fromPeer(eve)
	if got.rm.Receiver.IsBroadcast() { // her login, to everyone
		got = bob.fromPeer(eve)
	}
	if got.rm.Receiver.IsBroadcast() {
		t.Fatalf("bob got a second login of eve's: %s", dimp.MarshalContent(got.im.Content))
	}
	if tc, ok := got.im.Content.(*dimp.TextContent); !ok || tc.Text != "hello bob" {
		t.Errorf("bob got %s", dimp.MarshalContent(got.im.Content))
	}
	bob.ack(hello)

	// A forged signature: refused, and bob gets nothing.
	forged := relayed(t, sealedBy(t, eve, bob.me, dimp.NewText("forged")), eve)
	sig := []byte(forged.SignatureText())
	if sig[10] == 'A' {
		sig[10] = 'B'
	} else {
		sig[10] = 'A'
	}
	forged = reparse(t, forged, string(sig))
	link.sendRM(forged)
	if a := link.ackFor(forged); !strings.Contains(a.Error, "ignature") {
		t.Errorf("acknowledgement of a forged message: %+v", a)
	}

	// A loop: refused once it has passed through too many stations.
	var traces []string
	for range 16 {
		traces = append(traces, other.ID.String())
	}
	looped := relayed(t, sealedBy(t, eve, bob.me, dimp.NewText("round and round")), eve, traces...)
	link.sendRM(looped)
	if a := link.ackFor(looped); !strings.Contains(a.Error, "too many stations") {
		t.Errorf("acknowledgement of a looping message: %+v", a)
	}

	// bob's own message played back by the link: refused.
	mine := bob.send(eve.ID, dimp.NewText("to eve"))
	played := relayed(t, mine, bob.me)
	link.sendRM(played)
	if a := link.ackFor(played); !strings.Contains(a.Error, "logged in at this station") {
		t.Errorf("acknowledgement of a played-back message: %+v", a)
	}
	// bob hears that his message waits to be passed on, and that it was
	// played back; nothing else reached him.
	refusal := "Message not accepted: its sender is logged in at this station."
	var texts []string
	for range 2 { // in either order: the answer on bob's session, the refusal stored for him
		got := bob.next()
		r, ok := got.im.Content.(*dimp.ReceiptCommand)
		if !ok || r.Origin == nil || r.Origin.Signature != mine.SignatureText() {
			t.Fatalf("bob got %s, want a receipt about his message", dimp.MarshalContent(got.im.Content))
		}
		texts = append(texts, r.Text)
	}
	if slices.Sort(texts); !slices.Equal(texts, []string{dimp.ReceiptCached, refusal}) {
		t.Errorf("bob's receipts: %q, want %q and %q", texts, dimp.ReceiptCached, refusal)
	}
	bob.quiet(200 * time.Millisecond)
}

// reparse returns rm with another signature.
func reparse(t *testing.T, rm *dimp.ReliableMessage, signature string) *dimp.ReliableMessage {
	t.Helper()
	raw, err := rm.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["signature"], _ = json.Marshal(signature)
	raw, _ = json.Marshal(m)
	out, err := dimp.ParseReliableMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func eventuallyStatus(t *testing.T, srv *mockstation.Server, what string, cond func(mockstation.Status) bool) {
	t.Helper()
	eventually(t, waitFor, what, func() bool {
		s, err := srv.Status(context.Background())
		return err == nil && cond(s)
	})
}

// waitNotice waits for a notice of kind.
func waitNotice(t *testing.T, ch <-chan mockstation.Notice, seen *[]mockstation.Notice, kind mockstation.NoticeKind) mockstation.Notice {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case n := <-ch:
			*seen = append(*seen, n)
			if n.Kind == kind {
				return n
			}
		case <-deadline:
			t.Fatalf("no notice of kind %d; got %+v", kind, *seen)
		}
	}
}

// A neighbour that floods its link past the link's rate is cut off with
// the reason; the station and its users go on.
func TestLinkFloodIsCutOff(t *testing.T) {
	st := startServed(t, mockstation.Config{RateLimit: 2, RateBurst: 3}) // a link: 40/s, burst 60
	link := connectLink(t, st.url, dimptest.NewIdentity(t, dimp.Station, "flood"))
	bob := connect(t, st.url, user(t, "bob"))
	eve := user(t, "eve")
	rm := relayed(t, sealedBy(t, eve, user(t, "carol"), dimp.NewText("again and again")), eve)
	raw, err := rm.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for range 1000 {
		if link.ws.Write(ctx, websocket.MessageText, raw) != nil {
			break
		}
	}
	err = link.closeErr()
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation || !strings.Contains(err.Error(), "rate limit exceeded: 40 messages/s, burst 60") {
		t.Errorf("flooding link ended with %v, want a policy violation naming the rate limit", err)
	}
	// bob is still served.
	bob.send(st.srv.ID(), dimp.NewReport(dimp.ReportOnline))
	bob.receipt("Online received.")
}

// connectLink links a test station that acknowledges what it stores, as
// a dimtui station does.
func connectLink(t *testing.T, url string, me *dimp.Identity) *client {
	t.Helper()
	c := dial(t, url, me)
	c.linkAck = true
	c.handshake()
	return c
}

// A message from a sender the station does not know, passed by a
// neighbour that attaches nothing (as dimchat's stations do), waits while
// the station asks the neighbour for the sender's meta and visa; answered,
// it is verified and delivered.
func TestLinkAsksForAnUnknownSender(t *testing.T) {
	st := startServed(t, mockstation.Config{})
	fake := dimptest.NewIdentity(t, dimp.Station, "fake")
	link := connectLink(t, st.url, fake)
	bob := connect(t, st.url, user(t, "bob"))
	carl := user(t, "carl") // never seen by the station

	hello := sealedBy(t, carl, bob.me, dimp.NewText("hello from far away"))
	link.sendRM(hello) // no meta, no visa
	var query *dimp.DocumentCommand
	for query == nil {
		raw := link.nextFrame()
		if bytes.HasPrefix(raw, []byte("ACK:")) {
			t.Fatalf("the message was acknowledged before its sender was known: %s", raw)
		}
		rm, err := dimp.ParseReliableMessage(raw)
		if err != nil || !rm.Receiver.SameAs(fake.ID) || rm.IsBroadcast() {
			continue // logins and other broadcasts
		}
		im, err := link.packer.Open(rm, link.station)
		if err != nil {
			t.Fatal(err)
		}
		if dc, ok := im.Content.(*dimp.DocumentCommand); ok && dc.IsQuery() && dc.ID.SameAs(carl.ID) {
			query = dc
		}
	}
	link.send(link.station.ID, dimp.NewDocumentCommand(carl.ID, carl.Meta, []*dimp.Document{carl.Visa}))
	if a := link.ackFor(hello); a.Error != "" || a.Retry {
		t.Errorf("acknowledgement once the sender is known: %+v", a)
	}
	bob.know(carl)
	if tc, ok := bob.fromPeer(carl).im.Content.(*dimp.TextContent); !ok || tc.Text != "hello from far away" {
		t.Errorf("bob got %v", tc)
	}
}

// A neighbour that does not say it acknowledges (dimchat's stations) gets
// no ACK: frames, and what is written to it counts as passed: the station
// deletes its copy and tells the sender "Message redirected.".
func TestLinkToANeighbourThatDoesNotAcknowledge(t *testing.T) {
	st := startServed(t, mockstation.Config{})
	ref := dimptest.NewIdentity(t, dimp.Station, "reference")
	link := connect(t, st.url, ref) // no link_ack in its handshake
	alice := connect(t, st.url, user(t, "alice"))
	eve := user(t, "eve")
	link.sendRM(loginOf(t, eve, ref.ID))
	eventuallyStatus(t, st.srv, "eve is known at the reference station", func(s mockstation.Status) bool {
		return len(s.Elsewhere) == 1 && s.Elsewhere[0].Route == ref.ID.String()
	})
	alice.know(eve)
	sent := alice.send(eve.ID, dimp.NewText("to the reference"))
	for {
		raw := link.nextFrame()
		if bytes.HasPrefix(raw, []byte("ACK:")) {
			t.Fatalf("an ACK: frame to a neighbour that does not read them: %s", raw)
		}
		if rm, err := dimp.ParseReliableMessage(raw); err == nil && rm.SignatureText() == sent.SignatureText() {
			break
		}
	}
	var texts []string
	for len(texts) < 2 {
		got := alice.next()
		if r, ok := got.im.Content.(*dimp.ReceiptCommand); ok {
			texts = append(texts, r.Text)
		}
		alice.ack(got.rm)
	}
	if slices.Sort(texts); !slices.Equal(texts, []string{dimp.ReceiptCached, "Message redirected."}) {
		t.Errorf("alice's receipts %q", texts)
	}
	eventuallyStatus(t, st.srv, "nothing left stored", func(s mockstation.Status) bool { return s.StoredMessages == 0 })
}

// A broadcast a neighbour started, with no traces (as dimchat's stations
// send their own queries to stations@everywhere), is not sent back to it.
func TestLinkBroadcastNotSentBack(t *testing.T) {
	st := startServed(t, mockstation.Config{})
	ref := dimptest.NewIdentity(t, dimp.Station, "reference")
	link := connect(t, st.url, ref)
	q := link.seal(dimp.EveryStations, dimp.NewDocumentCommand(user(t, "eve").ID, nil, nil), true)
	link.sendRM(q)
	deadline := time.After(300 * time.Millisecond)
	for {
		select {
		case raw, ok := <-link.frames:
			if !ok {
				t.Fatalf("link closed: %v", link.closeErr())
			}
			if rm, err := dimp.ParseReliableMessage(raw); err == nil && rm.SignatureText() == q.SignatureText() {
				t.Fatalf("the station sent the neighbour's broadcast back to it: %.200s", raw)
			}
		case <-deadline:
			return
		}
	}
}
