package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/dimptest"
)

// The history, end to end: alice, the real binary under tmux, writes to
// bob, quits and starts again: her conversation with bob is there, the
// line once with its tick. Then, with alice away, bob writes to her, the
// station (a real dimtui station process) is killed with SIGKILL and
// started again on the same data: alice starts and sees bob's message
// once, and her earlier line still once.
func TestHistoryAcrossRestartsInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	st := startStationProcess(t)
	url := "ws://" + st.addr + "/"
	bob := runHistPeer(t, url, "bob")
	waitUntil(t, 20*time.Second, "bob's client is running at the station", bob.running)

	data := filepath.Join(t.TempDir(), "alice-data")
	args := []string{"chat", "--data", data, "--station", url, "--id", "alice"}
	alice := startInTmux(t, "hist-1", "alice", 100, 30, args...)
	alice.waitFor("[Success]", 20*time.Second)
	alice.line("/to bob")
	alice.waitFor("Message bob", 10*time.Second) // the composer, in bob's conversation
	const mine = "remember me 42"
	alice.line(mine)
	alice.waitUntil(mine+" delivered (✓✓ or ◉)", 20*time.Second, func(s string) bool { return delivered(s, mine) })
	waitUntil(t, 10*time.Second, "bob receives alice's line", func() bool { return bob.got(mine) == 1 })
	quitTmux(t, alice)

	// A restart: the conversation with bob, from the history.
	alice = startInTmux(t, "hist-2", "alice", 100, 30, args...)
	alice.waitFor("[Success]", 20*time.Second)
	alice.line("/to bob")
	alice.waitUntil(mine+" from the history, with its tick", 10*time.Second, func(s string) bool { return delivered(s, mine) })
	time.Sleep(time.Second) // anything more the station or the history would add
	if s := alice.screen(); strings.Count(s, mine) != 1 || !delivered(s, mine) {
		t.Fatalf("after a restart %q shows %d times (want once, with ✓✓ or ◉):\n%s", mine, strings.Count(s, mine), s)
	}
	quitTmux(t, alice)

	// Alice away; bob writes; the station holds it and is killed.
	const theirs = "while you were away"
	id, err := bob.c.SendText(context.Background(), bob.sender(), theirs)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "the station holds bob's message for alice", func() bool { return bob.atStation(id) })
	st.kill(t)
	st.start(t)

	alice = startInTmux(t, "hist-3", "alice", 100, 30, args...)
	alice.waitFor("[Success]", 30*time.Second)
	alice.line("/to bob")
	alice.waitFor(theirs, 20*time.Second)
	time.Sleep(time.Second)
	s := alice.screen()
	if n := strings.Count(s, theirs); n != 1 {
		t.Errorf("bob's message kept through the station's kill shows %d times, want once:\n%s", n, s)
	}
	if n := strings.Count(s, mine); n != 1 || !delivered(s, mine) {
		t.Errorf("alice's earlier line shows %d times (want once, with ✓✓ or ◉):\n%s", n, s)
	}
	quitTmux(t, alice)
}

// delivered reports whether the screen shows text on a line with a tick
// of a message delivered or read.
func delivered(screen, text string) bool {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, text) && (strings.Contains(l, "✓✓") || strings.Contains(l, "◉")) {
			return true
		}
	}
	return false
}

// quitTmux quits the program with ctrl+c and waits until it is gone.
func quitTmux(t *testing.T, r *tmuxRun) {
	t.Helper()
	r.keys("C-c")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !r.gone() {
		time.Sleep(50 * time.Millisecond)
	}
	if !r.gone() {
		t.Fatalf("ctrl+c did not quit:\n%s", r.screen())
	}
}

// stationProcess is the real binary's station, on one address and data
// directory across kills.
type stationProcess struct {
	dir, addr, log string
	cmd            *exec.Cmd
	done           chan struct{}
}

func startStationProcess(t *testing.T) *stationProcess {
	t.Helper()
	p := &stationProcess{dir: t.TempDir(), addr: freeAddr(t), log: filepath.Join(t.TempDir(), "station.log")}
	p.start(t)
	t.Cleanup(func() {
		if p.cmd != nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			out, _ := os.ReadFile(p.log)
			t.Logf("the station's log:\n%s", out)
		}
	})
	return p
}

func (p *stationProcess) start(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "station", "--data", p.dir, "--listen", p.addr, "--no-echo", "--rate", "-1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	p.cmd, p.done = cmd, done
}

// kill kills the station with SIGKILL and waits until it is gone.
func (p *stationProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.cmd = nil
}

// histPeer is a user on the client package that remembers the texts it
// received, who sent them, and the delivery of what it sent.
type histPeer struct {
	c *client.Client

	mu     sync.Mutex
	state  client.State
	texts  map[string]int
	from   dimp.ID
	states map[client.MessageID]client.Delivery
}

func runHistPeer(t *testing.T, url, name string) *histPeer {
	t.Helper()
	c, err := client.New(client.Config{URL: url, Identity: dimptest.NewIdentity(t, dimp.User, name), EventBuffer: 1 << 12})
	if err != nil {
		t.Fatal(err)
	}
	u := &histPeer{c: c, texts: map[string]int{}, states: map[client.MessageID]client.Delivery{}}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = c.Run(ctx) }()
	go func() {
		for ev := range c.Events() {
			u.mu.Lock()
			switch ev := ev.(type) {
			case client.StatusEvent:
				u.state = ev.Status.State
			case client.MessageEvent:
				if tc, ok := ev.Message.Content.(*dimp.TextContent); ok {
					u.texts[tc.Text]++
					u.from = ev.Message.Sender
				}
			case client.DeliveryEvent:
				u.states[ev.ID] = ev.State
			}
			u.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-ran })
	return u
}

func (u *histPeer) running() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.state == client.Running
}

func (u *histPeer) got(text string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.texts[text]
}

// sender is who sent the last text received.
func (u *histPeer) sender() dimp.ID {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.from
}

func (u *histPeer) atStation(id client.MessageID) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	s, ok := u.states[id]
	return ok && s >= client.AtStation && s != client.Failed
}
