package mockstation

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"dimtui/dimp"
)

// FuzzLoadIdentity reads whatever the station's identity file may hold.
// loadIdentity never panics and never makes a new identity over a file
// that is there; what it takes is a station that can decrypt, whose meta
// generates its ID, and which writes out and reads back as the same. Seeds
// are files the station wrote on its first start, and broken forms of them.
func FuzzLoadIdentity(f *testing.F) {
	for range 2 {
		dir := f.TempDir()
		if _, created, err := loadIdentity(dir); err != nil || !created {
			f.Fatalf("first start: created %v, %v", created, err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, identityFile))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(raw[:len(raw)-len(raw)/3])
		f.Add(bytes.Replace(raw, []byte(`"visa_private_key"`), []byte(`"visa_key"`), 1))
	}
	// A user's identity in the station's place: one of dimchat's browser
	// client, in the same layout.
	web, err := os.ReadFile(filepath.Join("..", "dimp", "testdata", "webclient_rsa1023.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(web)
	f.Add([]byte(``))
	f.Add([]byte(`{"id":"dimtui-station@anywhere"}`))

	dir := f.TempDir()
	path := filepath.Join(dir, identityFile)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		id, created, err := loadIdentity(dir)
		if created {
			t.Fatal("a new identity was made over an existing file")
		}
		if err != nil {
			return
		}
		if id.ID.Type() != dimp.Station || len(id.Decrypt) == 0 {
			t.Fatalf("took %s (type %s) with %d decryption keys", id.ID, id.ID.Type(), len(id.Decrypt))
		}
		if err := id.Meta.MatchID(id.ID); err != nil {
			t.Fatalf("took an identity whose meta does not match: %v", err)
		}
		out, err := dimp.MarshalIdentity(id)
		if err != nil {
			t.Fatalf("write a loaded identity: %v", err)
		}
		back, err := dimp.ParseIdentity(out)
		if err != nil {
			t.Fatalf("read back a written identity: %v\n%s", err, out)
		}
		if !back.ID.Equal(id.ID) {
			t.Fatalf("wrote %s, read %s", id.ID, back.ID)
		}
	})
}
