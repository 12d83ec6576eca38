package dimp_test

import (
	"errors"
	"strings"
	"testing"

	"dimtui/dimp"
)

func TestAnsQueryWire(t *testing.T) {
	q := dimp.NewAnsQuery("moky", "station")
	raw := string(dimp.MarshalContent(q))
	for _, want := range []string{`"command":"ans"`, `"cmd":"ans"`, `"names":"moky station"`, `"type":136`} {
		if !strings.Contains(raw, want) {
			t.Errorf("%s lacks %s", raw, want)
		}
	}
	if strings.Contains(raw, "records") {
		t.Errorf("a question carries no records: %s", raw)
	}
	c, err := dimp.ParseContent([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := c.(*dimp.AnsCommand)
	if !ok || got.IsAnswer() || strings.Join(got.Names, ",") != "moky,station" {
		t.Fatalf("got %#v", c)
	}
}

func TestAnsAnswerRoundTrip(t *testing.T) {
	moky := dimp.MustParseID("moky@4DnqXWdTV8wuZgfqSCX9GjE2kNq7HJrUgQ")
	a1 := dimp.MustParseID("alice@4DnqXWdTV8wuZgfqSCX9GjE2kNq7HJrUgQ")
	a2 := dimp.MustParseID("alice@4WDfe3zZ4T7opFSi3iDAKiuTnUHjxmXekk")
	ans := dimp.NewAnsQuery("moky", "alice", "nobody")
	ans.Records = map[string]dimp.ID{"moky": moky}
	ans.Missed = []string{"nobody"}
	ans.Ambiguous = map[string][]dimp.ID{"alice": {a1, a2}}
	raw := dimp.MarshalContent(ans)
	c, err := dimp.ParseContent(raw)
	if err != nil {
		t.Fatal(err)
	}
	got := c.(*dimp.AnsCommand)
	if !got.IsAnswer() || !got.Records["moky"].SameAs(moky) || len(got.Records) != 1 {
		t.Errorf("records %v", got.Records)
	}
	if len(got.Missed) != 1 || got.Missed[0] != "nobody" {
		t.Errorf("missed %v", got.Missed)
	}
	if ids := got.Ambiguous["alice"]; len(ids) != 2 || !ids[0].SameAs(a1) || !ids[1].SameAs(a2) {
		t.Errorf("ambiguous %v", got.Ambiguous)
	}
}

// dimples answers with `records` and `missed` only, the names as one
// string; a question is the same without records.
func TestAnsReferenceForm(t *testing.T) {
	raw := `{"type":"136","sn":42,"time":1700000000.5,"command":"ans","names":"station  anyone",` +
		`"records":{"station":"station@4WDfe3zZ4T7opFSi3iDAKiuTnUHjxmXekk","anyone":"anyone@anywhere"},"missed":[]}`
	c, err := dimp.ParseContent([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := c.(*dimp.AnsCommand)
	if len(got.Names) != 2 || !got.Records["anyone"].SameAs(dimp.Anyone) || got.Ambiguous != nil {
		t.Errorf("got %+v", got)
	}
}

func TestAnsBadRecordIsAnError(t *testing.T) {
	for _, raw := range []string{
		`{"type":136,"sn":1,"command":"ans","names":"x","records":{"x":"not an id @@"}}`,
		`{"type":136,"sn":1,"command":"ans","names":"x","records":{"x":7}}`,
		`{"type":136,"sn":1,"command":"ans","names":"x","records":[]}`,
		`{"type":136,"sn":1,"command":"ans","names":"x","missed":"x"}`,
		`{"type":136,"sn":1,"command":"ans","names":"x","ambiguous":{"x":["bad@@"]}}`,
	} {
		if _, err := dimp.ParseContent([]byte(raw)); err == nil {
			t.Errorf("%s: parsed", raw)
		} else if !errors.Is(err, dimp.ErrInvalidContent) {
			t.Errorf("%s: %v is no ErrInvalidContent", raw, err)
		}
	}
}

// A block list from the station with an entry that is no ID keeps it
// apart (and writes it back) instead of losing the list.
func TestListKeepsInvalidEntries(t *testing.T) {
	raw := `{"type":136,"sn":3,"command":"block","list":["alice@4DnqXWdTV8wuZgfqSCX9GjE2kNq7HJrUgQ","not an id @@"]}`
	c, err := dimp.ParseContent([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	l := c.(*dimp.ListCommand)
	if !l.HasList || len(l.List) != 1 || len(l.Invalid) != 1 || l.Invalid[0] != "not an id @@" {
		t.Fatalf("got %+v", l)
	}
	if out := string(dimp.MarshalContent(l)); !strings.Contains(out, `"not an id @@"`) {
		t.Errorf("invalid entry lost: %s", out)
	}
}
