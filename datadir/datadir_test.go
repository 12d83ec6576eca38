package datadir

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUserName(t *testing.T) {
	tests := []struct{ user, want string }{
		{"alice", "alice"}, {"", "me"}, {"Jean Dupont", "JeanDupont"}, {"../etc", "etc"}, {"@@@", "me"},
		{strings.Repeat("x", 80), strings.Repeat("x", 32)},
	}
	for _, tt := range tests {
		t.Setenv("USER", tt.user)
		if got := UserName(); got != tt.want {
			t.Errorf("USER=%q: name %q, want %q", tt.user, got, tt.want)
		}
	}
}

// The station, the demo's station and the log share dimtui's state
// directory, $XDG_STATE_HOME/dimtui when that is set.
func TestStateDirectory(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	for _, tt := range []struct {
		dir  func() (string, error)
		want string
	}{{StateDir, "dimtui"}, {StationDir, "dimtui/station"}, {DemoStationDir, "dimtui/demo-station"}} {
		got, err := tt.dir()
		if want := filepath.Join(state, tt.want); err != nil || got != want {
			t.Errorf("got %s, %v; want %s", got, err, want)
		}
	}
	logger, closeLog, err := OpenLog()
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("hello")
	closeLog()
	raw, err := os.ReadFile(filepath.Join(state, "dimtui", "dimtui.log"))
	if err != nil || !strings.Contains(string(raw), "dimtui started") || !strings.Contains(string(raw), "hello") {
		t.Errorf("log: %q, %v", raw, err)
	}
}

// A user's identity is created on first use and loaded after; its history
// lies beside it.
func TestLoadOrCreateUser(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("USER", "newcomer")
	first, err := LoadOrCreateUser(dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if first.Name != "newcomer" || first.Identity.ID.Name() != "newcomer" {
		t.Errorf("new default identity %s named %s, want newcomer", first.Identity.ID, first.Name)
	}
	again, err := LoadOrCreateUser(dir, "", slog.New(slog.DiscardHandler))
	if err != nil || !again.Identity.ID.SameAs(first.Identity.ID) {
		t.Fatalf("loaded %v, %v; want %s again", again, err, first.Identity.ID)
	}
	h, err := again.OpenHistory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if _, err := os.Stat(filepath.Join(dir, "newcomer.history.db")); err != nil {
		t.Errorf("history beside the identity: %v", err)
	}
}
