package store

import (
	"errors"
	"fmt"
	"strings"
)

// ErrQuota: a message was refused because a storage quota is reached; the
// error is a *QuotaError saying which.
var ErrQuota = errors.New("storage quota reached")

// Quotas bound what the store keeps for one user: messages stored and not
// yet acknowledged, counted and summed (bytes of message data), per
// receiver and per sender. A message that would take a sum past its limit
// is refused with a *QuotaError; acknowledged and expired messages make
// room again. 0 (or less) turns a limit off.
type Quotas struct {
	ReceiverMessages int64 // messages waiting for one receiver
	ReceiverBytes    int64 // their bytes
	SenderMessages   int64 // messages of one sender waiting for their receivers
	SenderBytes      int64 // their bytes
}

// QuotaError says which quota refused a message.
type QuotaError struct {
	Sender bool   // the sender's quota, else the receiver's
	Bytes  bool   // the quota in bytes, else in messages
	ID     string // the sender or receiver, without terminal
	Limit  int64
}

func (e *QuotaError) Error() string {
	unit := "messages"
	if e.Bytes {
		unit = "bytes of messages"
	}
	// Only the limit is told, not how much waits: the text goes to the
	// sender, who may not learn how much waits for someone else.
	if e.Sender {
		return fmt.Sprintf("sender quota reached: the station keeps at most %d %s from one sender waiting for their receivers (%s)",
			e.Limit, unit, e.ID)
	}
	return fmt.Sprintf("receiver quota reached: the station keeps at most %d %s waiting for one receiver (%s)",
		e.Limit, unit, e.ID)
}

// Is makes errors.Is(err, ErrQuota) true.
func (e *QuotaError) Is(target error) bool { return target == ErrQuota }

// tally is what waits for, or from, one user.
type tally struct{ messages, bytes int64 }

// account is one user's tally, with the user's ID as the map keeps it
// (shared by the rows counted under it).
type account struct {
	tally
	name string
}

// rowUse is what one waiting message counts for: found again from its row
// ID when it is acknowledged or expires, so that the database need not
// read it back.
type rowUse struct {
	sender string // shares the sender's tally name
	size   int64
}

// usage counts the messages stored and not acknowledged per receiver and
// per sender, to check Quotas on every save without asking the database.
// Like rowIndex it is built from the table when the store opens, kept by
// the committer alone, and its changes during a transaction are logged so
// that a failed commit takes them back.
type usage struct {
	quotas    Quotas
	receivers map[string]account
	senders   map[string]account
	rows      map[int64]rowUse // the waiting messages, by row ID
	log       []usageChange
}

// usageChange is one message counted in (added) or out, for undo.
type usageChange struct {
	added    bool
	id       int64
	receiver string
	row      rowUse
}

func newUsage(q Quotas) *usage {
	return &usage{quotas: q, receivers: make(map[string]account), senders: make(map[string]account),
		rows: make(map[int64]rowUse)}
}

// check returns a *QuotaError when a message of size bytes from sender to
// receiver would take either past a quota; the sender's are checked first.
func (u *usage) check(receiver, sender string, size int64) error {
	q := u.quotas
	if s := u.senders[sender]; q.SenderMessages > 0 && s.messages+1 > q.SenderMessages {
		return &QuotaError{Sender: true, ID: sender, Limit: q.SenderMessages}
	} else if q.SenderBytes > 0 && s.bytes+size > q.SenderBytes {
		return &QuotaError{Sender: true, Bytes: true, ID: sender, Limit: q.SenderBytes}
	}
	if r := u.receivers[receiver]; q.ReceiverMessages > 0 && r.messages+1 > q.ReceiverMessages {
		return &QuotaError{ID: receiver, Limit: q.ReceiverMessages}
	} else if q.ReceiverBytes > 0 && r.bytes+size > q.ReceiverBytes {
		return &QuotaError{Bytes: true, ID: receiver, Limit: q.ReceiverBytes}
	}
	return nil
}

// add counts in message id, of size bytes from sender to receiver.
func (u *usage) add(id int64, receiver, sender string, size int64) {
	row := rowUse{sender: u.in(receiver, sender, size), size: size}
	u.rows[id] = row
	u.log = append(u.log, usageChange{added: true, id: id, receiver: receiver, row: row})
}

// remove counts out message id, if it was counted in (a waiting message).
func (u *usage) remove(id int64, receiver string) {
	row, ok := u.rows[id]
	if !ok {
		return
	}
	delete(u.rows, id)
	u.out(receiver, row)
	u.log = append(u.log, usageChange{id: id, receiver: receiver, row: row})
}

// in adds a message to the tallies of its receiver and sender, and
// returns the sender's name as the tally keeps it.
func (u *usage) in(receiver, sender string, size int64) string {
	count(u.receivers, receiver, 1, size)
	return count(u.senders, sender, 1, size)
}

func (u *usage) out(receiver string, row rowUse) {
	count(u.receivers, receiver, -1, -row.size)
	count(u.senders, row.sender, -1, -row.size)
}

// count changes key's tally, forgetting it at zero, and returns the key as
// the map keeps it.
func count(m map[string]account, key string, messages, bytes int64) string {
	t, ok := m[key]
	if !ok {
		t.name = strings.Clone(key)
	}
	t.messages += messages
	t.bytes += bytes
	if t.messages <= 0 {
		delete(m, key)
	} else {
		m[t.name] = t
	}
	return t.name
}

// begin starts a transaction's log.
func (u *usage) begin() {
	if cap(u.log) > 4096 {
		u.log = nil // after an expiry: let the big log go
	}
	u.log = u.log[:0]
}

// mark is the point undoTo goes back to.
func (u *usage) mark() int { return len(u.log) }

// undoTo takes back the changes logged after mark, newest first.
func (u *usage) undoTo(mark int) {
	for i := len(u.log) - 1; i >= mark; i-- {
		c := u.log[i]
		if c.added {
			delete(u.rows, c.id)
			u.out(c.receiver, c.row)
			continue
		}
		c.row.sender = u.in(c.receiver, c.row.sender, c.row.size)
		u.rows[c.id] = c.row
	}
	u.log = u.log[:mark]
}

// of returns the tallies of a receiver and a sender.
func (u *usage) of(receiver, sender string) (forReceiver, fromSender tally) {
	return u.receivers[receiver].tally, u.senders[sender].tally
}
