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
	srv, err := mockstation.New(ctx, mockstation.Config{DataDir: t.TempDir(), RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ctx, ln)
	url := "ws://" + ln.Addr().String() + "/"

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

	sign, _ := crypto.GenerateECC()
	visa, _ := crypto.GenerateRSA(1024)
	alice, err := dimp.NewIdentity(dimp.User, dimp.MetaMKM, "alice", "alice", sign, visa)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := client.New(client.Config{URL: url, Identity: alice})
	if err != nil {
		t.Fatal(err)
	}
	go ac.Run(ctx)

	const n = 300
	echoes := 0
	running := false
	deadline := time.After(time.Minute)
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
				}
			}
		case <-deadline:
			t.Fatalf("%d of %d texts echoed", echoes, n)
		}
	}
}
