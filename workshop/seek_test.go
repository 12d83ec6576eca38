package workshop

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"dimtui/client"
)

// recordedSession is a real two-user demo session (alice and bob chat,
// alice talks to the echo bot), as /export wrote it.
func recordedSession(t *testing.T) *Transcript {
	t.Helper()
	f, err := os.Open("../client/testdata/demo-two-users.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := ReadTranscript(f)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// frameRoles lists the records of tr that are frames, with their role.
func frameRoles(t *testing.T, tr *Transcript) map[int]client.Role {
	roles := map[int]client.Role{}
	for i, rec := range tr.Records {
		if rec.Event != "frame" {
			continue
		}
		ev, err := rec.ClientEvent()
		if err != nil {
			t.Fatal(err)
		}
		f := ev.(client.FrameEvent)
		roles[i] = client.Classify(f.Kind, f.Layers)
	}
	return roles
}

// replayWatch reads every pane of a replay, the panes of a new start too.
type replayWatch struct {
	t      *testing.T
	feed   chan client.Event
	closed chan struct{} // a pane's events channel was closed
}

func watchReplay(t *testing.T, ctx context.Context, r *Replay) *replayWatch {
	w := &replayWatch{t: t, feed: make(chan client.Event, 4096), closed: make(chan struct{}, 16)}
	w.listen(r.Panes())
	go func() {
		for {
			select {
			case <-r.Notices():
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { _ = r.Run(ctx) }()
	return w
}

func (w *replayWatch) listen(panes []ReplayPane) {
	for _, p := range panes {
		go func() {
			for ev := range p.Client.Events() {
				w.feed <- ev
			}
			w.closed <- struct{}{}
		}()
	}
}

// held waits for the next held frame and returns it, with the frames
// played before it. The panes' events are read by one goroutine each, so
// frames of another pane played before the hold may come after it: they
// are waited for a moment (the replay plays nothing more while it holds).
func (w *replayWatch) held() (client.HeldEvent, []client.FrameEvent) {
	w.t.Helper()
	var played []client.FrameEvent
	var h *client.HeldEvent
	timeout := time.After(5 * time.Second)
	for {
		var settle <-chan time.Time
		if h != nil {
			settle = time.After(100 * time.Millisecond)
		}
		select {
		case ev := <-w.feed:
			switch e := ev.(type) {
			case client.HeldEvent:
				if h != nil {
					w.t.Fatalf("#%d held while #%d is", e.Seq, h.Seq)
				}
				h = &e
			case client.FrameEvent:
				played = append(played, e)
			}
		case <-settle:
			return *h, played
		case <-timeout:
			w.t.Fatalf("no frame held (%d played)", len(played))
		}
	}
}

// stopAfter is the first stop after record i (-1 when none); stopBefore
// the last one before it.
func stopAfter(roles map[int]client.Role, n, i int) int {
	for j := i + 1; j < n; j++ {
		if r, ok := roles[j]; ok && r.Stop() {
			return j
		}
	}
	return -1
}

func stopBefore(roles map[int]client.Role, i int) int {
	for j := i - 1; j >= 0; j-- {
		if r, ok := roles[j]; ok && r.Stop() {
			return j
		}
	}
	return -1
}

// TestReplaySeek moves through a recorded session by its stops and by
// frame numbers, forward (what lies between is played at once, nothing of
// it held) and back (the replay starts over with fresh clients and plays
// at once up to the frame), and holds the frame it moved to whatever the
// step mode.
func TestReplaySeek(t *testing.T) {
	tr := recordedSession(t)
	roles := frameRoles(t, tr)
	n := len(tr.Records)
	r := NewReplay(tr, ReplayOptions{Step: client.StepLesson})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := watchReplay(t, ctx, r)
	// num is the number record i's frame is shown with: this transcript
	// has none recorded, and is numbered in its order.
	num := func(i int) uint64 { return uint64(r.numbers[i]) }

	first := stopAfter(roles, n, -1)
	h, _ := w.held()
	if h.Seq != frameSeq(first) {
		t.Fatalf("first held #%d, want #%d", h.Seq, frameSeq(first))
	}

	// ] : the next stop.
	want := stopAfter(roles, n, first)
	at, err := r.Seek(Seek{Stops: 1})
	if err != nil || at.Frame != num(want) || at.Panes != nil {
		t.Fatalf("seek to the next stop: %+v, %v; want #%d, the same panes", at, err, num(want))
	}
	h0 := h
	h, played := w.held()
	if h.Seq != frameSeq(want) || len(played) == 0 || !slices.ContainsFunc(played, func(f client.FrameEvent) bool { return string(f.Raw) == string(h0.Raw) }) {
		t.Fatalf("held #%d after %d frames, want #%d after the one held before", h.Seq, len(played), frameSeq(want))
	}

	// /seek N to a frame that is housekeeping: held all the same, and the
	// stops on the way were played, not held.
	ping := -1
	for i := want + 1; i < n; i++ {
		if rec := tr.Records[i]; rec.Event == "frame" && rec.Kind == string(client.KindPing) {
			ping = i
			break
		}
	}
	if _, err := r.Seek(Seek{Frame: num(ping)}); err != nil {
		t.Fatal(err)
	}
	h, played = w.held()
	if h.Seq != frameSeq(ping) || h.Kind != client.KindPing || uint64(h.Number) != num(ping) {
		t.Fatalf("held #%d (record %d) %s, want the PING #%d", h.Number, h.Seq, h.Kind, num(ping))
	}
	stopsOnTheWay := 0
	for i := want + 1; i < ping; i++ {
		if r, ok := roles[i]; ok && r.Stop() {
			stopsOnTheWay++
		}
	}
	if stopsOnTheWay == 0 || len(played) < stopsOnTheWay {
		t.Errorf("%d frames played on the way, %d of them stops", len(played), stopsOnTheWay)
	}

	// Released, the replay goes on to the next stop, as lesson stepping
	// holds it.
	if err := r.order[0].Release(ctx, 1); err != nil {
		t.Fatal(err)
	}
	next := stopAfter(roles, n, ping)
	if h, _ = w.held(); h.Seq != frameSeq(next) {
		t.Fatalf("after the PING, held #%d, want the next stop #%d", h.Seq, frameSeq(next))
	}

	// [ : back to the stop before: fresh clients, the old ones closed,
	// everything before the stop played again at once.
	back := stopBefore(roles, next)
	at, err = r.Seek(Seek{Stops: -1})
	if err != nil || at.Frame != num(back) || len(at.Panes) != 2 {
		t.Fatalf("seek back: %+v, %v; want #%d in 2 new panes", at, err, num(back))
	}
	for range 2 {
		select {
		case <-w.closed:
		case <-time.After(5 * time.Second):
			t.Fatal("the clients of before the seek back were not closed")
		}
	}
	w.listen(at.Panes)
	h, played = w.held()
	frames := 0
	for i := range back {
		if _, ok := roles[i]; ok {
			frames++
		}
	}
	if h.Seq != frameSeq(back) || len(played) != frames {
		t.Fatalf("after the seek back, held #%d after %d frames; want #%d after %d", h.Seq, len(played), frameSeq(back), frames)
	}

	// No such frame, no stop that way: the replay stays.
	if _, err := r.Seek(Seek{Frame: uint64(n + 5)}); err == nil {
		t.Error("seek past the end: no error")
	}
	at, err = r.Seek(Seek{Frame: num(first)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Seek(Seek{Stops: -1}); err == nil {
		t.Error("a stop before the first: no error")
	}
	for range 2 {
		<-w.closed
	}
	w.listen(at.Panes)
	if h, _ = w.held(); h.Seq != frameSeq(first) {
		t.Errorf("back at the start, held #%d, want #%d", h.Seq, frameSeq(first))
	}

	// Played to its end, the replay still seeks back.
	r.setStep(client.StepOff)
	select {
	case <-r.Finished():
	case <-time.After(10 * time.Second):
		t.Fatal("the replay did not play to its end")
	}
	last := stopBefore(roles, n)
	at, err = r.Seek(Seek{Frame: num(last)})
	if err != nil || len(at.Panes) != 2 {
		t.Fatalf("seek back from the end: %+v, %v", at, err)
	}
	w.listen(at.Panes)
	if h, _ = w.held(); h.Seq != frameSeq(last) {
		t.Errorf("held #%d, want #%d", h.Seq, frameSeq(last))
	}
}
