package client_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/client/history"
	"dimtui/dimp"
	"dimtui/mockstation"
)

// The fault test runs the station in a child process (this test binary,
// re-executed) so that it can be killed with SIGKILL, not shut down.
const childEnv = "DIMTUI_TEST_STATION"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		var addr, dir string
		fmt.Sscan(spec, &addr, &dir)
		srv, err := mockstation.New(context.Background(), mockstation.Config{Listen: addr, DataDir: dir, RateLimit: -1})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		_ = srv.Run(context.Background()) // until killed
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func startChild(t *testing.T, addr, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+addr+" "+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return cmd
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("station child did not start")
	return nil
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestStationKilledMidStream kills the station (SIGKILL) in the middle of
// thousands of messages, restarts the receiving client on the same data
// while the station is down, and restarts the station on its data: every
// message arrives, and none is shown twice to the user, counted over both
// runs of the receiver. The acknowledgements the kill lost make the station
// offer again messages the first run showed; the second run knows them from
// the history.
func TestStationKilledMidStream(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	_, bob, bob2 := killedMidStream(t, n, func(i int) string { return fmt.Sprintf("m-%05d", i) })
	shown := func(text string) int { return bob.messages[text] + bob2.messages[text] } // bob's are final
	bob2.waitFor("every message", 120*time.Second, func([]client.Event) bool {
		for i := n - 1; i >= 0; i-- {
			if shown(fmt.Sprintf("m-%05d", i)) == 0 {
				return false
			}
		}
		return true
	})
	bob2.mu.Lock()
	defer bob2.mu.Unlock()
	dups := 0
	for i := 0; i < n; i++ {
		if c := shown(fmt.Sprintf("m-%05d", i)); c != 1 {
			dups += c - 1
			if dups < 10 {
				t.Errorf("m-%05d shown %d times", i, c)
			}
		}
	}
	if dups > 0 {
		t.Errorf("%d messages shown twice (or more) of %d", dups, n)
	}
	t.Logf("shown by the first run %d, by the second %d", len(bob.messages), len(bob2.messages))
	if len(bob2.messages) == 0 || len(bob.messages) == n {
		t.Error("the receiver's restart did not fall in the middle of the stream")
	}
}

// connectWithHistory connects a client with its history at path, closed
// when the client has stopped.
// killedMidStream starts a station as a child process, alice, and bob on
// a history; alice sends bob n texts (text(i)); once bob has shown a third
// of them, the station is killed with SIGKILL, bob stops (his events are
// final) and starts again on the same history as bob2, and the station is
// restarted on its data. It returns once alice has sent every text.
func killedMidStream(t *testing.T, n int, text func(int) string) (alice, bob, bob2 *peer) {
	t.Helper()
	dir, addr := t.TempDir(), freeAddr(t)
	station := startChild(t, addr, dir)
	url := "ws://" + addr
	alice = connect(t, url, newUser(t, "alice"))
	bobID := newUser(t, "bob")
	bobHistory := filepath.Join(t.TempDir(), "bob.history.db")
	bob = connectWithHistory(t, url, bobID, bobHistory)
	alice.waitRunning()
	bob.waitRunning()

	sent := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if _, err := alice.c.SendText(context.Background(), bobID.ID, text(i)); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	bob.waitFor("a third of the messages", 60*time.Second, func([]client.Event) bool { return len(bob.messages) >= n/3 })
	if err := station.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = station.Wait()
	bob.waitFor("the station lost", 30*time.Second, func([]client.Event) bool { return bob.c.Status().State != client.Running })
	bob.stop() // what it handed over before it stopped is counted
	bob2 = connectWithHistory(t, url, bobID, bobHistory)
	startChild(t, addr, dir)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	return alice, bob, bob2
}

func connectWithHistory(t *testing.T, url string, u *dimp.Identity, path string) *peer {
	t.Helper()
	h, err := history.Open(context.Background(), path, u.ID, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := connectWith(t, client.Config{URL: url, Identity: u, History: h})
	t.Cleanup(func() { p.stop(); h.Close() })
	return p
}
