package client_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/mockstation"
)

// The fault test runs the station in a child process (this test binary,
// re-executed) so that it can be killed with SIGKILL, not shut down.
const childEnv = "DIMTUI_TEST_STATION"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		var addr, dir string
		fmt.Sscan(spec, &addr, &dir)
		srv, err := mockstation.New(mockstation.Config{Listen: addr, DataDir: dir, RateLimit: -1})
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

// TestStationKilledMidStream kills the station in the middle of thousands
// of messages and restarts it on the same data: every message arrives, and
// none is shown twice.
func TestStationKilledMidStream(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	dir, addr := t.TempDir(), freeAddr(t)
	station := startChild(t, addr, dir)
	url := "ws://" + addr
	alice := connect(t, url, newUser(t, "alice"))
	bob := connect(t, url, newUser(t, "bob"))
	alice.waitRunning()
	bob.waitRunning()

	sent := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if _, err := alice.c.SendText(context.Background(), bob.c.Me(), fmt.Sprintf("m-%05d", i)); err != nil {
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
	startChild(t, addr, dir)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	bob.waitFor("every message", 120*time.Second, func([]client.Event) bool { return len(bob.messages) == n })
	bob.mu.Lock()
	defer bob.mu.Unlock()
	for i := 0; i < n; i++ {
		if c := bob.messages[fmt.Sprintf("m-%05d", i)]; c != 1 {
			t.Errorf("m-%05d shown %d times", i, c)
		}
	}
	var reconnected bool
	for _, ev := range bob.events {
		if s, ok := ev.(client.StatusEvent); ok && s.Status.Attempt > 0 {
			reconnected = true
		}
	}
	if !reconnected {
		t.Error("bob never lost the station: the kill came too late to test anything")
	}
}
