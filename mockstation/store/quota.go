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

// usage counts the messages stored and not acknowledged per receiver and
// per sender, to check Quotas on every save without asking the database.
// Like rowIndex it is built from the table when the store opens, kept by
// the committer alone, and its changes during a transaction are logged so
// that a failed commit takes them back.
type usage struct {
	quotas    Quotas
	receivers map[string]tally
	senders   map[string]tally
	log       []usageChange
}

// usageChange is one message counted in (added) or out, for undo.
type usageChange struct {
	added            bool
	receiver, sender string
	bytes            int64
}

func newUsage(q Quotas) *usage {
	return &usage{quotas: q, receivers: make(map[string]tally), senders: make(map[string]tally)}
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

// add counts a message in.
func (u *usage) add(receiver, sender string, size int64) {
	count(u.receivers, receiver, 1, size)
	count(u.senders, sender, 1, size)
	u.log = append(u.log, usageChange{added: true, receiver: receiver, sender: sender, bytes: size})
}

// remove counts a message out (acknowledged or expired).
func (u *usage) remove(receiver, sender string, size int64) {
	count(u.receivers, receiver, -1, -size)
	count(u.senders, sender, -1, -size)
	u.log = append(u.log, usageChange{receiver: receiver, sender: sender, bytes: size})
}

// count adds to the tally of key, which goes once it counts nothing. A new
// key is copied: the string given may share memory with a whole frame.
func count(m map[string]tally, key string, messages, bytes int64) {
	t, ok := m[key]
	t.messages += messages
	t.bytes += bytes
	switch {
	case t.messages <= 0:
		delete(m, key)
	case !ok:
		m[strings.Clone(key)] = t
	default:
		m[key] = t
	}
}

// begin starts a transaction's log of changes.
func (u *usage) begin() {
	if cap(u.log) > 4096 {
		u.log = nil // after an expiry: let the big log go
	}
	u.log = u.log[:0]
}

// mark is the position in the log to undo back to (see undoTo).
func (u *usage) mark() int { return len(u.log) }

// undoTo takes back the changes logged since mark, newest first.
func (u *usage) undoTo(mark int) {
	for i := len(u.log) - 1; i >= mark; i-- {
		c := u.log[i]
		sign := int64(-1) // take back an add
		if !c.added {
			sign = 1
		}
		count(u.receivers, c.receiver, sign, sign*c.bytes)
		count(u.senders, c.sender, sign, sign*c.bytes)
	}
	u.log = u.log[:mark]
}

// of returns what waits for receiver and what waits from sender.
func (u *usage) of(receiver, sender string) (forReceiver, fromSender tally) {
	return u.receivers[receiver], u.senders[sender]
}
