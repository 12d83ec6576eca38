package mockstation_test

import (
	"strings"
	"testing"

	"dimtui/dimp"
	"dimtui/mockstation"
)

func TestAnsResolvesNames(t *testing.T) {
	echo := user(t, "echo")
	st := startStation(t, mockstation.Config{Names: map[string]dimp.ID{"Echo": echo.ID}})
	alice := nicknamed(t, "alice", "Alice")
	twin1, twin2 := nicknamed(t, "t1", "Twin"), nicknamed(t, "t2", "twin")
	squatter := nicknamed(t, "sq", "station") // a visa name cannot take a record
	for _, u := range []*dimp.Identity{twin1, twin2, squatter} {
		st.disconnect(t, connect(t, st.url, u))
	}
	a := connect(t, st.url, alice)
	a.send(st.srv.ID(), dimp.NewAnsQuery("station", "echo", "ALICE", "twin", "nobody", "admin", "anyone", twin1.ID.String()))
	ans, ok := a.next().im.Content.(*dimp.AnsCommand)
	if !ok {
		t.Fatal("no ans answer")
	}
	want := map[string]dimp.ID{"station": st.srv.ID(), "echo": echo.ID, "ALICE": alice.ID, "anyone": dimp.Anyone,
		twin1.ID.String(): twin1.ID}
	if len(ans.Records) != len(want) {
		t.Errorf("records %v, want %v", ans.Records, want)
	}
	for name, id := range want {
		if !ans.Records[name].SameAs(id) {
			t.Errorf("record %s = %s, want %s", name, ans.Records[name], id)
		}
	}
	if strings.Join(ans.Missed, " ") != "nobody admin" {
		t.Errorf("missed %v", ans.Missed)
	}
	twins := ans.Ambiguous["twin"]
	if len(ans.Ambiguous) != 1 || len(twins) != 2 {
		t.Fatalf("ambiguous %v", ans.Ambiguous)
	}
	for _, id := range twins {
		if !id.SameAs(twin1.ID) && !id.SameAs(twin2.ID) {
			t.Errorf("ambiguous twin lists %s", id)
		}
	}
	if strings.Join(ans.Names, " ") != "station echo ALICE twin nobody admin anyone "+twin1.ID.String() {
		t.Errorf("names %v", ans.Names)
	}
}

func TestAnsRefusesBadQuestions(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	a := connect(t, st.url, user(t, "alice"))
	many := make([]string, 17)
	for i := range many {
		many[i] = "n"
	}
	for _, q := range []*dimp.AnsCommand{
		dimp.NewAnsQuery(),
		dimp.NewAnsQuery(many...),
		dimp.NewAnsQuery(strings.Repeat("x", 129)),
	} {
		a.send(st.srv.ID(), q)
		r := a.receipt("ANS command error.")
		if r.Extra["error"] == nil {
			t.Errorf("%v: no error", q.Names)
		}
	}
}
