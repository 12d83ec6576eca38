package workshop

import (
	"context"
	"testing"
	"time"

	"dimtui/client"
)

// TestNumbers: one number per frame of the session, across panes, in the
// order frames first show; a held frame keeps its number once processed,
// whenever that is; a replay's numbers are kept.
func TestNumbers(t *testing.T) {
	n := NewNumbers()
	frame := func(pane int, dir client.Direction, raw string) int {
		return n.Number(pane, client.FrameEvent{Dir: dir, Raw: []byte(raw)}).(client.FrameEvent).Number
	}
	held := func(pane int, seq uint64, dir client.Direction, raw string) int {
		return n.Number(pane, client.HeldEvent{Seq: seq, Dir: dir, Raw: []byte(raw)}).(client.HeldEvent).Number
	}
	release := func(pane int, seq uint64, dropped bool) {
		n.Number(pane, client.ReleasedEvent{Seq: seq, Dropped: dropped})
	}
	type step struct {
		what      string
		got, want int
	}
	var steps []step
	check := func(what string, got, want int) { steps = append(steps, step{what, got, want}) }

	check("alice's hello, sent at once", frame(0, client.Out, `{"a":1}`), 1)
	check("bob's hello, held", held(1, 1, client.Out, `{"b":1}`), 2)
	check("a visa broadcast to alice, held", held(0, 1, client.In, `{"visa":1}`), 3)
	check("alice's PING, not held", frame(0, client.Out, "PING"), 4)
	release(1, 1, false)
	check("bob's hello, written", frame(1, client.Out, `{"b":1}`), 2)
	release(0, 1, false) // alice asks for the sender's visa first
	check("alice's query", frame(0, client.Out, `{"query":1}`), 5)
	check("the station's answer", frame(0, client.In, `{"answer":1}`), 6)
	check("the visa broadcast, processed at last", frame(0, client.In, `{"visa":1}`), 3)
	check("a payload of two messages, held", held(0, 2, client.In, "{\"m\":1}\n{\"m\":2}"), 7)
	release(0, 2, false)
	check("its first message", frame(0, client.In, `{"m":1}`), 7)
	check("its second message", frame(0, client.In, `{"m":2}`), 8)
	check("a frame held", held(0, 3, client.Out, `{"x":1}`), 9)
	release(0, 3, true) // dropped with the connection
	check("the same bytes sent again later", frame(0, client.Out, `{"x":1}`), 10)
	check("a replay's frame keeps its number", n.Number(1, client.FrameEvent{Raw: []byte("PING"), Number: 40}).(client.FrameEvent).Number, 40)
	check("and later frames follow it", frame(1, client.In, "PONG"), 41)
	for _, s := range steps {
		if s.got != s.want {
			t.Errorf("%s: #%d, want #%d", s.what, s.got, s.want)
		}
	}
	if ev := n.Number(0, client.StatusEvent{}); ev != (client.StatusEvent{}) {
		t.Errorf("a status came back as %#v", ev)
	}
}

// TestReplayNumbersAnOldTranscript: a transcript written before frames had
// numbers is numbered in its order, as its Markdown was.
func TestReplayNumbersAnOldTranscript(t *testing.T) {
	tr := &Transcript{Panes: []TranscriptPane{{Pane: 0, User: "alice@anywhere"}}}
	for i, raw := range []string{`"PING"`, `"PONG"`, `"PING"`} {
		dir := "out"
		if i == 1 {
			dir = "in"
		}
		tr.Records = append(tr.Records, Record{Event: "frame", Dir: dir, Kind: string(client.KindPing), Raw: []byte(raw)})
	}
	rp := NewReplay(tr, ReplayOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = rp.Run(ctx) }()
	for want := 1; want <= 3; want++ {
		select {
		case ev := <-rp.Panes()[0].Client.Events():
			if f, ok := ev.(client.FrameEvent); !ok || f.Number != want {
				t.Errorf("frame %d came as %#v", want, ev)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("the replay stalled")
		}
	}
}
