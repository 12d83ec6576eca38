package workshop

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/dimp"
)

// The transcripts in testdata are real sessions, exported by the program
// with /export: `dimtui demo --users alice,bob --fresh`, alice writing
// "hi bob" and bob "hi alice" (two-users.jsonl), and the same with
// --step, every frame released with f9, alice writing "hi bob"
// (two-users-step.jsonl). The tests explain every frame again, as a replay
// and a new /export do, and check each explanation against what the
// transcript says happened.
var recordedSessions = []string{"testdata/two-users.jsonl", "testdata/two-users-step.jsonl"}

func readRecorded(t *testing.T, path string) *Transcript {
	t.Helper()
	f, err := os.Open(path)
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

// panes follows what each pane of a transcript knows, as the UI's panes do:
// the keys seen in frames, the connection's status.
type panes map[int]*Viewpoint

func (ps panes) of(rec Record) *Viewpoint {
	v := ps[rec.Pane]
	if v == nil {
		id, _ := dimp.ParseID(rec.User)
		v = &Viewpoint{Me: id, Know: NewKnowledge()}
		ps[rec.Pane] = v
	}
	return v
}

// learn takes in an event after it was explained, as a pane does.
func (v *Viewpoint) learn(ev client.Event) {
	switch ev := ev.(type) {
	case client.FrameEvent:
		v.Know.LearnFrame(ev.Layers)
	case client.HeldEvent:
		v.Know.LearnFrame(ev.Layers)
	case client.StatusEvent:
		v.Status = ev.Status
	}
}

// TestRecordedExplanations explains every frame of real sessions and
// checks what each explanation says against the transcript: nothing is an
// error in a normal session; a broadcast is called one; the station's
// answers are told as they came, and each message sent says which answer
// it got, by frame number; a message whose sender's key was unknown says
// it was asked for and verified afterwards.
func TestRecordedExplanations(t *testing.T) {
	for _, path := range recordedSessions {
		t.Run(path, func(t *testing.T) {
			tr := readRecorded(t, path)
			r := NewRecorder()
			ps := panes{}
			for _, rec := range tr.Records {
				v := ps.of(rec)
				if rec.Event == "notice" {
					r.Notice(rec.Pane, v.Me, StationNotice{Time: rec.Time, Text: rec.Text})
					continue
				}
				ev, err := rec.ClientEvent()
				if err != nil {
					continue
				}
				r.Observe(rec.Pane, *v, ev)
				v.learn(ev)
			}
			snap := r.Snapshot()
			checkRecorded(t, tr, snap)
		})
	}
}

// checkRecorded checks the explanation of each frame of a recording.
func checkRecorded(t *testing.T, tr *Transcript, snap *Recording) {
	sent := map[sentKey]int{} // the messages sent, by pane and signature
	var answered, asked, broadcasts, notChanged int
	for _, e := range snap.entries {
		rec := e.rec
		if rec.Event != "frame" || e.expl == nil {
			continue
		}
		x := e.expl.Answered(snap.answers[rec.Number])
		all := strings.Join([]string{x.Title, x.Step, x.Signed, x.Encrypted, x.Station, x.Next}, " ")
		where := "#" + strconv.Itoa(rec.Number) + " " + x.Title
		if strings.Contains(all, "✗") {
			t.Errorf("%s: ✗ in a normal session: %+v", where, x)
		}
		ev, _ := rec.ClientEvent()
		l := ev.(client.FrameEvent).Layers
		if l == nil || l.Reliable == nil {
			continue
		}
		rm := l.Reliable
		if rec.Dir == "out" {
			sent[sentKey{rec.Pane, rm.SignatureText()}] = rec.Number
			continue
		}
		if rm.Receiver.IsBroadcast() {
			broadcasts++
			if !strings.Contains(x.Title, rm.Receiver.String()+", ") {
				t.Errorf("%s: a broadcast not called one", where)
			}
		}
		if rec.KeyAsked {
			asked++
			if !strings.Contains(x.Signed, "did not know") || !strings.Contains(x.Signed, "✓ Verified") {
				t.Errorf("%s: its sender's key was asked for, then it verified; Signed = %q", where, x.Signed)
			}
		}
		if l.Instant == nil {
			continue
		}
		rc, ok := l.Instant.Content.(*dimp.ReceiptCommand)
		if !ok || rc.Origin == nil || rm.Sender.Type() != dimp.Station {
			continue
		}
		if rc.Text == "Document not changed." {
			notChanged++
			if strings.Contains(x.Station, "stored it") || !strings.Contains(x.Station, "has this visa already") {
				t.Errorf("%s: “Document not changed.” explained as %q", where, x.Station)
			}
		}
		if n, ok := sent[sentKey{rec.Pane, rc.Origin.Signature}]; ok {
			answered++
			want := "It answered “" + rc.Text + "” (frame #" + strconv.Itoa(rec.Number) + ")"
			if got := explanationOf(snap, n); !strings.Contains(got.Station, want) {
				t.Errorf("#%d was answered by #%d; its Station says %q, want %q", n, rec.Number, got.Station, want)
			}
		}
	}
	if answered == 0 || asked == 0 || broadcasts == 0 || notChanged == 0 {
		t.Errorf("%d answers, %d keys asked for, %d broadcasts in, %d “Document not changed.”: the session shows each",
			answered, asked, broadcasts, notChanged)
	}
}

// explanationOf is the explanation of frame n in a recording, answered.
func explanationOf(snap *Recording, n int) Explanation {
	for _, e := range snap.entries {
		if e.rec.Event == "frame" && e.rec.Number == n && e.expl != nil {
			return e.expl.Answered(snap.answers[n])
		}
	}
	return Explanation{}
}

// TestRecordedReplayHeld replays real sessions stepping through every
// frame: each held frame shows the number it had in the session, and is
// explained as held — nothing verified yet, nothing wrong.
func TestRecordedReplayHeld(t *testing.T) {
	for _, path := range recordedSessions {
		t.Run(path, func(t *testing.T) {
			tr := readRecorded(t, path)
			var numbers []int
			for _, rec := range tr.Records {
				if rec.Event == "frame" {
					numbers = append(numbers, rec.Number)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rp := NewReplay(tr, ReplayOptions{Step: client.StepAll})
			go func() { _ = rp.Run(ctx) }()
			type paneEvent struct {
				pane int
				ev   client.Event
			}
			events := make(chan paneEvent, 64)
			rps := rp.Panes()
			for i, p := range rps {
				go func() {
					for {
						select {
						case ev := <-p.Client.Events():
							events <- paneEvent{i, ev}
						case <-ctx.Done():
							return
						}
					}
				}()
			}
			ps := panes{}
			var held []int
			finished := rp.Finished()
		play:
			for {
				var pe paneEvent
				wait := 5 * time.Second
				if finished == nil {
					wait = 200 * time.Millisecond // only what was on its way is left
				}
				select {
				case pe = <-events:
				case <-finished:
					finished = nil
					continue
				case <-time.After(wait):
					if finished == nil {
						break play
					}
					t.Fatal("the replay stalled")
				}
				v := ps.of(Record{Pane: tr.Panes[pe.pane].Pane, User: tr.Panes[pe.pane].User})
				if h, ok := pe.ev.(client.HeldEvent); ok {
					held = append(held, h.Number)
					checkHeld(t, v.Explain(Frame{Dir: h.Dir, Raw: h.Raw, Kind: h.Kind, Layers: h.Layers, Held: true}), h)
					if err := rps[pe.pane].Client.Release(ctx, 1); err != nil {
						t.Fatal(err)
					}
				}
				v.learn(pe.ev)
			}
			if len(held) == 0 || len(held) != len(numbers) {
				t.Fatalf("%d frames held, the transcript has %d", len(held), len(numbers))
			}
			for i := range held {
				if held[i] != numbers[i] {
					t.Errorf("the replay held frame #%d where the transcript has #%d", held[i], numbers[i])
				}
			}
		})
	}
}

// checkHeld checks the explanation of a frame held in a replay.
func checkHeld(t *testing.T, x Explanation, h client.HeldEvent) {
	t.Helper()
	all := strings.Join([]string{x.Title, x.Step, x.Signed, x.Encrypted, x.Station, x.Next}, " ")
	if strings.Contains(all, "✗") {
		t.Errorf("#%d %s, held: ✗ in a normal session: %+v", h.Number, x.Title, x)
	}
	if h.Dir == client.In && h.Layers != nil && h.Layers.Reliable != nil {
		if strings.Contains(x.Signed, "✓") || !strings.Contains(x.Signed, "Not checked yet") {
			t.Errorf("#%d %s, held: Signed = %q", h.Number, x.Title, x.Signed)
		}
		if !strings.HasPrefix(x.Next, "Released, ") {
			t.Errorf("#%d %s, held: Next = %q", h.Number, x.Title, x.Next)
		}
	}
}
