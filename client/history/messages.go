package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"dimtui/dimp"
)

// schemaV2 keeps the conversations: their messages, a summary of each for
// the conversation list, and the contacts seen. The summary is a table
// kept by triggers rather than a view: listing the conversations is the
// first thing a restarted client does, and a view would read every
// message of a long history to count them.
const schemaV2 = `
CREATE TABLE IF NOT EXISTS messages (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT, -- the order recorded; never reused, so a page's cursor stays valid
	conv     TEXT NOT NULL,              -- the peer, or the group, without a terminal
	msg_id   TEXT NOT NULL,              -- the client's MessageID: sender#sn
	sender   TEXT NOT NULL,
	at       INTEGER NOT NULL,           -- when it was shown or sent, Unix milliseconds
	out      INTEGER NOT NULL,           -- 1: sent by this identity
	type     INTEGER NOT NULL,           -- the content's type
	content  BLOB NOT NULL,              -- the content's JSON, at most MaxContent bytes
	cut      INTEGER NOT NULL DEFAULT 0, -- 1: content is the head of a longer one
	state    INTEGER NOT NULL DEFAULT 0, -- delivery state of a message sent (Sending...)
	detail   TEXT NOT NULL DEFAULT '',   -- the last receipt's text, or why it failed
	recalled INTEGER NOT NULL DEFAULT 0,
	was_read INTEGER NOT NULL DEFAULT 0, -- 1: a message received that was read
	UNIQUE (conv, msg_id, out)
);
CREATE INDEX IF NOT EXISTS messages_page ON messages (conv, seq);
CREATE INDEX IF NOT EXISTS messages_id ON messages (msg_id);
CREATE INDEX IF NOT EXISTS messages_unread ON messages (conv) WHERE out = 0 AND was_read = 0;

CREATE TABLE IF NOT EXISTS conversations (
	conv    TEXT PRIMARY KEY,
	last_at INTEGER NOT NULL, -- the newest message's time, Unix milliseconds
	total   INTEGER NOT NULL,
	unread  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS conversations_last ON conversations (last_at);
CREATE TRIGGER IF NOT EXISTS messages_added AFTER INSERT ON messages BEGIN
	INSERT INTO conversations (conv, last_at, total, unread)
	VALUES (new.conv, new.at, 1, new.out = 0 AND new.was_read = 0)
	ON CONFLICT (conv) DO UPDATE SET last_at = max(last_at, excluded.last_at),
		total = total + 1, unread = unread + excluded.unread;
END;
CREATE TRIGGER IF NOT EXISTS messages_read AFTER UPDATE OF was_read ON messages
WHEN old.was_read = 0 AND new.was_read = 1 AND new.out = 0 BEGIN
	UPDATE conversations SET unread = max(unread - 1, 0) WHERE conv = new.conv;
END;

CREATE TABLE IF NOT EXISTS contacts (
	id   TEXT PRIMARY KEY,         -- without a terminal
	name TEXT NOT NULL DEFAULT '', -- from the visa (or bulletin), when known
	at   INTEGER NOT NULL          -- last seen, Unix milliseconds
) WITHOUT ROWID;
`

// schemaV3 keeps the groups (their bulletin, members and the signed
// commands a member passes on), marks the rows that are not messages but
// notices of what a group command did, and keeps how far a group message
// got with each member.
const schemaV3 = `
ALTER TABLE messages ADD COLUMN kind INTEGER NOT NULL DEFAULT 0; -- a Kind
ALTER TABLE messages ADD COLUMN members BLOB; -- a group message's delivery to each member: the client's JSON
CREATE TABLE IF NOT EXISTS groups (
	id    TEXT PRIMARY KEY, -- without a terminal
	state BLOB NOT NULL,    -- the client's JSON of the group, at most MaxGroupState bytes
	at    INTEGER NOT NULL  -- when it was saved, Unix milliseconds
) WITHOUT ROWID;
`

// Kind is what a row of a conversation is.
type Kind int

// The kinds of rows.
const (
	// KindMessage: a message received or sent; its Content is the
	// message's content.
	KindMessage Kind = 0
	// KindGroupNotice: what a group command did (who was added, why it
	// was refused); its Content is the client's JSON of the notice, its
	// ID unique to the notice and its Sender who sent the command.
	KindGroupNotice Kind = 1
	// KindProfileNotice: a peer's new visa name, in their conversation;
	// its Content is the client's JSON of the notice.
	KindProfileNotice Kind = 2
)

// Delivery states of a message sent, the values of client.Delivery (the
// client converts; this package does not import it).
const (
	Sending   = 0 // queued or written, no word from the station yet
	AtStation = 1 // the station holds it
	Delivered = 2 // the receiver's client received it
	Read      = 3 // the receiver read it
	Failed    = 4 // it cannot be sent
)

// Bounds on what one row holds, so that a peer cannot grow the file by
// more than a few tens of kilobytes a message.
const (
	// MaxContent bounds a content's JSON. The client keeps a longer one
	// as its head (its long strings cut) and marks it Cut; AddMessage
	// refuses one still longer (ErrTooBig).
	MaxContent = 64 << 10
	// MaxDetail bounds a delivery's detail, MaxName a contact's name:
	// longer ones are cut (at a character's start).
	MaxDetail = 1 << 10
	MaxName   = 256
	// MaxPage bounds the messages one Page returns.
	MaxPage = 10000
	// MaxMembers bounds what is kept of a group message's delivery to
	// each member: a thousand members' states fit.
	MaxMembers = 256 << 10
	// MaxGroupState bounds what is kept of one group: its bulletin, up
	// to a thousand members and the few dozen commands since its last
	// reset fit in a fraction of it.
	MaxGroupState = 4 << 20
)

// Errors for callers to test.
var (
	// ErrTooBig: a content longer than MaxContent.
	ErrTooBig = errors.New("content too big for the history")
	// ErrBadMessage: a message AddMessage cannot keep (no conversation,
	// no ID, a content that is not JSON).
	ErrBadMessage = errors.New("message not recordable")
	// ErrBadRow: a row read back that is not what was written (a content
	// that no longer parses, an ID that does not): the row is returned
	// with Message.Err or Conversation.Err set, the others as they are.
	ErrBadRow = errors.New("history row unreadable")
)

// Message is one message of a conversation as the client showed it.
type Message struct {
	// Seq is the row's sequence number, set by AddMessage and Page: the
	// order of recording, and the cursor Page takes.
	Seq          int64
	Kind         Kind    // a message, or a group's notice
	Conversation dimp.ID // the peer, or the group of a group message
	// ID is the client's MessageID, sender#sn: receipts and recalls name
	// the message by it.
	ID     string
	Sender dimp.ID
	Time   time.Time // when it was shown (received) or sent; kept to the millisecond
	Out    bool      // sent by this identity
	Type   dimp.ContentType
	// Content is the content's JSON, which dimp.ParseContent reads; when
	// Cut, its long strings were cut (each ends with a "… N KB more not
	// kept" mark) or, for a content with too many of them, it is a text
	// content with the head of the JSON.
	Content json.RawMessage
	Cut     bool
	// State is a message sent's delivery state (Sending...Failed), and
	// Detail the last receipt's text or why it failed; a message received
	// is Delivered.
	State    int
	Detail   string
	Recalled bool // its sender took it back
	Read     bool // a message received that the user read
	// Members is a group message's delivery to each member, as the client
	// wrote it (SetMembers); nil for others.
	Members json.RawMessage
	// Err is set on a row Page could not read whole (ErrBadRow): the
	// fields that could be read are set, the others zero.
	Err error
}

// Conversation sums up one conversation for the conversation list.
type Conversation struct {
	ID     dimp.ID
	Name   string    // the contact's name, when known
	Last   time.Time // the newest message's time
	Count  int       // messages kept
	Unread int       // messages received not marked read
	Err    error     // ErrBadRow: the ID does not parse
}

// Contact is a peer (or group) the client met.
type Contact struct {
	ID   dimp.ID
	Name string    // from its visa or bulletin, "" when not known
	Seen time.Time // when it was last met
	Err  error     // ErrBadRow: the ID does not parse
}

// convKey is how a conversation or contact is keyed: its ID without the
// terminal, so that a user's devices share one.
func convKey(id dimp.ID) string { return id.WithoutTerminal().String() }

// MessageID is the ID the client gives the message sn of sender: sender
// (without its terminal) and sn, "sender#sn".
func MessageID(sender dimp.ID, sn int64) string {
	return sender.WithoutTerminal().String() + "#" + strconv.FormatInt(sn, 10)
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func bool01(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cut returns s cut to at most limit bytes, at a character's start.
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// AddMessage records a message and returns its sequence number. Recording
// the same message again (same conversation, ID and direction: a message
// redelivered, an event seen twice) changes nothing and returns the
// sequence number it had.
func (h *DB) AddMessage(ctx context.Context, m Message) (seq int64, err error) {
	switch {
	case m.Conversation.IsZero() || m.ID == "" || m.Sender.IsZero():
		return 0, fmt.Errorf("add message %s: %w: no conversation, ID or sender", m.ID, ErrBadMessage)
	case len(m.Content) > MaxContent:
		return 0, fmt.Errorf("add message %s: %w: %d bytes, at most %d", m.ID, ErrTooBig, len(m.Content), MaxContent)
	case !json.Valid(m.Content):
		return 0, fmt.Errorf("add message %s: %w: the content is not JSON", m.ID, ErrBadMessage)
	case m.Kind < KindMessage || m.Kind > KindProfileNotice:
		return 0, fmt.Errorf("add message %s: %w: kind %d", m.ID, ErrBadMessage, m.Kind)
	}
	state := m.State
	if !m.Out {
		state = Delivered
	}
	conv := convKey(m.Conversation)
	err = h.db.QueryRowContext(ctx, `INSERT INTO messages
		(conv, msg_id, sender, at, out, type, content, cut, state, detail, recalled, was_read, kind)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conv, msg_id, out) DO NOTHING RETURNING seq`,
		conv, m.ID, m.Sender.String(), millis(m.Time), bool01(m.Out), int(m.Type), []byte(m.Content),
		bool01(m.Cut), state, cut(m.Detail, MaxDetail), bool01(m.Recalled), bool01(m.Read), int(m.Kind)).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		// There already: its sequence number.
		err = h.db.QueryRowContext(ctx, `SELECT seq FROM messages WHERE conv = ? AND msg_id = ? AND out = ?`,
			conv, m.ID, bool01(m.Out)).Scan(&seq)
	}
	if err != nil {
		return 0, h.wrap("add message "+m.ID, err)
	}
	return seq, nil
}

// SetDelivery moves the message sent with this ID to a delivery state,
// with its detail. A state never goes back (Read > Delivered > AtStation >
// Sending: a late receipt from the station after the peer's does not undo
// it), and Failed comes only from Sending or AtStation: a message the peer
// received did not fail. The same state again updates the detail (the
// station network telling where the message is now). A recalled message
// keeps its state: what comes later is about the recall, which has the
// same ID. An ID not in the history is no error (a protocol message, or a
// conversation cleared).
func (h *DB) SetDelivery(ctx context.Context, id string, state int, detail string) error {
	var from string
	switch state {
	case Sending, AtStation, Delivered, Read:
		from = `state <= ? AND state <> ` + strconv.Itoa(Failed)
	case Failed:
		from = `(state IN (?, ` + strconv.Itoa(AtStation) + `, ` + strconv.Itoa(Failed) + `))`
		state = Failed
	default:
		return fmt.Errorf("set delivery of %s: no state %d", id, state)
	}
	arg := state
	if state == Failed {
		arg = Sending
	}
	_, err := h.db.ExecContext(ctx, `UPDATE messages SET state = ?, detail = ?
		WHERE msg_id = ? AND out = 1 AND recalled = 0 AND `+from,
		state, cut(detail, MaxDetail), id, arg)
	return h.wrap("set delivery of "+id, err)
}

// SetMembers keeps a group message's delivery to each member (the
// client's JSON), replacing what was kept; an ID not in the history is no
// error. A list longer than MaxMembers (ErrTooBig) or not JSON
// (ErrBadMessage) is refused and what was kept stays.
func (h *DB) SetMembers(ctx context.Context, id string, members []byte) error {
	switch {
	case len(members) > MaxMembers:
		return fmt.Errorf("set members of %s: %w: %d bytes, at most %d", id, ErrTooBig, len(members), MaxMembers)
	case !json.Valid(members):
		return fmt.Errorf("set members of %s: %w: not JSON", id, ErrBadMessage)
	}
	_, err := h.db.ExecContext(ctx, `UPDATE messages SET members = ? WHERE msg_id = ? AND out = 1 AND recalled = 0`, members, id)
	return h.wrap("set members of "+id, err)
}

// MarkRecalled marks the message sn of sender in conv as taken back by its
// sender. A message not in the history is no error: the recall may come
// for one from before the history, or from a conversation cleared.
func (h *DB) MarkRecalled(ctx context.Context, conv, sender dimp.ID, sn int64) error {
	id := MessageID(sender, sn)
	_, err := h.db.ExecContext(ctx, `UPDATE messages SET recalled = 1 WHERE conv = ? AND msg_id = ?`, convKey(conv), id)
	return h.wrap("mark "+id+" recalled", err)
}

// MarkRead marks every message received in conv as read.
func (h *DB) MarkRead(ctx context.Context, conv dimp.ID) error {
	_, err := h.db.ExecContext(ctx, `UPDATE messages SET was_read = 1 WHERE conv = ? AND out = 0 AND was_read = 0`, convKey(conv))
	return h.wrap("mark "+convKey(conv)+" read", err)
}

// MarkMessageRead marks the message received with this ID as read (the
// client told its sender so).
func (h *DB) MarkMessageRead(ctx context.Context, id string) error {
	_, err := h.db.ExecContext(ctx, `UPDATE messages SET was_read = 1 WHERE msg_id = ? AND out = 0 AND was_read = 0`, id)
	return h.wrap("mark "+id+" read", err)
}

// Page returns up to n messages of conv recorded before the sequence
// number before (0: the newest), oldest first: what a conversation shows
// when it opens, and then, given the first one's Seq, the page above it.
// n is at most MaxPage. A row that cannot be read whole is returned with
// Err set (ErrBadRow), not left out: the page keeps its length and its
// cursor.
func (h *DB) Page(ctx context.Context, conv dimp.ID, before int64, n int) ([]Message, error) {
	if n <= 0 {
		return nil, nil
	}
	n = min(n, MaxPage)
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := h.rd.QueryContext(ctx, `SELECT seq, conv, msg_id, sender, at, out, type, content, cut,
		state, detail, recalled, was_read, kind, members FROM messages WHERE conv = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
		convKey(conv), before, n)
	if err != nil {
		return nil, h.wrap("page "+convKey(conv), err)
	}
	defer rows.Close()
	out := make([]Message, 0, n)
	for rows.Next() {
		var (
			m                           Message
			convText, sender            string
			at                          int64
			typ                         int64
			outgoing, wasCut, rec, seen bool
			content, members            []byte
		)
		if err := rows.Scan(&m.Seq, &convText, &m.ID, &sender, &at, &outgoing, &typ, &content, &wasCut,
			&m.State, &m.Detail, &rec, &seen, &m.Kind, &members); err != nil {
			// A value of the wrong kind (a text where a number goes):
			// what is known of the row, and why the rest is not.
			out = append(out, Message{Seq: m.Seq, ID: m.ID, Err: fmt.Errorf("%w: %s: %v", ErrBadRow, h.path, err)})
			continue
		}
		m.Time, m.Out, m.Cut, m.Recalled, m.Read = time.UnixMilli(at), outgoing, wasCut, rec, seen
		m.Content = content
		if members != nil {
			m.Members = members
		}
		var problems []string
		if id, err := dimp.ParseID(convText); err != nil {
			problems = append(problems, "conversation: "+err.Error())
		} else {
			m.Conversation = id
		}
		if id, err := dimp.ParseID(sender); err != nil {
			problems = append(problems, "sender: "+err.Error())
		} else {
			m.Sender = id
		}
		if typ < 0 || typ > 255 {
			problems = append(problems, fmt.Sprintf("content type %d", typ))
		} else {
			m.Type = dimp.ContentType(typ)
		}
		switch m.Kind {
		case KindMessage:
			if _, err := dimp.ParseContent(content); err != nil {
				problems = append(problems, "content: "+err.Error())
			}
		case KindGroupNotice, KindProfileNotice:
			if !json.Valid(content) {
				problems = append(problems, "notice: not JSON")
			}
		default:
			problems = append(problems, fmt.Sprintf("kind %d", m.Kind))
		}
		if len(problems) > 0 {
			m.Err = fmt.Errorf("%w: %s, message %d (%s): %s", ErrBadRow, h.path, m.Seq, m.ID, strings.Join(problems, "; "))
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, h.wrap("page "+convKey(conv), err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// SentMembers returns what SetMembers kept for the message sent with this
// ID; nil when it is not a group message, or not in the history.
func (h *DB) SentMembers(ctx context.Context, id string) (json.RawMessage, error) {
	var members []byte
	err := h.rd.QueryRowContext(ctx, `SELECT members FROM messages WHERE msg_id = ? AND out = 1 AND kind = 0
		ORDER BY seq DESC LIMIT 1`, id).Scan(&members)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, h.wrap("read members of "+id, err)
	}
	return members, nil
}

// Received returns the message received with this ID (a MessageID), and
// whether there is one.
func (h *DB) Received(ctx context.Context, id string) (Message, bool, error) {
	var (
		m                Message
		convText, sender string
		at, typ          int64
		rec, seen        bool
		content          []byte
	)
	err := h.rd.QueryRowContext(ctx, `SELECT seq, conv, sender, at, type, content, recalled, was_read
		FROM messages WHERE msg_id = ? AND out = 0 AND kind = 0 ORDER BY seq DESC LIMIT 1`, id).
		Scan(&m.Seq, &convText, &sender, &at, &typ, &content, &rec, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, false, nil
	}
	if err != nil {
		return Message{}, false, h.wrap("read message "+id, err)
	}
	m.ID, m.Time, m.Recalled, m.Read, m.Content, m.State = id, time.UnixMilli(at), rec, seen, content, Delivered
	if typ >= 0 && typ <= 255 {
		m.Type = dimp.ContentType(typ)
	}
	var errs []error
	if m.Conversation, err = dimp.ParseID(convText); err != nil {
		errs = append(errs, err)
	}
	if m.Sender, err = dimp.ParseID(sender); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		m.Err = fmt.Errorf("%w: %s, message %s: %v", ErrBadRow, h.path, id, err)
	}
	return m, true, nil
}

// Conversations lists the conversations, the one with the newest message
// first, with their contact's name when it is known.
func (h *DB) Conversations(ctx context.Context) ([]Conversation, error) {
	rows, err := h.rd.QueryContext(ctx, `SELECT c.conv, coalesce(k.name, ''), c.last_at, c.total, c.unread
		FROM conversations c LEFT JOIN contacts k ON k.id = c.conv ORDER BY c.last_at DESC, c.conv`)
	if err != nil {
		return nil, h.wrap("list conversations", err)
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		var (
			c    Conversation
			id   string
			last int64
		)
		if err := rows.Scan(&id, &c.Name, &last, &c.Count, &c.Unread); err != nil {
			out = append(out, Conversation{Err: fmt.Errorf("%w: %s: %v", ErrBadRow, h.path, err)})
			continue
		}
		c.Last = time.UnixMilli(last)
		if c.ID, err = dimp.ParseID(id); err != nil {
			c.Err = fmt.Errorf("%w: %s, conversation %q: %v", ErrBadRow, h.path, id, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, h.wrap("list conversations", err)
	}
	return out, nil
}

// HasConversation reports whether the history keeps a conversation with
// conv.
func (h *DB) HasConversation(ctx context.Context, conv dimp.ID) (bool, error) {
	var n int
	err := h.rd.QueryRowContext(ctx, `SELECT count(*) FROM conversations WHERE conv = ?`, convKey(conv)).Scan(&n)
	if err != nil {
		return false, h.wrap("look for conversation "+convKey(conv), err)
	}
	return n > 0, nil
}

// Clear forgets the messages of conv (/clear). The digests of the
// messages processed stay: a message of it the station offers again is
// still a duplicate, and does not reappear.
func (h *DB) Clear(ctx context.Context, conv dimp.ID) error {
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return h.wrap("clear "+convKey(conv), err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE conv = ?`, convKey(conv)); err != nil {
		return h.wrap("clear "+convKey(conv), err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM conversations WHERE conv = ?`, convKey(conv)); err != nil {
		return h.wrap("clear "+convKey(conv), err)
	}
	return h.wrap("clear "+convKey(conv), tx.Commit())
}

// SetContact records that id was met now, with its name when name is not
// empty (an empty one keeps the name known). A name longer than MaxName
// bytes is cut: a visa may carry megabytes of nickname.
func (h *DB) SetContact(ctx context.Context, id dimp.ID, name string) error {
	if id.IsZero() {
		return fmt.Errorf("set contact: %w: no ID", ErrBadMessage)
	}
	_, err := h.db.ExecContext(ctx, `INSERT INTO contacts (id, name, at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET at = excluded.at,
			name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE name END`,
		convKey(id), cut(name, MaxName), millis(h.opt.Now()))
	return h.wrap("set contact "+convKey(id), err)
}

// ContactName returns the name kept for the contact id; "" when there is
// none.
func (h *DB) ContactName(ctx context.Context, id dimp.ID) (string, error) {
	var name string
	err := h.rd.QueryRowContext(ctx, `SELECT name FROM contacts WHERE id = ?`, convKey(id)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return name, h.wrap("read contact "+convKey(id), err)
}

// Contacts lists the contacts met, by name, then ID.
func (h *DB) Contacts(ctx context.Context) ([]Contact, error) {
	rows, err := h.rd.QueryContext(ctx, `SELECT id, name, at FROM contacts ORDER BY name = '', name, id`)
	if err != nil {
		return nil, h.wrap("list contacts", err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var (
			c  Contact
			id string
			at int64
		)
		if err := rows.Scan(&id, &c.Name, &at); err != nil {
			out = append(out, Contact{Err: fmt.Errorf("%w: %s: %v", ErrBadRow, h.path, err)})
			continue
		}
		c.Seen = time.UnixMilli(at)
		if c.ID, err = dimp.ParseID(id); err != nil {
			c.Err = fmt.Errorf("%w: %s, contact %q: %v", ErrBadRow, h.path, id, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, h.wrap("list contacts", err)
	}
	return out, nil
}

// GroupState is what the history keeps of one group: the client's JSON
// of it, which this package does not read.
type GroupState struct {
	ID    dimp.ID
	State json.RawMessage
	Saved time.Time
	Err   error // ErrBadRow: the ID does not parse, or the state is not JSON
}

// SaveGroup keeps the state of group id, replacing what was kept. A state
// longer than MaxGroupState is refused (ErrTooBig), and one that is not
// JSON (ErrBadMessage): what was kept stays.
func (h *DB) SaveGroup(ctx context.Context, id dimp.ID, state []byte) error {
	switch {
	case !id.IsGroup():
		return fmt.Errorf("save group %s: %w: not a group's ID", id, ErrBadMessage)
	case len(state) > MaxGroupState:
		return fmt.Errorf("save group %s: %w: %d bytes, at most %d", id, ErrTooBig, len(state), MaxGroupState)
	case !json.Valid(state):
		return fmt.Errorf("save group %s: %w: the state is not JSON", id, ErrBadMessage)
	}
	_, err := h.db.ExecContext(ctx, `INSERT INTO groups (id, state, at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, at = excluded.at`,
		convKey(id), state, millis(h.opt.Now()))
	return h.wrap("save group "+convKey(id), err)
}

// Groups returns the groups kept, by ID. A row that does not read comes
// back with Err set, the others as they are.
func (h *DB) Groups(ctx context.Context) ([]GroupState, error) {
	rows, err := h.rd.QueryContext(ctx, `SELECT id, state, at FROM groups ORDER BY id`)
	if err != nil {
		return nil, h.wrap("list groups", err)
	}
	defer rows.Close()
	var out []GroupState
	for rows.Next() {
		var (
			g     GroupState
			id    string
			state []byte
			at    int64
		)
		if err := rows.Scan(&id, &state, &at); err != nil {
			out = append(out, GroupState{Err: fmt.Errorf("%w: %s: %v", ErrBadRow, h.path, err)})
			continue
		}
		g.State, g.Saved = state, time.UnixMilli(at)
		switch g.ID, err = dimp.ParseID(id); {
		case err != nil:
			g.Err = fmt.Errorf("%w: %s, group %q: %v", ErrBadRow, h.path, id, err)
		case !json.Valid(state):
			g.Err = fmt.Errorf("%w: %s, group %s: the state is not JSON", ErrBadRow, h.path, id)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, h.wrap("list groups", err)
	}
	return out, nil
}
