package store

import "hash/maphash"

// rowIndex finds the messages table's row of a (receiver, signature) pair:
// every message waiting, and every acknowledgement remembered. It lives in
// memory, in place of a unique index on the table: signatures are random,
// so such an index takes every new message into a leaf page of its own,
// and that page goes into the write-ahead log with each commit (about half
// of what a message costs the log, and then the checkpoints).
//
// It is built from the table when the store opens and kept by the
// committer, the only goroutine that touches it. It maps a seeded hash of
// the pair to the row; callers check the row they are given (see
// SQLite.lookup), and the rare pair whose hash another pair has already is
// kept in full in more. About 20 bytes per row, without pointers (the
// collector does not scan it).
//
// Changes made during a transaction are logged, so that a transaction that
// fails to commit takes them back (see undo).
type rowIndex struct {
	seed maphash.Seed
	h    maphash.Hash
	ids  map[uint64]int64 // by hash: the first row stored with that hash
	more map[string]int64 // by receiver + "\x00" + signature: the others
	log  []indexChange    // changes since the transaction began
}

// indexChange is one change to the index, for undo.
type indexChange struct {
	added bool // added, else removed
	hash  uint64
	key   string // set when the row is in more
	id    int64
}

func newRowIndex() *rowIndex {
	x := &rowIndex{seed: maphash.MakeSeed(), ids: make(map[uint64]int64), more: make(map[string]int64)}
	x.h.SetSeed(x.seed)
	return x
}

func (x *rowIndex) hash(receiver, signature string) uint64 {
	x.h.Reset()
	x.h.WriteString(receiver)
	x.h.WriteByte(0)
	x.h.WriteString(signature)
	return x.h.Sum64()
}

func moreKey(receiver, signature string) string { return receiver + "\x00" + signature }

// candidate returns the row stored under the pair's hash, to be checked by
// the caller: it may be another pair's.
func (x *rowIndex) candidate(receiver, signature string) (id int64, ok bool) {
	id, ok = x.ids[x.hash(receiver, signature)]
	return id, ok
}

// exact returns the row of a pair whose hash collided with another's.
func (x *rowIndex) exact(receiver, signature string) (id int64, ok bool) {
	if len(x.more) == 0 {
		return 0, false
	}
	id, ok = x.more[moreKey(receiver, signature)]
	return id, ok
}

// add records the row id of a pair that has none.
func (x *rowIndex) add(receiver, signature string, id int64) {
	h := x.hash(receiver, signature)
	if _, taken := x.ids[h]; !taken {
		x.ids[h] = id
		x.log = append(x.log, indexChange{added: true, hash: h, id: id})
		return
	}
	key := moreKey(receiver, signature)
	x.more[key] = id
	x.log = append(x.log, indexChange{added: true, hash: h, key: key, id: id})
}

// remove forgets row id of a pair, if the index has it.
func (x *rowIndex) remove(receiver, signature string, id int64) {
	h := x.hash(receiver, signature)
	if got, ok := x.ids[h]; ok && got == id {
		delete(x.ids, h)
		x.log = append(x.log, indexChange{hash: h, id: id})
		return
	}
	key := moreKey(receiver, signature)
	if got, ok := x.more[key]; ok && got == id {
		delete(x.more, key)
		x.log = append(x.log, indexChange{hash: h, key: key, id: id})
	}
}

// begin starts a transaction's log of changes.
func (x *rowIndex) begin() {
	if cap(x.log) > 4096 {
		x.log = nil // after an expiry: let the big log go
	}
	x.log = x.log[:0]
}

// mark is the position in the log to undo back to (see undoTo).
func (x *rowIndex) mark() int { return len(x.log) }

// undoTo takes back the changes logged since mark, newest first.
func (x *rowIndex) undoTo(mark int) {
	for i := len(x.log) - 1; i >= mark; i-- {
		c := x.log[i]
		switch {
		case c.added && c.key == "":
			delete(x.ids, c.hash)
		case c.added:
			delete(x.more, c.key)
		case c.key == "":
			x.ids[c.hash] = c.id
		default:
			x.more[c.key] = c.id
		}
	}
	x.log = x.log[:mark]
}

// len counts the rows indexed.
func (x *rowIndex) len() int { return len(x.ids) + len(x.more) }
