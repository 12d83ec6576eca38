package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
	// the "sqlite" database/sql driver, pure Go
)

// Sync is how hard a commit waits for the disk (SQLite's synchronous pragma,
// in WAL mode).
type Sync int

const (
	// SyncNormal: a commit has been written to the write-ahead log (the
	// write system call returned) before SaveMessage returns. It survives
	// the station process being killed at any point; a power failure or OS
	// crash can lose the last commits.
	SyncNormal Sync = iota
	// SyncFull: the write-ahead log is also flushed to the device (fsync)
	// on every commit, so a commit survives a power failure too. Commits
	// are grouped, so this costs latency (one fsync per group) more than
	// throughput.
	SyncFull
)

// DefaultMaxAge is how long a message waits for its receiver.
const DefaultMaxAge = 7 * 24 * time.Hour

// Options tune Open.
type Options struct {
	Sync   Sync
	MaxAge time.Duration    // how long messages are kept; 0 means DefaultMaxAge
	Now    func() time.Time // the clock; nil means time.Now
	// Quotas bound the messages waiting per receiver and per sender; the
	// zero value bounds nothing.
	Quotas Quotas
	// Existing says the database must exist already and hold the store's
	// tables: Open fails with ErrNoDatabase when the file is missing or
	// empty, instead of starting a new database.
	Existing bool
	// MaxPages caps the database at that many pages (SQLite's
	// max_page_count; pages are 4 KiB): past it, writes fail with ErrFull
	// exactly as on a full disk. A cap below the database's size is its
	// size. 0: no cap but the disk's. For tests of a full disk.
	MaxPages int64
}

// SQLite is the Store in one SQLite database file. Every write goes through
// one goroutine that commits the writes waiting at that moment together (a
// group commit), so concurrent sessions share the cost of a commit; reads
// use a separate pool of read-only connections, which WAL mode lets run
// beside the writer. Checkpoints (copying the write-ahead log into the
// database file, with its fsyncs) run on a connection of their own, so that
// no commit waits for one.
type SQLite struct {
	w, r, ck   *sql.DB
	path       string
	lock       *os.File // held while open (see lockFile); nil where not supported
	opts       Options
	stmts      stmts
	ops        chan writeOp
	acks       chan ackOp
	lastID     int64        // the highest message ID given out; the committer's
	index      *rowIndex    // the committer's
	usage      *usage       // the committer's
	written    atomic.Int64 // writes committed since the last checkpoint
	lastCommit atomic.Int64 // when the last commit ended, unix nanoseconds
	quit       chan struct{}
	done       chan struct{}
	ckDone     chan struct{}
	closed     sync.Once
	// shutMu guards shut: it is held for reading while a write is queued
	// on ops or acks, and for writing to close the store, so that nothing
	// is queued once the committer may have stopped.
	shutMu sync.RWMutex
	shut   bool
}

type stmts struct {
	tx      [nTxStmts]*sql.Stmt // on the writer's connection
	pending *sql.Stmt           // on the read pool
}

// ErrLocked: another process has the database open.
var ErrLocked = errors.New("database in use by another station")

// Roles of the store's connections.
const (
	roleWrite      = iota // the committer: the only writer
	roleRead              // the read pool
	roleCheckpoint        // the checkpointer
)

func dsn(path string, opts Options, role int) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	if opts.Sync == SyncFull {
		q.Set("_synchronous", "FULL")
	} else {
		q.Set("_synchronous", "NORMAL")
	}
	q.Set("_busy_timeout", "10000")
	switch role {
	case roleRead:
		q.Set("_query_only", "1")
	case roleWrite:
		q.Set("_txlock", "immediate")
		// The writer never checkpoints by itself: an automatic checkpoint
		// runs inside the commit that crosses the threshold and holds up
		// every message of that batch for the copy and two fsyncs.
		q.Add("_pragma", "wal_autocheckpoint(0)")
		// Once a checkpoint lets the log start over, its file is cut back
		// to this size (64 MiB) instead of staying as large as it grew.
		q.Add("_pragma", "journal_size_limit(67108864)")
		// A page cache large enough for the indexes' working set (32 MiB,
		// outside the Go heap): a page read again is a system call.
		q.Add("_pragma", "cache_size(-32768)")
		if opts.MaxPages > 0 {
			q.Add("_pragma", fmt.Sprintf("max_page_count(%d)", opts.MaxPages))
		}
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed, unless opts.Existing) the database file
// at path. The file and the -wal, -shm and -lock files beside it are
// private to the user (mode 0600). Errors about the file itself name it
// once: ErrLocked, ErrReadOnly, ErrCorrupt, ErrNoDatabase.
func Open(ctx context.Context, path string, opts Options) (*SQLite, error) {
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	s := &SQLite{path: path, lock: lock, opts: opts}
	if err := s.open(ctx); err != nil {
		for _, db := range []*sql.DB{s.ck, s.r, s.w} {
			if db != nil {
				db.Close()
			}
		}
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	go s.commitLoop()
	go s.checkpointLoop()
	return s, nil
}

// open is Open once the lock is held; on error the caller closes what it
// opened.
func (s *SQLite) open(ctx context.Context) error {
	path := s.path
	// fail says which step failed; a classified error names the file
	// already.
	fail := func(step string, err error) error {
		err = classify(path, err)
		if _, named := errors.AsType[*dbError](err); named {
			return fmt.Errorf("%s: %w", step, err)
		}
		return fmt.Errorf("%s: %s: %w", step, path, err)
	}
	if s.opts.Existing {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return &dbError{kind: ErrNoDatabase, text: "database is missing", path: path}
		}
	}
	if err := makePrivate(path); err != nil {
		return err
	}
	var err error
	if s.w, err = sql.Open("sqlite", dsn(path, s.opts, roleWrite)); err != nil {
		return fail("open", err)
	}
	s.w.SetMaxOpenConns(1) // SQLite has one writer; the committer is it
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	if s.opts.Existing {
		// A zero-byte file is an empty database to SQLite, unless its
		// write-ahead log holds one: ask SQLite, not the file's size.
		var tables int
		if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
			return fail("open", err)
		}
		if tables == 0 {
			return &dbError{kind: ErrNoDatabase, text: "database is empty", path: path}
		}
	}
	if err := setupSchema(ctx, s.w); err != nil {
		return fail("create schema", err)
	}
	if s.r, err = sql.Open("sqlite", dsn(path, s.opts, roleRead)); err != nil {
		return fail("open for reading", err)
	}
	s.r.SetMaxOpenConns(8)
	s.r.SetMaxIdleConns(8)
	if s.ck, err = sql.Open("sqlite", dsn(path, s.opts, roleCheckpoint)); err != nil {
		return fail("open for checkpoints", err)
	}
	s.ck.SetMaxOpenConns(1)
	s.ck.SetMaxIdleConns(1)
	s.ck.SetConnMaxLifetime(0)
	s.ops, s.acks = make(chan writeOp, maxBatch), make(chan ackOp, ackQueue)
	s.quit, s.done, s.ckDone = make(chan struct{}), make(chan struct{}), make(chan struct{})
	if err := s.loadIndex(ctx); err != nil {
		return fail("load message index", err)
	}
	if err := s.prepare(ctx); err != nil {
		return fail("prepare statements", err)
	}
	return nil
}

// loadIndex builds the row index and the usage counts from the messages
// table and learns the highest ID given out. It reads the columns before
// data only, never a message itself.
func (s *SQLite) loadIndex(ctx context.Context) error {
	s.index, s.usage = newRowIndex(), newUsage(s.opts.Quotas)
	rows, err := s.w.QueryContext(ctx, `SELECT id, receiver, signature, sender, size, acked IS NULL FROM messages ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, size int64
		var receiver, signature, sender string
		var waiting bool
		if err := rows.Scan(&id, &receiver, &signature, &sender, &size, &waiting); err != nil {
			return err
		}
		// A pair stored twice (only a hand-edited database has one) is
		// found at its first row: lookup tries that one first.
		s.index.add(receiver, signature, id)
		if waiting {
			s.usage.add(id, receiver, sender, size)
		}
		s.lastID = max(s.lastID, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.begin()
	return nil
}

func (s *SQLite) prepare(ctx context.Context) error {
	prep := func(db *sql.DB, dst **sql.Stmt, q string) error {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		*dst = st
		return nil
	}
	for i, q := range txQueries {
		if err := prep(s.w, &s.stmts.tx[i], q); err != nil {
			return err
		}
	}
	return prep(s.r, &s.stmts.pending, `SELECT id, signature, time, data FROM messages
		WHERE receiver = ? AND id > ? AND acked IS NULL AND stored >= ? ORDER BY id LIMIT ?`)
}

// Close commits what is queued, then closes the database. It is safe to
// call more than once.
func (s *SQLite) Close() error {
	var err error
	s.closed.Do(func() {
		s.shutMu.Lock()
		s.shut = true
		close(s.quit)
		s.shutMu.Unlock()
		<-s.done
		<-s.ckDone
		err = errors.Join(s.ck.Close(), s.r.Close(), s.w.Close())
		if s.lock != nil {
			s.lock.Close() // after the database: the next station may open it
		}
	})
	return err
}

var _ Store = (*SQLite)(nil)
