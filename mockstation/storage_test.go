package mockstation_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dimtui/dimp"
	"dimtui/mockstation"
	"dimtui/mockstation/store"
)

// refusedFor checks that r is a refusal with text whose `error` says want.
func refusedFor(t *testing.T, r *dimp.ReceiptCommand, want string) {
	t.Helper()
	if detail := string(r.Extra["error"]); !strings.Contains(detail, want) {
		t.Errorf("receipt %q: error %s, want it to say %q", r.Text, detail, want)
	}
}

// A sender past its quota is refused with a receipt that says so, and
// everyone else still gets through; a receiver's quota refuses what more
// comes for that receiver only; an acknowledgement makes room again.
func TestQuotas(t *testing.T) {
	st := startStation(t, mockstation.Config{QuotaSenderMessages: 3, QuotaReceiverMessages: 4})
	alice, bob, carol, dave := user(t, "alice"), user(t, "bob"), user(t, "carol"), user(t, "dave")
	st.disconnect(t, connect(t, st.url, bob))
	st.disconnect(t, connect(t, st.url, dave))
	a := connect(t, st.url, alice)
	a.know(bob, dave)
	c := connect(t, st.url, carol)
	c.know(bob, dave)

	for i := range 3 {
		a.send(bob.ID, dimp.NewText(fmt.Sprint("flood ", i)))
		a.receipt(dimp.ReceiptCached)
	}
	a.send(dave.ID, dimp.NewText("one too many"))
	refusedFor(t, a.receipt("Sender's storage quota reached: message not stored."), "sender quota reached")
	c.send(bob.ID, dimp.NewText("from someone else"))
	c.receipt(dimp.ReceiptCached)

	// bob has 4 waiting now, his quota.
	c.send(bob.ID, dimp.NewText("for a full mailbox"))
	refusedFor(t, c.receipt("Receiver's storage quota reached: message not stored."), "receiver quota reached")
	c.send(dave.ID, dimp.NewText("for another receiver"))
	c.receipt(dimp.ReceiptCached)
	waitStored(t, st, 5)

	// bob takes his messages: room for alice again, and for bob.
	b := connect(t, st.url, bob)
	b.know(alice, carol)
	for range 4 {
		b.ack(b.next().rm)
	}
	waitStored(t, st, 1)
	a.send(bob.ID, dimp.NewText("after the acknowledgements"))
	a.receipt(dimp.ReceiptDelivered)
}

// fill stores junk in s until the database has no room left for rows of
// any size, in each table the station writes: as on a full disk.
func fill(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	n := 0
	for _, size := range []int{1 << 16, 4096, 512, 64, 1} {
		for ; ; n++ {
			junk := make([]byte, size)
			_, _, err := s.SaveMessage(ctx, store.Message{Receiver: "junk", Sender: "junk", Signature: fmt.Sprint(n), Data: junk})
			if err == nil {
				_, err = s.SaveMeta(ctx, fmt.Sprint("junk-", n), junk)
			}
			if err == nil {
				_, err = s.SaveDocument(ctx, store.Document{ID: fmt.Sprint("junk-", n), Type: "visa", Data: junk})
			}
			if errors.Is(err, store.ErrFull) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, size := range []int{512, 64, 1} { // each table to the last byte
		for ; ; n++ {
			if _, err := s.SaveMeta(ctx, fmt.Sprint("junk-", n), make([]byte, size)); err != nil {
				break
			}
		}
		for ; ; n++ {
			if _, err := s.SaveDocument(ctx, store.Document{ID: fmt.Sprint("junk-", n), Type: "visa", Data: make([]byte, size)}); err != nil {
				break
			}
		}
	}
}

// With the disk full, a user the station has never seen still handshakes
// (the answers are sealed to the visa in memory that the store could not
// take), an existing user's message is refused with a receipt that says
// why, and nothing stored before is lost.
func TestDiskFull(t *testing.T) {
	alice, bob, carol := user(t, "alice"), user(t, "bob"), user(t, "carol")
	dir := t.TempDir()
	st := startStation(t, mockstation.Config{DataDir: dir})
	st.disconnect(t, connect(t, st.url, bob))
	a := connect(t, st.url, alice)
	a.know(bob)
	for _, text := range []string{"one", "two"} {
		a.send(bob.ID, dimp.NewText(text))
		a.receipt(dimp.ReceiptCached)
	}
	st.stop()

	path := filepath.Join(dir, "station.db")
	full, err := store.Open(context.Background(), path, store.Options{MaxPages: 1}) // no room to grow
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	fill(t, full)
	st = startStation(t, mockstation.Config{DataDir: dir, Store: full})

	c := connect(t, st.url, carol) // fails unless both handshake answers come
	c.know(alice)
	a = connect(t, st.url, alice)
	a.know(bob, carol)
	a.send(bob.ID, dimp.NewText("on a full disk"))
	refusedFor(t, a.receipt("Station storage full: message not stored."), "storage is full")
	c.send(alice.ID, dimp.NewText("from the new user"))
	c.receipt("Station storage full: message not stored.")
	// carol is known while the station runs: alice can ask for her.
	a.send(st.srv.ID(), dimp.NewMetaCommand(carol.ID, nil))
	if got := a.next(); !isMeta(got.im.Content) {
		t.Errorf("meta query for the new user answered %s", dimp.MarshalContent(got.im.Content))
	}
	st.stop()
	full.Close()

	st = startStation(t, mockstation.Config{DataDir: dir})
	b := connect(t, st.url, bob)
	b.know(alice)
	for _, want := range []string{"one", "two"} {
		got := b.fromPeer(alice)
		if text, _ := got.im.Content.(*dimp.TextContent); text == nil || text.Text != want {
			t.Fatalf("after the full disk bob got %s, want %q", dimp.MarshalContent(got.im.Content), want)
		}
	}
}

func isMeta(c dimp.Content) bool {
	m, ok := c.(*dimp.MetaCommand)
	return ok && m.Meta != nil
}

// stationDir makes a station's data directory with a message stored, and
// returns it with the database's path.
func stationDir(t *testing.T) (dir, db string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "station")
	srv := newServer(t, &mockstation.Config{DataDir: dir})
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, "station.db")
}

// A data directory that holds the station's identity but whose database
// is empty or missing is refused, saying what happened, unless a new
// database is asked for.
func TestDatabaseGone(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		lose       func(db string) error
	}{
		{"zero bytes", "database is empty", func(db string) error { return os.Truncate(db, 0) }},
		{"deleted", "database is missing", os.Remove},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, db := stationDir(t)
			first := newServer(t, &mockstation.Config{DataDir: dir})
			id := first.ID()
			first.Close()
			if err := tc.lose(db); err != nil {
				t.Fatal(err)
			}
			_, err := mockstation.New(t.Context(), mockstation.Config{DataDir: dir})
			if !errors.Is(err, store.ErrNoDatabase) {
				t.Fatalf("err = %v, want ErrNoDatabase", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "identity.json") || strings.Count(msg, db) != 1 {
				t.Errorf("error %q: want it to say %q, name %s once and the identity", msg, tc.want, db)
			}
			srv := newServer(t, &mockstation.Config{DataDir: dir, NewDatabase: true})
			defer srv.Close()
			if srv.ID() != id {
				t.Errorf("new database, new identity: %s, was %s", srv.ID(), id)
			}
		})
	}
}

// A damaged page in the middle of the database is "database is corrupt",
// naming the file once.
func TestDatabaseCorrupt(t *testing.T) {
	dir, db := stationDir(t)
	s, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 { // a page each
		if _, _, err := s.SaveMessage(context.Background(), store.Message{Receiver: "bob", Signature: fmt.Sprint(i), Data: make([]byte, 3000)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	fi, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	junk := []byte(strings.Repeat("not a page of SQLite ", 200))[:4096]
	if _, err := f.WriteAt(junk, fi.Size()/4096/2*4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = mockstation.New(t.Context(), mockstation.Config{DataDir: dir})
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "database is corrupt") || strings.Count(err.Error(), db) != 1 {
		t.Errorf("err = %v, want ErrCorrupt saying \"database is corrupt\" and naming %s once", err, db)
	}
}

// The data directory is the station's user's alone (0700), and so are the
// database files in it (0600), like the identity.
func TestDataModes(t *testing.T) {
	dir, db := stationDir(t)
	srv := newServer(t, &mockstation.Config{DataDir: dir})
	defer srv.Close()
	for _, p := range []string{dir, filepath.Join(dir, "identity.json"), db, db + "-wal", db + "-shm", db + "-lock"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %#o, want %#o", filepath.Base(p), got, want)
		}
	}
}
