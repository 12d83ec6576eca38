package ui

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// contact is someone the contacts pane lists.
type contact struct {
	id      dimp.ID
	nick    string // the visa's name, when known
	online  bool
	bot     bool
	station bool
	members int // a group's members, when known
}

// label is how the contact is named on screen: a group by its
// bulletin's name when known (its ID's name is a random seed), a user by
// their visa's name when known, anyone else by the name in their ID.
func (c *contact) label() string {
	if c.id.SameAs(dimp.Everyone) {
		return "everyone"
	}
	if c.nick != "" && (c.id.IsGroup() || c.id.Type() == dimp.User) {
		return display.Sanitize(c.nick, false)
	}
	return display.Name(c.id)
}

// contactList is everyone the pane knows: bots first, then everyone else
// by name; the station only when it has talked to us. The contacts column
// (contactsView) draws it.
type contactList struct {
	byKey map[string]*contact
	rows  []*contact // sorted, rebuilt on change
	// unlisted: the station does not say who is online (dimchat's dimples
	// station refuses "active users").
	unlisted bool
}

func newContactList() contactList { return contactList{byKey: map[string]*contact{}} }

// ensure returns the contact for id, adding it when new.
func (l *contactList) ensure(id dimp.ID) *contact {
	k := client.IDKey(id)
	c := l.byKey[k]
	if c == nil {
		c = &contact{id: id.WithoutTerminal()}
		l.byKey[k] = c
		l.sort()
	}
	return c
}

// setOnline marks exactly the given users online.
func (l *contactList) setOnline(me dimp.ID, users []dimp.ID) {
	for _, c := range l.byKey {
		c.online = false
	}
	for _, u := range users {
		if u.SameAs(me) {
			continue
		}
		l.ensure(u).online = true
	}
	l.sort()
}

func (l *contactList) sort() {
	l.rows = l.rows[:0]
	for _, c := range l.byKey {
		l.rows = append(l.rows, c)
	}
	rank := func(c *contact) int {
		switch {
		case c.bot:
			return 0
		case c.station:
			return 2
		}
		return 1
	}
	sort.Slice(l.rows, func(i, j int) bool {
		a, b := l.rows[i], l.rows[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if na, nb := strings.ToLower(display.Name(a.id)), strings.ToLower(display.Name(b.id)); na != nb {
			return na < nb
		}
		return a.id.String() < b.id.String()
	})
}

// addBot marks id a bot (the echo bot), listed first once sorted.
func (l *contactList) addBot(id dimp.ID) { l.ensure(id).bot = true }

// learnName keeps the name id's visa gives, once it is a contact.
func (l *contactList) learnName(id dimp.ID, nick string) (changed bool) {
	if c := l.byKey[client.IDKey(id)]; c != nil && c.nick != nick {
		c.nick = nick
		return true
	}
	return false
}

// addFound adds a user a search found, with the visa name it gave and
// whether it is online.
func (l *contactList) addFound(id dimp.ID, nick string, online bool) {
	c := l.ensure(id)
	if nick != "" {
		c.nick = nick
	}
	c.online = c.online || online
	l.sort()
}

// index returns the row of id, -1 when absent.
func (l *contactList) index(id dimp.ID) int {
	for i, c := range l.rows {
		if c.id.SameAs(id) {
			return i
		}
	}
	return -1
}

// completions returns what /to can complete to: each contact's name when
// no other contact has it, else its full ID; and every full ID.
func (l *contactList) completions() []string {
	count := map[string]int{}
	for _, c := range l.rows {
		count[c.label()]++
	}
	var out []string
	for _, c := range l.rows {
		if n := c.label(); count[n] == 1 && !strings.ContainsAny(n, " \t") {
			out = append(out, n)
		}
		out = append(out, c.id.String())
	}
	return out
}

// errNobody: no contact has the name (the station's name service may).
var errNobody = errors.New("nobody called")

// resolve finds a contact by name, or parses a full ID.
func (l *contactList) resolve(s string) (dimp.ID, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "@") || len(s) > 30 {
		id, err := dimp.ParseID(s)
		if err != nil {
			return dimp.ID{}, fmt.Errorf("not an ID: %w", err)
		}
		return id, nil
	}
	var found []*contact
	for _, c := range l.rows {
		if strings.EqualFold(display.Name(c.id), s) || (c.id.IsGroup() && c.nick != "" && strings.EqualFold(c.label(), s)) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 1:
		return found[0].id, nil
	case 0:
		if id, err := dimp.ParseID(s); err == nil && !id.Address().IsZero() {
			return id, nil
		}
		return dimp.ID{}, fmt.Errorf("%w %q here: give the full ID (name@address)", errNobody, s)
	}
	return dimp.ID{}, fmt.Errorf("%d users are called %q: give the full ID", len(found), s)
}
