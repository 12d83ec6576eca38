package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/workshop"
)

// tmuxRun is the real binary running in a tmux session of its own.
type tmuxRun struct {
	t      *testing.T
	tmux   string
	socket string
}

// startInTmux builds dimtui and runs it with args in a w×h tmux window,
// with a fresh HOME and nothing else in the environment.
func startInTmux(t *testing.T, name string, w, h int, args ...string) *tmuxRun {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "dimtui")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	r := &tmuxRun{t: t, tmux: tmux, socket: "dimtui-" + name + "-" + strconv.Itoa(os.Getpid())}
	shell := "env -i HOME=" + home + " USER=presenter PATH=/usr/bin:/bin TERM=xterm-256color " + bin + " " + strings.Join(args, " ")
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

// half returns the left (0) or right (1) half of every line of a screen
// split in two columns.
func half(screen string, side, width int) string {
	var out []string
	for _, l := range strings.Split(screen, "\n") {
		runes := []rune(l)
		mid := min(width/2, len(runes))
		if side == 0 {
			out = append(out, string(runes[:mid]))
		} else {
			out = append(out, string(runes[mid:]))
		}
	}
	return strings.Join(out, "\n")
}

// TestSplitViewInTmux runs `dimtui demo --users alice,bob` as a presenter
// would: two real clients side by side; alice writes to bob and bob
// answers, f6 moving the keyboard; the station expires alice's session and
// she handshakes again; /export writes a transcript that reads back.
func TestSplitViewInTmux(t *testing.T) {
	const w, h = 200, 45
	r := startInTmux(t, "split", w, h, "demo", "--users", "alice,bob", "--fresh", "--listen", "127.0.0.1:0")
	r.waitUntil("both handshakes", 15*time.Second, func(s string) bool { return strings.Count(s, "[Success]") == 2 })
	s := r.screen()
	if !strings.Contains(half(s, 0, w), "me alice") || !strings.Contains(half(s, 1, w), "me bob") {
		t.Fatalf("alice and bob are not side by side:\n%s", s)
	}

	r.line("hello bob, from the left")
	r.waitUntil("bob gets it", 10*time.Second, func(s string) bool {
		return strings.Contains(half(s, 1, w), "hello bob, from the left")
	})
	r.keys("F6")
	r.line("hello alice, from the right")
	r.waitUntil("alice gets the answer, and her message is delivered", 10*time.Second, func(s string) bool {
		left := half(s, 0, w)
		return strings.Contains(left, "hello alice, from the right") &&
			(strings.Contains(left, "✓✓") || strings.Contains(left, "◉"))
	})

	// The station forgets alice's session: DIM? again, and a new handshake.
	r.keys("F6")
	r.line("/expire")
	r.waitFor("expired alice's session", 10*time.Second)
	r.waitUntil("alice's new handshake", 10*time.Second, func(s string) bool {
		left := half(s, 0, w)
		return strings.Count(left, "handshake Success") >= 2 && strings.Contains(left, "[Success]")
	})

	// The transcript, as JSON Lines (read back) and Markdown.
	base := filepath.Join(t.TempDir(), "session")
	r.line("/export " + base)
	r.waitFor("wrote", 10*time.Second)
	f, err := os.Open(base + ".jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := workshop.ReadTranscript(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Panes) != 2 || !strings.HasPrefix(tr.Panes[0].User, "alice@") || !strings.HasPrefix(tr.Panes[1].User, "bob@") {
		t.Errorf("transcript panes %+v", tr.Panes)
	}
	md, err := os.ReadFile(base + ".md")
	if err != nil || !strings.Contains(string(md), "handshake Again") || !strings.Contains(string(md), "hello bob, from the left") {
		t.Errorf("Markdown transcript: %v\n%.2000s", err, md)
	}

	r.keys("C-c")
	r.waitUntil("the program quits", 5*time.Second, func(string) bool { _, err := r.tm("has-session", "-t", "e2e"); return err != nil })
}

// TestStepThroughInTmux starts the demo with every frame held: nothing
// moves until the presenter releases frames, one by one, then all.
func TestStepThroughInTmux(t *testing.T) {
	const w, h = 160, 45
	r := startInTmux(t, "step", w, h, "demo", "--users", "alice,bob", "--fresh", "--listen", "127.0.0.1:0", "--step")
	r.waitFor("STEP-THROUGH", 10*time.Second)
	r.waitFor("held: not written yet", 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	if s := r.screen(); strings.Contains(s, "[Again]") || strings.Contains(s, "[Success]") {
		t.Fatalf("the handshake went on while its frames were held:\n%s", s)
	}
	// Enter on an empty line releases one frame: once a Hello is out, the
	// station answers DIM?, which is held in turn, and explained when its
	// turn comes.
	presses := 0
	r.waitUntil("a DIM? held", 10*time.Second, func(s string) bool {
		if strings.Contains(s, "held: not processed yet") && strings.Contains(s, "DIM?") {
			return true
		}
		if presses < 4 {
			presses++
			r.keys("Enter")
			time.Sleep(200 * time.Millisecond)
		}
		return false
	})
	if s := r.screen(); strings.Contains(s, "[Success]") {
		t.Fatalf("a handshake succeeded with its DIM? held:\n%s", s)
	}
	// f9 releases everything held, as often as it takes.
	r.waitUntil("both handshakes", 20*time.Second, func(s string) bool {
		if strings.Count(s, "[Success]") == 2 {
			return true
		}
		r.keys("F9")
		return false
	})
	r.keys("F7")
	r.waitFor("step-through off", 5*time.Second)
	r.keys("C-c")
}

// waitRunning waits until every client of the session runs.
func waitRunning(t *testing.T, clients []*client.Client) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for _, c := range clients {
		for c.Status().State != client.Running {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v", c.Me(), c.Status())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// drain reads the clients' events, as the UI would, until the test ends.
func drain(t *testing.T, clients []*client.Client) {
	for _, c := range clients {
		go func() {
			for range c.Events() {
			}
		}()
	}
}

// TestWorkshopSession runs the demo behind the UI: two fresh users, a
// station expired and restarted under them, and a reset to new ones.
func TestWorkshopSession(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws := &workshopSession{ctx: ctx, users: []string{"alice", "bob"}, log: slog.New(slog.DiscardHandler),
		wf: &workshopFlags{fresh: true, listen: "127.0.0.1:0", drop: []string{"alice"}}, notices: make(chan workshop.StationNotice, 64)}
	if err := ws.start(); err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.armFlags(); err != nil {
		t.Fatal(err)
	}
	d, _, _ := ws.current()
	drain(t, d.Clients)
	waitRunning(t, d.Clients)
	specs := ws.specs()
	if len(specs) != 2 || !specs[0].Options.Peer.SameAs(d.Clients[1].Me()) || !specs[1].Options.Peer.SameAs(d.Clients[0].Me()) {
		t.Fatalf("alice and bob do not talk to each other: %+v", specs)
	}
	firstDirs := append([]string(nil), ws.tmp...)
	for _, name := range []string{"alice", "bob"} { // beside the fresh identities
		if _, err := os.Stat(filepath.Join(firstDirs[1], name+".history.db")); err != nil {
			t.Errorf("%s's history: %v", name, err)
		}
	}

	// The station forgets alice, then restarts: both clients come back.
	if err := ws.Expire(d.Clients[0].Me()); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-ws.Notices():
		if !strings.Contains(n.Text, "expired alice's session") {
			t.Errorf("notice %q", n.Text)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notice of the expiry")
	}
	waitRunning(t, d.Clients)
	if err := ws.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for d.Clients[0].Status().Attempt == 0 && d.Clients[0].Status().State == client.Running {
		if time.Now().After(deadline) {
			t.Fatal("alice never noticed the restart")
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitRunning(t, d.Clients)
	if err := ws.SetDelay(d.Clients[1].Me(), 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}

	// A reset: new identities, a new station, the old directories gone.
	old := d.Clients[0].Me()
	specs, err := ws.Reset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d2, _, _ := ws.current()
	drain(t, d2.Clients)
	waitRunning(t, d2.Clients)
	if len(specs) != 2 || d2.Clients[0].Me().SameAs(old) || d2.Clients[0].Me().Name() != "alice" {
		t.Errorf("after the reset alice is %s (was %s)", d2.Clients[0].Me(), old)
	}
	for _, dir := range firstDirs {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s still there after the reset: %v", dir, err)
		}
	}
}

func TestParseUsersAndFaultFlags(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
	}{{"alice,bob", "[alice bob]"}, {" alice , bob ,carol", "[alice bob carol]"}, {"", ""}, {"a,a", ""}, {"a,b,c,d,e", ""}} {
		got, err := parseUsers(tt.in)
		if (tt.want == "") != (err != nil) || (err == nil && fmt.Sprint(got) != tt.want) {
			t.Errorf("parseUsers(%q) = %v, %v", tt.in, got, err)
		}
	}
	if u, in, err := faultTarget("drop", "bob:in"); u != "bob" || !in || err != nil {
		t.Errorf("bob:in = %s %v %v", u, in, err)
	}
	if _, _, err := faultTarget("drop", "bob:sideways"); err == nil {
		t.Error("bob:sideways accepted")
	}
}
