package mockstation

import (
	"context"
	"strings"
	"unicode"

	"dimtui/dimp"
)

// maxShownName bounds a nickname the station writes into a receipt: a
// visa may carry a name of any length, a receipt line names it.
const maxShownName = 64

// blockedText is the receipt for a message the receiver blocked, worded as
// dimchat's station-py words it: `Message is blocked by "<nickname>"`, and
// ` in group "<name>"` when the message exposes its group. The names are
// the receiver's visa name and the group's bulletin name (else the IDs'
// names), cut to maxShownName runes and without quotes or control
// characters.
func (s *Server) blockedText(ctx context.Context, receiver, group dimp.ID) string {
	text := `Message is blocked by "` + s.shownName(ctx, receiver) + `"`
	if !group.IsZero() {
		text += ` in group "` + s.shownName(ctx, group) + `"`
	}
	return text
}

// shownName is the name of id as a receipt shows it.
func (s *Server) shownName(ctx context.Context, id dimp.ID) string {
	name := ""
	if id.IsGroup() {
		if docs, err := s.store.Documents(ctx, id.WithoutTerminal().String()); err == nil {
			for _, d := range docs {
				if doc, err := dimp.ParseDocument(d.Data); err == nil && doc.Name() != "" {
					name = doc.Name()
				}
			}
		}
	} else if p, err := s.profile(ctx, id); err == nil && p != nil && p.Visa() != nil {
		name = p.Visa().Name()
	}
	name = cleanName(name)
	if name == "" {
		name = cleanName(id.Name())
	}
	if name == "" {
		name = id.WithoutTerminal().String()
	}
	return name
}

// cleanName trims a name, drops quotes and control characters, and cuts
// it to maxShownName runes.
func cleanName(name string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(name) {
		if n == maxShownName {
			b.WriteRune('…')
			break
		}
		if r == '"' || unicode.IsControl(r) || r == unicode.ReplacementChar {
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
