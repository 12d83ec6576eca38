package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func saveTest(t *testing.T, s *SQLite, recv, sig string) (int64, SaveResult) {
	t.Helper()
	id, res, err := s.SaveMessage(context.Background(), Message{Receiver: recv, Signature: sig, Time: 1, Data: []byte(`{"s":"` + sig + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	return id, res
}

func ackTest(t *testing.T, s *SQLite, recv, sig string) bool {
	t.Helper()
	found, err := s.AckMessage(context.Background(), recv, sig)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A pair whose hash another pair has already is kept apart and found all
// the same: saved, recognized, acknowledged, recognized as acknowledged.
func TestIndexCollision(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "x.db"), Options{})
	id1, _ := saveTest(t, s, "bob", "s1")
	// The committer is idle between calls: the test may touch its index.
	s.index.ids[s.index.hash("bob", "s2")] = id1

	id2, res := saveTest(t, s, "bob", "s2")
	if res != Saved || id2 == id1 {
		t.Fatalf("colliding save = %d, %v; want a new row", id2, res)
	}
	if len(s.index.more) != 1 {
		t.Fatalf("index.more has %d rows, want 1", len(s.index.more))
	}
	if id, res := saveTest(t, s, "bob", "s2"); res != Duplicate || id != id2 {
		t.Errorf("colliding duplicate = %d, %v; want %d, %v", id, res, id2, Duplicate)
	}
	if id, res := saveTest(t, s, "bob", "s1"); res != Duplicate || id != id1 {
		t.Errorf("first pair's duplicate = %d, %v; want %d, %v", id, res, id1, Duplicate)
	}
	if !ackTest(t, s, "bob", "s2") {
		t.Error("colliding ack found nothing")
	}
	if _, res := saveTest(t, s, "bob", "s2"); res != Acknowledged {
		t.Errorf("colliding replay = %v, want %v", res, Acknowledged)
	}
	pending, _ := s.PendingMessages(context.Background(), "bob", 0, 10)
	if len(pending) != 1 || pending[0].Signature != "s1" {
		t.Errorf("pending = %+v, want s1 only", pending)
	}
}

// Acknowledgements are remembered across a restart, also of messages that
// were never stored; IDs keep growing.
func TestIndexReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s := openTest(t, path, Options{})
	idA, _ := saveTest(t, s, "bob", "a")
	saveTest(t, s, "bob", "b")
	ackTest(t, s, "bob", "b")
	if ackTest(t, s, "bob", "never-stored") {
		t.Error("ack of a message never stored found one")
	}
	s.Close()

	s = openTest(t, path, Options{})
	if id, res := saveTest(t, s, "bob", "a"); res != Duplicate || id != idA {
		t.Errorf("after reopen, waiting = %d, %v; want %d, %v", id, res, idA, Duplicate)
	}
	for _, sig := range []string{"b", "never-stored"} {
		if _, res := saveTest(t, s, "bob", sig); res != Acknowledged {
			t.Errorf("after reopen, replay of %s = %v; want %v", sig, res, Acknowledged)
		}
	}
	if id, _ := saveTest(t, s, "bob", "c"); id <= s.lastID-1 || id <= idA {
		t.Errorf("new id %d not above the old ones", id)
	}
	if ackTest(t, s, "bob", "b") {
		t.Error("second ack found the message again")
	}
}

// An acknowledgement is remembered for MaxAge after it, even when the
// message is older; once expired, the pair may be stored again.
func TestExpiryOfAcknowledgements(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := openTest(t, filepath.Join(t.TempDir(), "x.db"), Options{MaxAge: time.Hour, Now: clock})

	saveTest(t, s, "bob", "late") // acknowledged 50 minutes after it was stored
	saveTest(t, s, "bob", "soon") // acknowledged at once
	ackTest(t, s, "bob", "soon")
	advance(50 * time.Minute)
	ackTest(t, s, "bob", "late")
	advance(20 * time.Minute) // "soon" is 70 minutes old, "late" acknowledged 20 minutes ago
	if n, err := s.ExpireMessages(ctx); err != nil || n != 0 {
		t.Fatalf("ExpireMessages = %d, %v; want 0 waiting messages expired", n, err)
	}
	if _, res := saveTest(t, s, "bob", "late"); res != Acknowledged {
		t.Errorf("replay of late = %v, want %v", res, Acknowledged)
	}
	if id, res := saveTest(t, s, "bob", "soon"); res != Saved {
		t.Errorf("replay of expired soon = %d, %v; want stored again", id, res)
	}
	advance(2 * time.Hour)
	if _, err := s.ExpireMessages(ctx); err != nil {
		t.Fatal(err)
	}
	if s.index.len() != 0 {
		t.Errorf("index keeps %d rows after everything expired", s.index.len())
	}
}

func TestAckMessageAsync(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "x.db"), Options{})
	saveTest(t, s, "bob", "a")
	type result struct {
		found bool
		err   error
	}
	got := make(chan result, 2)
	done := func(found bool, err error) { got <- result{found, err} }
	for _, sig := range []string{"a", "unknown"} {
		if err := s.AckMessageAsync(ctx, Ack{Receiver: "bob", Signature: sig}, done); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []bool{true, false} {
		r := <-got
		if r.err != nil || r.found != want {
			t.Errorf("ack %d: done(%v, %v), want found %v", i, r.found, r.err, want)
		}
	}
	if n, _ := s.CountMessages(ctx); n != 0 {
		t.Errorf("CountMessages = %d after the ack, want 0", n)
	}
	s.Close()
	if err := s.AckMessageAsync(ctx, Ack{Receiver: "bob", Signature: "b"}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("ack on a closed store: %v, want ErrClosed", err)
	}
}

// schemaV1 is the messages part of the version 1 schema, as it was.
const schemaV1 = `
CREATE TABLE messages (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	receiver  TEXT    NOT NULL,
	signature TEXT    NOT NULL,
	time      REAL    NOT NULL,
	stored    INTEGER NOT NULL,
	data      BLOB    NOT NULL,
	UNIQUE (receiver, signature)
);
CREATE INDEX messages_receiver ON messages (receiver, id);
CREATE TABLE acked (
	receiver  TEXT    NOT NULL,
	signature TEXT    NOT NULL,
	acked     INTEGER NOT NULL,
	PRIMARY KEY (receiver, signature)
) WITHOUT ROWID;
CREATE INDEX acked_time ON acked (acked);
CREATE TABLE metas (id TEXT PRIMARY KEY, meta BLOB NOT NULL) WITHOUT ROWID;
INSERT INTO metas VALUES ('bob', '{"m":1}');
INSERT INTO messages (receiver, signature, time, stored, data) VALUES
	('bob', 'gone', 1, 1, '{}'), ('bob', 'waiting', 1, 1, '{"w":1}'), ('carol', 'waiting', 1, 1, '{}');
DELETE FROM messages WHERE signature = 'gone';
INSERT INTO acked VALUES ('bob', 'gone', 2), ('bob', 'other', 3);
PRAGMA user_version = 1;
`

// writeRaw runs script on the database at path, without the store: an
// older station's database, or a newer one's.
func writeRaw(t *testing.T, path, script string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(script); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	writeRaw(t, path, schemaV1)

	s := openTest(t, path, Options{Now: func() time.Time { return time.UnixMilli(10) }})
	pending, err := s.PendingMessages(ctx, "bob", 0, 10)
	if err != nil || len(pending) != 1 || pending[0].ID != 2 || string(pending[0].Data) != `{"w":1}` {
		t.Fatalf("pending after migration = %+v, %v; want the waiting message, id 2", pending, err)
	}
	if id, res := saveTest(t, s, "bob", "waiting"); res != Duplicate || id != 2 {
		t.Errorf("waiting after migration = %d, %v; want 2, %v", id, res, Duplicate)
	}
	for _, sig := range []string{"gone", "other"} {
		if _, res := saveTest(t, s, "bob", sig); res != Acknowledged {
			t.Errorf("acknowledged %s after migration = %v, want %v", sig, res, Acknowledged)
		}
	}
	if id, _ := saveTest(t, s, "bob", "new"); id <= 3 {
		t.Errorf("new id %d reuses an old one", id)
	}
	if m, err := s.Meta(ctx, "bob"); err != nil || string(m) != `{"m":1}` {
		t.Errorf("meta after migration = %s, %v", m, err)
	}
	var version int
	if err := s.r.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != schemaVersion {
		t.Errorf("user_version = %d, %v; want %d", version, err, schemaVersion)
	}
	var tables int
	s.r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name IN ('acked', 'messages_v1', 'messages_receiver')`).Scan(&tables)
	if tables != 0 {
		t.Errorf("%d version 1 tables and indexes left", tables)
	}
}

func TestNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	writeRaw(t, path, `PRAGMA user_version = 99`)
	if s, err := Open(context.Background(), path, Options{}); !errors.Is(err, ErrSchema) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want ErrSchema", err)
	}
}

func TestRowIndexUndo(t *testing.T) {
	x := newRowIndex()
	x.add("bob", "a", 1)
	x.begin()
	x.add("bob", "b", 2)
	x.ids[x.hash("bob", "c")] = 1 // c collides: it goes to more
	x.add("bob", "c", 3)
	x.remove("bob", "a", 1)
	x.undoTo(0)
	if id, ok := x.candidate("bob", "a"); !ok || id != 1 {
		t.Errorf("a after undo = %d, %v; want 1", id, ok)
	}
	if _, ok := x.candidate("bob", "b"); ok {
		t.Error("b still indexed after undo")
	}
	if _, ok := x.exact("bob", "c"); ok {
		t.Error("c still in more after undo")
	}
}

// A second store on the same database is refused while the first is open:
// the first keeps the row index and the next ID in memory. Once it is
// closed, the database opens again.
func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s := openTest(t, path, Options{})
	if _, err := Open(context.Background(), path, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: err = %v, want ErrLocked", err)
	}
	saveTest(t, s, "bob", "a")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, Options{})
	if _, res := saveTest(t, s, "bob", "a"); res != Duplicate {
		t.Errorf("after reopen: %v, want %v", res, Duplicate)
	}
}
