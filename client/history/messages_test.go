package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

func testGroup(t testing.TB, name string) dimp.ID {
	t.Helper()
	key, err := crypto.GenerateECC()
	if err != nil {
		t.Fatal(err)
	}
	meta, err := dimp.GenerateMeta(dimp.MetaMKM, key, name)
	if err != nil {
		t.Fatal(err)
	}
	id, err := meta.GenerateID(dimp.Group, "")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// msg makes a text message of conv numbered sn, sent by from.
func msg(conv, from dimp.ID, sn int64, out bool, text string, at time.Time) Message {
	c := dimp.NewText(text)
	c.SN = sn
	return Message{Conversation: conv, ID: MessageID(from, sn), Sender: from, Time: at, Out: out,
		Type: dimp.ContentText, Content: dimp.MarshalContent(c)}
}

func add(t testing.TB, h *DB, m Message) int64 {
	t.Helper()
	seq, err := h.AddMessage(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func page(t testing.TB, h *DB, conv dimp.ID, before int64, n int) []Message {
	t.Helper()
	got, err := h.Page(context.Background(), conv, before, n)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// texts returns the texts of a page, with what else a line shows.
func texts(t testing.TB, ms []Message) []string {
	t.Helper()
	var out []string
	for _, m := range ms {
		if m.Err != nil {
			t.Fatalf("message %d: %v", m.Seq, m.Err)
		}
		c, err := dimp.ParseContent(m.Content)
		if err != nil {
			t.Fatalf("message %d: its content does not parse: %v", m.Seq, err)
		}
		tc, ok := c.(*dimp.TextContent)
		if !ok {
			t.Fatalf("message %d: %T, want a text", m.Seq, c)
		}
		s := tc.Text
		if m.Out {
			s += " out:" + fmt.Sprint(m.State)
		}
		if m.Recalled {
			s += " recalled"
		}
		if m.Read {
			s += " read"
		}
		out = append(out, s)
	}
	return out
}

// A history closed and opened again pages back the same messages, with
// their delivery states, recalls and read marks; Clear forgets one
// conversation only, and its digests stay.
func TestMessagesSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "alice.history.db")
	alice, bob, carol := testOwner(t, "alice"), testOwner(t, "bob"), testOwner(t, "carol")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := open(t, path, alice, Options{})
	for i := range 120 {
		at := t0.Add(time.Duration(i) * time.Second)
		if i%2 == 0 {
			add(t, h, msg(bob, alice.WithTerminal("laptop"), int64(1000+i), true, fmt.Sprint("to bob ", i), at))
		} else {
			add(t, h, msg(bob, bob, int64(1000+i), false, fmt.Sprint("from bob ", i), at))
		}
	}
	carolSeq := add(t, h, msg(carol, carol, 7, false, "hi from carol", t0.Add(time.Hour)))
	mark(t, h, "digest of bob's 119")
	for _, step := range []struct {
		id    string
		state int
	}{{MessageID(alice, 1118), AtStation}, {MessageID(alice, 1118), Delivered}, {MessageID(alice, 1116), Read},
		{MessageID(alice, 1114), Failed}} {
		if err := h.SetDelivery(ctx, step.id, step.state, "detail"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.MarkRecalled(ctx, bob.WithTerminal("phone"), bob, 1117); err != nil {
		t.Fatal(err)
	}
	if err := h.MarkMessageRead(ctx, MessageID(bob, 1119)); err != nil {
		t.Fatal(err)
	}
	if err := h.SetContact(ctx, bob, "Bob"); err != nil {
		t.Fatal(err)
	}
	if err := h.SetContact(ctx, bob, ""); err != nil { // met again, name not known: kept
		t.Fatal(err)
	}
	if err := h.SetContact(ctx, carol, strings.Repeat("ä", 1000)); err != nil {
		t.Fatal(err)
	}
	h.Close()

	h = open(t, path, alice, Options{})
	last := page(t, h, bob, 0, 5)
	want := []string{"to bob 114 out:4", "from bob 115", "to bob 116 out:3", "from bob 117 recalled", "to bob 118 out:2", "from bob 119 read"}[1:]
	if got := texts(t, last); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the newest page\n got %q\nwant %q", got, want)
	}
	if m := last[3]; !m.Out || !m.Sender.SameAs(alice) || m.Sender.Terminal() != "laptop" || !m.Time.Equal(t0.Add(118*time.Second)) ||
		m.ID != MessageID(alice, 1118) || m.Detail != "detail" || !m.Conversation.Equal(bob) || m.Type != dimp.ContentText {
		t.Errorf("message 118 read back as %+v", m)
	}
	// Paging back: every message once, in order.
	var all []string
	for before := int64(0); ; {
		p := page(t, h, bob, before, 50)
		if len(p) == 0 {
			break
		}
		all = append(texts(t, p), all...)
		before = p[0].Seq
	}
	if len(all) != 120 || !strings.HasPrefix(all[0], "to bob 0 ") || all[119] != "from bob 119 read" {
		t.Errorf("paged back %d messages, first %q last %q", len(all), all[0], all[len(all)-1])
	}
	convs, err := h.Conversations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 2 || !convs[0].ID.Equal(carol) || !convs[1].ID.Equal(bob) || convs[1].Name != "Bob" ||
		convs[1].Count != 120 || convs[1].Unread != 59 || convs[0].Unread != 1 || !convs[1].Last.Equal(t0.Add(119*time.Second)) {
		t.Errorf("conversations %+v", convs)
	}
	contacts, err := h.Contacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(contacts) != 2 || contacts[0].Name != "Bob" || len(contacts[1].Name) != MaxName || !strings.HasPrefix(contacts[1].Name, "ää") {
		t.Errorf("contacts %+v", contacts)
	}

	if err := h.MarkRead(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if err := h.Clear(ctx, carol); err != nil {
		t.Fatal(err)
	}
	convs, _ = h.Conversations(ctx)
	if len(convs) != 1 || !convs[0].ID.Equal(bob) || convs[0].Unread != 0 {
		t.Errorf("after MarkRead(bob) and Clear(carol): %+v", convs)
	}
	if p := page(t, h, carol, 0, 50); len(p) != 0 {
		t.Errorf("carol's conversation after Clear: %d messages", len(p))
	}
	if !seen(t, h, "digest of bob's 119") {
		t.Error("a digest was forgotten")
	}
	// Carol writes again: a new conversation, whose sequence numbers go on.
	if seq := add(t, h, msg(carol, carol, 8, false, "still there?", t0.Add(2*time.Hour))); seq <= carolSeq {
		t.Errorf("a sequence number was reused: %d", seq)
	}
}

// Recording a message twice is a no-op that returns its sequence number;
// the same ID the other way, or in another conversation, is another row.
func TestAddMessageIsIdempotent(t *testing.T) {
	h := open(t, filepath.Join(t.TempDir(), "h.db"), testOwner(t, "alice"), Options{})
	bob, group := testOwner(t, "bob"), testGroup(t, "dev-team")
	now := time.Now()
	a := add(t, h, msg(bob, bob, 1, false, "one", now))
	if b := add(t, h, msg(bob.WithTerminal("phone"), bob, 1, false, "one again", now.Add(time.Second))); b != a {
		t.Errorf("the same message again: seq %d, want %d", b, a)
	}
	if b := add(t, h, msg(bob, bob, 1, true, "one", now)); b == a {
		t.Error("the other direction was taken for the same row")
	}
	if b := add(t, h, msg(group, bob, 1, false, "one", now)); b == a {
		t.Error("another conversation was taken for the same row")
	}
	if got := texts(t, page(t, h, bob, 0, 10)); fmt.Sprint(got) != fmt.Sprint([]string{"one", "one out:0"}) {
		t.Errorf("bob's conversation %q", got)
	}
	if convs, _ := h.Conversations(context.Background()); len(convs) != 2 || convs[0].Count+convs[1].Count != 3 {
		t.Errorf("conversations %+v", convs)
	}

	// What cannot be kept is refused by name.
	big := msg(bob, bob, 2, false, strings.Repeat("x", MaxContent), now)
	bad := msg(bob, bob, 3, false, "x", now)
	bad.Content = []byte(`{"type":1,`)
	for _, tc := range []struct {
		m    Message
		want error
	}{{big, ErrTooBig}, {bad, ErrBadMessage}, {Message{Conversation: bob}, ErrBadMessage}} {
		if _, err := h.AddMessage(context.Background(), tc.m); !errors.Is(err, tc.want) {
			t.Errorf("AddMessage: %v, want %v", err, tc.want)
		}
	}
}

// A delivery state never goes back, and Failed comes only before the
// peer has the message.
func TestDeliveryNeverGoesBack(t *testing.T) {
	ctx := context.Background()
	alice, bob := testOwner(t, "alice"), testOwner(t, "bob")
	h := open(t, filepath.Join(t.TempDir(), "h.db"), alice, Options{})
	cases := []struct {
		steps []int
		want  int
	}{
		{[]int{AtStation, Delivered, Read}, Read},
		{[]int{Read, Delivered, AtStation, Sending}, Read},
		{[]int{Delivered, AtStation}, Delivered},
		{[]int{AtStation, Failed}, Failed},
		{[]int{Failed, AtStation, Read}, Failed},
		{[]int{Delivered, Failed}, Delivered},
		{[]int{Read, Failed}, Read},
		{[]int{Failed}, Failed},
	}
	for i, tc := range cases {
		m := msg(bob, alice, int64(100+i), true, "x", time.Now())
		add(t, h, m)
		for _, s := range tc.steps {
			if err := h.SetDelivery(ctx, m.ID, s, fmt.Sprint("step ", s)); err != nil {
				t.Fatal(err)
			}
		}
		p := page(t, h, bob, 0, 1)
		if got := p[0].State; got != tc.want {
			t.Errorf("after %v: state %d, want %d", tc.steps, got, tc.want)
		}
	}
	if err := h.SetDelivery(ctx, "nobody#1", Read, ""); err != nil {
		t.Errorf("an unknown ID: %v, want no error", err)
	}
	if err := h.SetDelivery(ctx, "nobody#1", 9, ""); err == nil {
		t.Error("state 9 was taken")
	}
	// A received message has no delivery to move.
	in := msg(bob, bob, 5, false, "in", time.Now())
	add(t, h, in)
	if err := h.SetDelivery(ctx, in.ID, Read, ""); err != nil {
		t.Fatal(err)
	}
	if p := page(t, h, bob, 0, 1); p[0].State != Delivered {
		t.Errorf("a message received has state %d", p[0].State)
	}
}

// makeV1 writes a history as the first dimtui with one wrote it.
func makeV1(t *testing.T, path string, owner dimp.ID, sigs ...string) {
	t.Helper()
	if err := writeV1(path, owner, sigs...); err != nil {
		t.Fatal(err)
	}
}

// writeV1 is makeV1 for another goroutine: it writes the file beside path
// and renames it, so that it appears whole.
func writeV1(path string, owner dimp.ID, sigs ...string) error {
	tmp := path + ".new"
	db, err := sql.Open("sqlite", tmp)
	if err != nil {
		return err
	}
	defer db.Close()
	script := schemaV1 + fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = 1;", applicationID)
	if _, err := db.Exec(script); err != nil {
		return err
	}
	if _, err := db.Exec(`INSERT INTO info (key, value) VALUES ('owner', ?)`, owner.String()); err != nil {
		return err
	}
	for _, s := range sigs {
		if _, err := db.Exec(`INSERT INTO seen (sig, at) VALUES (?, ?)`, key(s), time.Now().Unix()); err != nil {
			return err
		}
	}
	if err := db.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// A version 1 history is brought to version 2 in place: its digests stay,
// and it takes messages.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	alice, bob := testOwner(t, "alice"), testOwner(t, "bob")
	makeV1(t, path, alice, "old-1", "old-2")
	h := open(t, path, alice, Options{})
	if !seen(t, h, "old-1") || !seen(t, h, "old-2") {
		t.Error("the digests of version 1 were lost")
	}
	var version int
	if err := h.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil || version != schemaVersion {
		t.Errorf("version %d (%v), want %d", version, err, schemaVersion)
	}
	add(t, h, msg(bob, bob, 1, false, "after the migration", time.Now()))
	h.Close()
	h = open(t, path, alice, Options{})
	if got := texts(t, page(t, h, bob, 0, 10)); len(got) != 1 || !seen(t, h, "old-2") {
		t.Errorf("after reopening: %q", got)
	}
	// Another identity's version 1 file is refused before it is migrated.
	other := filepath.Join(t.TempDir(), "other.db")
	makeV1(t, other, bob)
	before, _ := os.ReadFile(other)
	if h, err := Open(ctx, other, alice, Options{}); !errors.Is(err, ErrOwner) {
		if h != nil {
			h.Close()
		}
		t.Errorf("another identity's version 1 file: %v, want ErrOwner", err)
	}
	if after, _ := os.ReadFile(other); !bytes.Equal(before, after) {
		t.Error("another identity's version 1 file was changed")
	}
}

// The first run creates the file; an empty file created a moment ago by
// another dimtui starting on the same identity is waited for; an Open
// that fails leaves no empty file to be refused by the next.
func TestEmptyFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	owner := testOwner(t, "alice")

	// Two dimtui starting at once on a new identity.
	path := filepath.Join(dir, "new.db")
	var wg sync.WaitGroup
	hs := make([]*DB, 4)
	errs := make([]error, len(hs))
	for i := range hs {
		wg.Go(func() { hs[i], errs[i] = Open(ctx, path, owner, Options{}) })
	}
	wg.Wait()
	for i, h := range hs {
		if errs[i] != nil {
			t.Errorf("open %d: %v", i, errs[i])
			continue
		}
		defer h.Close()
	}
	if !t.Failed() {
		mark(t, hs[0], "first")
		if !seen(t, hs[3], "first") {
			t.Error("the handles do not share the file")
		}
	}

	// A fresh empty file filled by its creator in time is opened.
	fresh := filepath.Join(dir, "fresh.db")
	if err := os.WriteFile(fresh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		wrote <- writeV1(fresh, owner, "from the other")
	}()
	h, err := Open(ctx, fresh, owner, Options{})
	if werr := <-wrote; werr != nil {
		t.Fatal(werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !seen(t, h, "from the other") {
		t.Error("the other's history was not opened")
	}
	h.Close()

	// An Open that fails on a file it created removes it.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	gone := filepath.Join(dir, "gone.db")
	if h, err := Open(cancelled, gone, owner, Options{}); err == nil {
		h.Close()
		t.Fatal("opened with a cancelled context")
	}
	if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed first Open left its file: %v", err)
	}
	if h, err := Open(ctx, gone, owner, Options{}); err != nil {
		t.Errorf("the next Open: %v", err)
	} else {
		h.Close()
	}
}

// A row that no longer reads (a content that does not parse, an ID that
// does not, a value of the wrong kind) comes back with Err set, between
// the good ones: nothing panics, the page keeps its cursor.
func TestBadRowsAreMarked(t *testing.T) {
	ctx := context.Background()
	alice, bob := testOwner(t, "alice"), testOwner(t, "bob")
	h := open(t, filepath.Join(t.TempDir(), "h.db"), alice, Options{})
	add(t, h, msg(bob, bob, 1, false, "good 1", time.Now()))
	bad := []string{
		`INSERT INTO messages (conv, msg_id, sender, at, out, type, content) VALUES (?, 'x#2', ?, 0, 0, 1, '{"type":1,')`,
		`INSERT INTO messages (conv, msg_id, sender, at, out, type, content) VALUES (?, 'x#3', ?, 0, 0, 1, '[1,2]')`,
		`INSERT INTO messages (conv, msg_id, sender, at, out, type, content) VALUES (?, 'x#4', ?, 'noon', 0, 1, '{}')`,
		`INSERT INTO messages (conv, msg_id, sender, at, out, type, content) VALUES (?, 'x#5', 'not an id', 0, 0, 999, '{"type":1,"sn":5,"text":"t"}')`,
	}
	for _, q := range bad {
		args := []any{convKey(bob)}
		if strings.Count(q, "?") == 2 {
			args = append(args, bob.String())
		}
		if _, err := h.db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	add(t, h, msg(bob, bob, 6, false, "good 6", time.Now()))
	if _, err := h.db.ExecContext(ctx, `INSERT INTO conversations (conv, last_at, total, unread) VALUES ('@@', 0, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	p := page(t, h, bob, 0, 10)
	if len(p) != 6 {
		t.Fatalf("%d rows, want 6", len(p))
	}
	for i, m := range p {
		if bad := i >= 1 && i <= 4; bad != (m.Err != nil) || (bad && !errors.Is(m.Err, ErrBadRow)) {
			t.Errorf("row %d (%s): error %v", i, m.ID, m.Err)
		}
		if m.Seq == 0 {
			t.Errorf("row %d has no sequence number", i)
		}
	}
	convs, err := h.Conversations(ctx)
	if err != nil || len(convs) != 2 {
		t.Fatalf("conversations %+v, %v", convs, err)
	}
	if !errors.Is(convs[1].Err, ErrBadRow) {
		t.Errorf("a conversation with a bad ID: %+v", convs[1])
	}
}

// Reads from another goroutine while the writer records, as the UI pages
// while the client's loop records: no error, no race.
func TestReadWhileWriting(t *testing.T) {
	ctx := context.Background()
	alice, bob := testOwner(t, "alice"), testOwner(t, "bob")
	h := open(t, filepath.Join(t.TempDir(), "h.db"), alice, Options{})
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := range 300 {
			if _, err := h.AddMessage(ctx, msg(bob, bob, int64(i+1), false, fmt.Sprint(i), time.Now())); err != nil {
				t.Error(err)
				return
			}
			if _, err := h.MarkSeen(ctx, fmt.Sprint("sig ", i)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := h.Page(ctx, bob, 0, 50); err != nil {
				t.Error(err)
				return
			}
			if _, err := h.Conversations(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	if p := page(t, h, bob, 0, 1000); len(p) != 300 {
		t.Errorf("%d messages, want 300", len(p))
	}
}

// buildHistory writes a history of n messages in one transaction: one
// conversation with half of them, the rest over 99 others; texts of a few
// dozen bytes, a few of a few kilobytes.
func buildHistory(b *testing.B, path string, owner dimp.ID, n int) (big dimp.ID) {
	b.Helper()
	h := open(b, path, owner, Options{})
	peers := make([]dimp.ID, 100)
	for i := range peers {
		peers[i] = testOwner(b, fmt.Sprint("peer", i))
	}
	ctx := context.Background()
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO messages (conv, msg_id, sender, at, out, type, content, state, was_read)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now().Add(-time.Duration(n) * time.Minute)
	for i := range n {
		peer := peers[0]
		if i%2 == 1 {
			peer = peers[1+i%99]
		}
		out := i%3 == 0
		from := peer
		if out {
			from = owner
		}
		text := fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog", i)
		if i%500 == 0 {
			text = strings.Repeat(text+" ", 60)
		}
		m := msg(peer, from, int64(i+1), out, text, t0.Add(time.Duration(i)*time.Minute))
		if _, err := st.ExecContext(ctx, convKey(peer), m.ID, from.String(), millis(m.Time), bool01(out), 1, []byte(m.Content), Read); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if err := h.Close(); err != nil {
		b.Fatal(err)
	}
	return peers[0]
}

// BenchmarkHistoryOpenAndPage: a history of 100,000 messages. first-frame
// is what a restarted client does before it can draw: open the history,
// list the conversations, read the newest page of the first one.
// page-back-2000 is scrolling back through 2,000 messages, 50 at a time.
func BenchmarkHistoryOpenAndPage(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "h.db")
	owner := testOwner(b, "alice")
	start := time.Now()
	big := buildHistory(b, path, owner, 100_000)
	fi, _ := os.Stat(path)
	b.Logf("built 100,000 messages in %s, %d MB", time.Since(start).Round(time.Millisecond), fi.Size()>>20)

	b.Run("first-frame", func(b *testing.B) {
		for b.Loop() {
			h, err := Open(ctx, path, owner, Options{})
			if err != nil {
				b.Fatal(err)
			}
			convs, err := h.Conversations(ctx)
			if err != nil || len(convs) != 100 {
				b.Fatalf("%d conversations, %v", len(convs), err)
			}
			p, err := h.Page(ctx, convs[0].ID, 0, 50)
			if err != nil || len(p) != 50 {
				b.Fatalf("%d messages, %v", len(p), err)
			}
			h.Close()
		}
	})
	b.Run("page-back-2000", func(b *testing.B) {
		h := open(b, path, owner, Options{})
		for b.Loop() {
			before, got := int64(0), 0
			for got < 2000 {
				p, err := h.Page(ctx, big, before, 50)
				if err != nil || len(p) != 50 {
					b.Fatalf("%d messages, %v", len(p), err)
				}
				before, got = p[0].Seq, got+len(p)
			}
		}
	})
}

// rootPage returns the first page of a table or index.
func rootPage(t *testing.T, h *DB, name string) int {
	t.Helper()
	var page int
	if err := h.db.QueryRow(`SELECT rootpage FROM sqlite_schema WHERE name = ?`, name).Scan(&page); err != nil {
		t.Fatal(err)
	}
	return page
}

// A file bigger than fullCheck has every table but the messages checked
// on Open: a damaged page of the digests is refused there, one of the
// messages when it is read, by name, and nothing panics.
func TestBigFileCheck(t *testing.T) {
	defer func(was int64) { fullCheck = was }(fullCheck)
	fullCheck = 0
	ctx := context.Background()
	dir := t.TempDir()
	alice, bob := testOwner(t, "alice"), testOwner(t, "bob")
	good := filepath.Join(dir, "good.db")
	h := open(t, good, alice, Options{})
	for i := range 500 {
		add(t, h, msg(bob, bob, int64(i+1), false, strings.Repeat("x", 200), time.Now()))
		mark(t, h, fmt.Sprint("sig-", i))
	}
	seenRoot, msgRoot := rootPage(t, h, "seen"), rootPage(t, h, "messages")
	h.Close()
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	damage := func(name string, page int) string {
		b := bytes.Clone(raw)
		for i := (page - 1) * 4096; i < page*4096; i++ {
			b[i] = 0xA5
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	seenDamaged := damage("seen.db", seenRoot)
	if h, err := Open(ctx, seenDamaged, alice, Options{}); !errors.Is(err, ErrCorrupt) {
		if h != nil {
			h.Close()
		}
		t.Errorf("damaged digests: %v, want ErrCorrupt", err)
	}

	msgDamaged := damage("messages.db", msgRoot)
	before, _ := os.ReadFile(msgDamaged)
	h, err = Open(ctx, msgDamaged, alice, Options{})
	if err != nil {
		t.Fatalf("damaged messages: Open: %v (want it opened, the damage found on reading)", err)
	}
	if _, err := h.Page(ctx, bob, 0, 50); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), msgDamaged) {
		t.Errorf("Page over a damaged page: %v, want ErrCorrupt naming the file", err)
	}
	if _, err := h.AddMessage(ctx, msg(bob, bob, 9999, false, "new", time.Now())); !errors.Is(err, ErrCorrupt) {
		t.Errorf("AddMessage into a damaged table: %v, want ErrCorrupt", err)
	}
	h.Close()
	after, _ := os.ReadFile(msgDamaged)
	if !bytes.Equal(before[(msgRoot-1)*4096:msgRoot*4096], after[(msgRoot-1)*4096:msgRoot*4096]) {
		t.Error("the damaged page was written over")
	}
}

// BenchmarkAddMessage is the cost the history adds to each message the
// client shows or sends: one committed insert, and the conversation's
// summary kept by its trigger.
func BenchmarkAddMessage(b *testing.B) {
	alice, bob := testOwner(b, "alice"), testOwner(b, "bob")
	h := open(b, filepath.Join(b.TempDir(), "h.db"), alice, Options{})
	now := time.Now()
	for i := 0; b.Loop(); i++ {
		if _, err := h.AddMessage(context.Background(), msg(bob, bob, int64(i+1), false, "hello, how are you?", now)); err != nil {
			b.Fatal(err)
		}
	}
}

// makeV2 writes a history as the dimtui of schema 2 wrote it, with one
// message of bob's.
func makeV2(t *testing.T, path string, owner, bob dimp.ID) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	script := schemaV1 + schemaV2 + fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = 2;", applicationID)
	if _, err := db.Exec(script); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO info (key, value) VALUES ('owner', ?)`, owner.String()); err != nil {
		t.Fatal(err)
	}
	m := msg(bob, bob, 7, false, "from schema 2", time.Now())
	if _, err := db.Exec(`INSERT INTO messages (conv, msg_id, sender, at, out, type, content)
		VALUES (?, ?, ?, ?, 0, ?, ?)`, convKey(bob), m.ID, bob.String(), millis(m.Time), int(m.Type), []byte(m.Content)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// A version 2 history is brought to version 3 in place: its messages read
// as messages, and it keeps groups and their notices.
func TestMigrateFromVersion2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	alice, bob := testOwner(t, "alice"), testOwner(t, "bob")
	makeV2(t, path, alice, bob)
	h := open(t, path, alice, Options{})
	got := page(t, h, bob, 0, 10)
	if len(got) != 1 || got[0].Kind != KindMessage || texts(t, got)[0] != "from schema 2" {
		t.Fatalf("the message of schema 2: %+v", got)
	}
	group := testGroup(t, "g")
	if err := h.SaveGroup(ctx, group, []byte(`{"members":[]}`)); err != nil {
		t.Fatalf("save a group after the migration: %v", err)
	}
}

// A group's state is kept, replaced, read back; what cannot be kept is
// refused and leaves what was kept; a damaged row comes back with Err.
func TestGroupsKept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	alice := testOwner(t, "alice")
	h := open(t, path, alice, Options{})
	g1, g2 := testGroup(t, "g1"), testGroup(t, "g2")
	for _, s := range []struct {
		id    dimp.ID
		state string
	}{{g1, `{"v":1}`}, {g2, `{"v":"two"}`}, {g1, `{"v":3}`}} {
		if err := h.SaveGroup(ctx, s.id, []byte(s.state)); err != nil {
			t.Fatal(err)
		}
	}
	refused := []struct {
		id    dimp.ID
		state []byte
		want  error
	}{
		{alice, []byte(`{}`), ErrBadMessage},
		{g1, []byte(`{"v":`), ErrBadMessage},
		{g1, []byte(`"` + strings.Repeat("x", MaxGroupState) + `"`), ErrTooBig},
	}
	for _, r := range refused {
		if err := h.SaveGroup(ctx, r.id, r.state); !errors.Is(err, r.want) {
			t.Errorf("SaveGroup(%s, %d bytes) = %v, want %v", r.id, len(r.state), err, r.want)
		}
	}
	h.Close()
	h = open(t, path, alice, Options{})
	if _, err := h.db.ExecContext(ctx, `INSERT INTO groups (id, state, at) VALUES ('not an id', 'nor json', 0)`); err != nil {
		t.Fatal(err)
	}
	list, err := h.Groups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{convKey(g1): `{"v":3}`, convKey(g2): `{"v":"two"}`}
	bad := 0
	for _, g := range list {
		if g.Err != nil {
			if !errors.Is(g.Err, ErrBadRow) {
				t.Errorf("a damaged row's error: %v", g.Err)
			}
			bad++
			continue
		}
		if w, ok := want[convKey(g.ID)]; !ok || w != string(g.State) {
			t.Errorf("group %s: %s, want %s", g.ID, g.State, w)
		}
		delete(want, convKey(g.ID))
	}
	if bad != 1 || len(want) != 0 {
		t.Errorf("%d damaged rows (want 1), not read back: %v", bad, want)
	}
}

// A group's notice is kept beside its messages, in order, read back as a
// notice whatever JSON it holds; a kind this dimtui does not know is
// refused when written and marked when read.
func TestGroupNoticeRows(t *testing.T) {
	ctx := context.Background()
	alice, bob := testOwner(t, "alice"), testOwner(t, "bob")
	h := open(t, filepath.Join(t.TempDir(), "h.db"), alice, Options{})
	group := testGroup(t, "g")
	now := time.Now()
	add(t, h, msg(group, bob, 1, false, "before", now))
	notice := Message{Kind: KindGroupNotice, Conversation: group, ID: "notice-1", Sender: bob, Time: now,
		Content: json.RawMessage(`{"command":"reset","added":["x"]}`), Read: true}
	add(t, h, notice)
	add(t, h, msg(group, bob, 2, false, "after", now))
	got := page(t, h, group, 0, 10)
	if len(got) != 3 || got[1].Kind != KindGroupNotice || got[1].Err != nil || string(got[1].Content) != string(notice.Content) {
		t.Fatalf("the notice read back: %+v", got)
	}
	if got[0].Kind != KindMessage || got[2].Kind != KindMessage {
		t.Errorf("the messages around it: kinds %d and %d", got[0].Kind, got[2].Kind)
	}
	convs, err := h.Conversations(ctx)
	if err != nil || len(convs) != 1 || convs[0].Unread != 2 {
		t.Errorf("conversations %+v (%v): the notice read, two messages unread", convs, err)
	}
	profile := Message{Kind: KindProfileNotice, Conversation: bob, ID: "profile-1", Sender: bob, Time: now,
		Content: json.RawMessage(`{"name":"Bobby"}`), Read: true}
	add(t, h, profile)
	if got := page(t, h, bob, 0, 10); len(got) != 1 || got[0].Kind != KindProfileNotice || got[0].Err != nil {
		t.Errorf("a profile notice read back: %+v", got)
	}
	notice.Kind, notice.ID = 9, "notice-2"
	if _, err := h.AddMessage(ctx, notice); !errors.Is(err, ErrBadMessage) {
		t.Errorf("a kind 9 row: %v", err)
	}
	if _, err := h.db.ExecContext(ctx, `UPDATE messages SET kind = 9 WHERE msg_id = 'notice-1'`); err != nil {
		t.Fatal(err)
	}
	if got := page(t, h, group, 0, 10); got[1].Err == nil || !errors.Is(got[1].Err, ErrBadRow) {
		t.Errorf("a kind 9 row read back: %+v", got[1])
	}
}

// A group message's delivery to each member is kept and read back; a
// list too long or not JSON is refused and leaves what was kept; a
// message received takes none.
func TestMembersKept(t *testing.T) {
	ctx := context.Background()
	alice, bob := testOwner(t, "alice"), testOwner(t, "bob")
	h := open(t, filepath.Join(t.TempDir(), "h.db"), alice, Options{})
	group := testGroup(t, "g")
	sent := msg(group, alice, 1, true, "to the group", time.Now())
	add(t, h, sent)
	got := msg(group, bob, 2, false, "from bob", time.Now())
	add(t, h, got)
	list := `[{"member":"x","state":2},{"member":"y","state":4,"detail":"no visa"}]`
	if err := h.SetMembers(ctx, sent.ID, []byte(list)); err != nil {
		t.Fatal(err)
	}
	if err := h.SetMembers(ctx, got.ID, []byte(list)); err != nil {
		t.Fatal(err)
	}
	if err := h.SetMembers(ctx, sent.ID, []byte(`[{`)); !errors.Is(err, ErrBadMessage) {
		t.Errorf("members not JSON: %v", err)
	}
	if err := h.SetMembers(ctx, sent.ID, []byte(`"`+strings.Repeat("m", MaxMembers)+`"`)); !errors.Is(err, ErrTooBig) {
		t.Errorf("members too long: %v", err)
	}
	p := page(t, h, group, 0, 10)
	if len(p) != 2 || string(p[0].Members) != list || p[1].Members != nil {
		t.Errorf("members read back: %q and %q", p[0].Members, p[1].Members)
	}
}
