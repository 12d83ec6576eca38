package mockstation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"dimtui/dimp"
	"dimtui/mockstation"
	"dimtui/mockstation/store"
)

// ask sends a search to to (archivist@anywhere as a broadcast, or the
// station encrypted) and returns the station's answer.
func (c *client) ask(to dimp.ID, q *dimp.SearchCommand) *dimp.SearchCommand {
	c.t.Helper()
	c.send(to, q)
	got := c.next()
	a, ok := got.im.Content.(*dimp.SearchCommand)
	if !ok {
		c.t.Fatalf("search %q answered with %s", q.Query(), dimp.MarshalContent(got.im.Content))
	}
	if !got.rm.Sender.Equal(c.station.ID) || !a.IsAnswer() || a.CommandName() != dimp.CmdSearch {
		c.t.Fatalf("answer from %s: %s", got.rm.Sender, dimp.MarshalContent(a))
	}
	return a
}

func names(ids []dimp.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func TestSearchByNameAndID(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	carol := nicknamed(t, "carol", "Caroline Lark")
	alice := user(t, "alice")
	// carol registers (her handshake carries her meta and visa) and leaves:
	// a search finds offline users too.
	st.disconnect(t, connect(t, st.url, carol))
	a := connect(t, st.url, alice)

	addr := carol.ID.Address().String()
	for _, c := range []struct {
		name, keywords string
		want           []string
	}{
		{"part of the visa name, other case", "LARK", []string{carol.ID.String()}},
		{"words of name and ID", "caroline " + strings.ToUpper(addr[4:12]), []string{carol.ID.String()}},
		{"part of the ID's name", "caro", []string{carol.ID.String()}},
		{"not every word matches", "lark nobody", nil},
		{"the station is not a user", st.srv.ID().Name(), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := dimp.NewSearchCommand(c.keywords)
			q.Extra = dimp.Fields{}
			q.Extra.Set("tag", q.SN)
			ans := a.ask(dimp.Archivist, q)
			if got := names(ans.Users); !slices.Equal(got, c.want) {
				t.Fatalf("found %v, want %v", got, c.want)
			}
			if ans.Query() != c.keywords || !ans.Station.Equal(st.srv.ID()) || string(ans.Extra["tag"]) != string(q.Extra["tag"]) {
				t.Errorf("answer %s: want the keywords, the station and the tag back", dimp.MarshalContent(ans))
			}
			if c.want == nil {
				return
			}
			// The answer carries carol's profile: a client can write to her.
			p, err := dimp.NewProfile(carol.ID, ans.Metas[carol.ID.String()], ans.Visas[carol.ID.String()]...)
			if err != nil {
				t.Fatalf("profile in the answer: %v", err)
			}
			if v := p.Visa(); v == nil || v.Name() != "Caroline Lark" {
				t.Errorf("visa in the answer: %v", v)
			}
			if _, err := p.EncryptKeys(); err != nil {
				t.Error(err)
			}
		})
	}

	// Sent to the station itself (encrypted), a search is answered the same.
	ans := a.ask(st.srv.ID(), dimp.NewSearchCommand("lark"))
	if got := names(ans.Users); !slices.Equal(got, []string{carol.ID.String()}) {
		t.Errorf("search sent to the station found %v", got)
	}
	// A user who arrives after the first search is found by the next.
	dave := nicknamed(t, "dave", "David Lark")
	connect(t, st.url, dave)
	ans = a.ask(dimp.Archivist, dimp.NewSearchCommand("lark"))
	want := []string{carol.ID.String(), dave.ID.String()}
	slices.Sort(want)
	if got := names(ans.Users); !slices.Equal(got, want) {
		t.Errorf("after dave came: found %v, want %v", got, want)
	}
}

func TestSearchPaging(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	var want []string
	for _, n := range []string{"pa", "pb", "pc"} {
		u := nicknamed(t, n, "pager "+n)
		st.disconnect(t, connect(t, st.url, u))
		want = append(want, u.ID.String())
	}
	slices.Sort(want) // the registry is walked in ID order
	a := connect(t, st.url, user(t, "alice"))
	var got []string
	for start := int64(0); start < 4; start += 2 {
		q := dimp.NewSearchCommand("pager")
		q.Start, q.Limit = start, 2
		ans := a.ask(dimp.Archivist, q)
		if ans.Start != start || ans.Limit != 2 {
			t.Errorf("paging not echoed: %s", dimp.MarshalContent(ans))
		}
		got = append(got, names(ans.Users)...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages %v, want %v", got, want)
	}
}

func TestSearchOnlineUsers(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	alice, bob, carol := user(t, "alice"), user(t, "bob"), user(t, "carol")
	st.disconnect(t, connect(t, st.url, carol))
	a := connect(t, st.url, alice)
	connect(t, st.url, bob)
	want := []string{alice.ID.String(), bob.ID.String()}
	slices.Sort(want)
	// dimchat's mobile app asks with the "users" command, its browser
	// client with the keywords "users".
	for _, raw := range []string{`{"type":136,"sn":41,"cmd":"users","tag":41}`,
		`{"type":136,"sn":42,"command":"search","keywords":"users"}`} {
		c, err := dimp.ParseContent([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		ans := a.ask(dimp.Archivist, c.(*dimp.SearchCommand))
		if got := names(ans.Users); !slices.Equal(got, want) {
			t.Errorf("%s: online %v, want %v (carol left)", raw, got, want)
		}
		if ans.Query() != dimp.SearchOnlineUsers || ans.Metas[bob.ID.String()] == nil {
			t.Errorf("%s: answer %s", raw, dimp.MarshalContent(ans))
		}
	}
}

func TestSearchRefusals(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	a := connect(t, st.url, user(t, "alice"))
	searchError := func(q *dimp.SearchCommand, detail string) {
		t.Helper()
		a.send(dimp.Archivist, q)
		r := a.receipt("Search command error.")
		var got string
		json.Unmarshal(r.Extra["error"], &got)
		if !strings.Contains(got, detail) || r.Origin == nil || r.Origin.SN != q.SN {
			t.Errorf("refusal %s: want error %q about sn %d", dimp.MarshalContent(r), detail, q.SN)
		}
	}
	searchError(dimp.NewSearchCommand("   "), "no keywords")
	searchError(dimp.NewSearchCommand(strings.Repeat("x", 257)), "at most 256")
	searchError(dimp.NewSearchCommand("a b c d e f g h i"), "at most 8")
	neg := dimp.NewSearchCommand("alice")
	neg.Start = -1
	searchError(neg, "negative")

	// Members of the wrong type: the content decrypted but is not valid,
	// and the receipt says which member.
	bad := dimp.NewSearchCommand("alice")
	bad.Extra = dimp.Fields{"limit": json.RawMessage(`"many"`)}
	a.send(dimp.Archivist, bad)
	if r := a.receipt("Content not valid."); !strings.Contains(string(r.Extra["error"]), "limit") {
		t.Errorf("the refusal does not name the member: %s", r.Extra["error"])
	}
	// The search engine answers searches only.
	a.send(dimp.Archivist, dimp.NewText("hello archivist"))
	a.receipt("Content not support.")
	// A huge limit is cut to the maximum, a huge start finds nothing: both
	// are answered.
	big := dimp.NewSearchCommand("alice")
	big.Start, big.Limit = 1<<40, 1<<40
	if ans := a.ask(dimp.Archivist, big); len(ans.Users) != 0 {
		t.Errorf("start 2^40 found %v", ans.Users)
	}
	// Other broadcast users are still not served.
	a.send(dimp.MustParseID("monitor@anywhere"), dimp.NewSearchCommand("alice"))
	a.receipt("Receiver not supported.")
}

// BenchmarkSearch measures a search through a registry of 20,000 users
// that finds nothing (every entry is compared), through a real connection.
func BenchmarkSearch(b *testing.B) {
	const users = 20000
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "station.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	// One real visa stands for everyone's: the search reads names, the
	// signatures were checked when the visas were stored.
	proto := nicknamed(b, "bench", "Bench User")
	visa, _ := proto.Visa.MarshalJSON()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < users; i += 8 {
				id := dimp.NewID(fmt.Sprint("user", i), dimp.BTCAddress([]byte(fmt.Sprint("bench", i)), byte(dimp.User)), "")
				if _, err := db.SaveDocument(context.Background(), store.Document{ID: id.String(), Type: dimp.DocVisa,
					Time: 1, Data: visa}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := startStation(b, mockstation.Config{Store: db, RateLimit: -1})
	a := connect(b, st.url, user(b, "alice"))
	a.ask(dimp.Archivist, dimp.NewSearchCommand("warm")) // the first search reads the registry
	for b.Loop() {
		if ans := a.ask(dimp.Archivist, dimp.NewSearchCommand("nobody-has-this-name")); len(ans.Users) != 0 {
			b.Fatalf("found %v", ans.Users)
		}
	}
}
