package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/dimptest"
	"dimtui/mockstation"
)

// The middle station of a line A — B — C, a real dimtui station process,
// is killed (SIGKILL) while alice at A writes to carol at C, and started
// again on the same data: every message arrives, and carol sees each
// once. A passes nothing on for good until B has stored it, and B keeps
// what it stored across the kill.
func TestNetworkMiddleStationKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	bin := binary(t)
	bDir := t.TempDir()
	bAddr := freeAddr(t)
	bURL := "ws://" + bAddr + "/"
	logPath := filepath.Join(t.TempDir(), "b.log")
	startB := func() *exec.Cmd {
		t.Helper()
		logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "station", "--data", bDir, "--listen", bAddr, "--no-echo", "--rate", "-1")
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { cmd.Wait(); logf.Close() }()
		return cmd
	}
	b := startB()
	t.Cleanup(func() { b.Process.Kill() })
	defer func() {
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("station B's log:\n%s", out)
		}
	}()

	a := startLinked(t, bURL)
	c := startLinked(t, bURL)
	alice, carol := runNetUser(t, a.url, "alice"), runNetUser(t, c.url, "carol")
	waitUntil(t, 20*time.Second, "A knows carol at C and C knows alice at A", func() bool {
		return elsewhere(a.srv, carol.id.ID, c.srv.ID()) && elsewhere(c.srv, alice.id.ID, a.srv.ID())
	})

	const n = 150
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range n {
			if _, err := alice.c.SendText(context.Background(), carol.id.ID, "message "+strconv.Itoa(i)); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	waitUntil(t, 20*time.Second, "carol receives the first messages", func() bool { return carol.count() >= 20 })
	if err := b.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	if got := carol.count(); got >= n {
		t.Fatalf("carol had all %d messages before the kill: nothing was in the middle", got)
	}
	killedAt := carol.count()
	time.Sleep(300 * time.Millisecond)
	b = startB()
	<-sent
	waitUntil(t, 60*time.Second, fmt.Sprintf("carol receives all %d messages", n), func() bool { return carol.count() >= n })
	time.Sleep(500 * time.Millisecond)
	t.Logf("station B killed after carol had %d of %d messages", killedAt, n)
	carol.mu.Lock()
	defer carol.mu.Unlock()
	for i := range n {
		if got := carol.texts["message "+strconv.Itoa(i)]; got != 1 {
			t.Errorf("message %d shown %d times", i, got)
		}
	}
}

// linkedStation is an in-process station linked to a neighbour.
type linkedStation struct {
	srv *mockstation.Server
	url string
}

func startLinked(t *testing.T, neighbor string) *linkedStation {
	t.Helper()
	return serveStation(t, mockstation.Config{DataDir: t.TempDir(), RateLimit: -1, Neighbors: []string{neighbor}})
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// elsewhere reports whether srv knows user to be at station, with a route.
func elsewhere(srv *mockstation.Server, user, station dimp.ID) bool {
	s, err := srv.Status(context.Background())
	if err != nil {
		return false
	}
	for _, u := range s.Elsewhere {
		if u.User == user.String() && u.Station == station.String() && u.Route != "" {
			return true
		}
	}
	return false
}

// netUser is a user on the client package, counting the texts it is shown.
type netUser struct {
	id *dimp.Identity
	c  *client.Client

	mu    sync.Mutex
	texts map[string]int
	total int
}

func runNetUser(t *testing.T, url, name string) *netUser {
	t.Helper()
	id := dimptest.NewIdentity(t, dimp.User, name)
	c, err := client.New(client.Config{URL: url, Identity: id, EventBuffer: 1 << 12})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &netUser{id: id, c: c, texts: make(map[string]int)}
	done := make(chan struct{})
	go c.Run(ctx)
	go func() {
		defer close(done)
		for ev := range c.Events() {
			if m, ok := ev.(client.MessageEvent); ok {
				if tc, ok := m.Message.Content.(*dimp.TextContent); ok {
					u.mu.Lock()
					u.texts[tc.Text]++
					u.total++
					u.mu.Unlock()
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return u
}

func (u *netUser) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.texts)
}
