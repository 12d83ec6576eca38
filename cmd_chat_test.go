package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/client/history"
	"dimtui/dimp"
)

// timeToSuccess starts the demo (station, echo bot, client) with its data
// in dirs and returns how long it took until the handshake succeeded.
func timeToSuccess(tb testing.TB, stationDir, idDir string) time.Duration {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	d, err := startDemo(ctx, demoConfig{Listen: "127.0.0.1:0", StationDir: stationDir, IdentityDir: idDir})
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	waitSuccess(ctx, tb, d.Client, 0)
	return time.Since(start)
}

// TestDemoStartup measures the time from starting the demo to handshake
// Success, on the first run (identities created) and on later ones.
// Target: at most 1 s.
func TestDemoStartup(t *testing.T) {
	stationDir, idDir := t.TempDir(), t.TempDir()
	first := timeToSuccess(t, stationDir, idDir)
	var later []time.Duration
	for range 3 {
		later = append(later, timeToSuccess(t, stationDir, idDir))
	}
	t.Logf("start to handshake Success: first run %s (identities created), then %v", first.Round(time.Millisecond), later)
	for _, d := range append(later, first) {
		if d > time.Second {
			t.Errorf("start to Success took %s, want at most 1 s", d)
		}
	}
}

// BenchmarkDemoStartup reports the time from start to handshake Success
// with the identities already made (the usual start).
func BenchmarkDemoStartup(b *testing.B) {
	stationDir, idDir := b.TempDir(), b.TempDir()
	timeToSuccess(b, stationDir, idDir)
	b.ResetTimer()
	for b.Loop() {
		timeToSuccess(b, stationDir, idDir)
	}
}

func TestUserName(t *testing.T) {
	tests := []struct{ user, want string }{
		{"alice", "alice"}, {"", "me"}, {"Jean Dupont", "JeanDupont"}, {"../etc", "etc"}, {"@@@", "me"},
		{strings.Repeat("x", 80), strings.Repeat("x", 32)},
	}
	for _, tt := range tests {
		t.Setenv("USER", tt.user)
		if got := userName(); got != tt.want {
			t.Errorf("USER=%q: name %q, want %q", tt.user, got, tt.want)
		}
	}
}

func TestListenFallsBackToAFreePort(t *testing.T) {
	ln, err := listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	ln2, err := listen(taken)
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	if ln2.Addr().String() == taken {
		t.Fatal("listened twice on the same port")
	}
}

// TestEndToEndInTmux runs the real binary in tmux with a fresh HOME, as a
// newcomer would: wait for the handshake, type a line, see the echo.
func TestEndToEndInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "dimtui")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	socket := "dimtui-e2e-" + strconv.Itoa(os.Getpid())
	tm := func(args ...string) (string, error) {
		out, err := exec.Command(tmux, append([]string{"-L", socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
		return string(out), err
	}
	// A clean environment: only what a fresh account has.
	shell := "env -i HOME=" + home + " USER=newcomer PATH=/usr/bin:/bin TERM=xterm-256color " + bin
	if out, err := tm("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", shell); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = tm("kill-server") })

	waitFor := func(what string, timeout time.Duration) string {
		t.Helper()
		deadline := time.Now().Add(timeout)
		var screen string
		for time.Now().Before(deadline) {
			screen, _ = tm("capture-pane", "-p", "-t", "e2e")
			if strings.Contains(screen, what) {
				return screen
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%q not on the screen after %s:\n%s", what, timeout, screen)
		return ""
	}
	start := time.Now()
	screen := waitFor("[Success]", 10*time.Second)
	t.Logf("handshake Success on screen after %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(screen, "Running") {
		t.Errorf("status bar does not say Running:\n%s", screen)
	}
	line := "hello from the e2e test"
	if out, err := tm("send-keys", "-t", "e2e", "-l", line); err != nil {
		t.Fatalf("send-keys: %v\n%s", err, out)
	}
	if out, err := tm("send-keys", "-t", "e2e", "Enter"); err != nil {
		t.Fatalf("send-keys: %v\n%s", err, out)
	}
	screen = waitFor("echo: "+line, 10*time.Second)
	if !strings.Contains(screen, "newcomer") {
		t.Errorf("the new identity's name is not shown:\n%s", screen)
	}
	// Ctrl+C quits; the log went to the state directory, not the screen.
	if out, err := tm("send-keys", "-t", "e2e", "C-c"); err != nil {
		t.Fatalf("send-keys: %v\n%s", err, out)
	}
	gone := func() bool { _, err := tm("has-session", "-t", "e2e"); return err != nil }
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !gone() {
		time.Sleep(50 * time.Millisecond)
	}
	if !gone() {
		t.Error("ctrl+c did not quit")
	}
	logFile := filepath.Join(home, ".local", "state", "dimtui", "dimtui.log")
	if raw, err := os.ReadFile(logFile); err != nil || !strings.Contains(string(raw), "handshake accepted") {
		t.Errorf("log %s: %v (%d bytes)", logFile, err, len(raw))
	}
}

// A second demo while one runs on the shared station directory gets a
// station of its own, which it removes when it ends; both reach Success.
func TestDemoSecondInstance(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	idDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var demos []*demo
	for range 2 {
		d, err := startDemo(ctx, demoConfig{Listen: "127.0.0.1:0", IdentityDir: idDir})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		demos = append(demos, d)
	}
	if demos[0].scratch != "" || demos[1].scratch == "" {
		t.Fatalf("scratch directories %q, %q: want only the second demo's", demos[0].scratch, demos[1].scratch)
	}
	for i, d := range demos {
		waitSuccess(ctx, t, d.Client, i)
	}
	scratch := demos[1].scratch
	if err := demos[1].Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Errorf("scratch station %s left behind: %v", scratch, err)
	}
}

// waitSuccess waits for demo client i to reach handshake Success.
func waitSuccess(ctx context.Context, tb testing.TB, c *client.Client, i int) {
	tb.Helper()
	for {
		select {
		case ev := <-c.Events():
			if s, ok := ev.(client.StatusEvent); ok && s.Status.State == client.Running && s.Status.Handshake == dimp.HandshakeSuccess {
				return
			}
		case <-ctx.Done():
			tb.Fatalf("demo %d: no handshake Success", i)
		}
	}
}

// Each demo user's client keeps its history beside its identity, and a
// history it cannot use stops the demo with an error that names it,
// leaving the file as it was.
func TestDemoKeepsAHistoryPerUser(t *testing.T) {
	stationDir, idDir := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := startDemo(ctx, demoConfig{Listen: "127.0.0.1:0", StationDir: stationDir, IdentityDir: idDir, Users: []string{"alice", "bob"}})
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := d.Clients[0], d.Clients[1]
	go func() {
		for range alice.Events() {
		}
	}()
	waitSuccess(ctx, t, bob, 1)
	if _, err := alice.SendText(ctx, bob.Me(), "remember me"); err != nil {
		t.Fatal(err)
	}
	for shown := false; !shown; {
		select {
		case ev := <-bob.Events():
			if m, ok := ev.(client.MessageEvent); ok {
				shown = m.Message.Content.(*dimp.TextContent).Text == "remember me"
			}
		case <-ctx.Done():
			t.Fatal("bob never got the message")
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*client.Client{alice, bob} {
		path := filepath.Join(idDir, u.Me().Name()+".history.db")
		h, err := history.Open(ctx, path, u.Me(), history.Options{})
		if err != nil {
			t.Fatalf("%s's history: %v", u.Me().Name(), err)
		}
		n, err := h.Count(ctx)
		h.Close()
		if err != nil || n == 0 {
			t.Errorf("%s's history remembers %d messages (%v)", u.Me().Name(), n, err)
		}
	}

	bobHistory := filepath.Join(idDir, "bob.history.db")
	garbage := []byte(strings.Repeat("not a database ", 300))
	if err := os.WriteFile(bobHistory, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err = startDemo(ctx, demoConfig{Listen: "127.0.0.1:0", StationDir: stationDir, IdentityDir: idDir, Users: []string{"alice", "bob"}})
	if err == nil {
		d.Close()
		t.Fatal("the demo started on a damaged history")
	}
	if !errors.Is(err, history.ErrCorrupt) || !strings.Contains(err.Error(), "history of bob") || !strings.Contains(err.Error(), bobHistory) {
		t.Errorf("error %q, want one that names bob's history and says it is damaged", err)
	}
	if raw, _ := os.ReadFile(bobHistory); string(raw) != string(garbage) {
		t.Error("the damaged history was changed")
	}
}
