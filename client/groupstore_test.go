package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/client/history"
	"dimtui/dimp"
)

// alice founds a group with bob and carol; bob's client restarts on its
// history. Without anyone sending the group again, bob2 knows its name,
// owner and members, takes carol's message to it, shows the reset he was
// told as a notice in the group's conversation, and passes the group's
// history on, with alice's signed reset, when he invites dave.
func TestGroupAcrossClientRestart(t *testing.T) {
	ctx := context.Background()
	st := startStation(t, t.TempDir(), "")
	aliceID, bobID, carolID, daveID := newUser(t, "alice"), newUser(t, "bob"), newUser(t, "carol"), newUser(t, "dave")
	alice, carol, dave := connect(t, st.url, aliceID), connect(t, st.url, carolID), connect(t, st.url, daveID)
	bobPath := filepath.Join(t.TempDir(), "bob.history.db")
	bob := connectWithHistory(t, st.url, bobID, bobPath)
	for _, p := range []*peer{alice, bob, carol, dave} {
		p.waitRunning()
	}
	group, err := alice.c.CreateGroup(ctx, "crew", []dimp.ID{bobID.ID, carolID.ID})
	if err != nil {
		t.Fatal(err)
	}
	told := bob.groupCommand("the reset", func(g client.GroupCommandEvent) bool { return g.Command == dimp.CmdReset })
	carol.groupCommand("the reset", func(g client.GroupCommandEvent) bool { return g.Command == dimp.CmdReset })
	if told.NoticeID == "" {
		t.Fatal("the reset's event names no notice")
	}
	bob.stop()

	bob2 := connectWithHistory(t, st.url, bobID, bobPath)
	g, err := bob2.c.Group(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if g == nil || g.Name != "crew" || !g.IsOwner(aliceID.ID) || len(g.Members) != 3 || !g.IsMember(carolID.ID) {
		t.Fatalf("bob2 knows the group as %+v, want crew, alice's, with 3 members", g)
	}
	if list, err := bob2.c.Groups(ctx); err != nil || len(list) != 1 || !list[0].ID.SameAs(group) {
		t.Errorf("Groups: %v (%v)", list, err)
	}
	bob2.waitRunning()
	if _, err := carol.c.SendText(ctx, group, "still here, bob?"); err != nil {
		t.Fatal(err)
	}
	bob2.groupText(group, carolID.ID, "still here, bob?")

	page, err := bob2.c.Page(ctx, group, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	var notices int
	for _, m := range page {
		if m.Kind != history.KindGroupNotice {
			continue
		}
		notices++
		var n client.GroupNotice
		if err := json.Unmarshal(m.Content, &n); err != nil {
			t.Fatal(err)
		}
		ev := n.Event(group, m.Time, m.ID)
		if m.ID != told.NoticeID || ev.Command != dimp.CmdReset || !ev.From.SameAs(aliceID.ID) || ev.Role != "owner" ||
			len(ev.Change.Added) != 2 || ev.Now == nil || ev.Now.Name != "crew" {
			t.Errorf("the notice kept: %s %+v", m.ID, ev)
		}
	}
	if notices != 1 {
		t.Errorf("%d notices in bob's group conversation, want the reset's", notices)
	}

	// bob2 is an ordinary member: his invitation takes the group's
	// history to dave, alice's reset in it as she signed it.
	if err := bob2.c.ManageGroup(ctx, group, dimp.CmdInvite, []dimp.ID{daveID.ID}); err != nil {
		t.Fatal(err)
	}
	got := dave.groupCommand("alice's reset, passed on by bob", func(g client.GroupCommandEvent) bool {
		return g.Command == dimp.CmdReset && g.From.SameAs(aliceID.ID)
	})
	if got.Now == nil || got.Now.Name != "crew" || len(got.Now.Members) != 3 || got.Change.Refused != "" {
		t.Errorf("dave learned %+v from bob's history", got.Now)
	}
}

// A group kept in a history that does not read back (its meta is not the
// group's) is left out with an error that says so; the client runs.
func TestGroupRecordDamaged(t *testing.T) {
	ctx := context.Background()
	st := startStation(t, t.TempDir(), "")
	bobID := newUser(t, "bob")
	path := filepath.Join(t.TempDir(), "bob.history.db")
	h, err := history.Open(ctx, path, bobID.ID, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	group, _, err := dimp.NewGroupID(newUser(t, "alice").SignKey, "")
	if err != nil {
		t.Fatal(err)
	}
	other := bobID.Meta
	metaJSON, err := other.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SaveGroup(ctx, group, []byte(`{"meta":`+string(metaJSON)+`,"documents":[]}`)); err != nil {
		t.Fatal(err)
	}
	h.Close()
	bob := connectWithHistory(t, st.url, bobID, path)
	bob.waitRunning()
	bob.waitFor("the damaged group's error", 5*time.Second, func(evs []client.Event) bool {
		return slices.ContainsFunc(evs, func(ev client.Event) bool {
			e, ok := ev.(client.ErrorEvent)
			return ok && errors.Is(e.Err, client.ErrGroupRecord) && strings.Contains(e.Err.Error(), "left out")
		})
	})
	if g, err := bob.c.Group(ctx, group); err != nil || g != nil {
		t.Errorf("the damaged group is known as %+v (%v)", g, err)
	}
}

// A message an earlier run received and the user had not read is marked
// read after a restart: the history says so and its sender gets the read
// receipt; marking it again sends nothing more; an ID of no message
// received is ErrNotReceived.
func TestMarkReadAfterRestart(t *testing.T) {
	ctx := context.Background()
	st := startStation(t, t.TempDir(), "")
	aliceID, bobID := newUser(t, "alice"), newUser(t, "bob")
	alice := connect(t, st.url, aliceID)
	bobPath := filepath.Join(t.TempDir(), "bob.history.db")
	bob := connectWithHistory(t, st.url, bobID, bobPath)
	alice.waitRunning()
	bob.waitRunning()
	sent := sentText(t, alice, bobID.ID, "read me after your restart")
	waitText(bob, "read me after your restart")
	got := receivedID(bob, "read me after your restart")
	waitDelivery(alice, sent, client.Delivered)
	bob.stop()

	bob2 := connectWithHistory(t, st.url, bobID, bobPath)
	bob2.waitRunning()
	if err := bob2.c.MarkRead(ctx, got); err != nil {
		t.Fatalf("MarkRead of a message of the earlier run: %v", err)
	}
	waitDelivery(alice, sent, client.Read)
	page, err := bob2.c.Page(ctx, aliceID.ID, 0, 10)
	if err != nil || len(page) != 1 || !page[0].Read {
		t.Errorf("bob's history after MarkRead: %+v (%v)", page, err)
	}
	if err := bob2.c.MarkRead(ctx, got); err != nil {
		t.Errorf("MarkRead again: %v", err)
	}
	if err := bob2.c.MarkRead(ctx, "nobody#1"); !errors.Is(err, client.ErrNotReceived) {
		t.Errorf("MarkRead of no message: %v", err)
	}
}

// A group message's delivery to each member is kept with it: after the
// sender's restart the history still says how far it got with whom.
func TestGroupDeliveryKept(t *testing.T) {
	ctx := context.Background()
	st := startStation(t, t.TempDir(), "")
	aliceID, bobID, carolID := newUser(t, "alice"), newUser(t, "bob"), newUser(t, "carol")
	alicePath := filepath.Join(t.TempDir(), "alice.history.db")
	alice := connectWithHistory(t, st.url, aliceID, alicePath)
	bob, carol := connect(t, st.url, bobID), connect(t, st.url, carolID)
	for _, p := range []*peer{alice, bob, carol} {
		p.waitRunning()
	}
	group, err := alice.c.CreateGroup(ctx, "crew", []dimp.ID{bobID.ID, carolID.ID})
	if err != nil {
		t.Fatal(err)
	}
	bob.groupCommand("the reset", func(g client.GroupCommandEvent) bool { return g.Command == dimp.CmdReset })
	carol.groupCommand("the reset", func(g client.GroupCommandEvent) bool { return g.Command == dimp.CmdReset })
	id, err := alice.c.SendText(ctx, group, "hello crew")
	if err != nil {
		t.Fatal(err)
	}
	alice.memberStates(id, 2, client.Delivered)
	alice.stop()

	again := connectWithHistory(t, st.url, aliceID, alicePath)
	kept := func() (history.Message, []client.MemberDelivery) {
		page, err := again.c.Page(ctx, group, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			if m.ID == string(id) {
				var members []client.MemberDelivery
				if err := json.Unmarshal(m.Members, &members); err != nil {
					t.Fatalf("the members kept do not read: %v (%q)", err, m.Members)
				}
				return m, members
			}
		}
		t.Fatalf("the group message is not in alice's history: %+v", page)
		return history.Message{}, nil
	}
	_, members := kept()
	if len(members) != 2 {
		t.Fatalf("members kept: %+v", members)
	}
	for _, md := range members {
		if md.State < client.Delivered || (!md.Member.SameAs(bobID.ID) && !md.Member.SameAs(carolID.ID)) {
			t.Errorf("member kept as %+v", md)
		}
	}

	// Read receipts after the restart move each member's copy; the
	// message is read once both read it.
	again.waitRunning()
	for i, p := range []*peer{bob, carol} {
		if err := p.c.MarkRead(ctx, receivedID(p, "hello crew")); err != nil {
			t.Fatal(err)
		}
		want := history.Delivered
		if i == 1 {
			want = history.Read
		}
		again.waitFor(fmt.Sprintf("%s's read receipt in the history", p.c.Me().Name()), 10*time.Second, func([]client.Event) bool {
			m, members := kept()
			read := 0
			for _, md := range members {
				if md.State == client.Read {
					read++
				}
			}
			return read == i+1 && m.State == want
		})
	}
}
