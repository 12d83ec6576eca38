package dimp

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"dimtui/dimp/internal/jsonx"
)

// Search command names, and the keyword that asks for the users online.
const (
	CmdSearch = "search"
	// CmdOnlineUsers asks for the users online; it needs no keywords.
	CmdOnlineUsers = "users"
	// SearchOnlineUsers is the query of a CmdOnlineUsers command: as
	// keywords of a search command it asks the same.
	SearchOnlineUsers = "users"
)

// Archivist is the search engine dimchat's apps send their searches to. A
// station hands messages for it to its search bot; dimtui's station answers
// them itself.
var Archivist = ID{name: "archivist", addr: Anywhere, text: "archivist@anywhere"}

// SearchCommand asks a station's search engine for users, and carries its
// answer. A question has keywords (space-separated words a user's name or
// ID must all contain) or is a "users" command (the users online), and may
// page with Start and Limit. The answer is a "search" command with the same
// keywords and paging, the station that answered, and the users found.
// dimchat's station bot answers with the IDs only (older ones added the
// users' metas in `results`); dimtui's station adds `results` and the
// users' visas in `visas`, so that a client can write to them without
// asking for their profiles one by one.
//
// Keywords are read as a string or an array of words; Users as an array
// of IDs; `results` as a map of ID to meta; `visas` as a map of ID to a
// visa or an array of visas. A member of the wrong type, an ID that does
// not parse or a meta or visa that does not parse is an error. Members the
// command does not model (the `tag` dimchat's mobile app uses to match an
// answer to its question) are kept in Extra.
type SearchCommand struct {
	CommandHead
	Keywords     string
	Start, Limit int64
	Station      ID
	// Users is nil in a question and non-nil in an answer, even when
	// nothing was found.
	Users []ID
	// Metas and Visas are the found users' profiles, by ID without
	// terminal (`results` and `visas`).
	Metas map[string]*Meta
	Visas map[string][]*Document
}

// NewSearchCommand makes a question: the users whose name or ID contains
// every word of keywords, or, for SearchOnlineUsers, the users online (a
// "users" command, as dimchat's mobile app sends it).
func NewSearchCommand(keywords string) *SearchCommand {
	if keywords == SearchOnlineUsers {
		return &SearchCommand{CommandHead: newCommandHead(CmdOnlineUsers)}
	}
	return &SearchCommand{CommandHead: newCommandHead(CmdSearch), Keywords: keywords}
}

// NewSearchAnswer makes the answer to q from station: a "search" command
// with q's query and paging and every member of q it does not model (a
// `tag`, for one), listing users.
func NewSearchAnswer(q *SearchCommand, station ID, users []ID) *SearchCommand {
	if users == nil {
		users = []ID{}
	}
	a := &SearchCommand{CommandHead: newCommandHead(CmdSearch), Keywords: q.Query(), Start: q.Start,
		Limit: q.Limit, Station: station, Users: users}
	a.Extra = q.Extra.Clone()
	return a
}

// Query is what the command asks for: its keywords, trimmed, or
// SearchOnlineUsers for a "users" command without any.
func (c *SearchCommand) Query() string {
	kw := strings.TrimSpace(c.Keywords)
	if kw == "" && c.Name == CmdOnlineUsers {
		return SearchOnlineUsers
	}
	return kw
}

// IsOnlineQuery reports whether the command asks for the users online.
func (c *SearchCommand) IsOnlineQuery() bool { return c.Query() == SearchOnlineUsers }

// IsAnswer reports whether the command is an answer (it lists users).
func (c *SearchCommand) IsAnswer() bool { return c.Users != nil }

func parseSearchCommand(r *fieldReader, ch CommandHead) *SearchCommand {
	c := &SearchCommand{CommandHead: ch, Start: r.int("start"), Limit: r.int("limit"), Station: r.id("station")}
	if raw := r.raw("keywords"); raw != nil {
		if raw[0] == '[' {
			words, err := jsonx.StringArray(raw)
			if err != nil {
				r.fail("keywords", err)
			}
			c.Keywords = strings.Join(words, " ")
		} else {
			c.Keywords = r.strOf("keywords", raw)
		}
	}
	if raw := r.raw("users"); raw != nil {
		c.Users = r.idsOf("users", raw)
	}
	c.Metas = readIDMap(r, "results", readMetaValue)
	c.Visas = readIDMap(r, "visas", readVisasValue)
	return c
}

// readIDMap takes a member that maps IDs to values (`results`, `visas`):
// nil when absent; keys lose their terminal, null values are skipped.
func readIDMap[V any](r *fieldReader, key string, read func(raw []byte) (V, error)) map[string]V {
	obj := r.object(key)
	if obj == nil {
		return nil
	}
	out := make(map[string]V, len(obj))
	for _, k := range obj.SortedKeys() {
		id, err := ParseID(k)
		if err != nil {
			r.fail(key, err)
			return out
		}
		if jsonx.IsNull(obj[k]) {
			continue
		}
		v, err := read(obj[k])
		if err != nil {
			r.fail(key, fmt.Errorf("%s: %w", k, err))
			return out
		}
		out[id.WithoutTerminal().String()] = v
	}
	return out
}

// readMetaValue reads a meta map.
func readMetaValue(raw []byte) (*Meta, error) {
	obj, err := jsonx.MembersOf(raw)
	if err != nil {
		return nil, err
	}
	return metaFromMembers(obj)
}

// readVisasValue reads a visa map or an array of them.
func readVisasValue(raw []byte) ([]*Document, error) {
	elems := [][]byte{raw}
	if raw[0] == '[' {
		var err error
		if elems, err = jsonx.Array(raw); err != nil {
			return nil, err
		}
	}
	docs := make([]*Document, 0, len(elems))
	for i, e := range elems {
		obj, err := jsonx.MembersOf(e)
		if err == nil {
			var d *Document
			if d, err = documentFromMembers(obj); err == nil {
				docs = append(docs, d)
				continue
			}
		}
		return nil, fmt.Errorf("[%d]: %w", i, err)
	}
	return docs, nil
}

func (c *SearchCommand) writeBody(w *jsonx.Writer) {
	c.writeName(w)
	w.StringIf("keywords", c.Keywords)
	if c.Start != 0 {
		w.Int("start", c.Start)
	}
	if c.Limit != 0 {
		w.Int("limit", c.Limit)
	}
	writeIDIf(w, "station", c.Station)
	if c.Users != nil {
		writeIDs(w, "users", c.Users)
	}
	if c.Metas != nil {
		mw := jsonx.NewWriter(nil)
		for _, k := range slices.Sorted(maps.Keys(c.Metas)) {
			writeMeta(mw, k, c.Metas[k])
		}
		w.Raw("results", mw.End())
	}
	if c.Visas != nil {
		vw := jsonx.NewWriter(nil)
		for _, k := range slices.Sorted(maps.Keys(c.Visas)) {
			buf := []byte{'['}
			for i, d := range c.Visas[k] {
				if i > 0 {
					buf = append(buf, ',')
				}
				raw, _ := d.MarshalJSON() // it never fails
				buf = append(buf, raw...)
			}
			vw.Raw(k, append(buf, ']'))
		}
		w.Raw("visas", vw.End())
	}
}
