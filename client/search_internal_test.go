package client

import (
	"errors"
	"testing"
	"time"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// searchEvents returns the SearchEvents among evs.
func searchEvents(evs []Event) []SearchEvent {
	var out []SearchEvent
	for _, ev := range evs {
		if s, ok := ev.(SearchEvent); ok {
			out = append(out, s)
		}
	}
	return out
}

// A station that never answers (dimchat's, without a search bot) ends the
// search after the query timeout, and the question is not sent again.
func TestSearchUnanswered(t *testing.T) {
	station := newTestID(t, dimp.Station, "s1")
	l, _ := newTestLoop(t, station, 1<<10)
	id, err := l.search("bob")
	if err != nil {
		t.Fatal(err)
	}
	l.expireSearches(time.Now())
	if got := searchEvents(drainEvents(l)); len(got) != 0 {
		t.Fatalf("ended before its time: %+v", got)
	}
	l.expireSearches(time.Now().Add(l.c.cfg.QueryTimeout + time.Second))
	got := searchEvents(drainEvents(l))
	if len(got) != 1 || got[0].ID != id || !errors.Is(got[0].Err, ErrSearchUnanswered) || got[0].Keywords != "bob" {
		t.Fatalf("events %+v, want the search unanswered", got)
	}
	if l.outbox[id] != nil || len(l.searches) != 0 {
		t.Error("the unanswered search is still waited for")
	}
	// Searches waiting are bounded: the oldest gives way.
	for range maxSearches + 3 {
		if _, err := l.search("x"); err != nil {
			t.Fatal(err)
		}
	}
	if len(l.searches) != maxSearches || len(searchEvents(drainEvents(l))) != 3 {
		t.Errorf("%d searches waiting, want %d", len(l.searches), maxSearches)
	}
}

// An answer is matched by its tag, else by its keywords; a profile in it
// that does not verify is left out and reported; an answer to nothing is
// ignored.
func TestSearchAnswers(t *testing.T) {
	station := newTestID(t, dimp.Station, "s1")
	l, me := newTestLoop(t, station, 1<<10)
	sign, _ := crypto.GenerateECC()
	visa, _ := crypto.GenerateRSA(1024)
	bob, err := dimp.NewIdentity(dimp.User, dimp.MetaMKM, "bob", "Bob", sign, visa)
	if err != nil {
		t.Fatal(err)
	}
	mallory := newTestID(t, dimp.User, "mallory")
	from := &dimp.ReliableMessage{SecureMessage: dimp.SecureMessage{Envelope: dimp.Envelope{Sender: station, Receiver: me.ID}}}

	id, _ := l.search("b")
	var q *dimp.SearchCommand
	for sn := range l.searches {
		q = &dimp.SearchCommand{CommandHead: dimp.CommandHead{Head: dimp.Head{SN: sn}}, Keywords: "b"}
	}
	// No tag (an older station): matched by the keywords. Mallory's entry
	// carries bob's meta, which does not make her ID.
	a := dimp.NewSearchAnswer(q, station, []dimp.ID{bob.ID, mallory})
	a.Metas = map[string]*dimp.Meta{bob.ID.String(): bob.Meta, mallory.String(): bob.Meta}
	a.Visas = map[string][]*dimp.Document{bob.ID.String(): {bob.Visa}}
	l.dispatch(from, dimp.NewInstantMessage(station, me.ID, a), nil)
	evs := drainEvents(l)
	got := searchEvents(evs)
	if len(got) != 1 || got[0].ID != id || got[0].Err != nil || len(got[0].Results) != 2 {
		t.Fatalf("events %+v", got)
	}
	if p := got[0].Results[0].Profile; p == nil || l.peers[IDKey(bob.ID)] != p {
		t.Errorf("bob's profile not learned: %+v", got[0].Results[0])
	}
	if p := got[0].Results[1].Profile; p != nil || l.peers[IDKey(mallory)] != nil {
		t.Errorf("mallory's bad profile kept: %+v", p)
	}
	var reported, learned bool
	for _, ev := range evs {
		switch ev := ev.(type) {
		case ErrorEvent:
			reported = errors.Is(ev.Err, dimp.ErrMetaMismatch)
		case PeerEvent:
			learned = learned || ev.Profile.ID.Equal(bob.ID)
		}
	}
	if !reported || !learned {
		t.Errorf("bad profile reported %v, bob learned %v", reported, learned)
	}
	// The same answer again answers nothing now: ignored.
	l.dispatch(from, dimp.NewInstantMessage(station, me.ID, a), nil)
	if got := searchEvents(drainEvents(l)); len(got) != 0 {
		t.Errorf("an answer to no question: %+v", got)
	}
	// A question from someone (no users): not for us.
	l.dispatch(from, dimp.NewInstantMessage(station, me.ID, dimp.NewSearchCommand("b")), nil)
	for _, ev := range drainEvents(l) {
		t.Errorf("a search question made %T", ev)
	}
}
