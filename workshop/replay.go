package workshop

import (
	"context"
	"errors"
	"sync"
	"time"

	"dimtui/client"
	"dimtui/dimp"
)

// errReplay is what a replay answers to anything that would need a
// network.
var errReplay = errors.New("this is a replay: nothing is sent")

// ReplayOptions tune a replay.
type ReplayOptions struct {
	// Speed multiplies the pace of the recording: 2 plays twice as fast; 0
	// plays without waiting.
	Speed float64
	// MaxGap caps a pause between two events (2 s when 0), so that a
	// recording with long silences does not stall.
	MaxGap time.Duration
	// Step starts with step-through on: each frame waits for Release.
	Step client.StepMode
	// Name is the transcript's file name, which Progress reports for the
	// screen to say what is played.
	Name string
}

// Progress is where a replay is, for the screen to say it is one: the
// transcript's name, the frames played of how many, the pace, whether it
// has played everything.
type Progress struct {
	Name          string
	Played, Total int     // frames
	Speed         float64 // 0: without waiting
	Ended         bool
}

// Replay plays a transcript back offline, in the same UI as a live
// session: one ReplayClient per pane of the transcript, in the place of a
// *client.Client, fed with the recorded events in their order. With
// step-through on, each frame is held (and explained) until the presenter
// releases it; Seek moves to another frame, forward or back. Nothing is
// sent anywhere. Replay is also the station of the replay (the UI's
// StationControl): it shows the station's recorded notices and refuses to
// break anything.
type Replay struct {
	t        *Transcript
	opt      ReplayOptions
	notices  chan StationNotice
	finished chan struct{}
	end      sync.Once // closes finished

	mu       sync.Mutex
	backends map[int]*ReplayClient // the clients playing now, by pane
	order    []*ReplayClient       // the same, in the transcript's order
	retired  []*ReplayClient       // clients a seek back replaced, for Run to close
	mode     client.StepMode
	credits  int
	wake     chan struct{}
	pos      int     // the record played last, or held now; -1 before the first
	holding  bool    // the record at pos is a frame held now
	seek     *seekTo // a seek Run has not taken yet
	roles    []int8  // each record's client.Role as a stop, -1 when not a frame (seek.go)
	frames   []int   // frames among the records up to each one, for Progress
	numbers  []int   // each frame record's number in the session (see Numbers); 0 for other records
	speed    float64 // opt.Speed, then as SetSpeed says
}

// NewReplay prepares the replay of t; Panes gives its clients, Run plays
// it.
func NewReplay(t *Transcript, opt ReplayOptions) *Replay {
	if opt.MaxGap <= 0 {
		opt.MaxGap = 2 * time.Second
	}
	r := &Replay{t: t, opt: opt, notices: make(chan StationNotice, 64),
		finished: make(chan struct{}), mode: opt.Step, wake: make(chan struct{}, 1), pos: -1, speed: opt.Speed}
	r.newClients()
	// The frames Progress counts: those of the panes the header names.
	r.frames = make([]int, len(t.Records))
	n := 0
	for i, rec := range t.Records {
		if rec.Event == "frame" && r.backends[rec.Pane] != nil {
			n++
		}
		r.frames[i] = n
	}
	r.numbers = recordedNumbers(t.Records)
	return r
}

// recordedNumbers are the frames' numbers in the session the transcript
// recorded, by record; a transcript written before frames had numbers is
// numbered in its order, as its Markdown was.
func recordedNumbers(recs []Record) []int {
	numbers := make([]int, len(recs))
	last := 0
	for i, rec := range recs {
		if rec.Event != "frame" {
			continue
		}
		n := rec.Number
		if n <= 0 {
			n = last + 1
		}
		last = max(last, n)
		numbers[i] = n
	}
	return numbers
}

// newClients makes a client per pane of the transcript, fresh: r.mu is
// held, or r is not shared yet.
func (r *Replay) newClients() {
	r.backends, r.order = map[int]*ReplayClient{}, nil
	for _, p := range r.t.Panes {
		id, err := dimp.ParseID(p.User)
		if err != nil {
			id = dimp.NewID("pane", dimp.Anywhere, "")
		}
		b := &ReplayClient{r: r, me: id, events: make(chan client.Event, 256), gone: make(chan struct{})}
		r.backends[p.Pane] = b
		r.order = append(r.order, b)
	}
}

// client is the client playing a pane now, nil for a pane not in the
// header.
func (r *Replay) client(pane int) *ReplayClient {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.backends[pane]
}

// ReplayPane is one pane of a replay: what a UI needs to show it.
type ReplayPane struct {
	// Client plays the pane's recorded events; it is the pane's backend.
	Client *ReplayClient
	// Me is the pane's user.
	Me dimp.ID
	// Peer is the first user the pane's user sent to or heard from: the
	// conversation to show first. Zero when there was none.
	Peer dimp.ID
	// Bots are the echo bots in the first list of who was online.
	Bots []dimp.ID
}

// Panes returns a pane per client of the transcript, in its order. A
// replay's client never asks who is online: the recorded lists come.
func (r *Replay) Panes() []ReplayPane {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.panesLocked()
}

// panesLocked is Panes with r.mu held.
func (r *Replay) panesLocked() []ReplayPane {
	var out []ReplayPane
	for i, p := range r.t.Panes {
		b := r.order[i]
		rp := ReplayPane{Client: b, Me: b.me, Peer: r.firstPeer(p.Pane, b.me)}
		for _, rec := range r.t.Records {
			if rec.Event != "users" || rec.Pane != p.Pane {
				continue
			}
			for _, u := range rec.Users {
				if id, err := dimp.ParseID(u); err == nil && id.Name() == "echo" {
					rp.Bots = append(rp.Bots, id)
				}
			}
			break
		}
		out = append(out, rp)
	}
	return out
}

// firstPeer is the first user the pane's user sent to or heard from.
func (r *Replay) firstPeer(pane int, me dimp.ID) dimp.ID {
	for _, rec := range r.t.Records {
		if rec.Pane != pane || (rec.Event != "sent" && rec.Event != "message") {
			continue
		}
		im, err := dimp.ParseInstantMessage(rec.Message)
		if err != nil {
			continue
		}
		peer := im.Receiver
		if rec.Event == "message" {
			peer = im.Sender
		}
		if !peer.IsBroadcast() && peer.Type() != dimp.Station && !peer.SameAs(me) {
			return peer.WithoutTerminal()
		}
	}
	return dimp.ID{}
}

// Finished is closed once everything has been played.
func (r *Replay) Finished() <-chan struct{} { return r.finished }

// Run plays the transcript until ctx ends. At its end Finished is closed
// and the replay waits, for a seek back.
func (r *Replay) Run(ctx context.Context) error {
	var prev time.Time
	next := 0
	hold, fast := -1, -1 // the record a seek holds, whatever the mode, and plays up to at once
	for {
		if to := r.takeSeek(); to != nil {
			if to.restart {
				next = 0
			}
			hold, fast, prev = to.record, to.record, time.Time{}
		}
		if next >= len(r.t.Records) {
			r.end.Do(func() { close(r.finished) })
			if err := r.waitSeek(ctx); err != nil {
				return err
			}
			continue
		}
		i := next
		rec := r.t.Records[i]
		b := r.client(rec.Pane)
		if b == nil {
			next++
			continue
		}
		if i > fast && !prev.IsZero() && !r.stepping() {
			if err := r.pause(ctx, rec.Time.Sub(prev)); errors.Is(err, errSeek) {
				continue
			} else if err != nil {
				return err
			}
		}
		prev = rec.Time
		r.played(i, false)
		if rec.Event == "notice" {
			select {
			case r.notices <- StationNotice{Time: rec.Time, User: b.me, Text: rec.Text, Station: rec.From}:
			case <-ctx.Done():
				return ctx.Err()
			}
			next++
			continue
		}
		ev, err := rec.ClientEvent()
		if err != nil {
			next++
			continue // a record this version cannot show
		}
		err = r.play(ctx, b, i, ev, i == hold || (i > fast && r.holds(ev)))
		if errors.Is(err, errSeek) {
			continue // a seek back: the clients were replaced
		}
		if err != nil {
			return err
		}
		next++
	}
}

// play emits one recorded event; a frame held first waits, held, until
// it is released or a seek moves the replay on. errSeek: a seek back
// replaced the clients, and the event was not played.
func (r *Replay) play(ctx context.Context, b *ReplayClient, i int, ev client.Event, held bool) error {
	if f, ok := ev.(client.FrameEvent); ok {
		f.Number = r.numbers[i] // the number it had in the session
		ev = f
	}
	if f, ok := ev.(client.FrameEvent); ok && held {
		seq := frameSeq(i)
		if err := b.emit(ctx, client.HeldEvent{Time: f.Time, Seq: seq, Dir: f.Dir, Raw: f.Raw, Kind: f.Kind, Layers: f.Layers,
			Number: f.Number}); err != nil {
			return err
		}
		r.played(i, true)
		err := r.waitRelease(ctx, i)
		r.played(i, false)
		if err != nil && !errors.Is(err, errSeek) {
			return err
		}
		// Released, or a seek forward: the frame goes on (a seek back
		// replaced b, and this emit says so).
		if err := b.emit(ctx, client.ReleasedEvent{Time: f.Time, Seq: seq}); err != nil {
			return err
		}
	}
	if s, ok := ev.(client.StatusEvent); ok {
		b.setStatus(s.Status)
	}
	return b.emit(ctx, ev)
}

// frameSeq is the step-through sequence of a held frame of record i:
// what its release names (it is shown with its number, not this).
func frameSeq(i int) uint64 { return uint64(i + 1) }

func (r *Replay) stepping() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mode != client.StepOff
}

// holds reports whether an event is a frame that waits for the presenter.
func (r *Replay) holds(ev client.Event) bool {
	f, ok := ev.(client.FrameEvent)
	if !ok {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mode.Holds(f.Kind, client.Classify(f.Kind, f.Layers))
}

// pause waits for the recorded gap, scaled and capped; turning stepping on
// cuts it short, and a seek (errSeek).
func (r *Replay) pause(ctx context.Context, gap time.Duration) error {
	r.mu.Lock()
	speed := r.speed
	r.mu.Unlock()
	if speed <= 0 || gap <= 0 {
		return ctx.Err()
	}
	gap = time.Duration(float64(min(gap, r.opt.MaxGap)) / speed)
	t := time.NewTimer(gap)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return nil
		case <-r.wake:
			if r.seeking() {
				return errSeek
			}
			if r.stepping() {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitRelease waits until the frame held at record i may go: a release,
// stepping turned off (a frame a seek holds waits for a release even
// then, unless stepping is turned off meanwhile), or a seek (errSeek).
func (r *Replay) waitRelease(ctx context.Context, i int) error {
	forced := !r.stepping()
	for {
		r.mu.Lock()
		switch {
		case r.seek != nil:
			r.mu.Unlock()
			return errSeek
		case r.credits > 0:
			r.credits--
			r.mu.Unlock()
			return nil
		case r.mode == client.StepOff && !forced:
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (r *Replay) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// setStep and release are the step-through of every pane: a replay holds
// one frame at a time, in the order of the transcript.
func (r *Replay) setStep(mode client.StepMode) {
	r.mu.Lock()
	r.mode = mode
	if mode == client.StepOff {
		r.credits = 0
		if r.holding {
			r.credits = 1 // what is held goes, a frame a seek holds too
		}
	}
	r.mu.Unlock()
	r.signal()
}

func (r *Replay) release(n int) {
	r.mu.Lock()
	r.credits += max(n, 1)
	r.mu.Unlock()
	r.signal()
}

// Progress says where the replay is.
func (r *Replay) Progress() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := Progress{Name: r.opt.Name, Speed: r.speed}
	if n := len(r.frames); n > 0 {
		p.Total = r.frames[n-1]
	}
	if r.pos >= 0 && r.pos < len(r.frames) {
		p.Played = r.frames[r.pos]
		if r.holding {
			p.Played-- // held: not played yet
		}
	}
	select {
	case <-r.finished:
		p.Ended = true
	default:
	}
	return p
}

// SetSpeed changes the pace from the next pause on: 2 plays twice as fast
// as recorded, 0 without waiting; a negative speed is taken as 0.
func (r *Replay) SetSpeed(speed float64) {
	r.mu.Lock()
	r.speed = max(speed, 0)
	r.mu.Unlock()
}

// The station's controls: a replay shows what the station did and breaks
// nothing.

// DropNext is refused: nothing is sent in a replay.
func (r *Replay) DropNext(dimp.ID, bool) error { return errReplay }

// CorruptNext is refused: nothing is sent in a replay.
func (r *Replay) CorruptNext(dimp.ID, bool) error { return errReplay }

// SetDelay is refused: nothing is sent in a replay.
func (r *Replay) SetDelay(dimp.ID, time.Duration) error { return errReplay }

// Expire is refused: there is no session in a replay.
func (r *Replay) Expire(dimp.ID) error { return errReplay }

// Restart is refused: there is no station in a replay.
func (r *Replay) Restart(context.Context) error { return errReplay }

// Partition is refused: there are no stations in a replay.
func (r *Replay) Partition(bool) error { return errReplay }

// StationStatus is refused: there is no station in a replay.
func (r *Replay) StationStatus(dimp.ID) ([]string, error) { return nil, errReplay }

// Notices delivers the station notices of the transcript.
func (r *Replay) Notices() <-chan StationNotice { return r.notices }

// ReplayClient is one pane's client in a replay: it has the methods of a
// *client.Client that the UI calls (its Backend and Stepper), plays the
// pane's recorded events and sends nothing.
type ReplayClient struct {
	r      *Replay
	me     dimp.ID
	events chan client.Event
	gone   chan struct{} // closed when a seek back replaced the client

	mu     sync.Mutex
	status client.Status
}

func (b *ReplayClient) emit(ctx context.Context, ev client.Event) error {
	select {
	case <-b.gone: // replaced: nothing more for it, even with room
		return errSeek
	default:
	}
	select {
	case b.events <- ev:
		return nil
	case <-b.gone:
		return errSeek
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *ReplayClient) setStatus(s client.Status) {
	b.mu.Lock()
	b.status = s
	b.mu.Unlock()
}

// Me is the pane's user.
func (b *ReplayClient) Me() dimp.ID { return b.me }

// Status is the connection as last recorded.
func (b *ReplayClient) Status() client.Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status
}

// Events delivers the pane's recorded events as they are played.
func (b *ReplayClient) Events() <-chan client.Event { return b.events }

// Send is refused: nothing is sent in a replay.
func (b *ReplayClient) Send(context.Context, dimp.ID, dimp.Content) (client.MessageID, error) {
	return "", errReplay
}

// ActiveUsers does nothing: the recorded lists of who is online come.
func (b *ReplayClient) ActiveUsers(context.Context) error { return nil }

// MarkRead does nothing: no receipt is sent in a replay.
func (b *ReplayClient) MarkRead(context.Context, client.MessageID) error { return nil }

// Peer knows no profile: a replay has only what was recorded.
func (b *ReplayClient) Peer(context.Context, dimp.ID) (*dimp.Profile, error) { return nil, nil }

// Reconnect is refused: there is no connection in a replay.
func (b *ReplayClient) Reconnect(context.Context) error { return errReplay }

// Progress says where the whole replay is.
func (b *ReplayClient) Progress() Progress { return b.r.Progress() }

// SetSpeed changes the pace of the whole replay (see Replay.SetSpeed).
func (b *ReplayClient) SetSpeed(speed float64) { b.r.SetSpeed(speed) }

// SetStep turns step-through on or off for the whole replay.
func (b *ReplayClient) SetStep(_ context.Context, mode client.StepMode) error {
	b.r.setStep(mode)
	return nil
}

// Release lets the next n held frames of the replay go (at least one).
func (b *ReplayClient) Release(_ context.Context, n int) error {
	b.r.release(n)
	return nil
}
