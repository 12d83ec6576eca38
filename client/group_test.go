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
	cmd := bob.groupEvent("the group command")
	if !cmd.From.SameAs(alice.c.Me()) || !cmd.Group.SameAs(group) || cmd.Command != dimp.CmdInvite ||
		len(cmd.Members) != 2 || !cmd.Members[1].SameAs(carol) {
		t.Errorf("group command event %+v", cmd)
	}
	// Nobody has published that group's bulletin: bob asked the station,
	// which does not know it, and the command is refused as the
	// reference does.
	if cmd.Change.Refused != client.GroupEmpty {
		t.Errorf("a command for a group nobody published: %+v", cmd.Change)
	}
	bob.waitFor("the group text", 10*time.Second, func(evs []client.Event) bool {
		return received(evs, func(c dimp.Content) bool {
			tc, ok := c.(*dimp.TextContent)
			return ok && tc.Text == "hello crew" && tc.Group.SameAs(group)
		}) != nil
	})
}

// alice founds a group and publishes its meta and bulletin at the
// station; her reset reaches bob before he knows the group: he asks the
// station for it, and the reset then takes him in, from its owner.
func TestGroupResetAfterTheBulletin(t *testing.T) {
	f := foundGroup(t, "The crew")
	st, alice, bob, group, meta, bulletin := f.st, f.alice, f.bob, f.group, f.meta, f.bulletin
	ctx := context.Background()
	up, err := alice.c.SendCommand(ctx, dimp.AnyStation, dimp.NewDocumentCommand(group, meta, []*dimp.Document{bulletin}))
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the bulletin stored", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if r, ok := ev.(client.ReceiptEvent); ok && r.For == up && r.Receipt != nil {
				return true
			}
		}
		return false
	})
	if _, err := alice.c.SendCommand(ctx, bob.c.Me(), dimp.NewGroupCommand(dimp.CmdReset, group, []dimp.ID{alice.c.Me(), bob.c.Me()})); err != nil {
		t.Fatal(err)
	}
	got := bob.groupEvent("the reset")
	if got.Change.Refused != "" || got.Role != "owner" || len(got.Change.Added) != 1 || !got.Change.Added[0].SameAs(bob.c.Me()) {
		t.Errorf("bob's reset: role %q, change %+v", got.Role, got.Change)
	}

	// Now that bob knows the members, a message to the group from carol,
	// who is not one, is refused; alice's is shown.
	carol := connect(t, st.url, newUser(t, "carol"))
	carol.waitRunning()
	introduce(t, carol, bob)
	for _, p := range []*peer{carol, alice} {
		text := dimp.NewText("to the crew from " + p.c.Me().Name())
		text.Group = group
		if _, err := p.c.Send(ctx, bob.c.Me(), text); err != nil {
			t.Fatal(err)
		}
	}
	bob.waitFor("alice's group text", 10*time.Second, func(evs []client.Event) bool {
		return received(evs, func(c dimp.Content) bool {
			tc, ok := c.(*dimp.TextContent)
			return ok && tc.Text == "to the crew from alice"
		}) != nil
	})
	bob.waitFor("carol's refusal", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if r, ok := ev.(client.GroupRefusedEvent); ok && r.From.SameAs(carol.c.Me()) && r.Group.SameAs(group) {
				return true
			}
		}
		return false
	})
	bob.mu.Lock()
	defer bob.mu.Unlock()
	if received(bob.events, func(c dimp.Content) bool {
		tc, ok := c.(*dimp.TextContent)
		return ok && tc.Text == "to the crew from carol"
	}) != nil {
		t.Error("carol's message to a group she is not in was shown")
	}
}

// groupEvent waits for p's first group command event and returns it.
func (p *peer) groupEvent(what string) client.GroupCommandEvent {
	p.t.Helper()
	var got client.GroupCommandEvent
	p.waitFor(what, 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if g, ok := ev.(client.GroupCommandEvent); ok {
				got = g
				return true
			}
		}
		return false
	})
	return got
}

// A member's group history — the group's documents and its reset, each a
// broadcast signed by the owner, forwarded by a member — makes the group
// known to a newcomer: the station never needs to know it. A forward of
// anything else is not opened.
func TestGroupHistoryBundle(t *testing.T) {
	f := foundGroup(t, "Quiet crew")
	aliceID, alice, bob, group, meta, bulletin := f.aliceID, f.alice, f.bob, f.group, f.meta, f.bulletin
	introduce(t, bob, alice)
	ctx := context.Background()
	packer := dimp.NewPacker(aliceID)
	broadcast := func(c dimp.Content) *dimp.ReliableMessage {
		rm, err := packer.Seal(dimp.NewInstantMessage(aliceID.ID, dimp.Anyone, c), nil, dimp.SealOptions{Attach: true})
		if err != nil {
			t.Fatal(err)
		}
		return rm
	}
	history := &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward), Secrets: []*dimp.ReliableMessage{
		broadcast(dimp.NewDocumentCommand(group, meta, []*dimp.Document{bulletin})),
		broadcast(dimp.NewGroupCommand(dimp.CmdReset, group, []dimp.ID{aliceID.ID, bob.c.Me()})),
	}}
	if _, err := alice.c.Send(ctx, bob.c.Me(), history); err != nil {
		t.Fatal(err)
	}
	got := bob.groupEvent("the reset in the history")
	if got.Change.Refused != "" || got.Role != "owner" || got.Now == nil || got.Now.Name != "Quiet crew" || len(got.Now.Members) != 2 {
		t.Errorf("the history's reset: role %q, change %+v, group %+v", got.Role, got.Change, got.Now)
	}

	// A forward of a chat message is shown as a forward, not opened as if
	// alice had sent bob its inner text.
	other := &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward),
		Secrets: []*dimp.ReliableMessage{broadcast(dimp.NewText("inner text"))}}
	if _, err := alice.c.Send(ctx, bob.c.Me(), other); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the forward", 10*time.Second, func(evs []client.Event) bool {
		return received(evs, func(c dimp.Content) bool { _, ok := c.(*dimp.ForwardContent); return ok }) != nil
	})
	bob.mu.Lock()
	defer bob.mu.Unlock()
	if received(bob.events, func(c dimp.Content) bool { tc, ok := c.(*dimp.TextContent); return ok && tc.Text == "inner text" }) != nil {
		t.Error("a forwarded chat message was opened as if sent to bob")
	}
}

// founded is a group alice founded (not published anywhere yet), with
// alice and bob connected to a station and alice knowing bob.
type founded struct {
	st         *station
	aliceID    *dimp.Identity
	alice, bob *peer
	group      dimp.ID
	meta       *dimp.Meta
	bulletin   *dimp.Document
}

func foundGroup(t *testing.T, name string) founded {
	t.Helper()
	f := founded{aliceID: newUser(t, "alice"), st: startStation(t, t.TempDir(), "")}
	f.alice = connect(t, f.st.url, f.aliceID)
	f.bob = connect(t, f.st.url, newUser(t, "bob"))
	f.alice.waitRunning()
	f.bob.waitRunning()
	introduce(t, f.alice, f.bob)
	var err error
	if f.group, f.meta, err = dimp.NewGroupID(f.aliceID.SignKey, ""); err != nil {
		t.Fatal(err)
	}
	if f.bulletin, err = dimp.NewBulletin(dimp.Bulletin{Group: f.group, Name: name, Founder: f.aliceID.ID}, f.aliceID.SignKey); err != nil {
		t.Fatal(err)
	}
	return f
}
