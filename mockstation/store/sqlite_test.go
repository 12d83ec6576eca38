package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openTest(t *testing.T, path string, opts Options) *SQLite {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMessages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "station.db")
	s := openTest(t, path, Options{})

	msg := func(recv, sig string) Message {
		return Message{Receiver: recv, Signature: sig, Time: 1, Data: []byte(`{"signature":"` + sig + `"}`)}
	}
	steps := []struct {
		m    Message
		want SaveResult
	}{
		{msg("bob", "s1"), Saved},
		{msg("bob", "s2"), Saved},
		{msg("carol", "s1"), Saved}, // same signature, other receiver
		{msg("bob", "s1"), Duplicate},
	}
	ids := map[string]int64{}
	for i, st := range steps {
		id, got, err := s.SaveMessage(ctx, st.m)
		if err != nil {
			t.Fatal(err)
		}
		if got != st.want {
			t.Errorf("step %d: SaveMessage = %v, want %v", i, got, st.want)
		}
		key := st.m.Receiver + "/" + st.m.Signature
		if old, ok := ids[key]; ok && old != id {
			t.Errorf("step %d: duplicate got id %d, want %d", i, id, old)
		}
		ids[key] = id
	}

	pending, err := s.PendingMessages(ctx, "bob", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 || pending[0].Signature != "s1" || pending[1].Signature != "s2" {
		t.Fatalf("pending = %+v, want s1, s2", pending)
	}
	after, _ := s.PendingMessages(ctx, "bob", pending[0].ID, 10)
	if len(after) != 1 || after[0].Signature != "s2" {
		t.Fatalf("pending after %d = %+v, want s2", pending[0].ID, after)
	}

	found, err := s.AckMessage(ctx, "bob", "s1")
	if err != nil || !found {
		t.Fatalf("AckMessage = %v, %v; want true", found, err)
	}
	if found, _ := s.AckMessage(ctx, "bob", "s1"); found {
		t.Error("second AckMessage found the message again")
	}
	if _, got, _ := s.SaveMessage(ctx, msg("bob", "s1")); got != Acknowledged {
		t.Errorf("replay after ack: %v, want %v", got, Acknowledged)
	}
	if n, _ := s.CountMessages(ctx); n != 2 {
		t.Errorf("CountMessages = %d, want 2", n)
	}

	// A new row never reuses the ID of a deleted one: sessions page by ID.
	if _, err := s.AckMessage(ctx, "bob", "s2"); err != nil {
		t.Fatal(err)
	}
	id3, _, _ := s.SaveMessage(ctx, msg("bob", "s3"))
	if id3 <= ids["bob/s2"] {
		t.Errorf("new id %d not above deleted %d", id3, ids["bob/s2"])
	}

	// Reopen: everything committed is there.
	s.Close()
	s2 := openTest(t, path, Options{})
	pending, _ = s2.PendingMessages(ctx, "bob", 0, 10)
	if len(pending) != 1 || pending[0].Signature != "s3" {
		t.Fatalf("after reopen pending = %+v, want s3", pending)
	}
	if _, _, err := s.SaveMessage(ctx, msg("bob", "s4")); !errors.Is(err, ErrClosed) {
		t.Errorf("save on closed store: %v, want ErrClosed", err)
	}
}

func TestExpiry(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := openTest(t, filepath.Join(t.TempDir(), "x.db"), Options{MaxAge: time.Hour, Now: clock})
	if _, _, err := s.SaveMessage(ctx, Message{Receiver: "bob", Signature: "old", Data: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if _, _, err := s.SaveMessage(ctx, Message{Receiver: "bob", Signature: "new", Data: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	pending, _ := s.PendingMessages(ctx, "bob", 0, 10)
	if len(pending) != 1 || pending[0].Signature != "new" {
		t.Fatalf("pending = %+v, want only new", pending)
	}
	n, err := s.ExpireMessages(ctx)
	if err != nil || n != 1 {
		t.Fatalf("ExpireMessages = %d, %v; want 1", n, err)
	}
}

func TestConcurrentSaves(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "x.db"), Options{})
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := Message{Receiver: fmt.Sprint("u", w), Signature: fmt.Sprint(i), Data: []byte("{}")}
				if _, _, err := s.SaveMessage(ctx, m); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n, _ := s.CountMessages(ctx); n != writers*each {
		t.Errorf("CountMessages = %d, want %d", n, writers*each)
	}
	for w := range writers {
		pending, _ := s.PendingMessages(ctx, fmt.Sprint("u", w), 0, each+1)
		for i, m := range pending {
			if m.Signature != fmt.Sprint(i) {
				t.Fatalf("u%d pending[%d] = %s: order lost", w, i, m.Signature)
			}
		}
	}
}

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "x.db"), Options{})

	if _, err := s.Meta(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Meta of unknown: %v, want ErrNotFound", err)
	}
	if added, _ := s.SaveMeta(ctx, "bob", []byte(`{"m":1}`)); !added {
		t.Error("first SaveMeta not added")
	}
	if added, _ := s.SaveMeta(ctx, "bob", []byte(`{"m":2}`)); added {
		t.Error("second SaveMeta replaced the meta")
	}
	if m, _ := s.Meta(ctx, "bob"); string(m) != `{"m":1}` {
		t.Errorf("Meta = %s", m)
	}

	docs := []struct {
		d    Document
		want bool
	}{
		{Document{ID: "bob", Type: "visa", Time: 10, Data: []byte("v10")}, true},
		{Document{ID: "bob", Type: "visa", Time: 5, Data: []byte("v5")}, false},
		{Document{ID: "bob", Type: "visa", Time: 10, Data: []byte("v10b")}, false},
		{Document{ID: "bob", Type: "visa", Terminal: "phone", Time: 3, Data: []byte("p3")}, true},
		{Document{ID: "bob", Type: "visa", Time: 11, Data: []byte("v11")}, true},
	}
	for i, c := range docs {
		if got, err := s.SaveDocument(ctx, c.d); err != nil || got != c.want {
			t.Errorf("doc %d: SaveDocument = %v, %v; want %v", i, got, err, c.want)
		}
	}
	got, _ := s.Documents(ctx, "bob")
	if len(got) != 2 || string(got[0].Data) != "p3" || string(got[1].Data) != "v11" {
		t.Errorf("Documents = %+v", got)
	}

	if _, err := s.Login(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Login of unknown: %v", err)
	}
	for i, c := range []struct {
		time float64
		want bool
	}{{5, true}, {4, false}, {6, true}} {
		ok, err := s.SaveLogin(ctx, Login{User: "bob", Time: c.time, Station: "st", Command: []byte("{}"), Message: []byte("{}")})
		if err != nil || ok != c.want {
			t.Errorf("login %d: %v, %v; want %v", i, ok, err, c.want)
		}
	}
	if l, _ := s.Login(ctx, "bob"); l.Time != 6 {
		t.Errorf("Login time = %v, want 6", l.Time)
	}

	if _, found, _ := s.List(ctx, "bob", "block"); found {
		t.Error("unset list found")
	}
	if ok, err := s.SetList(ctx, "bob", "block", []string{"eve", "mallory"}, 100); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, err := s.SetList(ctx, "bob", "mute", nil, 0); err != nil || !ok {
		t.Fatal(ok, err)
	}
	// Sent before the list kept: the kept one stays.
	if ok, err := s.SetList(ctx, "bob", "block", []string{"eve"}, 99.5); err != nil || ok {
		t.Errorf("an older block list: stored %v, %v", ok, err)
	}
	if l, found, _ := s.List(ctx, "bob", "block"); !found || len(l) != 2 || l[1] != "mallory" {
		t.Errorf("block list = %v, %v", l, found)
	}
	// A row of the form before times were kept reads, counts as time 0,
	// and is replaced by any list.
	if _, err := s.w.ExecContext(ctx, `UPDATE lists SET members = '["trent"]' WHERE owner = 'bob' AND name = 'block'`); err != nil {
		t.Fatal(err)
	}
	if l, found, err := s.List(ctx, "bob", "block"); !found || len(l) != 1 || l[0] != "trent" {
		t.Errorf("a list of the older form = %v, %v, %v", l, found, err)
	}
	if ok, err := s.SetList(ctx, "bob", "block", []string{"eve"}, 50); err != nil || !ok {
		t.Errorf("a list over one of the older form: stored %v, %v", ok, err)
	}
	if l, found, _ := s.List(ctx, "bob", "mute"); !found || len(l) != 0 {
		t.Errorf("mute list = %v, %v", l, found)
	}
}

func BenchmarkSaveAck(b *testing.B) {
	for _, workers := range []int{1, 8, 64} {
		b.Run(fmt.Sprint("workers=", workers), func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, filepath.Join(b.TempDir(), "x.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			data := make([]byte, 600)
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N/workers + 1
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range per {
						sig := fmt.Sprint(w, "-", i)
						recv := fmt.Sprint("user", w)
						if _, _, err := s.SaveMessage(ctx, Message{Receiver: recv, Signature: sig, Data: data}); err != nil {
							b.Error(err)
							return
						}
						if _, err := s.AckMessage(ctx, recv, sig); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(per*workers)/b.Elapsed().Seconds(), "msg/s")
		})
	}
}
