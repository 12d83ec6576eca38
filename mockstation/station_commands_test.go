package mockstation_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"dimtui/dimp"
	"dimtui/mockstation"
)

func TestBlockAndMute(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob, carol := user(t, "alice"), user(t, "bob"), user(t, "carol")
	st.disconnect(t, connect(t, st.url, carol))
	b := connect(t, st.url, bob)
	b.send(st.srv.ID(), dimp.NewListCommand(dimp.CmdBlock, []dimp.ID{alice.ID}))
	b.receipt("Block received.")
	b.send(st.srv.ID(), dimp.NewListCommand(dimp.CmdMute, []dimp.ID{carol.ID}))
	b.receipt("Mute received.")
	// A block list sent before the one kept (delayed, or replayed under a
	// new signature) leaves it: alice stays blocked.
	stale := dimp.NewListCommand(dimp.CmdBlock, nil)
	stale.List, stale.HasList = []dimp.ID{}, true
	stale.Time -= 60
	b.send(st.srv.ID(), stale)
	b.receipt("Block not changed.")
	for _, q := range []struct {
		name string
		want dimp.ID
	}{{dimp.CmdBlock, alice.ID}, {dimp.CmdMute, carol.ID}} {
		b.send(st.srv.ID(), dimp.NewListCommand(q.name, nil))
		l, ok := b.next().im.Content.(*dimp.ListCommand)
		if !ok || l.CommandName() != q.name || !l.HasList || len(l.List) != 1 || !l.List[0].Equal(q.want) {
			t.Errorf("%s list query: %+v", q.name, l)
		}
	}
	b.close()

	a := connect(t, st.url, alice)
	a.know(bob)
	a.send(bob.ID, dimp.NewText("let me in"))
	a.receipt(`Message is blocked by "bob"`)
	c := connect(t, st.url, carol)
	c.know(bob)
	c.send(bob.ID, dimp.NewText("muted is not blocked"))
	c.receipt(dimp.ReceiptCached)
	waitStored(t, st, 1)
}

func TestActiveUsersAndBroadcast(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob := user(t, "alice"), user(t, "bob")
	a, b := connect(t, st.url, alice), connect(t, st.url, bob)
	a.know(bob)
	b.know(alice)

	a.send(st.srv.ID(), dimp.NewText("active users"))
	txt, ok := a.next().im.Content.(*dimp.TextContent)
	if !ok {
		t.Fatal("no text answer")
	}
	var users []string
	json.Unmarshal(txt.Extra["users"], &users)
	want := []string{alice.ID.String(), bob.ID.String()}
	slices.Sort(want)
	if !slices.Equal(users, want) || txt.Text != strings.Join(want, "\n") {
		t.Errorf("active users %q %v, want %v", txt.Text, users, want)
	}

	// A text to everyone reaches bob; alice learns who it reached.
	a.send(dimp.Everyone, dimp.NewText("hello everyone"))
	if got := b.fromPeer(alice); got.im.Content.(*dimp.TextContent).Text != "hello everyone" {
		t.Errorf("bob got %s", dimp.MarshalContent(got.im.Content))
	}
	r := a.receipt("Message forwarded.")
	var recipients []string
	json.Unmarshal(r.Extra["recipients"], &recipients)
	if !slices.Equal(recipients, []string{bob.ID.String()}) {
		t.Errorf("recipients %v", recipients)
	}

	// A login to everyone is processed by the station too.
	login := dimp.NewLogin(alice.ID, "test", &dimp.LoginStation{ID: st.srv.ID(), Host: "127.0.0.1", Port: 9394})
	a.send(dimp.Everyone, login)
	if got := b.fromPeer(alice); got.im.Content.(*dimp.LoginCommand) == nil {
		t.Error("bob did not get the login")
	}
	a.receipt("Login received.")

	// bob goes offline by report: messages wait; back online: delivered.
	b.send(dimp.AnyStation, dimp.NewReport(dimp.ReportOffline))
	b.quiet(100 * time.Millisecond)
	if s := st.status(t); s.UsersOnline != 1 {
		t.Errorf("users online after report offline: %d", s.UsersOnline)
	}
	a.send(bob.ID, dimp.NewText("are you there?"))
	a.receipt(dimp.ReceiptCached)
	b.send(dimp.AnyStation, dimp.NewReport(dimp.ReportOnline))
	// The receipt and the waiting message, in either order.
	var gotReceipt, gotText bool
	for range 2 {
		switch m := b.next(); c := m.im.Content.(type) {
		case *dimp.ReceiptCommand:
			gotReceipt = c.Text == "Online received."
		case *dimp.TextContent:
			gotText = c.Text == "are you there?"
		}
	}
	if !gotReceipt || !gotText {
		t.Errorf("after report online: receipt %v, message %v", gotReceipt, gotText)
	}
}

func TestMetaAndDocuments(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, carol := user(t, "alice"), user(t, "carol")
	a := connect(t, st.url, alice)
	to := st.srv.ID()

	// Queries about someone unknown.
	a.send(to, dimp.NewMetaCommand(carol.ID, nil))
	a.receipt("Meta not found.")
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, nil))
	a.receipt("Document not found.")

	// A visa before its meta cannot be checked.
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, []*dimp.Document{carol.Visa}))
	a.receipt("Document not accepted.")
	// A meta that is not carol's.
	a.send(to, dimp.NewMetaCommand(carol.ID, alice.Meta))
	a.receipt("Meta not accepted.")
	a.send(to, dimp.NewMetaCommand(carol.ID, carol.Meta))
	a.receipt("Meta received.")
	a.send(to, dimp.NewMetaCommand(carol.ID, nil))
	if m, ok := a.next().im.Content.(*dimp.MetaCommand); !ok || m.Meta == nil || m.Meta.MatchID(carol.ID) != nil {
		t.Errorf("meta query answered %+v", m)
	}

	// A tampered visa, then the real one, twice.
	bad := *carol.Visa
	bad.Data = strings.Replace(bad.Data, "carol", "karol", 1)
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, []*dimp.Document{&bad}))
	a.receipt("Document not accepted.")
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, []*dimp.Document{carol.Visa}))
	a.receipt("Document received.")
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, []*dimp.Document{carol.Visa}))
	a.receipt("Document not changed.")

	// The query answers with the visa; one that has it already is told so.
	// Asked the dimp 2.4 way (command "documents"), answered so.
	q := dimp.NewDocumentCommand(carol.ID, nil, nil)
	q.Name = dimp.CmdDocuments
	a.send(to, q)
	d, ok := a.next().im.Content.(*dimp.DocumentCommand)
	if !ok || len(d.Documents) != 1 || d.Documents[0].Data != carol.Visa.Data || d.Meta == nil {
		t.Fatalf("documents query answered %+v", d)
	}
	if d.CommandName() != dimp.CmdDocuments {
		t.Errorf("a documents query answered with command %q", d.CommandName())
	}
	// Asked the way dimchat's apps (and dimtui) ask, command "document",
	// answered so.
	old := dimp.NewDocumentCommand(carol.ID, nil, nil)
	a.send(to, old)
	if d, ok := a.next().im.Content.(*dimp.DocumentCommand); !ok || d.CommandName() != "document" || len(d.Documents) != 1 {
		t.Errorf("a document query answered %+v", d)
	}
	q = dimp.NewDocumentCommand(carol.ID, nil, nil)
	q.LastTime = carol.Visa.Time()
	a.send(to, q)
	a.receipt("Document not updated.")

	// Queries to station@anywhere are broadcasts, answered the same way, and
	// the station's own profile can be asked for.
	a.send(dimp.AnyStation, dimp.NewDocumentCommand(st.srv.ID(), nil, nil))
	got := a.next()
	if d, ok := got.im.Content.(*dimp.DocumentCommand); !ok || len(d.Documents) != 1 || !d.ID.Equal(st.srv.ID()) {
		t.Errorf("station documents: %s", dimp.MarshalContent(got.im.Content))
	}
	if got.rm.Meta == nil {
		t.Error("first answer to station@anywhere without the station's meta")
	}

	// Once carol logged in, a query for her documents also forwards her login.
	c := connect(t, st.url, carol)
	c.send(to, dimp.NewLogin(carol.ID, "test", &dimp.LoginStation{ID: st.srv.ID()}))
	c.receipt("Login received.")
	a.send(to, dimp.NewDocumentCommand(carol.ID, nil, nil))
	if _, ok := a.next().im.Content.(*dimp.DocumentCommand); !ok {
		t.Fatal("no documents answer")
	}
	if f, ok := a.next().im.Content.(*dimp.ForwardContent); !ok || len(f.Secrets) != 1 || !f.Secrets[0].Sender.Equal(carol.ID) {
		t.Errorf("no forwarded login: %+v", f)
	}
}
