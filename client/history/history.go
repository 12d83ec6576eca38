// Package history is what one identity's client remembers across runs, in
// a SQLite database of its own beside the identity:
//
//   - the messages the client has processed, by their digest (what their
//     sender signed, see dimp.ReliableMessage.Digest): a station offers a
//     message again until it has the client's acknowledgement, and an
//     acknowledgement is lost when the station is killed before it commits
//     it, or when the client stops before writing it. Remembering the
//     message across a restart is what makes "shown once" hold;
//   - the conversations as the user saw them (messages.go): every message
//     shown or sent, its delivery state, whether it was recalled or read,
//     so that a restart shows them as they were and scrollback pages in
//     from disk;
//   - the contacts seen, with the names their visas give.
//
// Several processes may open the same database (two dimtui on one
// identity): SQLite serializes their writes (WAL mode, a busy time-out),
// and what one of them recorded is seen by the other.
package history

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

	"dimtui/dimp"
)

// Keep is how long a signature is remembered: the station drops a message
// its receiver has not acknowledged after seven days (mockstation/store's
// DefaultMaxAge), so it cannot offer one seen longer ago; a day more
// covers clocks that disagree.
const Keep = 8 * 24 * time.Hour

// pruneEvery is how many signatures are recorded between two prunes (one
// is also done on Open).
const pruneEvery = 4096

// Errors for callers to test.
var (
	// ErrCorrupt: the file is not a SQLite database, or a damaged one.
	ErrCorrupt = errors.New("history database is damaged")
	// ErrForeign: a SQLite database, but not a dimtui history.
	ErrForeign = errors.New("not a dimtui history database")
	// ErrSchema: written by a newer dimtui.
	ErrSchema = errors.New("history database written by a newer dimtui")
	// ErrOwner: the history of another identity.
	ErrOwner = errors.New("history database belongs to another identity")
	// ErrEmpty: a file of 0 bytes that Open did not create, the remains
	// of a history cut short (a full disk, a copy that failed, a tool
	// that truncated it). It is also ErrCorrupt: it is refused, not set up
	// as a new history, since the messages it remembered would otherwise
	// be shown again.
	ErrEmpty = fmt.Errorf("%w: the file is empty (0 bytes)", ErrCorrupt)
)

// settle is how long Open waits for an empty file that was created a
// moment ago to be filled: another dimtui starting on the same new
// identity created it and is setting it up.
const settle = 3 * time.Second

// applicationID marks the file as a dimtui history ("dimh"), so that
// another SQLite database given by mistake is refused, not written into.
const applicationID = 0x64696d68

// schemaVersion is the newest schema this dimtui writes; migrations[v-1]
// turns a database of version v-1 into one of version v.
const schemaVersion = 3

var migrations = []string{schemaV1, schemaV2, schemaV3}

// schemaV1: the owner, and the digests of the messages processed.
const schemaV1 = `
CREATE TABLE IF NOT EXISTS info (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen (
	sig BLOB PRIMARY KEY, -- SHA-256 of the message's digest: rows of one size
	at  INTEGER NOT NULL  -- when it was recorded, Unix seconds
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_at ON seen (at);
`

// Options tune Open.
type Options struct {
	Keep time.Duration    // how long signatures are kept; 0: Keep
	Now  func() time.Time // the clock; nil: time.Now
}

// DB is one identity's history. It is safe for concurrent use: the
// client's loop records while the UI pages back through a conversation.
// Writes go through one connection (SQLite takes one writer at a time
// anyway, and a single connection keeps a transaction from waiting on
// another of the same process); reads go through a read-only pool of their
// own, so that in WAL mode a page is read while a write is under way
// instead of waiting behind it. Other processes may use the same file
// meanwhile.
type DB struct {
	db    *sql.DB // the writer: one connection
	rd    *sql.DB // readers: query-only connections
	path  string
	opt   Options
	added atomic.Int64 // signatures recorded since the last prune

	// Prepared once: a message costs a look-up and an insert.
	seen, mark *sql.Stmt
}

// Open opens the history at path for owner, creating it (and its
// directory, 0700; the file is 0600 like the identity) when it does not
// exist. A file that is damaged, empty (but not created by this Open), not
// a history, written by a newer dimtui or another identity's is refused
// with an error that names it and says what to do: it is never wiped or
// written into. A history of an older version is brought up to date in
// place, in one transaction, keeping what it holds. Signatures older than
// Keep are dropped.
func Open(ctx context.Context, path string, owner dimp.ID, opt Options) (*DB, error) {
	if opt.Keep <= 0 {
		opt.Keep = Keep
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history directory: %w", err)
	}
	created, err := claim(ctx, path)
	if err != nil {
		return nil, err
	}
	h, err := openDB(ctx, path, owner, opt)
	if err != nil && created {
		// Nothing of it is anyone's yet: left empty, the next start would
		// refuse it as a history cut short.
		if fi, serr := os.Stat(path); serr == nil && fi.Size() == 0 {
			os.Remove(path)
		}
	}
	return h, err
}

// claim creates the file at path with the right mode, before SQLite
// creates it with its own, and reports whether it did. An existing file
// of 0 bytes is refused (ErrEmpty) unless it was made a moment ago and is
// filled within settle: then another dimtui created it and set it up.
// A 0-byte file beside a write-ahead log that holds something is left to
// SQLite, which reads the log.
func claim(ctx context.Context, path string) (created bool, err error) {
	deadline := time.Now().Add(settle)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
			return true, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("open history %s: %w", path, err)
		}
		// Opened for writing: a file this user may not write is said now.
		f, err = os.OpenFile(path, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile (another Open that failed): create it
		}
		if err != nil {
			return false, fmt.Errorf("open history %s: %w", path, err)
		}
		fi, err := f.Stat()
		f.Close()
		if err != nil {
			return false, fmt.Errorf("open history %s: %w", path, err)
		}
		if fi.Size() > 0 {
			return false, nil
		}
		if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
			return false, nil
		}
		if time.Since(fi.ModTime()).Abs() > settle || time.Now().After(deadline) {
			return false, fmt.Errorf("%w: %s, and it was not created now: move it away (a new history is then started; "+
				"messages the station offers again may be shown twice) or put back a copy of the history", ErrEmpty, path)
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("open history %s: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// dsn is the data source name of the database at path with the query
// parameters in q.
func dsn(path string, q url.Values) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// openDB opens the file claim made sure of, and sets it up.
func openDB(ctx context.Context, path string, owner dimp.ID, opt Options) (*DB, error) {
	q := url.Values{}
	// NORMAL: a commit is in the log file when it returns, so it survives
	// the process being killed at any point (a power cut may lose the last
	// few: a message then shows twice, no worse than without a history).
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "10000") // another dimtui on the same identity writing
	// A transaction takes the write lock when it begins: one that read
	// first and then wrote would fail at once (SQLITE_BUSY, no waiting)
	// when another process wrote meanwhile.
	q.Set("_txlock", "immediate")
	// A message's insert runs a trigger (messages.go), so SQLite keeps a
	// statement journal for it: in memory, not a temporary file each time.
	q.Set("_pragma", "temp_store(memory)")
	db, err := sql.Open("sqlite", dsn(path, q))
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	h := &DB{db: db, path: path, opt: opt}
	err = h.setup(ctx, owner)
	if err == nil {
		_, err = h.Prune(ctx)
	}
	if err == nil {
		h.seen, err = h.prepare(ctx, `SELECT 1 FROM seen WHERE sig = ?`)
	}
	if err == nil {
		h.mark, err = h.prepare(ctx, `INSERT OR IGNORE INTO seen (sig, at) VALUES (?, ?)`)
	}
	if err == nil {
		// Opened only now: the file is a history in WAL mode, so the
		// readers never change it, and a reader's query_only makes sure.
		rq := url.Values{}
		rq.Set("_busy_timeout", "10000")
		rq.Set("_query_only", "1")
		h.rd, err = sql.Open("sqlite", dsn(path, rq))
		if err != nil {
			err = fmt.Errorf("open history %s: %w", path, err)
		} else {
			h.rd.SetMaxOpenConns(4)
			h.rd.SetMaxIdleConns(2)
			err = h.wrap("open for reading", h.rd.PingContext(ctx))
		}
	}
	if err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

func (h *DB) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := h.db.PrepareContext(ctx, query)
	return st, h.wrap("prepare", err)
}

// setup checks the file, and creates, migrates or checks the schema and
// the owner.
func (h *DB) setup(ctx context.Context, owner dimp.ID) error {
	if err := h.check(ctx); err != nil {
		return err
	}
	if err := h.refuseForeign(ctx, h.db, owner); err != nil {
		return err
	}
	// Write-ahead logging, set only now: it rewrites the file's header,
	// which a file refused above must keep as it was. Readers and the
	// writer of another process then do not wait for each other.
	if _, err := h.db.ExecContext(ctx, `PRAGMA journal_mode = WAL`); err != nil {
		return h.wrap("set up", err)
	}
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return h.wrap("set up", err)
	}
	defer tx.Rollback()
	// Looked at again in the transaction, which holds the write lock:
	// another dimtui may have set the file up or migrated it meanwhile.
	if err := h.refuseForeign(ctx, tx, owner); err != nil {
		return err
	}
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return h.wrap("read version", err)
	}
	for v := version; v < schemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return h.wrap(fmt.Sprintf("migrate to version %d", v+1), err)
		}
	}
	if version < schemaVersion {
		script := fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d;", applicationID, schemaVersion)
		if _, err := tx.ExecContext(ctx, script); err != nil {
			return h.wrap("set up", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO info (key, value) VALUES ('owner', ?)`, owner.WithoutTerminal().String()); err != nil {
		return h.wrap("set up", err)
	}
	return h.wrap("set up", tx.Commit())
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// refuseForeign refuses a file that is not a dimtui history, is one of a
// newer version, or another identity's; an empty database is a new
// history. It only reads: it runs before anything is written.
func (h *DB) refuseForeign(ctx context.Context, q querier, owner dimp.ID) error {
	var app, version, tables int
	if err := q.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
		return h.wrap("read application id", err)
	}
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return h.wrap("read version", err)
	}
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
		return h.wrap("read schema", err)
	}
	switch {
	case app == 0 && tables == 0: // new
	case app == 0:
		return fmt.Errorf("%w: %s holds other tables", ErrForeign, h.path)
	case app != applicationID:
		return fmt.Errorf("%w: %s (application id %#x)", ErrForeign, h.path, app)
	case version > schemaVersion:
		return fmt.Errorf("%w: %s is version %d, this one knows up to %d", ErrSchema, h.path, version, schemaVersion)
	}
	if tables == 0 {
		return nil
	}
	var had string
	err := q.QueryRowContext(ctx, `SELECT value FROM info WHERE key = 'owner'`).Scan(&had)
	switch {
	case errors.Is(err, sql.ErrNoRows): // set up below
	case err != nil:
		return h.wrap("read owner", err)
	case had != owner.WithoutTerminal().String():
		return fmt.Errorf("%w: %s is %s's, not %s's", ErrOwner, h.path, had, owner.WithoutTerminal())
	}
	return nil
}

// fullCheck is the size up to which Open checks every page of the file
// (some 30,000 messages, tens of milliseconds); see check.
var fullCheck int64 = 16 << 20 // a variable for the tests

// check runs SQLite's quick check, so that a damaged page is found now,
// not when a later write would need it. It reads every page, which takes
// time in proportion to the file: a file bigger than fullCheck has every
// table checked but the messages (its pages are most of the file, and
// SQLite checks each as it reads it: a damaged one fails the read or the
// write that needs it, named ErrCorrupt), so that a long history opens,
// and its first page shows, in a time that does not grow with it.
func (h *DB) check(ctx context.Context) error {
	fi, err := os.Stat(h.path)
	if err != nil {
		return fmt.Errorf("check history %s: %w", h.path, err)
	}
	if fi.Size() <= fullCheck {
		return h.quickCheck(ctx, `PRAGMA quick_check(3)`)
	}
	// Reading the schema checks its pages: a damaged one fails here.
	rows, err := h.db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name <> 'messages'`)
	if err != nil {
		return h.wrap("check", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return h.wrap("check", err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return h.wrap("check", err)
	}
	for _, t := range tables {
		if err := h.quickCheck(ctx, `PRAGMA quick_check('`+strings.ReplaceAll(t, `'`, `''`)+`')`); err != nil {
			return err
		}
	}
	return nil
}

// quickCheck runs one quick_check pragma and names what it found.
func (h *DB) quickCheck(ctx context.Context, pragma string) error {
	rows, err := h.db.QueryContext(ctx, pragma)
	if err != nil {
		return h.wrap("check", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return h.wrap("check", err)
		}
		if line != "ok" {
			found = append(found, strings.ReplaceAll(strings.TrimPrefix(line, "*** in database main ***\n"), "\n", "; "))
		}
	}
	if err := rows.Err(); err != nil {
		return h.wrap("check", err)
	}
	if len(found) > 0 {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, h.path, strings.Join(found, "; "))
	}
	return nil
}

// wrap names the file in an error, and says "damaged" when SQLite does.
func (h *DB) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteCorrupt, sqliteNotADB:
			return fmt.Errorf("%w: %s: %s: %w", ErrCorrupt, h.path, what, err)
		}
	}
	return fmt.Errorf("history %s: %s: %w", h.path, what, err)
}

// SQLite's primary result codes for a damaged file.
const (
	sqliteCorrupt = 11
	sqliteNotADB  = 26
)

// Path is the database file.
func (h *DB) Path() string { return h.path }

func key(digest string) []byte {
	sum := sha256.Sum256([]byte(digest))
	return sum[:]
}

// Seen reports whether a message with this digest was recorded.
func (h *DB) Seen(ctx context.Context, digest string) (bool, error) {
	var one int
	err := h.seen.QueryRowContext(ctx, key(digest)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, h.wrap("read", err)
	}
	return true, nil
}

// MarkSeen records a message's digest; added is false when it was there already
// (another process on the same identity recorded it first). The record is
// committed when MarkSeen returns.
func (h *DB) MarkSeen(ctx context.Context, digest string) (added bool, err error) {
	res, err := h.mark.ExecContext(ctx, key(digest), h.opt.Now().Unix())
	if err != nil {
		return false, h.wrap("record", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, h.wrap("record", err)
	}
	if h.added.Add(1) >= pruneEvery {
		if _, err := h.Prune(ctx); err != nil {
			return n == 1, err
		}
	}
	return n == 1, nil
}

// Forget removes a digest recorded by mistake: the message was not
// shown after all (the client stopped first), and must be when the
// station offers it again.
func (h *DB) Forget(ctx context.Context, digest string) error {
	_, err := h.db.ExecContext(ctx, `DELETE FROM seen WHERE sig = ?`, key(digest))
	return h.wrap("forget", err)
}

// Prune drops the signatures recorded longer than Keep ago, and returns
// how many.
func (h *DB) Prune(ctx context.Context) (int64, error) {
	h.added.Store(0)
	res, err := h.db.ExecContext(ctx, `DELETE FROM seen WHERE at < ?`, h.opt.Now().Add(-h.opt.Keep).Unix())
	if err != nil {
		return 0, h.wrap("prune", err)
	}
	return res.RowsAffected()
}

// Count returns how many signatures are remembered.
func (h *DB) Count(ctx context.Context) (int, error) {
	var n int
	err := h.db.QueryRowContext(ctx, `SELECT count(*) FROM seen`).Scan(&n)
	return n, h.wrap("count", err)
}

// Close closes the database.
func (h *DB) Close() error {
	var err error
	if h.rd != nil {
		err = h.rd.Close()
	}
	return errors.Join(h.db.Close(), err)
}
