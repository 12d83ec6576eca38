package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dimtui/workshop"
)

// half returns the left (0) or right (1) half of every line of a screen
// split in two columns.
func half(screen string, side, width int) string {
	var out []string
	for _, l := range strings.Split(screen, "\n") {
		runes := []rune(l)
		mid := min(width/2, len(runes))
		if side == 0 {
			out = append(out, string(runes[:mid]))
		} else {
			out = append(out, string(runes[mid:]))
		}
	}
	return strings.Join(out, "\n")
}

// TestSplitViewInTmux runs `dimtui demo --users alice,bob` as a presenter
// would: two real clients side by side; alice writes to bob and bob
// answers, f6 moving the keyboard; the station expires alice's session and
// she handshakes again; /export writes a transcript that reads back.
func TestSplitViewInTmux(t *testing.T) {
	const w, h = 200, 45
	r := startInTmux(t, "split", "presenter", w, h, "demo", "--users", "alice,bob", "--fresh", "--listen", "127.0.0.1:0")
	r.waitUntil("both handshakes", 15*time.Second, func(s string) bool { return strings.Count(s, "[Success]") == 2 })
	s := r.screen()
	if !strings.Contains(half(s, 0, w), "me alice") || !strings.Contains(half(s, 1, w), "me bob") {
		t.Fatalf("alice and bob are not side by side:\n%s", s)
	}

	r.line("hello bob, from the left")
	r.waitUntil("bob gets it", 10*time.Second, func(s string) bool {
		return strings.Contains(half(s, 1, w), "hello bob, from the left")
	})
	r.keys("F6")
	r.line("hello alice, from the right")
	r.waitUntil("alice gets the answer, and her message is delivered", 10*time.Second, func(s string) bool {
		left := half(s, 0, w)
		return strings.Contains(left, "hello alice, from the right") &&
			(strings.Contains(left, "✓✓") || strings.Contains(left, "◉"))
	})

	// The station forgets alice's session: DIM? again, and a new handshake.
	r.keys("F6")
	r.line("/expire")
	r.waitFor("expired alice's session", 10*time.Second)
	r.waitUntil("alice's new handshake", 10*time.Second, func(s string) bool {
		left := half(s, 0, w)
		return strings.Count(left, "handshake Success") >= 2 && strings.Contains(left, "[Success]")
	})

	// The transcript, as JSON Lines (read back) and Markdown.
	base := filepath.Join(t.TempDir(), "session")
	r.line("/export " + base)
	r.waitFor("wrote", 10*time.Second)
	f, err := os.Open(base + ".jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := workshop.ReadTranscript(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Panes) != 2 || !strings.HasPrefix(tr.Panes[0].User, "alice@") || !strings.HasPrefix(tr.Panes[1].User, "bob@") {
		t.Errorf("transcript panes %+v", tr.Panes)
	}
	md, err := os.ReadFile(base + ".md")
	if err != nil || !strings.Contains(string(md), "handshake Again") || !strings.Contains(string(md), "hello bob, from the left") {
		t.Errorf("Markdown transcript: %v\n%.2000s", err, md)
	}

	r.keys("C-c")
	r.waitUntil("the program quits", 5*time.Second, func(string) bool { return r.gone() })
}

// TestStepThroughInTmux starts the demo stepping through a lesson: the
// handshake does not move until the presenter releases its steps, one by
// one, then runs to the next stop until both sessions are open.
func TestStepThroughInTmux(t *testing.T) {
	const w, h = 160, 45
	r := startInTmux(t, "step", "presenter", w, h, "demo", "--users", "alice,bob", "--fresh", "--listen", "127.0.0.1:0", "--step")
	r.waitFor("STEP-THROUGH", 10*time.Second)
	r.waitFor("held: not written yet", 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	if s := r.screen(); strings.Contains(s, "[Again]") || strings.Contains(s, "[Success]") {
		t.Fatalf("the handshake went on while its frames were held:\n%s", s)
	}
	// Enter on an empty line releases one frame: once a Hello is out, the
	// station answers DIM?, which is held in turn, and explained when its
	// turn comes.
	presses := 0
	r.waitUntil("a DIM? held", 10*time.Second, func(s string) bool {
		if strings.Contains(s, "held: not processed yet") && strings.Contains(s, "DIM?") {
			return true
		}
		if presses < 4 {
			presses++
			r.keys("Enter")
			time.Sleep(200 * time.Millisecond)
		}
		return false
	})
	if s := r.screen(); strings.Contains(s, "[Success]") {
		t.Fatalf("a handshake succeeded with its DIM? held:\n%s", s)
	}
	// f9 runs to the next stop, as often as it takes.
	r.waitUntil("both handshakes", 20*time.Second, func(s string) bool {
		if strings.Count(s, "[Success]") == 2 {
			return true
		}
		r.keys("F9")
		return false
	})
	r.keys("F7")
	r.waitFor("step-through off", 5*time.Second)
	r.keys("C-c")
}

func TestParseUsersAndFaultFlags(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
	}{{"alice,bob", "[alice bob]"}, {" alice , bob ,carol", "[alice bob carol]"}, {"", ""}, {"a,a", ""}, {"a,b,c,d,e", ""}} {
		got, err := parseUsers(tt.in)
		if (tt.want == "") != (err != nil) || (err == nil && fmt.Sprint(got) != tt.want) {
			t.Errorf("parseUsers(%q) = %v, %v", tt.in, got, err)
		}
	}
	if target, err := faultTarget("drop", "bob:in"); target.User != "bob" || !target.ToClient || err != nil {
		t.Errorf("bob:in = %s %v %v", target.User, target.ToClient, err)
	}
	if _, err := faultTarget("drop", "bob:sideways"); err == nil {
		t.Error("bob:sideways accepted")
	}
	// Each flag's errors name that flag.
	for _, flag := range []string{"drop", "corrupt"} {
		if _, err := faultTargets(flag, []string{"bob:sideways"}, nil); err == nil || !strings.HasPrefix(err.Error(), "--"+flag+" ") {
			t.Errorf("--%s bob:sideways: %v", flag, err)
		}
		if _, err := faultTargets(flag, []string{"carol"}, []string{"alice", "bob"}); err == nil || !strings.HasPrefix(err.Error(), "--"+flag+" carol: ") {
			t.Errorf("--%s carol without carol in --users: %v", flag, err)
		}
	}
}
