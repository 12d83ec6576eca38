package mockstation_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dimtui/dimp"
	"dimtui/mockstation"
	"dimtui/mockstation/store"
)

// frameLimit is the frame a client reads: every answer must fit in it.
const frameLimit = mockstation.DefaultMaxFrame

// resigned returns u's visa with name set and, when terminal is not "",
// its terminal, signed again (so newer) by u's meta key.
func resigned(t *testing.T, u *dimp.Identity, name, terminal string) *dimp.Document {
	t.Helper()
	raw, err := u.Visa.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	v, err := dimp.ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Set("name", name); err != nil {
		t.Fatal(err)
	}
	if terminal != "" {
		if err := v.Set("terminal", terminal); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Sign(u.SignKey); err != nil {
		t.Fatal(err)
	}
	return v
}

// withVisa returns u carrying visa instead of its own.
func withVisa(u *dimp.Identity, visa *dimp.Document) *dimp.Identity {
	c := *u
	c.Visa = visa
	return &c
}

// docSize is the size of a document's JSON, as the station measures it.
func docSize(t *testing.T, d *dimp.Document) int {
	t.Helper()
	raw, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return len(raw)
}

// nearBound returns u's visa re-signed with a name that brings its JSON
// to just under the station's bound (the signing time's digits vary).
func nearBound(t *testing.T, u *dimp.Identity, terminal string) *dimp.Document {
	t.Helper()
	const slack = 32
	probe := resigned(t, u, "x", terminal)
	v := resigned(t, u, strings.Repeat("x", 1+mockstation.MaxDocumentJSON-slack-docSize(t, probe)), terminal)
	if n := docSize(t, v); n > mockstation.MaxDocumentJSON || n < mockstation.MaxDocumentJSON-2*slack {
		t.Fatalf("visa of %d bytes, want just under %d", n, mockstation.MaxDocumentJSON)
	}
	return v
}

// hugeVisa is u's visa with a nickname of 600 KB.
func hugeVisa(t *testing.T, u *dimp.Identity) (*dimp.Document, int) {
	t.Helper()
	v := resigned(t, u, strings.Repeat("n", 600_000), "")
	return v, docSize(t, v)
}

// uploadOnly is a document command carrying doc as dimp 2.4 writes it, in
// `documents` only: with the single `document` beside it, as
// NewDocumentCommand writes it, a 600 KB visa would not fit in a frame to
// the station.
func uploadOnly(t *testing.T, id dimp.ID, doc *dimp.Document) dimp.Content {
	t.Helper()
	raw, err := doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	c := &dimp.GenericCommand{CommandHead: dimp.CommandHead{Head: dimp.NewHead(dimp.ContentCommand), Name: dimp.CmdDocuments}}
	c.Extra = dimp.Fields{}
	if err := c.Extra.Set("did", id.String()); err != nil {
		t.Fatal(err)
	}
	c.Extra["documents"] = append(append([]byte{'['}, raw...), ']')
	return c
}

// tooLarge is the receipt text refusing a document of n bytes.
func tooLarge(what string, n int) string {
	return fmt.Sprintf("%s not accepted: %d bytes of JSON, at most %d.", what, n, mockstation.MaxDocumentJSON)
}

// queryVisa asks the station for id's documents and returns the answer,
// checking that its frame fits a client's limit.
func queryVisa(t *testing.T, c *client, id dimp.ID) *dimp.DocumentCommand {
	t.Helper()
	c.send(c.station.ID, dimp.NewDocumentCommand(id, nil, nil))
	got := c.next()
	if len(got.raw) > frameLimit {
		t.Fatalf("answer of %d bytes, over the frame limit %d", len(got.raw), frameLimit)
	}
	d, ok := got.im.Content.(*dimp.DocumentCommand)
	if !ok {
		t.Fatalf("documents query answered %s", dimp.MarshalContent(got.im.Content))
	}
	t.Logf("%d documents of %s in a frame of %d bytes", len(d.Documents), id.Name(), len(got.raw))
	return d
}

// A visa with a 600 KB name, uploaded by a document command, attached to a
// message, or attached to the first handshake, is refused with a receipt
// that says its size and the bound; nothing of it is stored, the
// connection stays, and a query still gets the visa the station had.
func TestOversizedVisaRefused(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob := user(t, "alice"), user(t, "bob")
	a := connect(t, st.url, alice)
	a.know(bob)
	b := connect(t, st.url, bob)
	huge, n := hugeVisa(t, alice)

	a.send(st.srv.ID(), uploadOnly(t, alice.ID, huge))
	refusedFor(t, a.receipt(tooLarge("Document", n)), "document too large")

	// Attached to a message for bob: refused, bob gets nothing.
	a.packer = dimp.NewPacker(withVisa(alice, huge))
	a.sendRM(a.seal(bob.ID, dimp.NewText("with a big visa"), true))
	refusedFor(t, a.receipt(tooLarge("Visa", n)), "document too large")
	b.quiet(50 * time.Millisecond)
	a.packer = dimp.NewPacker(alice)

	// The connection still works, and the station kept alice's visa.
	if d := queryVisa(t, b, alice.ID); len(d.Documents) != 1 || d.Documents[0].Data != alice.Visa.Data {
		t.Errorf("alice's documents after the refusals: %s", dimp.MarshalContent(d))
	}

	// Before the handshake: the refusal is encrypted to the visa that came
	// with the Hello, and the client can handshake again on the line.
	carol := user(t, "carol")
	carolHuge, carolN := hugeVisa(t, carol)
	c := dial(t, st.url, withVisa(carol, carolHuge))
	hello := dimp.NewHandshake(dimp.HandshakeHello, "")
	hello.Group = dimp.EveryStations
	im := dimp.NewInstantMessage(carol.ID, dimp.AnyStation, hello)
	im.Group = dimp.EveryStations
	rm, err := c.packer.Seal(im, nil, dimp.SealOptions{Attach: true})
	if err != nil {
		t.Fatal(err)
	}
	c.sendRM(rm)
	got := c.next()
	r, ok := got.im.Content.(*dimp.ReceiptCommand)
	if !ok || r.Text != tooLarge("Visa", carolN) {
		t.Fatalf("Hello with a big visa answered %s", dimp.MarshalContent(got.im.Content))
	}
	c.me, c.packer = carol, dimp.NewPacker(carol)
	c.handshake()
	if d := queryVisa(t, b, carol.ID); len(d.Documents) != 1 || d.Documents[0].Data != carol.Visa.Data {
		t.Errorf("carol's documents: %s", dimp.MarshalContent(d))
	}
}

// A visa just under the bound is taken, attached to the handshake or
// uploaded, and a query gets it whole, twice (`documents` and `document`),
// in a frame well under the limit.
func TestVisaJustUnderBoundAnswered(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	dave, bob := user(t, "dave"), user(t, "bob")
	big := nearBound(t, dave, "")
	d := connect(t, st.url, withVisa(dave, big))
	b := connect(t, st.url, bob)

	b.send(st.srv.ID(), dimp.NewDocumentCommand(dave.ID, nil, nil))
	got := b.next()
	ans, ok := got.im.Content.(*dimp.DocumentCommand)
	if !ok || len(ans.Documents) != 1 || ans.Documents[0].Data != big.Data || ans.Meta == nil {
		t.Fatalf("documents query answered %.300s", dimp.MarshalContent(got.im.Content))
	}
	raw, err := big.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if single := strings.Count(string(dimp.MarshalContent(ans)), string(raw)); single != 2 {
		t.Errorf("the visa is in the answer %d times, want 2", single)
	}
	t.Logf("a visa of %d bytes answered in a frame of %d", len(raw), len(got.raw))
	if len(got.raw) > frameLimit/4 {
		t.Errorf("answer of %d bytes, want under a quarter of %d", len(got.raw), frameLimit)
	}

	newer := nearBound(t, dave, "")
	d.send(st.srv.ID(), dimp.NewDocumentCommand(dave.ID, nil, []*dimp.Document{newer}))
	d.receipt("Document received.")
	if ans := queryVisa(t, b, dave.ID); len(ans.Documents) != 1 || ans.Documents[0].Data != newer.Data {
		t.Errorf("after the upload: %.300s", dimp.MarshalContent(ans))
	}
}

// A user with many visas near the bound, one per terminal, is answered
// with those that fit in one frame, newest first: of 14 visas near the
// bound, the newest 10 (the newest counted twice, 720 KiB of content),
// and the small visa of the handshake, the oldest.
func TestDocumentsAnswerFitsFrame(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	erin, bob := user(t, "erin"), user(t, "bob")
	e := connect(t, st.url, erin)
	var uploaded []*dimp.Document
	for i := range 14 {
		v := nearBound(t, erin, fmt.Sprint("t", i))
		e.send(st.srv.ID(), dimp.NewDocumentCommand(erin.ID, nil, []*dimp.Document{v}))
		e.receipt("Document received.")
		uploaded = append(uploaded, v)
	}
	b := connect(t, st.url, bob)
	ans := queryVisa(t, b, erin.ID)
	want := append([]*dimp.Document{erin.Visa}, uploaded[4:]...)
	if len(ans.Documents) != len(want) {
		t.Fatalf("answer carries %d documents, want %d", len(ans.Documents), len(want))
	}
	for i, d := range ans.Documents {
		if d.Data != want[i].Data {
			t.Errorf("document %d is of terminal %q, want %q", i, d.Terminal(), want[i].Terminal())
		}
	}
}

// A visa stored before the bound is not sent: the query is answered "not
// found" rather than with a frame no client takes.
func TestStoredOversizedVisaNotSent(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "old.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	frank := user(t, "frank")
	huge, _ := hugeVisa(t, frank)
	meta, err := frank.Meta.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := huge.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	key := frank.ID.String()
	if _, err := s.SaveMeta(ctx, key, meta); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveDocument(ctx, store.Document{ID: key, Type: dimp.DocVisa, Time: huge.Time(), Data: raw}); err != nil {
		t.Fatal(err)
	}

	st := startStation(t, mockstation.Config{Store: s})
	b := connect(t, st.url, user(t, "bob"))
	b.send(st.srv.ID(), dimp.NewDocumentCommand(frank.ID, nil, nil))
	b.receipt("Document not found.")
}
