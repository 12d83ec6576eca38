package dimp

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// searchContent parses a content that must be a search command.
func searchContent(t *testing.T, raw string) *SearchCommand {
	t.Helper()
	c, err := ParseContent([]byte(raw))
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	sc, ok := c.(*SearchCommand)
	if !ok {
		t.Fatalf("parse %s: got %T, want *SearchCommand", raw, c)
	}
	return sc
}

func TestSearchQuestionForms(t *testing.T) {
	cases := []struct {
		name, raw    string
		query        string
		online       bool
		start, limit int64
		extra        string // a member kept in Extra
	}{
		// dimchat's browser client: "search" with the words as typed.
		{"browser", `{"type":136,"sn":7,"time":1700000000.5,"command":"search","keywords":"  alice  bob "}`,
			"alice  bob", false, 0, 0, ""},
		// dimchat's mobile app: "users" without keywords, a tag to match the answer.
		{"mobile users", `{"type":136,"sn":8,"cmd":"users","tag":8}`, SearchOnlineUsers, true, 0, 0, "tag"},
		// station-py's own form of the same question.
		{"keywords users", `{"type":"136","sn":9,"command":"search","keywords":"users"}`, SearchOnlineUsers, true, 0, 0, ""},
		// Words as an array (the SDKs' setter joins them), paging as numeric strings.
		{"array", `{"type":136,"sn":10,"command":"search","keywords":["al","ice"],"start":"5","limit":20.0}`,
			"al ice", false, 5, 20, ""},
		{"short names", `{"T":136,"N":11,"C":"search","keywords":"moky","color":"red"}`, "moky", false, 0, 0, "color"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := searchContent(t, c.raw)
			if got := sc.Query(); got != c.query {
				t.Errorf("query %q, want %q", got, c.query)
			}
			if sc.IsOnlineQuery() != c.online || sc.IsAnswer() {
				t.Errorf("online %v answer %v, want online %v, a question", sc.IsOnlineQuery(), sc.IsAnswer(), c.online)
			}
			if sc.Start != c.start || sc.Limit != c.limit {
				t.Errorf("start %d limit %d, want %d %d", sc.Start, sc.Limit, c.start, c.limit)
			}
			if c.extra != "" && sc.Extra[c.extra] == nil {
				t.Errorf("%s not kept: %v", c.extra, sc.Extra)
			}
			// Written back, it reads the same and keeps the unknown member.
			back := searchContent(t, string(MarshalContent(sc)))
			if back.Query() != sc.Query() || back.Start != sc.Start || back.Limit != sc.Limit || back.Name != sc.Name {
				t.Errorf("round trip: %s", MarshalContent(back))
			}
			if c.extra != "" && string(back.Extra[c.extra]) != string(sc.Extra[c.extra]) {
				t.Errorf("%s lost in the round trip: %s", c.extra, MarshalContent(back))
			}
		})
	}
}

func TestNewSearchCommand(t *testing.T) {
	out := string(MarshalContent(NewSearchCommand("alice")))
	for _, want := range []string{`"type":136`, `"command":"search"`, `"cmd":"search"`, `"keywords":"alice"`} {
		if !strings.Contains(out, want) {
			t.Errorf("search lacks %s: %s", want, out)
		}
	}
	online := string(MarshalContent(NewSearchCommand(SearchOnlineUsers)))
	if !strings.Contains(online, `"command":"users"`) || strings.Contains(online, "keywords") {
		t.Errorf("online question %s, want command users without keywords", online)
	}
}

func TestSearchAnswerRoundTrip(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustECC(t))
	bob := newTestUser(t, "bob", MetaMKM, mustRSA(t, 1024))
	station := MustParseID("gsp-s001@x5Zh9ixt8ECr59XLye1y5WWfaX4fcoaaSC")
	q := searchContent(t, `{"type":136,"sn":5,"command":"search","keywords":"nick","limit":10,"tag":5}`)
	a := NewSearchAnswer(q, station, []ID{alice.ID, bob.ID})
	a.Metas = map[string]*Meta{alice.ID.String(): alice.Meta, bob.ID.String(): bob.Meta}
	a.Visas = map[string][]*Document{alice.ID.String(): {alice.Visa}}
	raw := MarshalContent(a)
	for _, want := range []string{`"command":"search"`, `"keywords":"nick"`, `"limit":10`, `"tag":5`,
		`"station":"` + station.String() + `"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("answer lacks %s: %s", want, raw)
		}
	}
	if a.SN == q.SN {
		t.Errorf("the answer has the question's serial number %d", a.SN)
	}
	back := searchContent(t, string(raw))
	if !back.IsAnswer() || !slices.EqualFunc(back.Users, []ID{alice.ID, bob.ID}, ID.Equal) {
		t.Fatalf("users %v", back.Users)
	}
	if !back.Station.Equal(station) || back.Query() != "nick" || back.Limit != 10 {
		t.Errorf("answer read as %s", MarshalContent(back))
	}
	// The profiles read back verify.
	for _, u := range []*Identity{alice, bob} {
		var visas []*Document
		visas = append(visas, back.Visas[u.ID.String()]...)
		p, err := NewProfile(u.ID, back.Metas[u.ID.String()], visas...)
		if err != nil {
			t.Fatalf("%s: %v", u.ID.Name(), err)
		}
		if u == alice && (p.Visa() == nil || p.Visa().Name() != "nick alice") {
			t.Errorf("alice's visa not carried: %v", p.Visa())
		}
	}
	// Nothing found is an answer too.
	none := MarshalContent(NewSearchAnswer(q, station, nil))
	if back := searchContent(t, string(none)); !back.IsAnswer() || len(back.Users) != 0 {
		t.Errorf("empty answer %s read as a question", none)
	}
}

// TestSearchAnswerOtherForms reads the answers of dimchat's bots: IDs only
// (station-py today), IDs and metas in `results` (before 2023), and a
// single visa rather than an array.
func TestSearchAnswerOtherForms(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustECC(t))
	meta, _ := alice.Meta.MarshalJSON()
	visa, _ := alice.Visa.MarshalJSON()
	id := alice.ID.String()
	raw, _ := json.Marshal(map[string]any{"type": 136, "sn": 1, "command": "search", "keywords": "users",
		"users": []string{id}, "results": map[string]json.RawMessage{id: meta},
		"visas": map[string]json.RawMessage{id + "/phone": visa}})
	sc := searchContent(t, string(raw))
	if !sc.IsOnlineQuery() || sc.Metas[id] == nil || len(sc.Visas[id]) != 1 {
		t.Fatalf("read %s as %s", raw, MarshalContent(sc))
	}
	idsOnly := searchContent(t, `{"type":136,"sn":2,"command":"search","keywords":"x","users":[]}`)
	if !idsOnly.IsAnswer() || idsOnly.Metas != nil || idsOnly.Visas != nil {
		t.Errorf("IDs-only answer read as %s", MarshalContent(idsOnly))
	}
}

func TestSearchCommandRefusesBadMembers(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustECC(t))
	meta, _ := alice.Meta.MarshalJSON()
	for name, raw := range map[string]string{
		"keywords number":   `{"type":136,"sn":1,"command":"search","keywords":7}`,
		"keywords mixed":    `{"type":136,"sn":1,"command":"search","keywords":["a",1]}`,
		"start not integer": `{"type":136,"sn":1,"command":"search","keywords":"a","start":1.5}`,
		"users not array":   `{"type":136,"sn":1,"command":"search","users":"alice"}`,
		"user not ID":       `{"type":136,"sn":1,"command":"search","users":["not an id"]}`,
		"station not ID":    `{"type":136,"sn":1,"command":"search","station":"@@"}`,
		"results not map":   `{"type":136,"sn":1,"command":"search","users":[],"results":[]}`,
		"results bad key":   `{"type":136,"sn":1,"command":"search","users":[],"results":{"x y":` + string(meta) + `}}`,
		"results bad meta":  `{"type":136,"sn":1,"command":"search","users":[],"results":{"` + alice.ID.String() + `":{"type":1}}}`,
		"visas bad doc":     `{"type":136,"sn":1,"command":"search","users":[],"visas":{"` + alice.ID.String() + `":[{"data":"{}"}]}}`,
		"visas not map":     `{"type":136,"sn":1,"command":"search","users":[],"visas":"x"}`,
	} {
		if _, err := ParseContent([]byte(raw)); !errors.Is(err, ErrInvalidContent) {
			t.Errorf("%s: %v, want ErrInvalidContent", name, err)
		}
	}
}
