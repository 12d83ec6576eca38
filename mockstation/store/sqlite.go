package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
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

// maxBatch bounds how many writes share one transaction, and maxAcks how
// many acknowledgements.
const (
	maxBatch = 256
	maxAcks  = 256
)

// ackQueue bounds the acknowledgements waiting for a commit: past it,
// AckMessageAsync waits.
const ackQueue = 4096

// When the write-ahead log is copied back into the database file (see
// checkpointLoop). A checkpoint fsyncs the log and the database file, and
// on a journaling file system (ext4) the commits running meanwhile stall
// for milliseconds; so the store checkpoints when it is idle, and under
// continuous writes only when the log has grown by checkpointOps writes or
// has not been checkpointed for checkpointMaxAge. (SQLite's own default is
// a checkpoint inside the commit that crosses 1000 pages, 4 MiB of log:
// several times a second at full load, each holding up a batch of
// messages.) Variables for tests.
var (
	checkpointIdle   = 50 * time.Millisecond // no commit for this long: idle
	checkpointOps    = int64(32768)          // writes since the last checkpoint
	checkpointMaxAge = 5 * time.Second       // since the first write after it
)

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

// writeOp is one queued write: run does it inside the batch's transaction,
// done learns its outcome once the transaction has committed (or failed).
type writeOp struct {
	run     func(ctx context.Context, tx *txn) error
	done    func(error)
	dropped error // the committer's: the database failed it (see commit)
}

// ackOp is one queued acknowledgement (see AckMessageAsync).
type ackOp struct {
	Ack
	done    func(found bool, err error)
	found   bool  // the committer's: the message was waiting
	err     error // the committer's: why it failed
	dropped error // the committer's: the database failed it (see commit)
}

// Statements the committer runs for every message, prepared once on the
// writer's connection (see txn.stmt).
const (
	stmtInsertMsg = iota
	stmtRow
	stmtAckMsg
	stmtReack
	stmtInsertAck
	nTxStmts
)

var txQueries = [nTxStmts]string{
	stmtInsertMsg: `INSERT INTO messages (id, receiver, signature, sender, time, stored, size, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
	stmtRow:       `SELECT receiver, signature, acked IS NOT NULL FROM messages WHERE id = ?`,
	stmtAckMsg: `UPDATE messages SET acked = ?2, data = x''
		WHERE id = ?1 AND receiver = ?3 AND signature = ?4 AND acked IS NULL`,
	stmtReack: `UPDATE messages SET acked = ?2 WHERE id = ?1`,
	// An acknowledgement of a message that is not waiting is remembered
	// all the same, in a row of its own.
	stmtInsertAck: `INSERT INTO messages (id, receiver, signature, sender, time, stored, size, data, acked)
		VALUES (?1, ?2, ?3, '', 0, ?4, 0, x'', ?4)`,
}

type stmts struct {
	tx      [nTxStmts]*sql.Stmt // on the writer's connection
	pending *sql.Stmt           // on the read pool
}

// txn is the committer's transaction. The statements it runs are bound to
// it once each, on first use.
type txn struct {
	*sql.Tx
	s     *SQLite
	ctx   context.Context
	bound [nTxStmts]*sql.Stmt
}

func (t *txn) stmt(i int) *sql.Stmt {
	if t.bound[i] == nil {
		t.bound[i] = t.Tx.StmtContext(t.ctx, t.s.stmts.tx[i])
	}
	return t.bound[i]
}

// schemaVersion is the user_version of the current schema. Version 1 kept
// acknowledgements in a table of their own and numbered messages with
// AUTOINCREMENT, version 2 had no sender and size; Open migrates both
// (see migrateV1 and migrateV2).
const schemaVersion = 3

// The messages table holds the messages waiting for their receivers and,
// once acknowledged, what remains of them (receiver, signature, the time of
// the acknowledgement), so that a replay is recognized until expiry. A
// save writes a row and an entry of messages_waiting, an acknowledgement
// the row again (in place) and removes the entry; the rows of a
// (receiver, signature) pair are found through rowIndex, in memory.
const schema = `
CREATE TABLE IF NOT EXISTS messages (
	id        INTEGER PRIMARY KEY, -- given by the store in save order (see SQLite.lastID)
	receiver  TEXT    NOT NULL,    -- one row per receiver and signature (see rowIndex)
	signature TEXT    NOT NULL,
	sender    TEXT    NOT NULL,    -- without terminal, for quotas (see usage)
	time      REAL    NOT NULL,
	stored    INTEGER NOT NULL, -- unix milliseconds, for expiry
	size      INTEGER NOT NULL, -- bytes of data as stored, for quotas
	data      BLOB    NOT NULL, -- emptied once acknowledged
	acked     INTEGER           -- unix milliseconds; NULL while waiting
);
-- What waits for each receiver, in order. No index on stored: rows are
-- stored in id order, so expiry walks ids (see ExpireMessages), and every
-- index costs each commit a page.
CREATE INDEX IF NOT EXISTS messages_waiting ON messages (receiver, id) WHERE acked IS NULL;
CREATE TABLE IF NOT EXISTS metas (
	id   TEXT PRIMARY KEY,
	meta BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
	id       TEXT NOT NULL,
	type     TEXT NOT NULL,
	terminal TEXT NOT NULL,
	time     REAL NOT NULL,
	data     BLOB NOT NULL,
	PRIMARY KEY (id, type, terminal)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logins (
	user    TEXT PRIMARY KEY,
	time    REAL NOT NULL,
	station TEXT NOT NULL,
	command BLOB NOT NULL,
	message BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lists (
	owner   TEXT NOT NULL,
	name    TEXT NOT NULL,
	members TEXT NOT NULL, -- JSON array of IDs
	PRIMARY KEY (owner, name)
) WITHOUT ROWID;
`

// migrateV1 turns a version 1 database into the current one: waiting
// messages keep their IDs, acknowledgements become acknowledged rows after
// them.
const migrateV1 = `
ALTER TABLE messages RENAME TO messages_v1;
DROP INDEX IF EXISTS messages_receiver;
DROP INDEX IF EXISTS messages_stored;
` + schema + `
INSERT INTO messages (id, receiver, signature, sender, time, stored, size, data)
	SELECT id, receiver, signature, ` + senderOfData + `, time, stored, length(data), data FROM messages_v1 ORDER BY id;
INSERT INTO messages (receiver, signature, sender, time, stored, size, data, acked)
	SELECT receiver, signature, '', 0, acked, 0, x'', acked FROM acked AS a
	WHERE NOT EXISTS (SELECT 1 FROM messages_v1 AS m WHERE m.receiver = a.receiver AND m.signature = a.signature)
	ORDER BY acked;
DROP TABLE messages_v1;
DROP TABLE acked;
DELETE FROM sqlite_sequence WHERE name IN ('messages', 'messages_v1');
`

// migrateV2 turns a version 2 database into the current one: the messages
// table is made again with the columns in their place (sender and size
// before data, so that reading them never reads the message), and each
// waiting message gets the sender its JSON names.
const migrateV2 = `
DROP INDEX messages_waiting;
ALTER TABLE messages RENAME TO messages_v2;
` + schema + `
INSERT INTO messages (id, receiver, signature, sender, time, stored, size, data, acked)
	SELECT id, receiver, signature, CASE WHEN acked IS NULL THEN ` + senderOfData + ` ELSE '' END,
		time, stored, length(data), data, acked FROM messages_v2 ORDER BY id;
DROP TABLE messages_v2;
`

// senderOfData is, in SQL, the sender of a stored message (the JSON in
// its data column, "sender" or the short "F"), without terminal; empty
// when it has none.
const senderOfData = `(SELECT CASE WHEN instr(f, '/') > 0 THEN substr(f, 1, instr(f, '/') - 1) ELSE f END
	FROM (SELECT CAST(coalesce(CASE WHEN json_valid(data) THEN coalesce(json_extract(data, '$.sender'), json_extract(data, '$.F')) END, '') AS TEXT) AS f))`

// ErrSchema: the database was written by a newer version of the station.
var ErrSchema = errors.New("database schema newer than this station")

// ErrLocked: another process has the database open.
var ErrLocked = errors.New("database in use by another station")

// setupSchema creates the tables, or brings an older database up to date.
func setupSchema(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	var script string
	switch version {
	case 0, schemaVersion:
		script = schema
	case 1:
		script = migrateV1
	case 2:
		script = migrateV2
	default:
		return fmt.Errorf("%w: version %d, this one knows up to %d", ErrSchema, version, schemaVersion)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, script+fmt.Sprintf("PRAGMA user_version = %d;", schemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

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

// begin starts the log of the committer's in-memory changes (the row
// index, the usage counts) for a transaction.
func (s *SQLite) begin() {
	s.index.begin()
	s.usage.begin()
}

// memMark is a position in those logs.
type memMark struct{ index, usage int }

func (s *SQLite) mark() memMark { return memMark{s.index.mark(), s.usage.mark()} }

// undoTo takes back the in-memory changes logged since m.
func (s *SQLite) undoTo(m memMark) {
	s.index.undoTo(m.index)
	s.usage.undoTo(m.usage)
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

// commitLoop is the only writer. It takes the first waiting write or
// acknowledgement, then every other write already queued (up to maxBatch)
// and the queued acknowledgements (up to maxAcks), runs them in one
// transaction and commits once; each caller learns its own result.
//
// Nothing waits for company: what comes while a commit runs goes with the
// next one, so under load commits carry many writes each, and an
// acknowledgement is on disk about one commit after it came (a few
// milliseconds at most), not whenever the next message is saved. An
// acknowledgement not yet committed when the station is killed is lost,
// and its message delivered again: the shorter that window, the fewer
// duplicates a receiver sees after a crash.
func (s *SQLite) commitLoop() {
	defer close(s.done)
	batch := make([]writeOp, 0, maxBatch)
	acks := make([]ackOp, 0, maxAcks)
	errs := make([]error, 0, maxBatch)
	for {
		batch, acks = batch[:0], acks[:0]
		select {
		case op := <-s.ops:
			batch = append(batch, op)
		case a := <-s.acks:
			acks = append(acks, a)
		case <-s.quit:
			// Senders hold mu for reading while they send, and Close took it
			// for writing before closing quit: nothing more can arrive, and
			// the buffers hold all that did.
			s.drain(batch, acks, errs)
			return
		}
		batch, acks = s.fill(batch, acks)
		s.commit(batch, acks, errs[:0])
		// The callers' callbacks have readied goroutines (pushes, answers)
		// on this goroutine's P, behind it: under a steady load the
		// committer never blocks, and they would wait for the scheduler to
		// preempt it (10 ms). They go first; the writes that come meanwhile
		// join the next commit.
		runtime.Gosched()
	}
}

// fill adds what is queued already to a transaction's writes and
// acknowledgements, without waiting.
func (s *SQLite) fill(batch []writeOp, acks []ackOp) ([]writeOp, []ackOp) {
	for len(batch) < maxBatch {
		select {
		case op := <-s.ops:
			batch = append(batch, op)
			continue
		default:
		}
		break
	}
	for len(acks) < maxAcks {
		select {
		case a := <-s.acks:
			acks = append(acks, a)
			continue
		default:
		}
		break
	}
	return batch, acks
}

// drain commits whatever is left in the queues after quit.
func (s *SQLite) drain(batch []writeOp, acks []ackOp, errs []error) {
	for {
		batch, acks = s.fill(batch, acks)
		if len(batch) == 0 && len(acks) == 0 {
			return
		}
		s.commit(batch, acks, errs[:0])
		batch, acks = batch[:0], acks[:0]
	}
}

// commit runs a batch in one transaction and tells each caller its
// outcome. A write that fails in the database (a full disk, a damaged
// page) may have made SQLite roll the whole transaction back (it does for
// SQLITE_FULL), and what the batch ran after it would then be committed
// one statement at a time, outside any transaction: so such a failure
// rolls the transaction back, drops that write with its error, and runs
// the others again in a new one. Other failures (a quota) fail only their
// write.
func (s *SQLite) commit(batch []writeOp, acks []ackOp, errs []error) {
	errs = errs[:len(batch)]
	for !s.try(batch, acks, errs) {
	}
	for i, op := range batch {
		op.done(errs[i])
	}
	for i := range acks {
		a := &acks[i]
		a.finish(a.found && a.err == nil, a.err)
		*a = ackOp{} // let go of what the caller gave
	}
}

// try is one attempt at commit's transaction: it reports false when a
// write failed in the database and was dropped, for the rest to be tried
// again; else the outcomes are in errs and acks.
func (s *SQLite) try(batch []writeOp, acks []ackOp, errs []error) bool {
	ctx := context.Background()
	s.begin()
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		s.failAll(batch, acks, errs, fmt.Errorf("begin: %w", classify(s.path, err)))
		return true
	}
	tx := &txn{Tx: sqlTx, s: s, ctx: ctx}
	drop := func(dropped *error, err error) bool {
		if _, ok := errors.AsType[*sqlite.Error](err); !ok {
			return false
		}
		*dropped = classify(s.path, err)
		_ = sqlTx.Rollback() // fails when SQLite has rolled back already
		s.undoTo(memMark{})
		return true
	}
	// A write whose statements fail part-way leaves what it did so far in
	// the transaction: each write below is written so that any prefix of
	// it is harmless (see saveMessage and ack).
	for i := range batch {
		op := &batch[i]
		if errs[i] = op.dropped; op.dropped != nil {
			continue
		}
		err := op.run(ctx, tx)
		if drop(&op.dropped, err) {
			return false
		}
		errs[i] = err
	}
	for i := range acks {
		a := &acks[i]
		if a.found, a.err = false, a.dropped; a.dropped != nil {
			continue
		}
		if a.found, a.err = s.ack(tx, a.Ack); drop(&a.dropped, a.err) {
			return false
		}
	}
	if err := tx.Commit(); err != nil {
		s.undoTo(memMark{})
		s.failAll(batch, acks, errs, fmt.Errorf("commit: %w", classify(s.path, err)))
		return true
	}
	s.written.Add(int64(len(batch) + len(acks)))
	s.lastCommit.Store(time.Now().UnixNano())
	return true
}

// failAll gives err to every write and acknowledgement of a batch that
// was not dropped before.
func (s *SQLite) failAll(batch []writeOp, acks []ackOp, errs []error, err error) {
	for i := range batch {
		if errs[i] = batch[i].dropped; errs[i] == nil {
			errs[i] = err
		}
	}
	for i := range acks {
		if acks[i].found, acks[i].err = false, acks[i].dropped; acks[i].err == nil {
			acks[i].err = err
		}
	}
}

func (a *ackOp) finish(found bool, err error) {
	if a.done != nil {
		a.done(found, err)
	}
}

// checkpointLoop copies the write-ahead log back into the database file
// on its own connection, when checkpointIdle, checkpointOps or
// checkpointMaxAge say so. A PASSIVE checkpoint waits for no one: commits
// go on while it runs, and the writer starts the log over once a
// checkpoint has caught up with it and no reader still needs the old
// frames. In WAL mode with synchronous=NORMAL these checkpoints are the
// only fsyncs: a power failure or OS crash can lose what was committed
// since the last one (a killed process loses nothing).
func (s *SQLite) checkpointLoop() {
	defer close(s.ckDone)
	t := time.NewTicker(checkpointIdle / 2)
	defer t.Stop()
	var dirtySince time.Time // the first check that found writes
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		n := s.written.Load()
		if n == 0 {
			continue
		}
		now := time.Now()
		if dirtySince.IsZero() {
			dirtySince = now
		}
		idle := now.Sub(time.Unix(0, s.lastCommit.Load())) >= checkpointIdle
		if !idle && n < checkpointOps && now.Sub(dirtySince) < checkpointMaxAge {
			continue
		}
		s.written.Add(-n)
		dirtySince = time.Time{}
		// A failed checkpoint is tried again later; the log only grows
		// meanwhile.
		_, _ = s.ck.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

// write queues fn for the committer and waits until its transaction is
// committed. When ctx ends first, fn may still be committed later.
func (s *SQLite) write(ctx context.Context, fn func(ctx context.Context, tx *txn) error) error {
	res := make(chan error, 1)
	if err := s.submit(ctx, fn, func(err error) { res <- err }); err != nil {
		return err
	}
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// submit queues fn for the committer, which calls done after the commit.
// It waits only while the queue is full.
func (s *SQLite) submit(ctx context.Context, fn func(ctx context.Context, tx *txn) error, done func(error)) error {
	s.shutMu.RLock()
	defer s.shutMu.RUnlock()
	if s.shut {
		return ErrClosed
	}
	select {
	case s.ops <- writeOp{run: fn, done: done}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *SQLite) millis() int64 { return s.opts.Now().UnixMilli() }

// SaveMessage implements MessageStore.
func (s *SQLite) SaveMessage(ctx context.Context, m Message) (int64, SaveResult, error) {
	var id int64
	var res SaveResult
	err := s.write(ctx, s.saveMessage(m, &id, &res))
	if err != nil {
		return 0, 0, fmt.Errorf("save message for %s: %w", m.Receiver, err)
	}
	return id, res, nil
}

// SaveMessageAsync implements MessageStore.
func (s *SQLite) SaveMessageAsync(ctx context.Context, m Message, done func(int64, SaveResult, error)) error {
	var id int64
	var res SaveResult
	err := s.submit(ctx, s.saveMessage(m, &id, &res), func(err error) {
		if err != nil {
			done(0, 0, fmt.Errorf("save message for %s: %w", m.Receiver, err))
			return
		}
		done(id, res, nil)
	})
	if err != nil {
		return fmt.Errorf("save message for %s: %w", m.Receiver, err)
	}
	return nil
}

// saveMessage is the write of SaveMessage: the message is inserted under
// the next ID unless the pair has a row already, waiting or acknowledged.
func (s *SQLite) saveMessage(m Message, id *int64, res *SaveResult) func(ctx context.Context, tx *txn) error {
	return func(ctx context.Context, tx *txn) error {
		old, acked, found, err := s.lookup(tx, m.Receiver, m.Signature)
		switch {
		case err != nil:
			return err
		case found && acked:
			*res, *id = Acknowledged, 0
			return nil
		case found:
			*res, *id = Duplicate, old
			return nil
		}
		size := int64(len(m.Data))
		if err := s.usage.check(m.Receiver, m.Sender, size); err != nil {
			return err
		}
		// IDs grow in commit order: the committer runs the writes one at a
		// time. One lost to a failed commit is never reused.
		s.lastID++
		next := s.lastID
		if _, err := tx.stmt(stmtInsertMsg).ExecContext(ctx, next, m.Receiver, m.Signature, m.Sender, m.Time, s.millis(), size, m.Data); err != nil {
			return err
		}
		s.index.add(m.Receiver, m.Signature, next)
		s.usage.add(next, m.Receiver, m.Sender, size)
		*res, *id = Saved, next
		return nil
	}
}

// lookup finds the row of a (receiver, signature) pair through the index,
// and whether it is acknowledged.
func (s *SQLite) lookup(tx *txn, receiver, signature string) (id int64, acked, found bool, err error) {
	if id, ok := s.index.candidate(receiver, signature); ok {
		var r, sig string
		switch err := tx.stmt(stmtRow).QueryRowContext(tx.ctx, id).Scan(&r, &sig, &acked); {
		case err == nil && r == receiver && sig == signature:
			return id, acked, true, nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return 0, false, false, err
		}
	}
	if id, ok := s.index.exact(receiver, signature); ok {
		var r, sig string
		switch err := tx.stmt(stmtRow).QueryRowContext(tx.ctx, id).Scan(&r, &sig, &acked); {
		case err == nil:
			return id, acked, true, nil
		case !errors.Is(err, sql.ErrNoRows):
			return 0, false, false, err
		}
	}
	return 0, false, false, nil
}

// PendingMessages implements MessageStore.
func (s *SQLite) PendingMessages(ctx context.Context, receiver string, after int64, limit int) ([]Message, error) {
	cutoff := s.opts.Now().Add(-s.opts.MaxAge).UnixMilli()
	rows, err := s.stmts.pending.QueryContext(ctx, receiver, after, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("pending messages for %s: %w", receiver, classify(s.path, err))
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m := Message{Receiver: receiver}
		if err := rows.Scan(&m.ID, &m.Signature, &m.Time, &m.Data); err != nil {
			return nil, fmt.Errorf("pending messages for %s: %w", receiver, classify(s.path, err))
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending messages for %s: %w", receiver, classify(s.path, err))
	}
	return out, nil
}

// AckMessage implements MessageStore.
func (s *SQLite) AckMessage(ctx context.Context, receiver, signature string) (bool, error) {
	var found bool
	err := s.write(ctx, func(ctx context.Context, tx *txn) (err error) {
		found, err = s.ack(tx, Ack{Receiver: receiver, Signature: signature})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("acknowledge message: %w", err)
	}
	return found, nil
}

// AckMessageAsync implements MessageStore.
func (s *SQLite) AckMessageAsync(ctx context.Context, a Ack, done func(found bool, err error)) error {
	s.shutMu.RLock()
	defer s.shutMu.RUnlock()
	if s.shut {
		return ErrClosed
	}
	select {
	case s.acks <- ackOp{Ack: a, done: done}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ack marks a waiting message acknowledged: its data goes, and the row
// stays to recognize a replay. An acknowledgement is remembered even when
// nothing was waiting: the receiver has the message, so a replay of it
// must not be stored again. Any statement failing leaves nothing half
// done.
func (s *SQLite) ack(tx *txn, a Ack) (found bool, err error) {
	now := s.millis()
	// The common case in one statement: the index's row is the waiting
	// message.
	if id, ok := s.index.candidate(a.Receiver, a.Signature); ok {
		if found, err := s.ackRow(tx, id, now, a); found || err != nil {
			return found, err
		}
	}
	id, acked, found, err := s.lookup(tx, a.Receiver, a.Signature)
	switch {
	case err != nil:
		return false, err
	case found && !acked: // a pair whose hash another pair has
		return s.ackRow(tx, id, now, a)
	case found: // acknowledged again: remembered from now on
		_, err = tx.stmt(stmtReack).ExecContext(tx.ctx, id, now)
		return false, err
	}
	s.lastID++
	if _, err := tx.stmt(stmtInsertAck).ExecContext(tx.ctx, s.lastID, a.Receiver, a.Signature, now); err != nil {
		return false, err
	}
	s.index.add(a.Receiver, a.Signature, s.lastID)
	return false, nil
}

// ackRow marks row id acknowledged if it is a's and waiting, and counts it
// out of the usage; found says whether it was.
func (s *SQLite) ackRow(tx *txn, id, now int64, a Ack) (found bool, err error) {
	res, err := tx.stmt(stmtAckMsg).ExecContext(tx.ctx, id, now, a.Receiver, a.Signature)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	s.usage.remove(id, a.Receiver)
	return true, nil
}

// CountMessages implements MessageStore.
func (s *SQLite) CountMessages(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE acked IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count messages: %w", classify(s.path, err))
	}
	return n, nil
}

// ExpireMessages implements MessageStore.
func (s *SQLite) ExpireMessages(ctx context.Context) (int64, error) {
	cutoff := s.opts.Now().Add(-s.opts.MaxAge).UnixMilli()
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *txn) error {
		// The statement fails as a whole, but a failure while its rows
		// are read must take back what they did to the index.
		mark := s.mark()
		err := s.expire(ctx, tx, cutoff, &n)
		if err != nil {
			s.undoTo(mark)
			n = 0
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("expire messages: %w", err)
	}
	return n, nil
}

// expire deletes the expired rows and forgets them in the index; n counts
// the messages that were still waiting. Messages are stored in the order
// of their IDs, at the time of the station's clock: the expired ones come
// first, up to the first one that is not. (A row stored while the clock was
// set back stays until a later expiry; PendingMessages leaves it out
// meanwhile.) An acknowledged row stays as long after its acknowledgement;
// the few acknowledged late are walked again at the next expiry.
func (s *SQLite) expire(ctx context.Context, tx *txn, cutoff int64, n *int64) error {
	rows, err := tx.QueryContext(ctx, `DELETE FROM messages
			WHERE stored < ?1 AND (acked IS NULL OR acked < ?1) AND id <
				coalesce((SELECT id FROM messages WHERE stored >= ?1 ORDER BY id LIMIT 1), 9223372036854775807)
			RETURNING id, receiver, signature, sender, size, acked IS NULL`, cutoff)
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
		s.index.remove(receiver, signature, id)
		if waiting {
			s.usage.remove(id, receiver)
			*n++
		}
	}
	return rows.Err()
}

// SaveMeta implements MetaStore.
func (s *SQLite) SaveMeta(ctx context.Context, id string, meta []byte) (bool, error) {
	var added bool
	err := s.write(ctx, func(ctx context.Context, tx *txn) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO metas (id, meta) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, id, meta)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		added = n > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("save meta of %s: %w", id, err)
	}
	return added, nil
}

// Meta implements MetaStore.
func (s *SQLite) Meta(ctx context.Context, id string) ([]byte, error) {
	var meta []byte
	err := s.r.QueryRowContext(ctx, `SELECT meta FROM metas WHERE id = ?`, id).Scan(&meta)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("meta of %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("meta of %s: %w", id, classify(s.path, err))
	}
	return meta, nil
}

// SaveDocument implements DocumentStore: an upsert that only replaces an
// older document.
func (s *SQLite) SaveDocument(ctx context.Context, d Document) (bool, error) {
	var saved bool
	err := s.write(ctx, func(ctx context.Context, tx *txn) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO documents (id, type, terminal, time, data) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id, type, terminal) DO UPDATE SET time = excluded.time, data = excluded.data
			WHERE excluded.time > documents.time`, d.ID, d.Type, d.Terminal, d.Time, d.Data)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		saved = n > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("save %s document of %s: %w", d.Type, d.ID, err)
	}
	return saved, nil
}

// Documents implements DocumentStore.
func (s *SQLite) Documents(ctx context.Context, id string) ([]Document, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT type, terminal, time, data FROM documents WHERE id = ? ORDER BY time`, id)
	if err != nil {
		return nil, fmt.Errorf("documents of %s: %w", id, classify(s.path, err))
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d := Document{ID: id}
		if err := rows.Scan(&d.Type, &d.Terminal, &d.Time, &d.Data); err != nil {
			return nil, fmt.Errorf("documents of %s: %w", id, classify(s.path, err))
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("documents of %s: %w", id, classify(s.path, err))
	}
	return out, nil
}

// SaveLogin implements LoginStore.
func (s *SQLite) SaveLogin(ctx context.Context, l Login) (bool, error) {
	var saved bool
	err := s.write(ctx, func(ctx context.Context, tx *txn) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO logins (user, time, station, command, message) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user) DO UPDATE SET time = excluded.time, station = excluded.station,
				command = excluded.command, message = excluded.message
			WHERE excluded.time > logins.time`, l.User, l.Time, l.Station, l.Command, l.Message)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		saved = n > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("save login of %s: %w", l.User, err)
	}
	return saved, nil
}

// Login implements LoginStore.
func (s *SQLite) Login(ctx context.Context, user string) (Login, error) {
	l := Login{User: user}
	err := s.r.QueryRowContext(ctx, `SELECT time, station, command, message FROM logins WHERE user = ?`, user).
		Scan(&l.Time, &l.Station, &l.Command, &l.Message)
	if errors.Is(err, sql.ErrNoRows) {
		return Login{}, fmt.Errorf("login of %s: %w", user, ErrNotFound)
	}
	if err != nil {
		return Login{}, fmt.Errorf("login of %s: %w", user, classify(s.path, err))
	}
	return l, nil
}

// SetList implements ListStore.
func (s *SQLite) SetList(ctx context.Context, owner, name string, members []string) error {
	if members == nil {
		members = []string{}
	}
	raw, err := json.Marshal(members)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(ctx context.Context, tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO lists (owner, name, members) VALUES (?, ?, ?)
			ON CONFLICT (owner, name) DO UPDATE SET members = excluded.members`, owner, name, string(raw))
		return err
	})
	if err != nil {
		return fmt.Errorf("save %s list of %s: %w", name, owner, err)
	}
	return nil
}

// List implements ListStore.
func (s *SQLite) List(ctx context.Context, owner, name string) ([]string, bool, error) {
	var raw string
	err := s.r.QueryRowContext(ctx, `SELECT members FROM lists WHERE owner = ? AND name = ?`, owner, name).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s list of %s: %w", name, owner, classify(s.path, err))
	}
	var members []string
	if err := json.Unmarshal([]byte(raw), &members); err != nil {
		return nil, false, fmt.Errorf("%s list of %s: %w", name, owner, classify(s.path, err))
	}
	return members, true, nil
}

var _ Store = (*SQLite)(nil)
