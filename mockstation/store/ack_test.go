package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// An acknowledgement with nothing else to write is committed at once, not
// when a later write comes or a timer fires: a station killed a moment
// after a receiver acknowledged a message must not deliver it again. A
// second connection, as another process would, sees each acknowledgement
// in the database files soon after it was queued with no other write.
//
// This measures time, but is not a speed target: it tells a committer
// that commits an acknowledgement by itself (well under a millisecond,
// here) from one that holds it for company (10 ms, before), so the bound
// is half of that and the median of many is taken.
func TestAckCommittedAlone(t *testing.T) {
	if raceDetector {
		t.Skip("a bound of milliseconds: not under the race detector")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "station.db")
	s := openTest(t, path, Options{})
	const n = 21
	for i := range n {
		saveTest(t, s, "bob", fmt.Sprint("s", i))
	}
	other, err := sql.Open("sqlite", "file:"+path+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	acked := func(sig string) bool {
		var n int
		if err := other.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE receiver = 'bob' AND signature = ? AND acked IS NOT NULL`, sig).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	var waits []time.Duration
	for i := range n {
		sig := fmt.Sprint("s", i)
		start := time.Now()
		if err := s.AckMessageAsync(ctx, Ack{Receiver: "bob", Signature: sig}, nil); err != nil {
			t.Fatal(err)
		}
		for !acked(sig) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("acknowledgement of %s not in the database after 10 s", sig)
			}
			time.Sleep(50 * time.Microsecond)
		}
		waits = append(waits, time.Since(start))
	}
	slices.Sort(waits)
	if median := waits[n/2]; median > 5*time.Millisecond {
		t.Errorf("an acknowledgement alone reaches the database in %v (median of %d), want at once", median, n)
	}
}
