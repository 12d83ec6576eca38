// Package store keeps what the mock station must not lose: the messages
// waiting for their receivers (store-and-forward), and the registry of
// metas, documents, login records and block/mute lists.
//
// The station only ever talks to the Store interface; SQLite (package
// modernc.org/sqlite, no cgo) is the implementation. The store knows nothing
// of DIMP: IDs are strings (without terminal), messages, metas and documents
// are the JSON bytes the station validated, so what goes out is exactly what
// came in.
package store

import (
	"context"
	"errors"
	"io"
)

// Errors for callers to test with errors.Is.
var (
	// ErrNotFound: nothing is stored under that key.
	ErrNotFound = errors.New("not found")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
)

// Store is everything the station keeps on disk.
type Store interface {
	MessageStore
	MetaStore
	DocumentStore
	LoginStore
	ListStore
	io.Closer
}

// Message is one reliable message waiting for its receiver.
type Message struct {
	// ID is the row number the store gave the message. IDs only grow, in the
	// order messages were saved, and are never reused: a session that has
	// delivered everything up to ID n asks for what comes after n.
	ID        int64
	Receiver  string  // the receiver's ID without terminal
	Sender    string  // the sender's ID without terminal, for Quotas
	Signature string  // the message signature as it travels (Base64)
	Time      float64 // the message's own time, seconds
	Data      []byte  // the message JSON exactly as it will be sent
}

// Ack names a message its receiver acknowledged.
type Ack struct {
	Receiver  string
	Signature string
	// Passed: the next station of a network acknowledged it, not the
	// receiver. The message is deleted and not remembered, so that it is
	// stored again if it comes back here (its receiver moved here).
	Passed bool
}

// SaveResult says what SaveMessage did.
type SaveResult int

const (
	// Saved: the message is new and now stored.
	Saved SaveResult = iota
	// Duplicate: the same (receiver, signature) is already stored and not
	// yet acknowledged; the returned ID is the stored row's.
	Duplicate
	// Acknowledged: the same (receiver, signature) was stored before and the
	// receiver has acknowledged it; nothing was stored.
	Acknowledged
)

// String names the result.
func (r SaveResult) String() string {
	switch r {
	case Saved:
		return "saved"
	case Duplicate:
		return "duplicate"
	case Acknowledged:
		return "acknowledged"
	}
	return "SaveResult(?)"
}

// MessageStore is the store-and-forward queue. A message stays until its
// receiver acknowledges it or it expires; each (receiver, signature) is
// stored once, and remembered after its acknowledgement for as long as
// messages are kept, so that a replay is not delivered again.
type MessageStore interface {
	// SaveMessage stores m durably before it returns: once it returns nil
	// the message survives the process being killed. A message past one of
	// the store's quotas is not stored: the error is a *QuotaError
	// (errors.Is ErrQuota).
	SaveMessage(ctx context.Context, m Message) (id int64, res SaveResult, err error)
	// SaveMessageAsync is SaveMessage without the wait, for a caller that
	// keeps handling other work meanwhile: it queues m and returns. done is
	// then called exactly once with what SaveMessage would have returned,
	// after the commit that made m durable (or once it failed). Calls to
	// done come from one goroutine, in commit order, so messages saved one
	// after the other are reported in the order of their IDs; done must be
	// quick and must not call the store. An error return means m was not
	// queued (ctx ended, store closed) and done will not be called.
	SaveMessageAsync(ctx context.Context, m Message, done func(id int64, res SaveResult, err error)) error
	// PendingMessages lists up to limit messages for receiver with an ID
	// greater than after, oldest (lowest ID) first; expired ones are left out.
	PendingMessages(ctx context.Context, receiver string, after int64, limit int) ([]Message, error)
	// AckMessage removes the message (receiver, signature) and remembers it
	// as acknowledged. It reports whether such a message was waiting.
	AckMessage(ctx context.Context, receiver, signature string) (bool, error)
	// AckMessageAsync is AckMessage without the wait: it queues a and
	// returns (it waits only while too many acknowledgements are queued).
	// The acknowledgement is committed by the store's next commit, which
	// starts as soon as the one running (if any) ends, together with
	// whatever else is queued by then; a station killed before that
	// commit loses it, and the message is then delivered again. done, when
	// not nil, is called as SaveMessageAsync's is, after that commit. An
	// error return means a was not queued (ctx ended, store closed).
	AckMessageAsync(ctx context.Context, a Ack, done func(found bool, err error)) error
	// CountMessages counts the messages waiting, for all receivers.
	CountMessages(ctx context.Context) (int64, error)
	// ExpireMessages deletes what is older than the store's maximum age,
	// messages and acknowledgements alike, and returns how many messages went.
	ExpireMessages(ctx context.Context) (int64, error)
}

// MetaStore keeps metas by ID. A meta never changes, so the first one
// stored for an ID stays.
type MetaStore interface {
	// SaveMeta stores meta for id unless one is stored; it reports whether
	// it stored this one.
	SaveMeta(ctx context.Context, id string, meta []byte) (bool, error)
	// Meta returns the meta of id, or ErrNotFound.
	Meta(ctx context.Context, id string) ([]byte, error)
}

// Document is a signed document (visa, bulletin, profile) as JSON.
type Document struct {
	ID       string  // the entity, without terminal
	Type     string  // visa, bulletin, profile
	Terminal string  // the device a visa is for, "" for all
	Time     float64 // the signing time
	Data     []byte  // the document JSON
}

// DocumentStore keeps the newest document per entity, type and terminal.
type DocumentStore interface {
	// SaveDocument stores d if it is newer than the stored document of the
	// same entity, type and terminal; it reports whether it did.
	SaveDocument(ctx context.Context, d Document) (bool, error)
	// Documents returns every document of an entity (nil when none).
	Documents(ctx context.Context, id string) ([]Document, error)
	// ScanDocuments walks the registry page by page, for a search: the
	// newest document of type typ of each entity whose ID comes after
	// after (in byte order), in ID order, at most limit of them.
	ScanDocuments(ctx context.Context, typ, after string, limit int) ([]Document, error)
}

// Login is the newest login command of a user, with the message that
// carried it.
type Login struct {
	User    string  // the user, without terminal
	Time    float64 // the login command's time
	Station string  // the station it logged in to
	Command []byte  // the login command JSON
	Message []byte  // the reliable message JSON that carried it
}

// LoginStore keeps the newest login of each user.
type LoginStore interface {
	// SaveLogin stores l if it is newer than the stored one; it reports
	// whether it did.
	SaveLogin(ctx context.Context, l Login) (bool, error)
	// Login returns the stored login of user, or ErrNotFound.
	Login(ctx context.Context, user string) (Login, error)
	// Logins lists every stored login, by user: where each user last
	// logged in, which a station of a network routes by.
	Logins(ctx context.Context) ([]Login, error)
}

// ListStore keeps a user's named ID lists: "block" and "mute".
type ListStore interface {
	// SetList replaces the list name of owner with members, sent at
	// time at (the command's time, Unix seconds; 0 when it had none). A
	// list sent before the one kept leaves it as it is: stored is false.
	SetList(ctx context.Context, owner, name string, members []string, at float64) (stored bool, err error)
	// List returns the list name of owner; found is false when the owner
	// never set it.
	List(ctx context.Context, owner, name string) (members []string, found bool, err error)
}
