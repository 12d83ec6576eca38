// Package history is what one identity's client remembers across runs, in
// a SQLite database of its own beside the identity. For now that is the
// messages the client has processed, by their digest (what their sender
// signed, see dimp.ReliableMessage.Digest): a station offers a message
// again until it has the client's acknowledgement, and an acknowledgement
// is lost when the station is killed before it commits it, or when the
// client stops before writing it. Remembering the message across a
// restart is what makes "shown once" hold.
//
// Several processes may open the same database (two dimtui on one
// identity): SQLite serializes their writes (WAL mode, a busy time-out),
// and a message one of them recorded is seen by the other.
package history

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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
)

// applicationID marks the file as a dimtui history ("dimh"), so that
// another SQLite database given by mistake is refused, not written into.
const applicationID = 0x64696d68

const schemaVersion = 1

const schema = `
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

// DB is one identity's history, used by one goroutine at a time (the
// client's loop); other processes may use the same file meanwhile.
type DB struct {
	db    *sql.DB
	path  string
	opt   Options
	added int // signatures recorded since the last prune

	// Prepared once: a message costs a look-up and an insert.
	seen, mark *sql.Stmt
}

// Open opens the history at path for owner, creating it (and its
// directory, 0700; the file is 0600 like the identity) when it does not
// exist. A file that is damaged, not a history, written by a newer dimtui
// or another identity's is refused with an error that names it: it is
// never wiped or written into. An empty file is a database with nothing
// in it yet, as SQLite sees it, and is set up as a new one. Signatures
// older than Keep are dropped.
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
	// Created here with the right mode, before SQLite creates it with its own.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	f.Close()
	q := url.Values{}
	// NORMAL: a commit is in the log file when it returns, so it survives
	// the process being killed at any point (a power cut may lose the last
	// few: a message then shows twice, no worse than without a history).
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "10000") // another dimtui on the same identity writing
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
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
	if err != nil {
		db.Close()
		return nil, err
	}
	return h, nil
}

func (h *DB) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := h.db.PrepareContext(ctx, query)
	return st, h.wrap("prepare", err)
}

// setup checks the file and creates or checks the schema and the owner.
func (h *DB) setup(ctx context.Context, owner dimp.ID) error {
	if err := h.check(ctx); err != nil {
		return err
	}
	var app, version, tables int
	if err := h.db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
		return h.wrap("read application id", err)
	}
	if err := h.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return h.wrap("read version", err)
	}
	if err := h.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
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
	script := schema + fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d;", applicationID, schemaVersion)
	if _, err := tx.ExecContext(ctx, script); err != nil {
		return h.wrap("set up", err)
	}
	var had string
	err = tx.QueryRowContext(ctx, `SELECT value FROM info WHERE key = 'owner'`).Scan(&had)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO info (key, value) VALUES ('owner', ?)`, owner.WithoutTerminal().String()); err != nil {
			return h.wrap("set up", err)
		}
	case err != nil:
		return h.wrap("read owner", err)
	case had != owner.WithoutTerminal().String():
		return fmt.Errorf("%w: %s is %s's, not %s's", ErrOwner, h.path, had, owner.WithoutTerminal())
	}
	return h.wrap("set up", tx.Commit())
}

// check runs SQLite's quick check over the whole file: a damaged page is
// found now, not when a later write would need it.
func (h *DB) check(ctx context.Context) error {
	rows, err := h.db.QueryContext(ctx, `PRAGMA quick_check(3)`)
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
	if h.added++; h.added >= pruneEvery {
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
	h.added = 0
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
func (h *DB) Close() error { return h.db.Close() }
