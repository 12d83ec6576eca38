package mockstation

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The network of stations. A station links to neighbour stations
// (Config.Neighbors, and whoever dials it as a station); each user's newest
// login says which station the user is at; a message for a user at another
// station is stored here and passed, over the link toward that station,
// to the next station, which stores it before it acknowledges it. Routes
// to stations that are not neighbours are learnt from the broadcasts that
// come over the links: a broadcast that started at station S and came from
// neighbour N through h stations says S is h hops away through N.

// errPartitioned: the station's links are cut on purpose (Server.Partition).
var errPartitioned = errors.New("links to other stations are cut (partition)")

// network is the station's view of the other stations.
type network struct {
	me string // this station's ID

	mu          sync.Mutex
	links       map[string][]*conn        // neighbour → its link sessions, oldest first
	where       map[string]location       // user → the station of the user's newest login
	routes      map[string]map[string]int // station → neighbour it is reached through → hops
	partitioned bool
	healed      chan struct{} // closed when a partition ends

	seen seenPool // broadcasts handled already

	// introduced are the users this station sent its own messages to
	// with its meta and visa attached (sendOwn), since it started.
	introducedMu sync.Mutex
	introduced   map[string]bool
}

// maxIntroduced bounds network.introduced; past it, the set starts again
// (a user is then sent the station's meta and visa once more).
const maxIntroduced = 100_000

// introduceTo reports whether the station's meta and visa should go with
// its own message to user: the first time only.
func (n *network) introduceTo(user string) bool {
	n.introducedMu.Lock()
	defer n.introducedMu.Unlock()
	if n.introduced[user] {
		return false
	}
	if n.introduced == nil || len(n.introduced) >= maxIntroduced {
		n.introduced = make(map[string]bool)
	}
	n.introduced[user] = true
	return true
}

// location is where a user last logged in.
type location struct {
	station string
	time    float64
}

func newNetwork(me string) *network {
	return &network{me: me, links: make(map[string][]*conn), where: make(map[string]location),
		routes: make(map[string]map[string]int), healed: make(chan struct{})}
}

// up registers a link session to neighbour peer.
func (n *network) up(c *conn, peer string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.partitioned {
		return errPartitioned
	}
	n.links[peer] = append(n.links[peer], c)
	n.learnLocked(peer, peer, 1)
	return nil
}

// down unregisters a link session; it reports whether it was one.
func (n *network) down(c *conn, peer string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	ls := n.links[peer]
	i := slices.Index(ls, c)
	if i < 0 {
		return false
	}
	ls = slices.Delete(ls, i, i+1)
	if len(ls) == 0 {
		delete(n.links, peer)
	} else {
		n.links[peer] = ls
	}
	return true
}

// learnRoute records that station is hops away through neighbour via.
func (n *network) learnRoute(station, via string, hops int) {
	if station == n.me || station == "" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.learnLocked(station, via, hops)
}

func (n *network) learnLocked(station, via string, hops int) {
	r := n.routes[station]
	if r == nil {
		r = make(map[string]int)
		n.routes[station] = r
	}
	if old, ok := r[via]; !ok || hops < old {
		r[via] = hops
	}
}

// locate records where user last logged in, if t is newer than what is
// known; it reports whether it was.
func (n *network) locate(user, station string, t float64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if old, ok := n.where[user]; ok && old.time >= t {
		return false
	}
	n.where[user] = location{station: station, time: t}
	return true
}

// located returns where user last logged in, and whether that is known.
func (n *network) located(user string) (location, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l, ok := n.where[user]
	return l, ok
}

// carrierLocked is the link session that carries traffic to station: the
// oldest link to it, or else the oldest link to the neighbour it is the
// fewest hops away through; nil when no link leads there.
func (n *network) carrierLocked(station string) *conn {
	if ls := n.links[station]; len(ls) > 0 {
		return ls[0]
	}
	best, hops := "", 0
	for via, h := range n.routes[station] {
		if len(n.links[via]) == 0 {
			continue
		}
		if best == "" || h < hops || (h == hops && via < best) {
			best, hops = via, h
		}
	}
	if best == "" {
		return nil
	}
	return n.links[best][0]
}

// next is the link session a message for user goes out on, and the
// station the user is at; nil when the user is here, unknown, or at a
// station no link leads to (the message then waits).
func (n *network) next(user string) (*conn, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	loc, ok := n.where[user]
	if !ok || loc.station == n.me || loc.station == "" {
		return nil, loc.station
	}
	return n.carrierLocked(loc.station), loc.station
}

// usersVia lists the users whose messages go out on link session c.
func (n *network) usersVia(c *conn) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var users []string
	for u, loc := range n.where {
		if loc.station != n.me && loc.station != "" && n.carrierLocked(loc.station) == c {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	return users
}

// carriers returns one link session per neighbour (the oldest), the
// neighbours in skip left out.
func (n *network) carriers(skip map[string]bool) []*conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*conn
	for peer, ls := range n.links {
		if len(ls) > 0 && !skip[peer] {
			out = append(out, ls[0])
		}
	}
	return out
}

// all returns every link session.
func (n *network) all() []*conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*conn
	for _, ls := range n.links {
		out = append(out, ls...)
	}
	return out
}

// partition cuts (on) or heals the station's links: while cut, no link is
// made or taken; it returns the sessions to close.
func (n *network) partition(on bool) []*conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	if on == n.partitioned {
		return nil
	}
	n.partitioned = on
	if !on {
		close(n.healed)
		return nil
	}
	n.healed = make(chan struct{})
	var out []*conn
	for _, ls := range n.links {
		out = append(out, ls...)
	}
	return out
}

// cut reports whether the links are cut, and a channel closed when they
// are healed.
func (n *network) cut() (bool, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.partitioned, n.healed
}

// kickAll tells every link session to look for what it should carry:
// routes changed.
func (n *network) kickAll() {
	for _, c := range n.all() {
		c.link.Load().markAll()
		c.kick()
	}
}

// kickFor tells the link session that carries user's messages to look for
// them.
func (n *network) kickFor(user string) {
	if c, _ := n.next(user); c != nil {
		c.link.Load().markDirty(user)
		c.kick()
	}
}

// seenWindow is how long a broadcast's signature is remembered, as the
// reference's trace pool does (five hours).
const seenWindow = 5 * time.Hour

// seenPool remembers the broadcasts a station handled, so that one coming
// back around a ring of stations, or twice from two neighbours, is dropped.
// Two generations of a map are kept, each at most seenWindow old.
type seenPool struct {
	mu        sync.Mutex
	cur, prev map[string]struct{}
	rotated   time.Time
}

// first records key and reports whether it is new.
func (p *seenPool) first(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.cur == nil || now.Sub(p.rotated) > seenWindow {
		p.prev, p.cur, p.rotated = p.cur, make(map[string]struct{}), now
	}
	if _, ok := p.cur[key]; ok {
		return false
	}
	if _, ok := p.prev[key]; ok {
		return false
	}
	p.cur[key] = struct{}{}
	return true
}

// Partition cuts the station's links to other stations (cut true), as if
// the network between them failed, or heals them: while cut, no link is
// made or taken, and messages for users elsewhere wait in the store.
func (s *Server) Partition(cut bool) {
	for _, c := range s.net.partition(cut) {
		c.tr.close(websocket.StatusGoingAway, "partition")
	}
}

// LinkStatus describes one link to a neighbour station.
type LinkStatus struct {
	Station  string    `json:"station"`
	URL      string    `json:"url,omitempty"` // the neighbour's, when this station dialed it
	Dialed   bool      `json:"dialed"`
	Since    time.Time `json:"since"`
	Passed   int64     `json:"passed"`   // messages the neighbour stored and acknowledged
	Received int64     `json:"received"` // messages that came over the link
	Refused  int64     `json:"refused"`  // of those, refused
	InFlight int       `json:"in_flight"`
}

// UserLocation is a user known to be at another station.
type UserLocation struct {
	User    string `json:"user"`
	Station string `json:"station"`
	Route   string `json:"route,omitempty"` // the neighbour messages go through; "" when none is linked
}

// networkStatus lists the links and the users known elsewhere.
func (s *Server) networkStatus() (links []LinkStatus, elsewhere []UserLocation) {
	for _, c := range s.net.all() {
		l := c.link.Load()
		links = append(links, LinkStatus{Station: l.peer.String(), URL: l.url, Dialed: l.url != "", Since: l.since,
			Passed: l.passed.Load(), Received: l.taken.Load(), Refused: l.refusd.Load(), InFlight: l.inFlight()})
	}
	slices.SortFunc(links, func(a, b LinkStatus) int { return strings.Compare(a.Station, b.Station) })
	n := s.net
	n.mu.Lock()
	for u, loc := range n.where {
		if loc.station == n.me || loc.station == "" {
			continue
		}
		ul := UserLocation{User: u, Station: loc.station}
		if c := n.carrierLocked(loc.station); c != nil {
			ul.Route = c.link.Load().peer.String()
		}
		elsewhere = append(elsewhere, ul)
	}
	n.mu.Unlock()
	slices.SortFunc(elsewhere, func(a, b UserLocation) int { return strings.Compare(a.User, b.User) })
	return links, elsewhere
}
