package echobot

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
)

// Invited to a group, the bot is a member like any other: what a member
// writes to the group, it echoes to the whole group, and it does not echo
// an echo.
func TestGroupInvitationIsAccepted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := startStation(t, ctx)

	botID, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	bot, err := New(url, botID, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	go bot.Run(ctx)
	alice, bob := runUser(t, ctx, url, "alice"), runUser(t, ctx, url, "bob")
	waitRunning := func(c *client.Client) {
		for deadline := time.Now().Add(10 * time.Second); c.Status().State != client.Running; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never connected", c.Me())
			}
		}
	}
	waitRunning(alice)
	waitRunning(bob)
	waitRunning(bot.c)
	group, err := alice.CreateGroup(ctx, "bots welcome", []dimp.ID{bob.Me(), botID.ID})
	if err != nil {
		t.Fatal(err)
	}
	// The bot has taken the reset once it knows it is a member.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if g, _ := bot.c.Group(ctx, group); g != nil && g.IsMember(botID.ID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bot never took the group's reset")
		}
	}
	if _, err := alice.SendText(ctx, group, "hello bots"); err != nil {
		t.Fatal(err)
	}
	echoes := 0
	timeout := time.After(15 * time.Second)
	for echoes < 1 {
		select {
		case ev := <-bob.Events():
			m, ok := ev.(client.MessageEvent)
			if !ok || !m.Message.Sender.SameAs(botID.ID) {
				continue
			}
			tc, ok := m.Message.Content.(*dimp.TextContent)
			if !ok || tc.Text != "echo: hello bots" || !tc.Group.SameAs(group) {
				t.Fatalf("bob got %#v from the bot", m.Message.Content)
			}
			echoes++
		case <-timeout:
			t.Fatal("bob never saw the bot's echo in the group")
		}
	}
	// An echo in the group (another bot's, say) is not echoed again:
	// nothing more comes from the bot.
	if _, err := bob.SendText(ctx, group, "echo: from another bot"); err != nil {
		t.Fatal(err)
	}
	quiet := time.After(1500 * time.Millisecond)
	for {
		select {
		case ev := <-bob.Events():
			if m, ok := ev.(client.MessageEvent); ok && m.Message.Sender.SameAs(botID.ID) {
				t.Fatalf("a second message from the bot: %#v", m.Message.Content)
			}
		case <-quiet:
			return
		}
	}
}
