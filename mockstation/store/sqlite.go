package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
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
}

// maxBatch bounds how many writes share one transaction.
const maxBatch = 256

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
	opts       Options
	stmts      stmts
	ops        chan writeOp
	written    atomic.Int64 // writes committed since the last checkpoint
	lastCommit atomic.Int64 // when the last commit ended, unix nanoseconds
	quit       chan struct{}
	done       chan struct{}
	ckDone     chan struct{}
	closed     sync.Once
	mu         sync.RWMutex // held for reading while sending on ops, for writing to close it
	shut       bool
}

// writeOp is one queued write: run does it inside the batch's transaction,
// done learns its outcome once the transaction has committed (or failed).
type writeOp struct {
	run  func(ctx context.Context, tx *sql.Tx) error
	done func(error)
}

type stmts struct {
	insertMsg, msgID, deleteMsg, insertAck, pending *sql.Stmt
}

const schema = `
CREATE TABLE IF NOT EXISTS messages (
	id        INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: sessions page by id
	receiver  TEXT    NOT NULL,
	signature TEXT    NOT NULL,
	time      REAL    NOT NULL,
	stored    INTEGER NOT NULL, -- unix milliseconds, for expiry
	data      BLOB    NOT NULL,
	UNIQUE (receiver, signature)
);
CREATE INDEX IF NOT EXISTS messages_receiver ON messages (receiver, id);
-- No index on stored: rows are stored in id order, so expiry walks ids
-- (see ExpireMessages), and every index costs each commit a page.
DROP INDEX IF EXISTS messages_stored;
CREATE TABLE IF NOT EXISTS acked (
	receiver  TEXT    NOT NULL,
	signature TEXT    NOT NULL,
	acked     INTEGER NOT NULL, -- unix milliseconds
	PRIMARY KEY (receiver, signature)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS acked_time ON acked (acked);
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
PRAGMA user_version = 1;
`

// Roles of the store's connections.
const (
	roleWrite      = iota // the committer: the only writer
	roleRead              // the read pool
	roleCheckpoint        // the checkpointer
)

func dsn(path string, sync Sync, role int) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	if sync == SyncFull {
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
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed) the database file at path.
func Open(ctx context.Context, path string, opts Options) (*SQLite, error) {
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	w, err := sql.Open("sqlite", dsn(path, opts.Sync, roleWrite))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1) // SQLite has one writer; the committer is it
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if _, err := w.ExecContext(ctx, schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("create schema in %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, opts.Sync, roleRead))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	ck, err := sql.Open("sqlite", dsn(path, opts.Sync, roleCheckpoint))
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open %s for checkpoints: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)
	ck.SetConnMaxLifetime(0)
	s := &SQLite{w: w, r: r, ck: ck, opts: opts, ops: make(chan writeOp, maxBatch),
		quit: make(chan struct{}), done: make(chan struct{}), ckDone: make(chan struct{})}
	if err := s.prepare(ctx); err != nil {
		w.Close()
		r.Close()
		ck.Close()
		return nil, err
	}
	go s.commitLoop()
	go s.checkpointLoop()
	return s, nil
}

func (s *SQLite) prepare(ctx context.Context) error {
	for _, p := range []struct {
		db  *sql.DB
		dst **sql.Stmt
		q   string
	}{
		// One statement for the common case: insert unless acknowledged
		// before or already waiting.
		{s.w, &s.stmts.insertMsg, `INSERT INTO messages (receiver, signature, time, stored, data)
			SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM acked WHERE receiver = ?1 AND signature = ?2)
			ON CONFLICT (receiver, signature) DO NOTHING`},
		{s.w, &s.stmts.msgID, `SELECT id FROM messages WHERE receiver = ? AND signature = ?`},
		{s.w, &s.stmts.deleteMsg, `DELETE FROM messages WHERE receiver = ? AND signature = ?`},
		{s.w, &s.stmts.insertAck, `INSERT INTO acked (receiver, signature, acked) VALUES (?, ?, ?)
			ON CONFLICT (receiver, signature) DO UPDATE SET acked = excluded.acked`},
		{s.r, &s.stmts.pending, `SELECT id, signature, time, data FROM messages
			WHERE receiver = ? AND id > ? AND stored >= ? ORDER BY id LIMIT ?`},
	} {
		st, err := p.db.PrepareContext(ctx, p.q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.q, err)
		}
		*p.dst = st
	}
	return nil
}

// Close commits what is queued, then closes the database. It is safe to
// call more than once.
func (s *SQLite) Close() error {
	var err error
	s.closed.Do(func() {
		s.mu.Lock()
		s.shut = true
		close(s.quit)
		s.mu.Unlock()
		<-s.done
		<-s.ckDone
		err = errors.Join(s.ck.Close(), s.r.Close(), s.w.Close())
	})
	return err
}

// commitLoop is the only writer. It takes the first waiting write, then
// every other write already queued (up to maxBatch), runs them in one
// transaction and commits once; each caller learns its own result.
func (s *SQLite) commitLoop() {
	defer close(s.done)
	batch := make([]writeOp, 0, maxBatch)
	errs := make([]error, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case op := <-s.ops:
			batch = append(batch, op)
		case <-s.quit:
			// Senders hold mu for reading while they send, and Close took it
			// for writing before closing quit: nothing more can arrive, and
			// the buffer holds all that did.
			s.drain(batch, errs)
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case op := <-s.ops:
				batch = append(batch, op)
			default:
				break fill
			}
		}
		s.commit(batch, errs[:0])
	}
}

// drain commits whatever is left in the queue after quit.
func (s *SQLite) drain(batch []writeOp, errs []error) {
	for {
		select {
		case op := <-s.ops:
			batch = append(batch, op)
			if len(batch) < maxBatch {
				continue
			}
		default:
		}
		if len(batch) == 0 {
			return
		}
		s.commit(batch, errs[:0])
		batch = batch[:0]
	}
}

func (s *SQLite) commit(batch []writeOp, errs []error) {
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		for _, op := range batch {
			op.done(fmt.Errorf("begin: %w", err))
		}
		return
	}
	// A write whose statements fail part-way leaves what it did so far in
	// the transaction: each write below is written so that any prefix of
	// it is harmless (see SaveMessage and AckMessage).
	for _, op := range batch {
		errs = append(errs, op.run(ctx, tx))
	}
	if err := tx.Commit(); err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("commit: %w", err)
		}
	} else {
		s.written.Add(int64(len(batch)))
		s.lastCommit.Store(time.Now().UnixNano())
	}
	for i, op := range batch {
		op.done(errs[i])
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
func (s *SQLite) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
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
func (s *SQLite) submit(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error, done func(error)) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
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

// saveMessage is the write of SaveMessage: the message is inserted unless
// it was acknowledged before or is waiting already; only then do further
// reads tell which, and the waiting row's ID.
func (s *SQLite) saveMessage(m Message, id *int64, res *SaveResult) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		r, err := tx.StmtContext(ctx, s.stmts.insertMsg).ExecContext(ctx, m.Receiver, m.Signature, m.Time, s.millis(), m.Data)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 1 {
			*res = Saved
			*id, err = r.LastInsertId()
			return err
		}
		err = tx.StmtContext(ctx, s.stmts.msgID).QueryRowContext(ctx, m.Receiver, m.Signature).Scan(id)
		switch {
		case err == nil:
			*res = Duplicate
			return nil
		case errors.Is(err, sql.ErrNoRows):
			*res, *id = Acknowledged, 0
			return nil
		}
		return err
	}
}

// PendingMessages implements MessageStore.
func (s *SQLite) PendingMessages(ctx context.Context, receiver string, after int64, limit int) ([]Message, error) {
	cutoff := s.opts.Now().Add(-s.opts.MaxAge).UnixMilli()
	rows, err := s.stmts.pending.QueryContext(ctx, receiver, after, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("pending messages for %s: %w", receiver, err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m := Message{Receiver: receiver}
		if err := rows.Scan(&m.ID, &m.Signature, &m.Time, &m.Data); err != nil {
			return nil, fmt.Errorf("pending messages for %s: %w", receiver, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending messages for %s: %w", receiver, err)
	}
	return out, nil
}

// AckMessage implements MessageStore.
func (s *SQLite) AckMessage(ctx context.Context, receiver, signature string) (bool, error) {
	n, err := s.AckMessages(ctx, []Ack{{Receiver: receiver, Signature: signature}})
	return n > 0, err
}

// AckMessages implements MessageStore. An acknowledgement is remembered
// even when nothing was waiting: the receiver has the message, so a replay
// of it must not be stored again. Any prefix of the work is harmless: a
// message deleted without its acknowledgement remembered can only be
// stored again by a replay.
func (s *SQLite) AckMessages(ctx context.Context, acks []Ack) (int, error) {
	var found int
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		del := tx.StmtContext(ctx, s.stmts.deleteMsg)
		ins := tx.StmtContext(ctx, s.stmts.insertAck)
		now := s.millis()
		for _, a := range acks {
			r, err := del.ExecContext(ctx, a.Receiver, a.Signature)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n > 0 {
				found++
			}
			if _, err := ins.ExecContext(ctx, a.Receiver, a.Signature, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("acknowledge messages: %w", err)
	}
	return found, nil
}

// CountMessages implements MessageStore.
func (s *SQLite) CountMessages(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count messages: %w", err)
	}
	return n, nil
}

// ExpireMessages implements MessageStore.
func (s *SQLite) ExpireMessages(ctx context.Context) (int64, error) {
	cutoff := s.opts.Now().Add(-s.opts.MaxAge).UnixMilli()
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Messages are stored in the order of their IDs, at the time of
		// the station's clock: the expired ones come first, up to the first
		// one that is not. (A row stored while the clock was set back stays
		// until a later expiry; PendingMessages leaves it out meanwhile.)
		r, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE stored < ?1 AND id <
			coalesce((SELECT id FROM messages WHERE stored >= ?1 ORDER BY id LIMIT 1), 9223372036854775807)`, cutoff)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		_, err = tx.ExecContext(ctx, `DELETE FROM acked WHERE acked < ?`, cutoff)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("expire messages: %w", err)
	}
	return n, nil
}

// SaveMeta implements MetaStore.
func (s *SQLite) SaveMeta(ctx context.Context, id string, meta []byte) (bool, error) {
	var added bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
		return nil, fmt.Errorf("meta of %s: %w", id, err)
	}
	return meta, nil
}

// SaveDocument implements DocumentStore: an upsert that only replaces an
// older document.
func (s *SQLite) SaveDocument(ctx context.Context, d Document) (bool, error) {
	var saved bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
		return nil, fmt.Errorf("documents of %s: %w", id, err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d := Document{ID: id}
		if err := rows.Scan(&d.Type, &d.Terminal, &d.Time, &d.Data); err != nil {
			return nil, fmt.Errorf("documents of %s: %w", id, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("documents of %s: %w", id, err)
	}
	return out, nil
}

// SaveLogin implements LoginStore.
func (s *SQLite) SaveLogin(ctx context.Context, l Login) (bool, error) {
	var saved bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
		return Login{}, fmt.Errorf("login of %s: %w", user, err)
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
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
		return nil, false, fmt.Errorf("%s list of %s: %w", name, owner, err)
	}
	var members []string
	if err := json.Unmarshal([]byte(raw), &members); err != nil {
		return nil, false, fmt.Errorf("%s list of %s: %w", name, owner, err)
	}
	return members, true, nil
}

var _ Store = (*SQLite)(nil)
