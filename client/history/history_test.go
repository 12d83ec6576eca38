package history

import (
	"bytes"
	"context"
	"database/sql"
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

func testOwner(t testing.TB, name string) dimp.ID {
	t.Helper()
	key, err := crypto.GenerateECC()
	if err != nil {
		t.Fatal(err)
	}
	meta, err := dimp.GenerateMeta(dimp.MetaMKM, key, name)
	if err != nil {
		t.Fatal(err)
	}
	id, err := meta.GenerateID(dimp.User, "")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func open(t testing.TB, path string, owner dimp.ID, opt Options) *DB {
	t.Helper()
	h, err := Open(context.Background(), path, owner, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func mark(t testing.TB, h *DB, sig string) bool {
	t.Helper()
	added, err := h.MarkSeen(context.Background(), sig)
	if err != nil {
		t.Fatal(err)
	}
	return added
}

func seen(t testing.TB, h *DB, sig string) bool {
	t.Helper()
	ok, err := h.Seen(context.Background(), sig)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// What was recorded is there after the database is closed and opened
// again, and the file is the owner's only.
func TestSeenSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "alice.history.db")
	owner := testOwner(t, "alice")
	h := open(t, path, owner, Options{})
	if seen(t, h, "sig-1") {
		t.Fatal("a new history has seen sig-1")
	}
	if !mark(t, h, "sig-1") || mark(t, h, "sig-1") {
		t.Fatal("MarkSeen: want added the first time only")
	}
	h.Close()
	h = open(t, path, owner.WithTerminal("laptop"), Options{})
	if !seen(t, h, "sig-1") || seen(t, h, "sig-2") {
		t.Error("after reopening: sig-1 should be seen, sig-2 not")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if err := h.Forget(context.Background(), "sig-1"); err != nil || seen(t, h, "sig-1") {
		t.Errorf("Forget: %v, still seen %v", err, seen(t, h, "sig-1"))
	}
}

// Signatures older than Keep are dropped, on Open and as new ones come.
func TestPrune(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	owner := testOwner(t, "alice")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	h := open(t, path, owner, Options{Now: clock})
	mark(t, h, "old")
	now = now.Add(Keep - time.Hour)
	mark(t, h, "newer")
	h.Close()
	now = now.Add(2 * time.Hour) // "old" is now older than Keep
	h = open(t, path, owner, Options{Now: clock})
	if seen(t, h, "old") || !seen(t, h, "newer") {
		t.Errorf("after Keep: old seen %v (want false), newer seen %v (want true)", seen(t, h, "old"), seen(t, h, "newer"))
	}
	// Without reopening: a prune comes every pruneEvery records.
	now = now.Add(Keep)
	for i := range pruneEvery {
		mark(t, h, fmt.Sprint("bulk-", i))
	}
	if n, err := h.Count(context.Background()); err != nil || n != pruneEvery {
		t.Errorf("%d signatures kept (%v), want the %d recent ones", n, err, pruneEvery)
	}
}

// A file that is not a database, a damaged one, another SQLite database
// or another identity's history is refused with an error that names the
// file, and left as it was.
func TestBadFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	owner := testOwner(t, "alice")
	ctx := context.Background()

	good := filepath.Join(dir, "good.db")
	h := open(t, good, owner, Options{})
	for i := range 2000 {
		mark(t, h, fmt.Sprint("sig-", i))
	}
	h.Close()
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(raw)
	for i := 2 * 4096; i < 4*4096 && i < len(damaged); i++ { // the third and fourth pages
		damaged[i] = 0xA5
	}

	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (text TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	cases := []struct {
		name    string
		content []byte // nil: the file as made above
		owner   dimp.ID
		want    error
	}{
		{"garbage.db", bytes.Repeat([]byte("not a database "), 500), owner, ErrCorrupt},
		{"damaged.db", damaged, owner, ErrCorrupt},
		{"truncated.db", raw[:len(raw)/2+7], owner, ErrCorrupt},
		{"foreign.db", nil, owner, ErrForeign},
		{"good.db", nil, testOwner(t, "bob"), ErrOwner},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if tc.content != nil {
				if err := os.WriteFile(path, tc.content, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(path)
			h, err := Open(ctx, path, tc.owner, Options{})
			if err == nil {
				h.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, tc.want) || !bytes.Contains([]byte(err.Error()), []byte(path)) {
				t.Errorf("error %q, want %v naming the file", err, tc.want)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the file was changed")
			}
		})
	}

	// An empty file that was there before Open is a history cut short:
	// refused, and left empty (see TestEmptyFile for the first run).
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(empty, old, old); err != nil {
		t.Fatal(err)
	}
	if h, err := Open(ctx, empty, owner, Options{}); err == nil {
		h.Close()
		t.Error("an empty file that was there was opened")
	} else if !errors.Is(err, ErrEmpty) || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), empty) ||
		!strings.Contains(err.Error(), "move it away") {
		t.Errorf("error %q, want ErrEmpty (and ErrCorrupt) naming the file and saying to move it away", err)
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Errorf("the empty file was changed: %v, %v", fi, err)
	}
}

// Two handles on one file, as two dimtui on one identity: writes at the
// same time all land, and each sees the other's.
func TestTwoWritersShareTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	owner := testOwner(t, "alice")
	a := open(t, path, owner, Options{})
	b := open(t, path, owner, Options{})
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i, h := range []*DB{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				if _, err := h.MarkSeen(context.Background(), fmt.Sprintf("w%d-%d", i, j)); err != nil {
					errs <- err
				}
				if _, err := h.MarkSeen(context.Background(), fmt.Sprint("both-", j)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !seen(t, a, "w1-17") || !seen(t, b, "w0-17") {
		t.Error("a handle does not see the other's records")
	}
	if n2, err := a.Count(context.Background()); err != nil || n2 != 3*n {
		t.Errorf("%d signatures (%v), want %d", n2, err, 3*n)
	}
	if mark(t, b, "w0-5") {
		t.Error("a signature the other handle recorded was added again")
	}
}

// BenchmarkMarkSeen is the cost the history adds to each message a client
// receives: one committed insert.
func BenchmarkMarkSeen(b *testing.B) {
	h := open(b, filepath.Join(b.TempDir(), "h.db"), testOwner(b, "alice"), Options{})
	for i := 0; b.Loop(); i++ {
		if _, err := h.MarkSeen(context.Background(), fmt.Sprint("sig-", i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeen is the look-up before a message is verified.
func BenchmarkSeen(b *testing.B) {
	h := open(b, filepath.Join(b.TempDir(), "h.db"), testOwner(b, "alice"), Options{})
	for i := range 10000 {
		mark(b, h, fmt.Sprint("sig-", i))
	}
	for i := 0; b.Loop(); i++ {
		if _, err := h.Seen(context.Background(), fmt.Sprint("sig-", i%20000)); err != nil {
			b.Fatal(err)
		}
	}
}
