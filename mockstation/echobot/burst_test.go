package echobot

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/crypto"
	"dimtui/mockstation"
)

// A burst of texts is answered in full. The bot once sent its answers from
// the goroutine that reads its events: when a burst filled the events
// channel, the loop waited for room and the bot for the loop, and it never
// answered again. A small events channel makes that happen at once.
func TestBurstIsAnswered(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := startStation(t, ctx)

	botID, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	bc, err := client.New(client.Config{URL: url, Identity: botID, EventBuffer: 4})
	if err != nil {
		t.Fatal(err)
	}
	bot := &Bot{c: bc, log: slog.New(slog.DiscardHandler)}
	go bot.Run(ctx)

	ac := runUser(t, ctx, url, "alice")

	const n = 300
	echoes := 0
	running := false
	// A bot that stops answering stops for good: the test fails when no
	// echo has come for stall, however long the whole burst takes on a
	// busy machine (under the race detector, a minute and more).
	const stall = 30 * time.Second
	deadline := time.NewTimer(stall)
	defer deadline.Stop()
	for echoes < n {
		select {
		case ev := <-ac.Events():
			switch e := ev.(type) {
			case client.StatusEvent:
				if e.Status.State == client.Running && !running {
					running = true
					go func() {
						for i := range n {
							if _, err := ac.SendText(ctx, botID.ID, "burst "+strconv.Itoa(i)); err != nil {
								return
							}
						}
					}()
				}
			case client.MessageEvent:
				if e.Message.Sender.SameAs(botID.ID) {
					echoes++
					deadline.Reset(stall)
				}
			}
		case <-deadline.C:
			t.Fatalf("%d of %d texts echoed, none for %v", echoes, n, stall)
		}
	}
}

// startStation runs a station on a loopback port until ctx ends, and
// returns its URL.
func startStation(t *testing.T, ctx context.Context) string {
	t.Helper()
	srv, err := mockstation.New(ctx, mockstation.Config{DataDir: t.TempDir(), RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ctx, ln)
	return "ws://" + ln.Addr().String() + "/"
}

// runUser runs a client of a new user called name until ctx ends.
func runUser(t *testing.T, ctx context.Context, url, name string) *client.Client {
	t.Helper()
	sign, _ := crypto.GenerateECC()
	visa, _ := crypto.GenerateRSA(1024)
	id, err := dimp.NewIdentity(dimp.User, dimp.MetaMKM, name, name, sign, visa)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{URL: url, Identity: id, EventBuffer: 1 << 12})
	if err != nil {
		t.Fatal(err)
	}
	go c.Run(ctx)
	return c
}
