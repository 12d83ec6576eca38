package store

import (
	"context"
	"fmt"
)

// ScanDocuments implements DocumentStore. It reads the (id, type,
// terminal) primary key in order from after, so a page costs its own rows;
// of an entity's documents (one per terminal) it returns the newest (in
// SQLite, the bare columns of a MAX() aggregate come from the row that has
// the maximum).
func (s *SQLite) ScanDocuments(ctx context.Context, typ, after string, limit int) ([]Document, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, terminal, MAX(time), data FROM documents
		WHERE id > ? AND type = ? GROUP BY id ORDER BY id LIMIT ?`, after, typ, limit)
	if err != nil {
		return nil, fmt.Errorf("scan %s documents: %w", typ, err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d := Document{Type: typ}
		if err := rows.Scan(&d.ID, &d.Terminal, &d.Time, &d.Data); err != nil {
			return nil, fmt.Errorf("scan %s documents: %w", typ, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scan %s documents: %w", typ, err)
	}
	return out, nil
}
