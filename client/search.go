package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"dimtui/dimp"
)

// Search errors, in SearchEvent.Err.
var (
	// ErrSearchRefused: the station answered the search with a refusal
	// (the error says its words).
	ErrSearchRefused = errors.New("the station refused the search")
	// ErrSearchUnanswered: no answer came within Config.QueryTimeout
	// (dimchat's station drops searches when it runs no search bot).
	ErrSearchUnanswered = errors.New("no answer to the search")
)

// maxSearches bounds the searches waiting for their answers; a new one
// gives up the oldest.
const maxSearches = 16

// SearchResult is one user a search found.
type SearchResult struct {
	ID dimp.ID
	// Profile is the user's verified meta and visas: from the answer (the
	// client has learned it, so a message to the user needs no query), or
	// known before; nil when neither.
	Profile *dimp.Profile
}

// SearchEvent reports the answer to a search, or why there is none.
type SearchEvent struct {
	Time     time.Time
	ID       MessageID // the question, as Search returned it
	Keywords string    // as asked
	Online   bool      // the question asked for the users online
	Results  []SearchResult
	Station  dimp.ID // the station that answered, when it said
	Err      error   // ErrSearchRefused or ErrSearchUnanswered; no results
}

func (e SearchEvent) eventTime() time.Time { return e.Time }

// pendingSearch is a search waiting for its answer.
type pendingSearch struct {
	id       MessageID
	keywords string
	online   bool
	at       time.Time
}

// searches are the searches waiting for answers, by the question's serial
// number (which the question carries as its `tag` too).
type searches map[int64]*pendingSearch

// Search asks the station's search engine, archivist@anywhere (as
// dimchat's apps do), for the users whose name or ID contains every word
// of keywords; dimp.SearchOnlineUsers ("users") asks for the users online.
// The answer comes as a SearchEvent with the returned ID; the profiles it
// carries are learned, so a message to a user found needs no query.
func (c *Client) Search(ctx context.Context, keywords string) (MessageID, error) {
	keywords = strings.TrimSpace(keywords)
	if keywords == "" {
		return "", errors.New("search: no keywords")
	}
	var id MessageID
	var err error
	if derr := c.do(ctx, func(l *loop) { id, err = l.search(keywords) }); derr != nil {
		return "", derr
	}
	return id, err
}

func (l *loop) search(keywords string) (MessageID, error) {
	if l.station.IsZero() || l.state != Running {
		return "", ErrNotRunning
	}
	q := dimp.NewSearchCommand(keywords)
	q.Extra = dimp.Fields{}
	_ = q.Extra.Set("tag", q.SN) // dimchat's mobile app matches answers so; stations echo it
	id, err := l.send(dimp.Archivist, q, false)
	if err != nil {
		return "", err
	}
	if l.searches == nil {
		l.searches = searches{}
	}
	if len(l.searches) >= maxSearches {
		var oldest int64
		for sn, p := range l.searches {
			if oldest == 0 || p.at.Before(l.searches[oldest].at) {
				oldest = sn
			}
		}
		l.searchFailed(oldest, fmt.Errorf("%w: %d newer searches were asked", ErrSearchUnanswered, maxSearches))
	}
	l.searches[q.SN] = &pendingSearch{id: id, keywords: keywords, online: q.IsOnlineQuery(), at: time.Now()}
	return id, nil
}

// onSearch takes the answer to one of the client's searches: the question
// is found by the `tag` the answer echoes, else by its keywords. The
// profiles it carries are checked (the meta must make the ID, the visas
// must be signed by it) and learned; one that fails is left out and
// reported. An answer to no question of ours is ignored.
func (l *loop) onSearch(rm *dimp.ReliableMessage, a *dimp.SearchCommand) {
	if !a.IsAnswer() {
		return // someone asks us: we are no search engine
	}
	sn, p := l.searchFor(a)
	if p == nil {
		l.c.log.Debug("search answer to no question", "from", rm.Sender, "keywords", a.Query())
		return
	}
	delete(l.searches, sn)
	l.settleSearch(p, AtStation, "answered")
	ev := SearchEvent{Time: time.Now(), ID: p.id, Keywords: p.keywords, Online: p.online, Station: a.Station,
		Results: make([]SearchResult, 0, len(a.Users))}
	var bad []error
	for _, id := range a.Users {
		k := IDKey(id)
		r := SearchResult{ID: id.WithoutTerminal(), Profile: l.peers[k]}
		if meta := a.Metas[k]; meta != nil && k != IDKey(l.c.me.ID) {
			prof, err := dimp.NewProfile(r.ID, meta, a.Visas[k]...)
			if err != nil {
				bad = append(bad, fmt.Errorf("%s: %w", id, err))
			} else {
				l.learn(prof)
				r.Profile = l.peers[k]
			}
		}
		ev.Results = append(ev.Results, r)
	}
	if len(bad) > 0 {
		l.c.emit(l.ctx, errorf("search answer from %s: %d profile(s) left out: %w", rm.Sender, len(bad), errors.Join(bad...)))
	}
	l.c.emit(l.ctx, ev)
}

// searchFor finds the question an answer is for.
func (l *loop) searchFor(a *dimp.SearchCommand) (int64, *pendingSearch) {
	if raw := a.Extra["tag"]; raw != nil {
		var tag int64
		if err := json.Unmarshal(raw, &tag); err == nil {
			return tag, l.searches[tag]
		}
	}
	var sn int64
	var found *pendingSearch
	for s, p := range l.searches {
		if strings.EqualFold(p.keywords, a.Query()) && (found == nil || p.at.After(found.at)) {
			sn, found = s, p
		}
	}
	return sn, found
}

// searchRefused fails a search the station refused with a receipt.
func (l *loop) searchRefused(q *dimp.SearchCommand, text string) {
	if _, waiting := l.searches[q.SN]; waiting {
		l.searchFailed(q.SN, fmt.Errorf("%w: %s", ErrSearchRefused, text))
	}
}

// expireSearches fails the searches no answer came for.
func (l *loop) expireSearches(now time.Time) {
	for sn, p := range l.searches {
		if now.Sub(p.at) > l.c.cfg.QueryTimeout {
			l.searchFailed(sn, fmt.Errorf("%w in %s", ErrSearchUnanswered, l.c.cfg.QueryTimeout))
		}
	}
}

func (l *loop) searchFailed(sn int64, err error) {
	p := l.searches[sn]
	if p == nil {
		return
	}
	delete(l.searches, sn)
	l.settleSearch(p, Failed, err.Error())
	l.c.emit(l.ctx, SearchEvent{Time: time.Now(), ID: p.id, Keywords: p.keywords, Online: p.online, Err: err})
}

// settleSearch ends the question's outgoing message: an answered search is
// not sent again after a reconnect, nor one given up.
func (l *loop) settleSearch(p *pendingSearch, d Delivery, detail string) {
	if o := l.outbox[p.id]; o != nil {
		l.setDelivery(o, d, detail)
	}
}
