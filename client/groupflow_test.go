package client_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
)

// crew is a station with users connected to it, all running.
func crew(t *testing.T, names ...string) (*station, []*peer) {
	t.Helper()
	st := startStation(t, t.TempDir(), "")
	var peers []*peer
	for _, n := range names {
		peers = append(peers, connect(t, st.url, newUser(t, n)))
	}
	for _, p := range peers {
		p.waitRunning()
	}
	return st, peers
}

// groupCommand waits for p's group command event that match accepts.
func (p *peer) groupCommand(what string, match func(client.GroupCommandEvent) bool) client.GroupCommandEvent {
	p.t.Helper()
	var got client.GroupCommandEvent
	p.waitFor(what, 15*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if g, ok := ev.(client.GroupCommandEvent); ok && match(g) {
				got = g
				return true
			}
		}
		return false
	})
	return got
}

// groupText waits until p has received text in group from sender.
func (p *peer) groupText(group, sender dimp.ID, text string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%q in the group", text), 15*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if m, ok := ev.(client.MessageEvent); ok {
				tc, isText := m.Message.Content.(*dimp.TextContent)
				if isText && tc.Text == text && tc.Group.SameAs(group) && m.Message.Sender.SameAs(sender) {
					return true
				}
			}
		}
		return false
	})
}

// memberStates waits for a group message's delivery to reach want for
// every member, and returns the last report.
func (p *peer) memberStates(id client.MessageID, members int, want client.Delivery) client.DeliveryEvent {
	p.t.Helper()
	var last client.DeliveryEvent
	p.waitFor(fmt.Sprintf("%s at %v for %d members", id, want, members), 15*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if d, ok := ev.(client.DeliveryEvent); ok && d.ID == id {
				last = d
			}
		}
		if len(last.Members) != members {
			return false
		}
		for _, m := range last.Members {
			if m.State < want || m.State == client.Failed {
				return false
			}
		}
		return true
	})
	return last
}

// alice creates a group with bob and carol; both are told (a reset from
// its owner, forwarded with the group's documents) and know its name and
// members. What each writes to the group reaches the others, sealed once
// per member, and alice's delivery is counted per member. She expels
// carol, who hears of it and gets nothing more; bob quits; the owner may
// not.
func TestGroupCreateTalkExpelQuit(t *testing.T) {
	_, ps := crew(t, "alice", "bob", "carol")
	alice, bob, carol := ps[0], ps[1], ps[2]
	ctx := context.Background()
	group, err := alice.c.CreateGroup(ctx, "crew", []dimp.ID{bob.c.Me(), carol.c.Me()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer{bob, carol} {
		got := p.groupCommand("the group's reset", func(g client.GroupCommandEvent) bool { return g.Group.SameAs(group) })
		if got.Command != dimp.CmdReset || got.Role != "owner" || got.Now == nil || got.Now.Name != "crew" ||
			len(got.Now.Members) != 3 || !got.Now.Members[0].SameAs(alice.c.Me()) || got.Change.Refused != "" {
			t.Fatalf("%s was told %+v (group %+v)", p.c.Me().Name(), got, got.Now)
		}
	}
	mine := alice.groupCommand("her own reset", func(g client.GroupCommandEvent) bool { return g.Group.SameAs(group) })
	if !mine.From.SameAs(alice.c.Me()) || len(mine.Change.Added) != 2 {
		t.Errorf("alice's own event: %+v", mine)
	}

	id, err := alice.c.SendText(ctx, group, "hello crew")
	if err != nil {
		t.Fatal(err)
	}
	bob.groupText(group, alice.c.Me(), "hello crew")
	carol.groupText(group, alice.c.Me(), "hello crew")
	if d := alice.memberStates(id, 2, client.Delivered); d.State < client.Delivered {
		t.Errorf("alice's group message: %v (%s)", d.State, d.Detail)
	}
	// Under 16 members: one frame per member, each addressed to it with
	// the group only inside the content, each with its own signature.
	alice.mu.Lock()
	frames := map[string]string{}
	for _, ev := range alice.events {
		if f, ok := ev.(client.FrameEvent); ok && f.Dir == client.Out && f.Layers != nil && f.Layers.Group != nil && f.Layers.Group.Group.SameAs(group) {
			rm := f.Layers.Reliable
			if f.Layers.Group.Once || !rm.Group.IsZero() || rm.Receiver.IsGroup() {
				t.Errorf("a small group's copy for %s: receiver %s, group %q", f.Layers.Group.Member, rm.Receiver, rm.Group)
			}
			frames[rm.Receiver.String()] = rm.SignatureText()
		}
	}
	alice.mu.Unlock()
	if len(frames) != 2 || frames[bob.c.Me().String()] == frames[carol.c.Me().String()] {
		t.Errorf("frames per member: %v", frames)
	}

	if _, err := bob.c.SendText(ctx, group, "hi from bob"); err != nil {
		t.Fatal(err)
	}
	alice.groupText(group, bob.c.Me(), "hi from bob")
	carol.groupText(group, bob.c.Me(), "hi from bob")

	// Only the owner or an administrator expels.
	if err := bob.c.ManageGroup(ctx, group, dimp.CmdExpel, []dimp.ID{carol.c.Me()}); !errors.Is(err, client.ErrGroup) {
		t.Errorf("bob expelling carol: %v", err)
	}
	if err := alice.c.ManageGroup(ctx, group, dimp.CmdExpel, []dimp.ID{carol.c.Me()}); err != nil {
		t.Fatal(err)
	}
	out := carol.groupCommand("her expulsion", func(g client.GroupCommandEvent) bool { return len(g.Change.Removed) > 0 })
	if !out.Change.Removed[0].SameAs(carol.c.Me()) || out.Now.IsMember(carol.c.Me()) {
		t.Errorf("carol's expulsion: %+v", out.Change)
	}
	bob.groupCommand("carol's expulsion", func(g client.GroupCommandEvent) bool { return len(g.Change.Removed) > 0 })
	after, err := alice.c.SendText(ctx, group, "without carol")
	if err != nil {
		t.Fatal(err)
	}
	bob.groupText(group, alice.c.Me(), "without carol")
	if d := alice.memberStates(after, 1, client.Delivered); !d.Members[0].Member.SameAs(bob.c.Me()) {
		t.Errorf("after the expulsion the message went to %v", d.Members)
	}
	if _, err := carol.c.SendText(ctx, group, "still here?"); err != nil {
		t.Fatal(err)
	}
	carol.waitFor("her message refused", 5*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if d, ok := ev.(client.DeliveryEvent); ok && d.State == client.Failed {
				return true
			}
		}
		return false
	})

	if err := alice.c.ManageGroup(ctx, group, dimp.CmdQuit, nil); !errors.Is(err, client.ErrGroup) {
		t.Errorf("the owner quitting: %v", err)
	}
	if err := bob.c.ManageGroup(ctx, group, dimp.CmdQuit, nil); err != nil {
		t.Fatal(err)
	}
	quit := alice.groupCommand("bob's quit", func(g client.GroupCommandEvent) bool { return g.Command == dimp.CmdQuit })
	if !quit.From.SameAs(bob.c.Me()) || quit.Now.IsMember(bob.c.Me()) {
		t.Errorf("bob's quit: %+v", quit)
	}
	carol.mu.Lock()
	defer carol.mu.Unlock()
	if carol.messages["without carol"] != 0 {
		t.Error("carol received a message after she was expelled")
	}
}

// A group of 16 or more members: the message is sealed once, its key
// encrypted for every member, and split into one copy per member, each
// exposing the group and sharing the signature, as dimples does.
func TestGroupLargeSealsOnce(t *testing.T) {
	names := []string{"alice", "bob"}
	for i := range 15 {
		names = append(names, fmt.Sprintf("m%02d", i))
	}
	_, ps := crew(t, names...)
	alice, bob := ps[0], ps[1]
	var members []dimp.ID
	for _, p := range ps[1:] {
		members = append(members, p.c.Me())
	}
	ctx := context.Background()
	group, err := alice.c.CreateGroup(ctx, "big crew", members)
	if err != nil {
		t.Fatal(err)
	}
	bob.groupCommand("the reset", func(g client.GroupCommandEvent) bool { return g.Group.SameAs(group) })
	// alice knows every member's visa (the reset's forwards asked for
	// them): the message is sealed once for all. A member whose visa is
	// not known yet gets a copy sealed alone once it comes.
	for _, p := range ps[1:] {
		introduce(t, alice, p)
	}
	id, err := alice.c.SendText(ctx, group, "hello all sixteen")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps[1:] {
		p.groupText(group, alice.c.Me(), "hello all sixteen")
	}
	alice.memberStates(id, 16, client.Delivered)
	alice.mu.Lock()
	defer alice.mu.Unlock()
	sigs := map[string]bool{}
	copies := 0
	for _, ev := range alice.events {
		if f, ok := ev.(client.FrameEvent); ok && f.Dir == client.Out && f.Layers != nil && f.Layers.Group != nil {
			rm := f.Layers.Reliable
			if !f.Layers.Group.Once || !rm.Group.SameAs(group) || len(rm.Keys) != 1 {
				t.Errorf("copy for %s: once %v, group %q, keys %d", rm.Receiver, f.Layers.Group.Once, rm.Group, len(rm.Keys))
			}
			sigs[rm.SignatureText()] = true
			copies++
		}
	}
	if copies != 16 || len(sigs) != 1 {
		t.Errorf("%d copies with %d signatures, want 16 with one", copies, len(sigs))
	}
}

// Bad input to a group: no name, too many members, a member who is not a
// user; each refused with a reason, nothing sent.
func TestGroupCreateRefused(t *testing.T) {
	_, ps := crew(t, "alice")
	alice := ps[0]
	ctx := context.Background()
	many := make([]dimp.ID, 1000)
	for i := range many {
		many[i] = dimp.MustParseID(fmt.Sprintf("u%d@1Hzr8ZpD32Hy3b4Pb7b7Q1dUmNyNbd8LKa", i))
	}
	for _, tt := range []struct {
		name    string
		members []dimp.ID
	}{
		{"", nil},
		{"crew", many},
		{"crew", []dimp.ID{dimp.Everyone}},
		{"crew", []dimp.ID{dimp.MustParseID("group-alice@hz519K77dgxczwCDEgBhokWzdgbhFRSDg")}},
	} {
		if _, err := alice.c.CreateGroup(ctx, tt.name, tt.members); !errors.Is(err, client.ErrGroup) {
			t.Errorf("create %q with %d members: %v", tt.name, len(tt.members), err)
		}
	}
}

// The owner hires bob: a new bulletin, which every member takes as the
// owner's word. As an administrator bob takes dave in; a member may not
// hire or expel; bob resigns, and is then no one to fire.
func TestGroupAdministrators(t *testing.T) {
	_, ps := crew(t, "alice", "bob", "carol", "dave")
	alice, bob, carol, dave := ps[0], ps[1], ps[2], ps[3]
	ctx := context.Background()
	group, err := alice.c.CreateGroup(ctx, "crew", []dimp.ID{bob.c.Me(), carol.c.Me()})
	if err != nil {
		t.Fatal(err)
	}
	carol.groupCommand("the reset", func(g client.GroupCommandEvent) bool { return g.Command == dimp.CmdReset })
	if err := alice.c.ManageGroup(ctx, group, dimp.CmdHire, []dimp.ID{bob.c.Me()}); err != nil {
		t.Fatal(err)
	}
	hired := carol.groupCommand("bob hired", func(g client.GroupCommandEvent) bool { return len(g.Change.Hired) > 0 })
	if !hired.From.SameAs(alice.c.Me()) || !hired.Change.Hired[0].SameAs(bob.c.Me()) || !hired.Now.IsAdmin(bob.c.Me()) {
		t.Errorf("carol saw %+v", hired)
	}
	bob.groupCommand("bob hired", func(g client.GroupCommandEvent) bool { return len(g.Change.Hired) > 0 })

	for _, action := range []string{dimp.CmdHire, dimp.CmdExpel} {
		if err := carol.c.ManageGroup(ctx, group, action, []dimp.ID{bob.c.Me()}); !errors.Is(err, client.ErrGroup) {
			t.Errorf("a member's %s: %v", action, err)
		}
	}
	if err := bob.c.ManageGroup(ctx, group, dimp.CmdInvite, []dimp.ID{dave.c.Me()}); err != nil {
		t.Fatal(err)
	}
	in := dave.groupCommand("his invitation", func(g client.GroupCommandEvent) bool { return g.Command == dimp.CmdReset })
	if in.Role != "administrator" || !in.From.SameAs(bob.c.Me()) || !in.Now.IsMember(dave.c.Me()) || in.Now.Name != "crew" {
		t.Errorf("dave was told %+v by %s", in.Change, in.Role)
	}
	alice.groupCommand("bob's reset", func(g client.GroupCommandEvent) bool {
		return g.From.SameAs(bob.c.Me()) && len(g.Change.Added) == 1 && g.Change.Added[0].SameAs(dave.c.Me())
	})

	if err := bob.c.ManageGroup(ctx, group, dimp.CmdResign, nil); err != nil {
		t.Fatal(err)
	}
	alice.groupCommand("bob's resignation", func(g client.GroupCommandEvent) bool { return g.Change.AdminRemoved.SameAs(bob.c.Me()) })
	if err := alice.c.ManageGroup(ctx, group, dimp.CmdFire, []dimp.ID{bob.c.Me()}); !errors.Is(err, client.ErrGroup) {
		t.Errorf("firing someone who resigned: %v", err)
	}
}

// A member who lost what it knew (a new client on the same identity)
// gets a message to the group: it holds it while it asks the station for
// the group's bulletin, shows it, and asks the owner for the members,
// whose answer is the group's history.
func TestGroupQueryAnswered(t *testing.T) {
	st, ps := crew(t, "alice", "bob")
	alice, bob := ps[0], ps[1]
	carolID := newUser(t, "carol")
	carol := connect(t, st.url, carolID)
	carol.waitRunning()
	ctx := context.Background()
	group, err := alice.c.CreateGroup(ctx, "crew", []dimp.ID{bob.c.Me(), carolID.ID})
	if err != nil {
		t.Fatal(err)
	}
	carol.groupCommand("the reset", func(g client.GroupCommandEvent) bool { return g.Command == dimp.CmdReset })
	bob.groupCommand("the reset", func(g client.GroupCommandEvent) bool { return g.Command == dimp.CmdReset })
	carol.stop()

	again := connect(t, st.url, carolID)
	again.waitRunning()
	if _, err := bob.c.SendText(ctx, group, "did you forget us?"); err != nil {
		t.Fatal(err)
	}
	again.groupText(group, bob.c.Me(), "did you forget us?")
	got := again.groupCommand("the history from the owner", func(g client.GroupCommandEvent) bool { return g.Command == dimp.CmdReset })
	if got.Now == nil || got.Now.Name != "crew" || len(got.Now.Members) != 3 {
		t.Errorf("carol learned %+v", got.Now)
	}
	again.mu.Lock()
	defer again.mu.Unlock()
	// The message waited for the group's bulletin: it is shown with the
	// group known.
	for _, ev := range again.events {
		if p, ok := ev.(client.PeerEvent); ok && p.Profile.ID.SameAs(group) {
			return
		}
		if m, ok := ev.(client.MessageEvent); ok && m.Message.Content.Header().Group.SameAs(group) {
			t.Fatal("the group message was shown before the group's bulletin came")
		}
	}
}

// dimchat's clients answer a forward with one of their own: empty, or
// holding their receipts for the messages inside, for whoever wrote each.
// An empty one is not shown; the sender's own receipts for me are taken as
// if they came alone, those for others are left alone.
func TestForwardedAnswers(t *testing.T) {
	f := foundGroup(t, "unused")
	alice, bob := f.alice, f.bob
	introduce(t, bob, alice)
	ctx := context.Background()
	if _, err := alice.c.Send(ctx, bob.c.Me(), &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward)}); err != nil {
		t.Fatal(err)
	}
	packer := dimp.NewPacker(f.aliceID)
	bobProfile, err := alice.c.Peer(ctx, bob.c.Me())
	if err != nil || bobProfile == nil {
		t.Fatalf("bob's profile: %v", err)
	}
	r := dimp.NewReceipt(dimp.ReceiptReceived, &dimp.Origin{Sender: bob.c.Me(), Receiver: alice.c.Me(), SN: 424242})
	inner, err := packer.Seal(dimp.NewInstantMessage(f.aliceID.ID, bob.c.Me(), r), []*dimp.Profile{bobProfile}, dimp.SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Beside it, alice's answer to a message someone else wrote that bob
	// passed on to her: for its writer (here alice herself), not for bob,
	// who cannot read it and is not shown it.
	r2 := dimp.NewReceipt(dimp.ReceiptReceived, &dimp.Origin{Sender: alice.c.Me(), Receiver: alice.c.Me(), SN: 434343})
	other, err := packer.Seal(dimp.NewInstantMessage(f.aliceID.ID, alice.c.Me(), r2), []*dimp.Profile{f.aliceID.Profile()}, dimp.SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Send(ctx, bob.c.Me(), &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward),
		Secrets: []*dimp.ReliableMessage{inner, other}}); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("alice's forwarded receipt", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if r, ok := ev.(client.ReceiptEvent); ok && r.From.SameAs(alice.c.Me()) && r.Receipt.Origin != nil && r.Receipt.Origin.SN == 424242 {
				return true
			}
		}
		return false
	})
	bob.mu.Lock()
	defer bob.mu.Unlock()
	if m := received(bob.events, func(c dimp.Content) bool { _, ok := c.(*dimp.ForwardContent); return ok }); m != nil {
		t.Errorf("a forward was shown: %+v", m.Message.Content)
	}
}

// A group whose bulletin names a bot (an assistant): a member's message
// goes, sealed once with a key for each member, to the bot inside a
// forward; the bot passes each member a copy, still signed by its writer,
// which the members take because the bulletin names the bot; their
// receipts reach the writer and count per member.
func TestGroupThroughItsBot(t *testing.T) {
	_, ps := crew(t, "alice", "bob", "carol", "robo")
	alice, bob, carol, robo := ps[0], ps[1], ps[2], ps[3]
	ctx := context.Background()
	for _, p := range []*peer{bob, carol} {
		introduce(t, alice, p)
	}
	group, err := alice.c.CreateGroup(ctx, "botted", []dimp.ID{bob.c.Me(), carol.c.Me()}, robo.c.Me())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer{bob, carol} {
		got := p.groupCommand("the reset", func(g client.GroupCommandEvent) bool { return g.Group.SameAs(group) })
		if got.Now == nil || len(got.Now.Assistants) != 1 || !got.Now.Assistants[0].SameAs(robo.c.Me()) {
			t.Fatalf("%s knows the group as %+v", p.c.Me().Name(), got.Now)
		}
	}
	id, err := alice.c.SendText(ctx, group, "through the bot")
	if err != nil {
		t.Fatal(err)
	}
	// The bot's part, as dimchat's group bot does it.
	var sealed *dimp.ReliableMessage
	robo.waitFor("the forward to split", 10*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if m, ok := ev.(client.MessageEvent); ok {
				if fc, ok := m.Message.Content.(*dimp.ForwardContent); ok && len(fc.Secrets) == 1 {
					sealed = fc.Secrets[0]
					return true
				}
			}
		}
		return false
	})
	var sn int64
	if !sealed.Group.SameAs(group) || !sealed.Receiver.SameAs(group) || len(sealed.Keys) != 2 || sealed.Extra.Get("sn", &sn) != nil || sn == 0 {
		t.Fatalf("the message the bot got: group %q, receiver %s, %d keys, sn %d", sealed.Group, sealed.Receiver, len(sealed.Keys), sn)
	}
	for _, m := range []dimp.ID{bob.c.Me(), carol.c.Me()} {
		fc := &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward), Secrets: []*dimp.ReliableMessage{sealed.Trim(m)}}
		if _, err := robo.c.Send(ctx, m, fc); err != nil {
			t.Fatal(err)
		}
	}
	bob.groupText(group, alice.c.Me(), "through the bot")
	carol.groupText(group, alice.c.Me(), "through the bot")
	alice.memberStates(id, 2, client.Delivered)
	alice.mu.Lock()
	defer alice.mu.Unlock()
	via := 0
	for _, ev := range alice.events {
		if f, ok := ev.(client.FrameEvent); ok && f.Dir == client.Out && f.Layers != nil && f.Layers.Group != nil {
			if !f.Layers.Group.Via.SameAs(robo.c.Me()) || !f.Layers.Reliable.Receiver.SameAs(robo.c.Me()) {
				t.Errorf("a group frame to %s, via %q", f.Layers.Reliable.Receiver, f.Layers.Group.Via)
			}
			via++
		}
	}
	if via != 1 {
		t.Errorf("%d frames for the group message, want one to the bot", via)
	}
}
