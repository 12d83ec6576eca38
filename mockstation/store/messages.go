package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	// the "sqlite" database/sql driver, pure Go
)

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
	if a.Passed {
		return s.pass(tx, a)
	}
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

// pass deletes a waiting message the next station took, and forgets it.
func (s *SQLite) pass(tx *txn, a Ack) (found bool, err error) {
	id, acked, found, err := s.lookup(tx, a.Receiver, a.Signature)
	if err != nil || !found || acked {
		return false, err
	}
	res, err := tx.stmt(stmtDeleteMsg).ExecContext(tx.ctx, id)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	s.index.remove(a.Receiver, a.Signature, id)
	s.usage.remove(id, a.Receiver)
	return true, nil
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
