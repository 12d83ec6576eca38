package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
