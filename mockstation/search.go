package mockstation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"dimtui/dimp"
	"dimtui/mockstation/store"
)

// The search engine. dimchat's apps send their searches to
// archivist@anywhere, which dimchat's station hands to its search bot; this
// station answers them itself, as it answers a search sent to it (as older
// stations did for the users online). The answer is the bot's: a "search"
// command with the question's keywords, paging and other members (a `tag`),
// the station's ID and the IDs found, plus the found users' metas
// (`results`, as the bot wrote them before 2023) and visas (`visas`), so
// that a client can write to them at once.
//
// Matching: the keywords are split at white space; a user matches when
// every word is a case-insensitive substring of the user's visa name or of
// the user's ID. Only users and bots with a visa are found, never stations
// or groups, in ID order. The online list (command "users", or the keywords
// "users") pages through the users with an active session.
//
// The station keeps an index of the users it can find (ID and lower-case
// visa name, about 350 bytes each), read from the store on the first search
// and kept up to date as visas arrive: a search is a walk through memory
// (about 2.5 ms for 20,000 users, answer included; BenchmarkSearch), not
// through the database (reading 20,000 visas from SQLite takes about a
// third of a second, which the first search pays).
//
// Bounds: at most searchMaxKeywords bytes and searchMaxWords words of
// keywords; at most searchMaxLimit results per answer (searchDefaultLimit,
// or searchOnlineLimit for the online list, when the question sets none);
// at most searchIndexMax users in the index, 35 MB (a larger registry is
// searched in part: the users beyond are not found); profiles are attached
// while the answer stays under searchProfileBudget bytes (a client reads
// frames of 1 MiB), the other users are listed without one.
const (
	searchMaxKeywords   = 256
	searchMaxWords      = 8
	searchDefaultLimit  = 50 // station-py's default for a search
	searchOnlineLimit   = 100
	searchMaxLimit      = 100
	searchIndexMax      = 100000
	searchScanPage      = 500
	searchProfileBudget = 256 << 10
)

// searchText is the receipt refusing a search the station cannot read, as
// station-py words it; the receipt's `error` says what is wrong.
const searchText = "Search command error."

// errSearch is a search question the station refuses.
var errSearch = errors.New("search refused")

// searchIndex is what the search engine looks through: the users with a
// visa, by ID without terminal.
type searchIndex struct {
	mu      sync.Mutex // guards the fields below
	loaded  bool
	entries map[string]searchEntry
	// sorted is entries in ID order, nil once a visa changed it; a search
	// sorts again. A slice once built is never modified, so that a search
	// walks it without the lock.
	sorted []searchEntry
}

type searchEntry struct {
	id    dimp.ID
	lowID string // the ID in lower case
	name  string // the visa name in lower case
}

func newSearchIndex() *searchIndex { return &searchIndex{entries: map[string]searchEntry{}} }

// put indexes a visa the station stored. Before the first search nothing
// is kept: the index is read from the store then.
func (x *searchIndex) put(id dimp.ID, visa *dimp.Document) {
	if !searchable(id) {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.loaded {
		x.add(id, visa.Name())
	}
}

func (x *searchIndex) add(id dimp.ID, name string) {
	key := id.WithoutTerminal().String()
	if _, known := x.entries[key]; !known && len(x.entries) >= searchIndexMax {
		return
	}
	x.entries[key] = searchEntry{id: id.WithoutTerminal(), lowID: strings.ToLower(key), name: strings.ToLower(name)}
	x.sorted = nil
}

// searchable reports whether a search may find id: users and bots, not
// stations, groups or broadcast IDs.
func searchable(id dimp.ID) bool {
	return id.IsUser() && !id.IsBroadcast() && id.Type() != dimp.Station
}

// snapshot returns the index in ID order, reading it from the store the
// first time.
func (x *searchIndex) snapshot(ctx context.Context, st store.DocumentStore) ([]searchEntry, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.loaded {
		if err := x.load(ctx, st); err != nil {
			clear(x.entries)
			return nil, err
		}
		x.loaded = true
	}
	if x.sorted == nil {
		x.sorted = slices.SortedFunc(maps.Values(x.entries), func(a, b searchEntry) int {
			return cmp.Compare(a.id.String(), b.id.String())
		})
	}
	return x.sorted, nil
}

// load reads the newest visa of every user from the store, page by page.
// A visa that does not parse was not stored by this station: it is
// skipped.
func (x *searchIndex) load(ctx context.Context, st store.DocumentStore) error {
	after := ""
	for len(x.entries) < searchIndexMax {
		page, err := st.ScanDocuments(ctx, dimp.DocVisa, after, searchScanPage)
		if err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		after = page[len(page)-1].ID
		for _, d := range page {
			id, err := dimp.ParseID(d.ID)
			if err != nil || !searchable(id) {
				continue
			}
			if doc, err := dimp.ParseDocument(d.Data); err == nil {
				x.add(id, doc.Name())
			}
		}
	}
	return nil
}

// archivist handles a message for archivist@anywhere: a search is
// answered, anything else is not supported.
func (c *conn) archivist(in *inbound) error {
	im, err := c.srv.open(in.rm)
	if err != nil {
		return c.refuse(in, reasonOf(err), err)
	}
	var answer dimp.Content
	if q, ok := im.Content.(*dimp.SearchCommand); ok {
		answer = c.search(in, q)
	} else {
		answer = notSupported(in.rm, im.Content)
	}
	if answer == nil {
		return nil
	}
	return c.answer(in, answer)
}

// search answers a search question; an answer (a neighbour's bot sharing
// its results) is taken without a word, as station-py does.
func (c *conn) search(in *inbound, q *dimp.SearchCommand) dimp.Content {
	if q.IsAnswer() {
		return nil
	}
	refuse := func(err error) dimp.Content {
		c.logger().Info("search refused", "user", in.rm.Sender, "err", err)
		r := newReceipt(searchText, in.rm, q.SN)
		setExtra(r, "error", err.Error())
		return r
	}
	query := q.Query()
	words, err := searchWords(query)
	if err != nil {
		return refuse(err)
	}
	if q.Start < 0 {
		return refuse(fmt.Errorf("%w: start %d is negative", errSearch, q.Start))
	}
	limit := int(min(max(q.Limit, 0), searchMaxLimit))
	var ids []dimp.ID
	if q.IsOnlineQuery() {
		if limit == 0 {
			limit = searchOnlineLimit
		}
		ids = c.srv.onlineUsers(int(min(q.Start, searchIndexMax)), limit)
	} else {
		if limit == 0 {
			limit = searchDefaultLimit
		}
		if ids, err = c.srv.searchUsers(c.ctx, words, int(min(q.Start, searchIndexMax)), limit); err != nil {
			if c.ctx.Err() == nil {
				c.logger().Error("search", "err", err)
			}
			return newReceipt("Station error: search failed.", in.rm, q.SN)
		}
	}
	a := dimp.NewSearchAnswer(q, c.srv.me.ID, ids)
	a.Metas, a.Visas = c.srv.searchProfiles(c.ctx, ids)
	c.logger().Debug("search", "user", in.rm.Sender, "query", query, "found", len(ids))
	return a
}

// searchWords checks the keywords of a search and splits them into
// lower-case words.
func searchWords(query string) ([]string, error) {
	if query == "" {
		return nil, fmt.Errorf("%w: no keywords", errSearch)
	}
	if len(query) > searchMaxKeywords {
		return nil, fmt.Errorf("%w: keywords of %d bytes, at most %d", errSearch, len(query), searchMaxKeywords)
	}
	words := strings.Fields(strings.ToLower(query))
	if len(words) > searchMaxWords {
		return nil, fmt.Errorf("%w: %d keywords, at most %d", errSearch, len(words), searchMaxWords)
	}
	return words, nil
}

// onlineUsers pages through the users with an active session.
func (s *Server) onlineUsers(start, limit int) []dimp.ID {
	users, _ := s.hub.online()
	var out []dimp.ID
	for _, u := range users[min(start, len(users)):] {
		if len(out) == limit {
			break
		}
		if id, err := dimp.ParseID(u); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// searchUsers returns the users matching every word, in ID order,
// skipping the first start matches, at most limit of them.
func (s *Server) searchUsers(ctx context.Context, words []string, start, limit int) ([]dimp.ID, error) {
	entries, err := s.index.snapshot(ctx, s.store)
	if err != nil {
		return nil, err
	}
	var out []dimp.ID
	skipped := 0
	for _, e := range entries {
		if !e.matches(words) {
			continue
		}
		if skipped < start {
			skipped++
			continue
		}
		out = append(out, e.id)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// matches reports whether every word is in the entry's ID or name.
func (e searchEntry) matches(words []string) bool {
	for _, w := range words {
		if !strings.Contains(e.lowID, w) && !strings.Contains(e.name, w) {
			return false
		}
	}
	return true
}

// searchProfiles gathers the metas and visas of the users found, while
// their JSON stays under searchProfileBudget bytes.
func (s *Server) searchProfiles(ctx context.Context, ids []dimp.ID) (map[string]*dimp.Meta, map[string][]*dimp.Document) {
	metas := map[string]*dimp.Meta{}
	visas := map[string][]*dimp.Document{}
	size := 0
	for _, id := range ids {
		p, err := s.profile(ctx, id)
		if err != nil || p == nil {
			continue
		}
		n := 0
		if raw, err := p.Meta.MarshalJSON(); err == nil {
			n += len(raw)
		}
		for _, v := range p.Visas {
			raw, _ := v.MarshalJSON()
			n += len(raw)
		}
		if size+n > searchProfileBudget {
			break
		}
		size += n
		key := id.WithoutTerminal().String()
		metas[key] = p.Meta
		if len(p.Visas) > 0 {
			visas[key] = p.Visas
		}
	}
	return metas, visas
}
