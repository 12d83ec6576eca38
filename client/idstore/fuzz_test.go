package idstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"dimtui/dimp"
)

// FuzzLoad reads whatever an identity file may hold. Load never panics;
// what it refuses is ErrCorrupt; what it takes is a whole identity (its meta
// generates its ID, its private key pairs with the meta key) that saves and
// loads again as the same. Seeds are real files written by Create, for each
// key and meta kind, and broken forms of them.
func FuzzLoad(f *testing.F) {
	seeds := &Store{Dir: f.TempDir()}
	for _, opt := range []Options{
		{KeyAlg: "ecc"},
		{KeyAlg: "ecc", Meta: dimp.MetaETH},
		{KeyAlg: "ecc", Meta: dimp.MetaBTC, Type: dimp.Bot},
		{KeyAlg: "rsa"},
	} {
		name := "seed" + opt.KeyAlg + opt.Meta.String()
		if _, err := seeds.Create(name, opt); err != nil {
			f.Fatal(err)
		}
		raw, err := os.ReadFile(seeds.path(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(raw[:len(raw)/2])
		f.Add(bytes.Replace(raw, []byte(`"visa"`), []byte(`"visa_"`), 1))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))

	dir := f.TempDir()
	store := &Store{Dir: dir}
	again := &Store{Dir: filepath.Join(dir, "again")}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := os.WriteFile(store.path("fuzzed"), raw, 0o600); err != nil {
			t.Fatal(err)
		}
		u, err := store.Load("fuzzed")
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("refused without ErrCorrupt: %v", err)
			}
			return
		}
		if u.ID.IsZero() || u.Meta == nil || u.SignKey == nil {
			t.Fatalf("loaded an incomplete identity: %+v", u)
		}
		if err := u.Meta.MatchID(u.ID); err != nil {
			t.Fatalf("loaded an identity whose meta does not match: %v", err)
		}
		if err := again.Save("fuzzed", u); err != nil {
			t.Fatalf("save a loaded identity: %v", err)
		}
		back, err := again.Load("fuzzed")
		if err != nil {
			t.Fatalf("load a saved identity: %v", err)
		}
		if !back.ID.Equal(u.ID) {
			t.Fatalf("saved %s, loaded %s", u.ID, back.ID)
		}
	})
}
