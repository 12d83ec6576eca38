package mockstation

import (
	"sort"
	"sync"

	"dimtui/mockstation/store"
)

// hub knows the handshaken sessions of every user. A user may be online on
// several connections at once; a message for the user goes to each active
// one.
//
// Delivery order and the store. Every message for a user is saved before it
// is pushed, and the store numbers messages in the order it saved them. Each
// session keeps a cursor: the highest number it has queued or written. A
// session that starts (or falls behind) reads the store after its cursor
// until nothing is left, and only then takes live pushes, of numbers above
// its cursor. The last "nothing left" read and the switch to live pushes
// happen under the user's lock, which a push also takes after its save has
// committed: a message is therefore either seen by that read or pushed
// live, never lost between them and never sent twice on one session.
type hub struct {
	mu    sync.RWMutex // guards users
	users map[string]*userSessions
}

// userSessions are the sessions of one user, with the lock that orders
// pushes against catching up (see hub).
type userSessions struct {
	// mu is the user's lock: it guards sessions and gone, and the active,
	// behind and cursor fields of each session.
	mu       sync.Mutex
	id       string
	sessions []*conn
	gone     bool // removed from the hub: look the user up again
}

func newHub() *hub { return &hub{users: make(map[string]*userSessions)} }

// add registers c as a session of user: active, and behind (it will first
// read whatever waits in the store, once kicked).
func (h *hub) add(user string, c *conn) {
	for {
		h.mu.Lock()
		e := h.users[user]
		if e == nil {
			e = &userSessions{id: user}
			h.users[user] = e
		}
		h.mu.Unlock()

		e.mu.Lock()
		if e.gone {
			e.mu.Unlock()
			continue
		}
		e.sessions = append(e.sessions, c)
		c.entry = e
		c.active, c.behind, c.cursor = true, true, 0
		e.mu.Unlock()
		return
	}
}

// remove unregisters c; the user goes when its last session does.
func (h *hub) remove(c *conn) {
	e := c.entry
	if e == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, s := range e.sessions {
		if s == c {
			e.sessions = append(e.sessions[:i], e.sessions[i+1:]...)
			break
		}
	}
	c.active = false
	if len(e.sessions) == 0 {
		e.gone = true
		delete(h.users, e.id)
	}
}

// get returns the sessions of user, nil when it has none.
func (h *hub) get(user string) *userSessions {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.users[user]
}

// push offers a stored message to every active session of its receiver and
// returns how many active sessions the receiver has. A session that is
// behind, or that has queued this message already, gets it from the store;
// one whose queue is full falls behind.
func (h *hub) push(m store.Message) (online int) {
	for {
		e := h.get(m.Receiver)
		if e == nil {
			return 0
		}
		e.mu.Lock()
		if e.gone {
			e.mu.Unlock()
			continue
		}
		for _, c := range e.sessions {
			if !c.active {
				continue
			}
			online++
			if c.behind || m.ID <= c.cursor {
				continue
			}
			if c.offer(frame{data: m.Data, sig: m.Signature, id: m.ID}) {
				c.cursor = m.ID
			} else {
				c.behind = true
				c.kick()
			}
		}
		e.mu.Unlock()
		return online
	}
}

// broadcast offers data (a message that is not stored) to every active
// session of every user but skip, and returns the users it reached. A
// session whose queue is full misses it.
func (h *hub) broadcast(data []byte, skip string) []string {
	h.mu.RLock()
	entries := make([]*userSessions, 0, len(h.users))
	for _, e := range h.users {
		if e.id != skip {
			entries = append(entries, e)
		}
	}
	h.mu.RUnlock()
	var reached []string
	for _, e := range entries {
		e.mu.Lock()
		ok := false
		for _, c := range e.sessions {
			if c.active && c.offer(frame{data: data}) {
				ok = true
			}
		}
		e.mu.Unlock()
		if ok {
			reached = append(reached, e.id)
		}
	}
	sort.Strings(reached)
	return reached
}

// setActive switches a session on or off (report online/offline). A
// session switched on catches up from its cursor.
func (h *hub) setActive(c *conn, active bool) {
	e := c.entry
	if e == nil {
		return
	}
	e.mu.Lock()
	was := c.active
	c.active = active
	if active && !was {
		c.behind = true
	}
	e.mu.Unlock()
	if active && !was {
		c.kick()
	}
}

// forget removes signature from the unacknowledged sets of user's
// sessions other than by, which the user acknowledged it on.
func (h *hub) forget(user, signature string, by *conn) {
	e := h.get(user)
	if e == nil {
		return
	}
	e.mu.Lock()
	var others []*conn
	for _, c := range e.sessions {
		if c != by {
			others = append(others, c)
		}
	}
	e.mu.Unlock()
	for _, c := range others {
		c.forgetUnacked(signature)
	}
}

// online lists the users with at least one active session, sorted, and
// counts those sessions.
func (h *hub) online() (users []string, sessions int) {
	h.mu.RLock()
	entries := make([]*userSessions, 0, len(h.users))
	for _, e := range h.users {
		entries = append(entries, e)
	}
	h.mu.RUnlock()
	for _, e := range entries {
		e.mu.Lock()
		n := 0
		for _, c := range e.sessions {
			if c.active {
				n++
			}
		}
		e.mu.Unlock()
		if n > 0 {
			users = append(users, e.id)
			sessions += n
		}
	}
	sort.Strings(users)
	return users, sessions
}
