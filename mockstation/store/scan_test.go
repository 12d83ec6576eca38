package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

func TestScanDocuments(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "station.db"), Options{})
	for _, d := range []Document{
		{ID: "carol", Type: "visa", Time: 1, Data: []byte("c1")},
		{ID: "alice", Type: "visa", Time: 5, Data: []byte("a5")},
		{ID: "alice", Type: "visa", Terminal: "phone", Time: 7, Data: []byte("a7")},
		{ID: "alice", Type: "bulletin", Time: 9, Data: []byte("ab")},
		{ID: "bob", Type: "visa", Terminal: "phone", Time: 2, Data: []byte("b2")},
		{ID: "bob", Type: "visa", Time: 3, Data: []byte("b3")},
		{ID: "group", Type: "bulletin", Time: 1, Data: []byte("g")},
	} {
		if _, err := s.SaveDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		page, err := s.ScanDocuments(ctx, "visa", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if pages > 3 {
			t.Fatal("the scan does not end")
		}
		for _, d := range page {
			got = append(got, fmt.Sprintf("%s:%s:%s", d.ID, d.Terminal, d.Data))
			after = d.ID
		}
	}
	want := []string{"alice:phone:a7", "bob::b3", "carol::c1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scan = %v, want %v (the newest visa of each user, in ID order)", got, want)
	}
	if page, err := s.ScanDocuments(ctx, "visa", "", 0); err != nil || page != nil {
		t.Errorf("limit 0: %v, %v", page, err)
	}
}
