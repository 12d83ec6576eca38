package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	// the "sqlite" database/sql driver, pure Go
)

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
	members TEXT NOT NULL, -- JSON: {"time": the command's, "members": [IDs]}; an array of IDs before
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
