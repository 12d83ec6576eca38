package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"

	"modernc.org/sqlite"
)

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
	stmtDeleteMsg
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
	stmtDeleteMsg: `DELETE FROM messages WHERE id = ? AND acked IS NULL`,
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
