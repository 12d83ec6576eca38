package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dimtui/mockstation"
)

// A station whose database is gone but whose identity is there refuses to
// start and says how to accept a new database; --new-database does.
func TestStationLostDatabase(t *testing.T) {
	dir := t.TempDir()
	srv, err := mockstation.New(t.Context(), mockstation.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := os.Remove(filepath.Join(dir, "station.db")); err != nil {
		t.Fatal(err)
	}
	args := []string{"station", "--data", dir, "--listen", "127.0.0.1:0", "--no-echo"}
	_, err = run(t, args...)
	if err == nil || !strings.Contains(err.Error(), "database is missing") || !strings.Contains(err.Error(), "--new-database") {
		t.Fatalf("err = %v, want the database missing and --new-database", err)
	}

	cmd := newRootCommand()
	cmd.SetErr(&strings.Builder{})
	cmd.SetArgs(append(args, "--new-database", "--quota-sender-messages", "0"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("with --new-database: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "station.db")); err != nil {
		t.Errorf("no new database: %v", err)
	}
}
