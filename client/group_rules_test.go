package client_test

import (
	"fmt"
	"testing"

	"dimtui/client"
	"dimtui/dimp"
)

// The group rules, command by command, as a member's client applies them:
// who may reset, invite, quit and resign, and what each changes.
func TestGroupRules(t *testing.T) {
	id := func(name string) dimp.ID {
		// Distinct user IDs, from the reference vectors and made-up names
		// on alice's address (a name does not change who may act here).
		return dimp.MustParseID(name + "@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB")
	}
	owner, admin, member, stranger, newcomer := id("owner"), id("admin"), id("member"), id("stranger"), id("newcomer")
	group := dimp.MustParseID("group-alice@hz519K77dgxczwCDEgBhokWzdgbhFRSDg")
	fresh := func() *client.Group {
		return &client.Group{ID: group, Owner: owner, Admins: []dimp.ID{admin}, Members: []dimp.ID{owner, admin, member}}
	}
	cmd := func(name string, members ...dimp.ID) *dimp.GroupCommand {
		return dimp.NewGroupCommand(name, group, members)
	}
	names := func(list []dimp.ID) string {
		out := ""
		for _, m := range list {
			out += m.Name() + " "
		}
		return out
	}

	for _, c := range []struct {
		name        string
		from        dimp.ID
		cmd         *dimp.GroupCommand
		refused     string
		members     string // the members after, when not refused
		added       string
		removed     string
		requested   string
		ignored     bool
		adminsAfter int
	}{
		{"owner resets", owner, cmd("reset", owner, admin, newcomer), "", "owner admin newcomer ", "newcomer ", "member ", "", false, 1},
		{"admin resets", admin, cmd("reset", owner, admin, member, newcomer), "", "owner admin member newcomer ", "newcomer ", "", "", false, 1},
		{"member resets", member, cmd("reset", owner, member), client.GroupDenied, "", "", "", "", false, 1},
		{"reset not led by the owner", owner, cmd("reset", admin, owner, member), client.GroupDenied, "", "", "", "", false, 1},
		{"reset dropping an admin", owner, cmd("reset", owner, member), client.GroupDenied, "", "", "", "", false, 1},
		{"reset with no members", owner, cmd("reset"), client.GroupCommandErr, "", "", "", "", false, 1},
		{"reset with 10,000 members", owner, cmd("reset", many(owner, admin, 10_000)...), client.GroupCommandErr, "", "", "", "", false, 1},
		{"reset naming a station", owner, cmd("reset", owner, admin, dimp.AnyStation), client.GroupCommandErr, "", "", "", "", false, 1},
		{"invite of a group", owner, cmd("invite", group), client.GroupCommandErr, "", "", "", "", false, 1},
		{"owner invites", owner, cmd("invite", newcomer), "", "owner admin member newcomer ", "newcomer ", "", "", false, 1},
		{"member invites: a request", member, cmd("invite", newcomer), "", "owner admin member ", "", "", "newcomer ", false, 1},
		{"stranger invites", stranger, cmd("invite", newcomer), client.GroupDenied, "", "", "", "", false, 1},
		{"member quits", member, cmd("quit"), "", "owner admin ", "", "member ", "", false, 1},
		{"admin quits", admin, cmd("quit"), client.GroupDenied, "", "", "", "", false, 1},
		{"owner quits", owner, cmd("quit"), client.GroupDenied, "", "", "", "", false, 1},
		{"stranger quits", stranger, cmd("quit"), "", "owner admin member ", "", "", "", true, 1},
		{"stranger joins: a request", stranger, cmd("join"), "", "owner admin member ", "", "", "stranger ", false, 1},
		{"expel is ignored", owner, cmd("expel", member), "", "owner admin member ", "", "", "", true, 1},
		{"admin resigns", admin, cmd("resign"), "", "owner admin member ", "", "", "", false, 0},
		{"owner resigns", owner, cmd("resign"), client.GroupDenied, "", "", "", "", false, 1},
		{"hire is not acted on", owner, cmd("hire"), client.GroupUnsupported, "", "", "", "", false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := fresh()
			ch := g.Apply(c.from, c.cmd)
			if ch.Refused != c.refused {
				t.Fatalf("refused %q (%s), want %q", ch.Refused, ch.Reason, c.refused)
			}
			if c.refused != "" {
				if ch.Reason == "" || fmt.Sprint(g.Members) != fmt.Sprint(fresh().Members) {
					t.Errorf("a refusal without a reason, or that changed the members: %q, %s", ch.Reason, names(g.Members))
				}
				return
			}
			for _, x := range []struct{ what, got, want string }{
				{"members", names(g.Members), c.members}, {"added", names(ch.Added), c.added},
				{"removed", names(ch.Removed), c.removed}, {"requested", names(ch.Requested), c.requested},
			} {
				if x.got != x.want {
					t.Errorf("%s: %q, want %q", x.what, x.got, x.want)
				}
			}
			if (ch.Ignored != "") != c.ignored {
				t.Errorf("ignored %q, want %v", ch.Ignored, c.ignored)
			}
			if len(g.Admins) != c.adminsAfter {
				t.Errorf("%d administrators after, want %d", len(g.Admins), c.adminsAfter)
			}
		})
	}

	// A group not known yet (no bulletin, no members) takes no command.
	unknown := &client.Group{ID: group}
	if ch := unknown.Apply(owner, cmd("reset", owner, member)); ch.Refused != client.GroupEmpty {
		t.Errorf("an unknown group: %+v", ch)
	}
	// A member's invitation waits until a reset takes the newcomer in.
	g := fresh()
	g.Apply(member, cmd("invite", newcomer))
	g.Apply(owner, cmd("reset", owner, admin, member, newcomer))
	if len(g.Requests) != 0 || !g.IsMember(newcomer) {
		t.Errorf("after the reset: requests %s, members %s", names(g.Requests), names(g.Members))
	}
}

// many lists owner, admin and then made-up users, n in all.
func many(owner, admin dimp.ID, n int) []dimp.ID {
	out := []dimp.ID{owner, admin}
	for i := len(out); i < n; i++ {
		out = append(out, dimp.MustParseID(fmt.Sprintf("u%d@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB", i)))
	}
	return out
}
