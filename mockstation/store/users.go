package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	// the "sqlite" database/sql driver, pure Go
)

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

// Logins implements LoginStore.
func (s *SQLite) Logins(ctx context.Context) ([]Login, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT user, time, station, command, message FROM logins ORDER BY user`)
	if err != nil {
		return nil, fmt.Errorf("logins: %w", classify(s.path, err))
	}
	defer rows.Close()
	var out []Login
	for rows.Next() {
		var l Login
		if err := rows.Scan(&l.User, &l.Time, &l.Station, &l.Command, &l.Message); err != nil {
			return nil, fmt.Errorf("logins: %w", classify(s.path, err))
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("logins: %w", classify(s.path, err))
	}
	return out, nil
}

// storedList is a list as the lists table keeps it: its members and the
// time of the command that set it. Rows written before the time was kept
// hold only the members' array, and count as set at time 0.
type storedList struct {
	Time    float64  `json:"time"`
	Members []string `json:"members"`
}

// readList parses a lists row, in either form.
func readList(raw string) (storedList, error) {
	var l storedList
	if strings.HasPrefix(strings.TrimSpace(raw), "[") {
		err := json.Unmarshal([]byte(raw), &l.Members)
		return l, err
	}
	err := json.Unmarshal([]byte(raw), &l)
	return l, err
}

// SetList implements ListStore: in one write, the kept list's time is
// read and the new list written only when it is not older.
func (s *SQLite) SetList(ctx context.Context, owner, name string, members []string, at float64) (bool, error) {
	if members == nil {
		members = []string{}
	}
	raw, err := json.Marshal(storedList{Time: at, Members: members})
	if err != nil {
		return false, err
	}
	stored := false
	err = s.write(ctx, func(ctx context.Context, tx *txn) error {
		var old string
		switch err := tx.QueryRowContext(ctx, `SELECT members FROM lists WHERE owner = ? AND name = ?`, owner, name).Scan(&old); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			// A kept row that does not read is replaced: it is no list.
			if kept, err := readList(old); err == nil && at > 0 && kept.Time > at {
				return nil
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO lists (owner, name, members) VALUES (?, ?, ?)
			ON CONFLICT (owner, name) DO UPDATE SET members = excluded.members`, owner, name, string(raw))
		stored = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("save %s list of %s: %w", name, owner, err)
	}
	return stored, nil
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
	l, err := readList(raw)
	if err != nil {
		return nil, false, fmt.Errorf("%s list of %s: %w", name, owner, classify(s.path, err))
	}
	return l.Members, true, nil
}
