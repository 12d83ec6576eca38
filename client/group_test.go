package client_test

import (
	"context"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
)

// A group command a peer sends reaches the receiver as what its sender
// says, with the group and the members it names; a text whose content
// names the group arrives with that group.
func TestGroupCommandAndMessageArrive(t *testing.T) {
	alice, bob := pair(t, startStation(t, t.TempDir(), "").url)
	ctx := context.Background()
	group := dimp.MustParseID("group-alice@hz519K77dgxczwCDEgBhokWzdgbhFRSDg")
	carol := dimp.MustParseID("carol@1Hzr8ZpD32Hy3b4Pb7b7Q1dUmNyNbd8LKa")

	if _, err := alice.c.SendCommand(ctx, bob.c.Me(), dimp.NewGroupCommand(dimp.CmdInvite, group, []dimp.ID{bob.c.Me(), carol})); err != nil {
		t.Fatal(err)
	}
	text := dimp.NewText("hello crew")
	text.Group = group
	if _, err := alice.c.Send(ctx, bob.c.Me(), text); err != nil {
		t.Fatal(err)
	}
	var cmd client.GroupCommandEvent
	bob.waitFor("the group command", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if g, ok := ev.(client.GroupCommandEvent); ok {
				cmd = g
				return true
			}
		}
		return false
	})
	if !cmd.From.SameAs(alice.c.Me()) || !cmd.Group.SameAs(group) || cmd.Command != dimp.CmdInvite ||
		len(cmd.Members) != 2 || !cmd.Members[1].SameAs(carol) {
		t.Errorf("group command event %+v", cmd)
	}
	bob.waitFor("the group text", 10*time.Second, func(evs []client.Event) bool {
		return received(evs, func(c dimp.Content) bool {
			tc, ok := c.(*dimp.TextContent)
			return ok && tc.Text == "hello crew" && tc.Group.SameAs(group)
		}) != nil
	})
}
