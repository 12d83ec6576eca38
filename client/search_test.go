package client_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
)

// searchAnswer returns the SearchEvent for id among evs.
func searchAnswer(evs []client.Event, id client.MessageID) *client.SearchEvent {
	for _, ev := range evs {
		if s, ok := ev.(client.SearchEvent); ok && s.ID == id {
			return &s
		}
	}
	return nil
}

// search asks and waits for the answer.
func (p *peer) search(keywords string) client.SearchEvent {
	p.t.Helper()
	id, err := p.c.Search(context.Background(), keywords)
	if err != nil {
		p.t.Fatal(err)
	}
	var got *client.SearchEvent
	p.waitFor("the answer to "+keywords, 10*time.Second, func(evs []client.Event) bool {
		got = searchAnswer(evs, id)
		return got != nil
	})
	return *got
}

func TestSearchLearnsProfiles(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	carolID := newUser(t, "carol")
	carol := connect(t, st.url, carolID)
	carol.waitRunning() // carol's meta and visa are now at the station
	carol.stop()
	alice := connect(t, st.url, newUser(t, "alice"))
	alice.waitRunning()

	ans := alice.search("CARO")
	if ans.Err != nil || ans.Online || !ans.Station.SameAs(st.srv.ID()) || len(ans.Results) != 1 {
		t.Fatalf("answer %+v", ans)
	}
	r := ans.Results[0]
	if !r.ID.SameAs(carolID.ID) || r.Profile == nil || r.Profile.Visa() == nil || r.Profile.Visa().Name() != "Carol" {
		t.Fatalf("result %+v: want carol with her profile", r)
	}
	// The profile was learned: a message to carol goes without a query for
	// her visa.
	id, err := alice.c.SendText(context.Background(), carolID.ID, "found you")
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the station to cache it", 10*time.Second, func(evs []client.Event) bool {
		d, _ := delivery(evs, id)
		return d == client.AtStation
	})
	alice.mu.Lock()
	for _, ev := range alice.events {
		f, ok := ev.(client.FrameEvent)
		if !ok || f.Dir != client.Out || f.Layers == nil || f.Layers.Instant == nil {
			continue
		}
		if q, ok := f.Layers.Instant.Content.(*dimp.DocumentCommand); ok && q.IsQuery() && q.ID.SameAs(carolID.ID) {
			t.Errorf("asked the station for carol's documents after the search")
		}
	}
	alice.mu.Unlock()

	// The users online: alice herself.
	online := alice.search(dimp.SearchOnlineUsers)
	if online.Err != nil || !online.Online || len(online.Results) != 1 || !online.Results[0].ID.SameAs(alice.c.Me()) {
		t.Errorf("online %+v", online)
	}
	// Nothing found is an answer.
	if none := alice.search("nobody here"); none.Err != nil || len(none.Results) != 0 {
		t.Errorf("search for nobody: %+v", none)
	}
	// A search the station refuses ends with its words.
	refused := alice.search(strings.Repeat("x", 300))
	if !errors.Is(refused.Err, client.ErrSearchRefused) || !strings.Contains(refused.Err.Error(), "Search command error.") {
		t.Errorf("refused search: %v", refused.Err)
	}
	// Answered searches are settled: none is sent again after a reconnect.
	alice.mu.Lock()
	n := len(alice.events)
	alice.mu.Unlock()
	if err := alice.c.Reconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	alice.waitRunning()
	time.Sleep(300 * time.Millisecond)
	alice.mu.Lock()
	defer alice.mu.Unlock()
	for _, ev := range alice.events[n:] {
		if f, ok := ev.(client.FrameEvent); ok && f.Dir == client.Out && f.Layers != nil && f.Layers.Instant != nil {
			if _, ok := f.Layers.Instant.Content.(*dimp.SearchCommand); ok {
				t.Errorf("a search was sent again after the reconnect: %s", f.Raw)
			}
		}
	}
	var searches []client.MessageID
	for _, ev := range alice.events {
		if s, ok := ev.(client.SearchEvent); ok {
			searches = append(searches, s.ID)
		}
	}
	if len(searches) != 4 || len(slices.Compact(slices.Clone(searches))) != 4 {
		t.Errorf("search events %v, want one per search", searches)
	}
}

func TestSearchNotRunning(t *testing.T) {
	st := startStation(t, t.TempDir(), "")
	alice := connect(t, st.url, newUser(t, "alice"))
	alice.waitRunning()
	if _, err := alice.c.Search(context.Background(), "  "); err == nil {
		t.Error("a search without keywords was sent")
	}
	st.stop()
	alice.waitFor("the connection to drop", 10*time.Second, func([]client.Event) bool {
		return alice.c.Status().State != client.Running
	})
	if _, err := alice.c.Search(context.Background(), "bob"); !errors.Is(err, client.ErrNotRunning) {
		t.Errorf("search while disconnected: %v", err)
	}
}
