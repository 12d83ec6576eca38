package idstore

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"dimtui/dimp"
)

// newIdentity makes one identity for a test to save under any name: an
// ECC meta key, quick to generate, and the default 1024-bit visa key.
func newIdentity(t *testing.T, s *Store, name string) *dimp.Identity {
	t.Helper()
	u, err := s.Create(name, Options{KeyAlg: "ecc"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestCreateAndLoad: a created identity is named by its seed, and loads
// back whole from its file: the same ID, a meta that generates it and a
// private key that pairs with the meta key.
func TestCreateAndLoad(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "identities")) // made by the first Save
	if err != nil {
		t.Fatal(err)
	}
	u := newIdentity(t, s, "alice")
	if u.ID.Name() != "alice" {
		t.Errorf("ID %s: the name should be the seed, alice", u.ID)
	}
	back, err := s.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	if !back.ID.Equal(u.ID) {
		t.Fatalf("loaded %s, saved %s", back.ID, u.ID)
	}
	if err := back.Meta.MatchID(back.ID); err != nil {
		t.Errorf("loaded meta: %v", err)
	}
	if back.SignKey == nil || back.Visa == nil {
		t.Fatalf("loaded an identity without its private key or visa: %+v", back)
	}
	sig, err := back.SignKey.Sign([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Meta.Key.Verify([]byte("hello"), sig); err != nil {
		t.Errorf("the loaded private key does not pair with the meta key: %v", err)
	}
}

// TestFilesArePrivate: an identity file holds private keys, so it is
// readable by its owner only, in a directory only the owner may enter,
// and no temporary file is left beside it.
func TestFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	dir := filepath.Join(t.TempDir(), "identities")
	s := &Store{Dir: dir}
	newIdentity(t, s, "alice")
	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, s.path("alice"): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), st.Mode(), want)
		}
	}
	if _, err := os.Stat(s.path("alice") + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

// TestDefault: the first identity saved becomes the default, which Load
// takes for an empty name; later ones do not replace it; SetDefault does.
func TestDefault(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	if _, err := s.Load(""); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load with no default: %v, want ErrNotFound", err)
	}
	if d := s.Default(); d != "" {
		t.Errorf("Default() = %q in an empty store", d)
	}
	u := newIdentity(t, s, "alice")
	if err := s.Save("bob", u); err != nil {
		t.Fatal(err)
	}
	if d := s.Default(); d != "alice" {
		t.Errorf("Default() = %q, want the first saved, alice", d)
	}
	if err := s.SetDefault("bob"); err != nil {
		t.Fatal(err)
	}
	if d := s.Default(); d != "bob" {
		t.Errorf("after SetDefault: Default() = %q, want bob", d)
	}
	if _, err := s.Load(""); err != nil {
		t.Errorf("Load of the default: %v", err)
	}
}

// TestRefused: what Create, Save and Load refuse, and with which error.
func TestRefused(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	u := newIdentity(t, s, "alice")
	if _, err := s.Create("alice", Options{KeyAlg: "ecc"}); !errors.Is(err, ErrExists) {
		t.Errorf("Create over alice: %v, want ErrExists", err)
	}
	for _, name := range []string{"", "a/b", `a\b`, "a@b", "a b", ".hidden", "..", strings.Repeat("n", 65)} {
		if err := s.Save(name, u); err == nil {
			t.Errorf("Save(%q) accepted", name)
		}
		if _, err := s.Load(name); name != "" && err == nil {
			t.Errorf("Load(%q) accepted", name)
		}
		if _, err := s.HistoryPath(name); err == nil {
			t.Errorf("HistoryPath(%q) accepted", name)
		}
	}
	if _, err := s.Create("eth", Options{KeyAlg: "rsa", Meta: dimp.MetaETH}); err == nil {
		t.Error("an ETH meta with an RSA key was accepted")
	}
	if _, err := s.Create("dsa", Options{KeyAlg: "dsa"}); err == nil {
		t.Error("key algorithm dsa was accepted")
	}
	if _, err := s.Load("nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(nobody): %v, want ErrNotFound", err)
	}
	if err := os.WriteFile(s.path("broken"), []byte(`{"ID":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("broken"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load(broken): %v, want ErrCorrupt", err)
	}
}

// TestNames lists the identity files, sorted, and nothing else the
// directory holds: the default, histories, other files.
func TestNames(t *testing.T) {
	s := &Store{Dir: filepath.Join(t.TempDir(), "identities")}
	if names, err := s.Names(); err != nil || names != nil {
		t.Errorf("a store not made yet: %v, %v; want none and no error", names, err)
	}
	u := newIdentity(t, s, "carol")
	for _, name := range []string{"bob", "alice"} {
		if err := s.Save(name, u); err != nil {
			t.Fatal(err)
		}
	}
	history, err := s.HistoryPath("alice")
	if err != nil {
		t.Fatal(err)
	}
	if history != filepath.Join(s.Dir, "alice.history.db") {
		t.Errorf("history of alice at %s, want beside alice.json", history)
	}
	for _, f := range []string{history, filepath.Join(s.Dir, "notes.txt")} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(s.Dir, "old.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	names, err := s.Names()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alice", "bob", "carol"}; !slices.Equal(names, want) {
		t.Errorf("Names() = %v, want %v", names, want)
	}
}
