package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// saveFrom stores a message of size bytes from sender to receiver and
// returns the error of the save.
func saveFrom(s *SQLite, sender, receiver, sig string, size int) error {
	_, _, err := s.SaveMessage(context.Background(), Message{Receiver: receiver, Sender: sender, Signature: sig, Time: 1,
		Data: []byte(strings.Repeat("x", size))})
	return err
}

// wantQuota checks that err is the quota error want.
func wantQuota(t *testing.T, err error, want QuotaError) {
	t.Helper()
	var qe *QuotaError
	if !errors.Is(err, ErrQuota) || !errors.As(err, &qe) || *qe != want {
		t.Fatalf("err = %v, want %+v", err, want)
	}
}

func TestSenderQuota(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "x.db"), Options{Quotas: Quotas{SenderMessages: 3, SenderBytes: 1000}})
	for i := range 3 {
		if err := saveFrom(s, "mallory", fmt.Sprint("r", i), fmt.Sprint("m", i), 10); err != nil {
			t.Fatal(err)
		}
	}
	err := saveFrom(s, "mallory", "r9", "m3", 10)
	wantQuota(t, err, QuotaError{Sender: true, ID: "mallory", Limit: 3})
	if !strings.Contains(err.Error(), "sender quota reached") || !strings.Contains(err.Error(), "3 messages") {
		t.Errorf("error text %q does not say which quota", err)
	}
	// Everyone else still gets through, to the same receivers too.
	if err := saveFrom(s, "alice", "r0", "a0", 10); err != nil {
		t.Errorf("another sender refused: %v", err)
	}
	// A duplicate of a stored message is no new message.
	if _, res, err := s.SaveMessage(context.Background(), Message{Receiver: "r0", Sender: "mallory", Signature: "m0", Time: 1}); err != nil || res != Duplicate {
		t.Errorf("duplicate over quota = %v, %v; want %v", res, err, Duplicate)
	}
	// Bytes: 2 × 400 leave 200 of 1000.
	for i := range 2 {
		if err := saveFrom(s, "bob", "r0", fmt.Sprint("b", i), 400); err != nil {
			t.Fatal(err)
		}
	}
	wantQuota(t, saveFrom(s, "bob", "r1", "b3", 201), QuotaError{Sender: true, Bytes: true, ID: "bob", Limit: 1000})
	if err := saveFrom(s, "bob", "r1", "b4", 200); err != nil {
		t.Errorf("a message that fits the bytes left refused: %v", err)
	}
}

func TestReceiverQuota(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "x.db"), Options{Quotas: Quotas{ReceiverMessages: 2, ReceiverBytes: 500}})
	for i := range 2 {
		if err := saveFrom(s, fmt.Sprint("s", i), "carol", fmt.Sprint("m", i), 10); err != nil {
			t.Fatal(err)
		}
	}
	err := saveFrom(s, "s9", "carol", "m2", 10)
	wantQuota(t, err, QuotaError{ID: "carol", Limit: 2})
	if !strings.Contains(err.Error(), "receiver quota reached") {
		t.Errorf("error text %q does not say which quota", err)
	}
	if err := saveFrom(s, "s9", "dave", "d0", 10); err != nil {
		t.Errorf("another receiver refused: %v", err)
	}
	wantQuota(t, saveFrom(s, "s9", "erin", "e0", 501), QuotaError{Bytes: true, ID: "erin", Limit: 500})
}

// The counts follow acknowledgements (room again), expiry and reopening.
func TestQuotaCounts(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_000_000, 0)
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "x.db")
	opts := Options{Now: clock, MaxAge: time.Hour, Quotas: Quotas{SenderMessages: 2, ReceiverBytes: 100}}
	s := openTest(t, path, opts)
	check := func(when string, wantReceiver, wantSender tally) {
		t.Helper()
		// The committer is idle between calls: the test may read its counts.
		r, snd := s.usage.of("bob", "alice")
		if r != wantReceiver || snd != wantSender {
			t.Errorf("%s: bob has %+v waiting, alice %+v; want %+v, %+v", when, r, snd, wantReceiver, wantSender)
		}
	}
	if err := saveFrom(s, "alice", "bob", "a0", 40); err != nil {
		t.Fatal(err)
	}
	if err := saveFrom(s, "alice", "bob", "a1", 40); err != nil {
		t.Fatal(err)
	}
	check("two saved", tally{2, 80}, tally{2, 80})
	wantQuota(t, saveFrom(s, "alice", "bob", "a2", 10), QuotaError{Sender: true, ID: "alice", Limit: 2})

	// Acknowledged: room again, for a message and its bytes.
	if !ackTest(t, s, "bob", "a0") {
		t.Fatal("a0 not found")
	}
	ackTest(t, s, "bob", "a0") // twice counts once
	check("one acknowledged", tally{1, 40}, tally{1, 40})
	if err := saveFrom(s, "alice", "bob", "a2", 60); err != nil {
		t.Fatalf("after an acknowledgement: %v", err)
	}
	check("saved again", tally{2, 100}, tally{2, 100})

	// Reopened: the same counts, from the table.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, opts)
	check("reopened", tally{2, 100}, tally{2, 100})
	wantQuota(t, saveFrom(s, "alice", "bob", "a3", 1), QuotaError{Sender: true, ID: "alice", Limit: 2})

	// Expired: counted out.
	now = now.Add(2 * time.Hour)
	if n, err := s.ExpireMessages(ctx); err != nil || n != 2 {
		t.Fatalf("expired %d, %v; want 2", n, err)
	}
	check("expired", tally{}, tally{})
	if len(s.usage.receivers) != 0 || len(s.usage.senders) != 0 {
		t.Errorf("usage keeps %d receivers and %d senders with nothing waiting", len(s.usage.receivers), len(s.usage.senders))
	}
	if err := saveFrom(s, "alice", "bob", "a3", 100); err != nil {
		t.Errorf("after expiry: %v", err)
	}
}

// A commit that fails takes back what its writes counted.
func TestUsageUndo(t *testing.T) {
	u := newUsage(Quotas{})
	u.add(1, "bob", "alice", 10)
	u.begin()
	u.add(2, "bob", "carol", 5)
	u.remove(1, "bob")
	u.undoTo(0)
	r, snd := u.of("bob", "alice")
	if r != (tally{1, 10}) || snd != (tally{1, 10}) {
		t.Errorf("after undo: bob %+v, alice %+v; want one message of 10 bytes each", r, snd)
	}
	if _, ok := u.senders["carol"]; ok {
		t.Error("carol still counted after undo")
	}
	if row, ok := u.rows[1]; !ok || row.sender != "alice" || row.size != 10 {
		t.Errorf("after undo, row 1 is %+v (%v); want alice's 10 bytes", row, ok)
	}
	if _, ok := u.rows[2]; ok {
		t.Error("row 2 still counted after undo")
	}
	// Counted out again, and twice: once.
	u.remove(1, "bob")
	u.remove(1, "bob")
	if r, snd := u.of("bob", "alice"); r != (tally{}) || snd != (tally{}) || len(u.rows) != 0 {
		t.Errorf("after removal: bob %+v, alice %+v, %d rows", r, snd, len(u.rows))
	}
}

// schemaV2 is the messages table of version 2, as it was.
const schemaV2 = `
CREATE TABLE messages (
	id        INTEGER PRIMARY KEY,
	receiver  TEXT    NOT NULL,
	signature TEXT    NOT NULL,
	time      REAL    NOT NULL,
	stored    INTEGER NOT NULL,
	data      BLOB    NOT NULL,
	acked     INTEGER
);
CREATE INDEX messages_waiting ON messages (receiver, id) WHERE acked IS NULL;
INSERT INTO messages VALUES
	(1, 'bob', 's1', 1, 1, '{"sender":"alice@4Wd/phone","receiver":"bob@x","signature":"s1"}', NULL),
	(2, 'bob', 's2', 1, 1, '{"F":"alice@4Wd","R":"bob@x","V":"s2"}', NULL),
	(3, 'bob', 's3', 1, 1, x'', 5),
	(4, 'bob', 's4', 1, 1, 'not json', NULL);
PRAGMA user_version = 2;
`

func TestMigrateV2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	writeRaw(t, path, schemaV2)

	s := openTest(t, path, Options{Now: func() time.Time { return time.UnixMilli(10) }})
	pending, err := s.PendingMessages(ctx, "bob", 0, 10)
	if err != nil || len(pending) != 3 || pending[0].ID != 1 || pending[2].ID != 4 {
		t.Fatalf("pending after migration = %+v, %v; want messages 1, 2 and 4", pending, err)
	}
	if _, res := saveTest(t, s, "bob", "s3"); res != Acknowledged {
		t.Errorf("acknowledged s3 after migration = %v, want %v", res, Acknowledged)
	}
	r, snd := s.usage.of("bob", "alice@4Wd")
	if r.messages != 3 || snd.messages != 2 {
		t.Errorf("after migration bob has %d waiting, alice sent %d; want 3 and 2", r.messages, snd.messages)
	}
	if snd.bytes != int64(len(pending[0].Data)+len(pending[1].Data)) {
		t.Errorf("alice's bytes = %d, want the size of her two messages", snd.bytes)
	}
	var version, old int
	s.r.QueryRow(`PRAGMA user_version`).Scan(&version)
	s.r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'messages_v2'`).Scan(&old)
	if version != schemaVersion || old != 0 {
		t.Errorf("user_version %d, %d old tables; want %d, 0", version, old, schemaVersion)
	}
}
