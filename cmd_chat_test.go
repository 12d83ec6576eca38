package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dimtui/mockstation"
)

// TestEndToEndInTmux runs the real binary in tmux with a fresh HOME, as a
// newcomer would: wait for the handshake, type a line, see the echo.
func TestEndToEndInTmux(t *testing.T) {
	r := startInTmux(t, "e2e", "newcomer", 100, 30)
	start := time.Now()
	screen := r.waitFor("[Success]", 10*time.Second)
	t.Logf("handshake Success on screen after %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(screen, "Running") {
		t.Errorf("status bar does not say Running:\n%s", screen)
	}
	line := "hello from the e2e test"
	r.line(line)
	screen = r.waitFor("echo: "+line, 10*time.Second)
	if !strings.Contains(screen, "newcomer") {
		t.Errorf("the new identity's name is not shown:\n%s", screen)
	}
	// Ctrl+C quits; the log went to the state directory, not the screen.
	r.keys("C-c")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !r.gone() {
		time.Sleep(50 * time.Millisecond)
	}
	if !r.gone() {
		t.Error("ctrl+c did not quit")
	}
	logFile := filepath.Join(r.home, ".local", "state", "dimtui", "dimtui.log")
	if raw, err := os.ReadFile(logFile); err != nil || !strings.Contains(string(raw), "handshake accepted") {
		t.Errorf("log %s: %v (%d bytes)", logFile, err, len(raw))
	}
}

// Two data directories keep two identities apart: each `dimtui chat
// --data DIR` creates its identity, history and log in its own directory,
// finds that identity again whoever runs it, and leaves the default
// directories alone.
func TestChatDataDirectoriesKeepIdentitiesApart(t *testing.T) {
	url := startStation(t)
	base := t.TempDir()
	dirs := map[string]string{"alice": filepath.Join(base, "alice-data"), "bob": filepath.Join(base, "bob-data")}
	run := func(user, dir string) *tmuxRun {
		t.Helper()
		r := startInTmux(t, "data-"+user, user, 100, 30, "chat", "--station", url, "--data", dir)
		r.waitFor("[Success]", 10*time.Second)
		return r
	}
	quit := func(r *tmuxRun) {
		t.Helper()
		r.keys("C-c")
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) && !r.gone() {
			time.Sleep(50 * time.Millisecond)
		}
		if !r.gone() {
			t.Fatal("ctrl+c did not quit")
		}
	}
	for _, user := range []string{"alice", "bob"} {
		r := run(user, dirs[user])
		if s := r.screen(); !strings.Contains(s, "me "+user) {
			t.Errorf("--data %s: the status bar does not name %s:\n%s", dirs[user], user, s)
		}
		quit(r)
		// Nothing went to the default directories of this HOME.
		for _, d := range []string{filepath.Join(r.home, ".config", "dimtui"), filepath.Join(r.home, ".local", "state", "dimtui")} {
			if _, err := os.Stat(d); err == nil {
				t.Errorf("--data %s: %s was made", dirs[user], d)
			}
		}
	}
	for user, dir := range dirs {
		for _, f := range []string{user + ".json", user + ".history.db", "dimtui.log"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s's data directory: %v", user, err)
			}
		}
		other := map[string]string{"alice": "bob", "bob": "alice"}[user]
		if _, err := os.Stat(filepath.Join(dir, other+".json")); err == nil {
			t.Errorf("%s's data directory holds %s's identity", user, other)
		}
	}
	// The identity is the directory's, not the account's: bob's account
	// with alice's directory is alice, with the same ID as before.
	before, err := os.ReadFile(filepath.Join(dirs["alice"], "alice.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := run("bob", dirs["alice"])
	if s := r.screen(); !strings.Contains(s, "me alice") {
		t.Errorf("--data with alice's directory is not alice:\n%s", s)
	}
	quit(r)
	if after, err := os.ReadFile(filepath.Join(dirs["alice"], "alice.json")); err != nil || string(after) != string(before) {
		t.Errorf("alice's identity changed on a second start: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dirs["alice"], "bob.json")); err == nil {
		t.Error("bob's account made an identity in alice's directory")
	}
}

// startStation runs a station in the test process and returns its URL.
func startStation(t *testing.T) string {
	t.Helper()
	return serveStation(t, mockstation.Config{DataDir: t.TempDir(), RateLimit: -1}).url
}

// serveStation runs an in-process station with cfg on a free local port
// until the test ends.
func serveStation(t *testing.T, cfg mockstation.Config) *linkedStation {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := mockstation.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	return &linkedStation{srv: srv, url: "ws://" + ln.Addr().String() + "/"}
}
