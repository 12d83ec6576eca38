package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// built is dimtui built once for every end-to-end test of this test
// binary, in a directory removed when they are done.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// binary returns the path of dimtui built from this package, building it
// on first use.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "dimtui-e2e-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "dimtui")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// tmuxRun is the real binary running in a tmux session of its own.
type tmuxRun struct {
	t      *testing.T
	tmux   string
	socket string
	home   string // the program's HOME, fresh and empty at the start
}

// startInTmux runs dimtui with args in a w×h tmux window, with a fresh
// HOME, USER=user and nothing else in the environment, as a newcomer's
// account would have.
func startInTmux(t *testing.T, name, user string, w, h int, args ...string) *tmuxRun {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed")
	}
	bin := binary(t)
	home := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	r := &tmuxRun{t: t, tmux: tmux, socket: "dimtui-" + name + "-" + strconv.Itoa(os.Getpid()), home: home}
	shell := "env -i HOME=" + home + " USER=" + user + " PATH=/usr/bin:/bin TERM=xterm-256color " + bin + " " + strings.Join(args, " ")
	if out, err := r.tm("new-session", "-d", "-s", "e2e", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), shell); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = r.tm("kill-server") })
	return r
}

func (r *tmuxRun) tm(args ...string) (string, error) {
	out, err := exec.Command(r.tmux, append([]string{"-L", r.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

func (r *tmuxRun) screen() string {
	s, _ := r.tm("capture-pane", "-p", "-t", "e2e")
	return s
}

// waitUntil polls the screen until ok says yes.
func (r *tmuxRun) waitUntil(what string, timeout time.Duration, ok func(screen string) bool) string {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	var s string
	for time.Now().Before(deadline) {
		if s = r.screen(); ok(s) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("%s: not on the screen after %s:\n%s", what, timeout, s)
	return ""
}

func (r *tmuxRun) waitFor(text string, timeout time.Duration) string {
	r.t.Helper()
	return r.waitUntil(text, timeout, func(s string) bool { return strings.Contains(s, text) })
}

func (r *tmuxRun) keys(keys ...string) {
	r.t.Helper()
	if out, err := r.tm(append([]string{"send-keys", "-t", "e2e"}, keys...)...); err != nil {
		r.t.Fatalf("send-keys: %v\n%s", err, out)
	}
}

func (r *tmuxRun) line(text string) {
	r.t.Helper()
	r.keys("-l", text)
	r.keys("Enter")
}

// gone reports whether the program has quit (and its session with it).
func (r *tmuxRun) gone() bool {
	_, err := r.tm("has-session", "-t", "e2e")
	return err != nil
}
