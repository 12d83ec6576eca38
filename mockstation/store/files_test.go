package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fillMessages stores n messages of size bytes each, for 10 receivers.
func fillMessages(t *testing.T, s *SQLite, n, size int) {
	t.Helper()
	for i := range n {
		if err := saveFrom(s, "alice", fmt.Sprint("r", i%10), fmt.Sprint("sig", i), size); err != nil {
			t.Fatal(err)
		}
	}
}

// onePath checks that msg names path exactly once.
func onePath(t *testing.T, msg, path string) {
	t.Helper()
	if n := strings.Count(msg, path); n != 1 {
		t.Errorf("error names %s %d times: %s", path, n, msg)
	}
}

// With Existing, a missing or empty database file is not made anew.
func TestOpenExisting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "station.db")
	_, err := Open(ctx, path, Options{Existing: true})
	if !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing file: err = %v, want ErrNoDatabase saying missing", err)
	}
	onePath(t, err.Error(), path)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused open made %s: %v", path, err)
	}

	s := openTest(t, path, Options{})
	fillMessages(t, s, 3, 10)
	s.Close()
	s = openTest(t, path, Options{Existing: true})
	if n, _ := s.CountMessages(ctx); n != 3 {
		t.Errorf("reopened with Existing: %d messages, want 3", n)
	}
	s.Close()

	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path, Options{Existing: true})
	if !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("zero-byte file: err = %v, want ErrNoDatabase saying empty", err)
	}
	onePath(t, err.Error(), path)
	s = openTest(t, path, Options{}) // without Existing: a new database
	if n, _ := s.CountMessages(ctx); n != 0 {
		t.Errorf("new database holds %d messages", n)
	}
}

// junkPage overwrites page n (from 0) of the database file with bytes
// that are no SQLite page.
func junkPage(t *testing.T, path string, n int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i*7 + 3)
	}
	if _, err := f.WriteAt(junk, n*4096); err != nil {
		t.Fatal(err)
	}
}

// A damaged page, or a file that is no database, is ErrCorrupt naming the
// file.
func TestOpenCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name string
		page func(size int64) int64
	}{
		{"page in the middle", func(size int64) int64 { return size / 4096 / 2 }},
		{"first page", func(int64) int64 { return 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "station.db")
			s := openTest(t, path, Options{})
			fillMessages(t, s, 200, 3000) // a leaf page each
			s.Close()
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			junkPage(t, path, tc.page(fi.Size()))
			s, err = Open(context.Background(), path, Options{})
			if err == nil {
				s.Close()
				t.Fatal("opened a damaged database")
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "database is corrupt") {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			onePath(t, err.Error(), path)
		})
	}
}

// The database and the files beside it are the user's alone, whatever the
// umask, and an older station's 0644 files are made so.
func TestFileModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "station.db")
	s := openTest(t, path, Options{})
	fillMessages(t, s, 3, 10)
	check := func(when string) {
		t.Helper()
		for _, suffix := range []string{"", "-wal", "-shm", "-lock"} {
			fi, err := os.Stat(path + suffix)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s: %s has mode %#o, want 0600", when, filepath.Base(path+suffix), m)
			}
		}
	}
	check("new database")
	s.Close()

	for _, suffix := range []string{"", "-lock"} {
		if err := os.Chmod(path+suffix, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s = openTest(t, path, Options{})
	fillMessages(t, s, 1, 10)
	check("an older station's files")
}

// openFull opens a database of 20 small messages (2 for each of r0…r9)
// that cannot grow: capped at its size, as on a full disk.
func openFull(t *testing.T) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "station.db")
	s := openTest(t, path, Options{})
	fillMessages(t, s, 20, 100)
	s.Close()
	return openTest(t, path, Options{MaxPages: 1}), path
}

// A full database (SQLite's max_page_count, as a full disk) refuses new
// writes with ErrFull naming the file, loses nothing stored, and takes
// writes again once there is room.
func TestFull(t *testing.T) {
	ctx := context.Background()
	s, path := openFull(t)
	var err error
	for i := 0; err == nil && i < 100; i++ {
		err = saveFrom(s, "bob", "carol", fmt.Sprint("full", i), 3000)
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("err = %v, want ErrFull", err)
	}
	onePath(t, err.Error(), path)
	if _, err := s.SaveMeta(ctx, "dave", make([]byte, 5000)); !errors.Is(err, ErrFull) {
		t.Errorf("meta in a full database: %v, want ErrFull", err)
	}
	// The committer goes on: an acknowledgement frees nothing but costs
	// nothing either.
	if !ackTest(t, s, "r0", "sig0") {
		t.Error("acknowledgement in a full database failed")
	}
	s.Close()

	s = openTest(t, path, Options{})
	pending, err := s.PendingMessages(ctx, "r1", 0, 10)
	if err != nil || len(pending) != 2 {
		t.Errorf("r1's messages after the full disk: %d, %v; want 2", len(pending), err)
	}
	if err := saveFrom(s, "bob", "carol", "room", 3000); err != nil {
		t.Errorf("with room again: %v", err)
	}
}

// In a batch where one write fails for want of room, the others are
// committed all the same and told so: SQLite rolls the whole transaction
// back on SQLITE_FULL, and the committer runs them again without it.
func TestFullBatch(t *testing.T) {
	ctx := context.Background()
	s, path := openFull(t)

	// Hold the committer, queue a batch, let it go.
	release := make(chan struct{})
	if err := s.submit(ctx, func(context.Context, *txn) error { <-release; return nil }, func(error) {}); err != nil {
		t.Fatal(err)
	}
	saved := make(chan error, 2)
	for _, sig := range []string{"big1", "big2"} {
		m := Message{Receiver: "carol", Sender: "bob", Signature: sig, Time: 1, Data: make([]byte, 20000)}
		if err := s.SaveMessageAsync(ctx, m, func(_ int64, _ SaveResult, err error) { saved <- err }); err != nil {
			t.Fatal(err)
		}
	}
	acked := make(chan error, 1)
	if err := s.AckMessageAsync(ctx, Ack{Receiver: "r0", Signature: "sig0"}, func(found bool, err error) {
		if err == nil && !found {
			err = errors.New("not found")
		}
		acked <- err
	}); err != nil {
		t.Fatal(err)
	}
	close(release)
	for range 2 {
		if err := <-saved; !errors.Is(err, ErrFull) {
			t.Errorf("save in a full database: %v, want ErrFull", err)
		}
	}
	if err := <-acked; err != nil {
		t.Errorf("acknowledgement in the batch: %v", err)
	}
	s.Close()

	s = openTest(t, path, Options{})
	pending, err := s.PendingMessages(ctx, "r0", 0, 10)
	if err != nil || len(pending) != 1 || pending[0].Signature != "sig10" {
		t.Errorf("r0 waits for %+v, %v; want sig10 alone (sig0 acknowledged)", pending, err)
	}
}
