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
}

// Replay plays a transcript back offline, in the same UI as a live
// session: one ReplayClient per pane of the transcript, in the place of a
// *client.Client, fed with the recorded events in their order. With
// step-through on, each frame is held (and explained) until the presenter
// releases it. Nothing is sent anywhere. Replay is also the station of the
// replay (the UI's StationControl): it shows the station's recorded
// notices and refuses to break anything.
type Replay struct {
	t        *Transcript
	opt      ReplayOptions
	backends map[int]*ReplayClient
	order    []*ReplayClient
	notices  chan StationNotice
	finished chan struct{}

	mu      sync.Mutex
	mode    client.StepMode
	credits int
	wake    chan struct{}
}

// NewReplay prepares the replay of t; Panes gives its clients, Run plays
// it.
func NewReplay(t *Transcript, opt ReplayOptions) *Replay {
	if opt.MaxGap <= 0 {
		opt.MaxGap = 2 * time.Second
	}
	r := &Replay{t: t, opt: opt, backends: map[int]*ReplayClient{}, notices: make(chan StationNotice, 64),
		finished: make(chan struct{}), mode: opt.Step, wake: make(chan struct{}, 1)}
	for _, p := range t.Panes {
		id, err := dimp.ParseID(p.User)
		if err != nil {
			id = dimp.NewID("pane", dimp.Anywhere, "")
		}
		b := &ReplayClient{r: r, me: id, events: make(chan client.Event, 256)}
		r.backends[p.Pane] = b
		r.order = append(r.order, b)
	}
	return r
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

// Run plays the transcript until its end or until ctx ends.
func (r *Replay) Run(ctx context.Context) error {
	defer close(r.finished)
	var prev time.Time
	for i, rec := range r.t.Records {
		b := r.backends[rec.Pane]
		if b == nil {
			continue
		}
		if !prev.IsZero() && !r.stepping() {
			if err := r.pause(ctx, rec.Time.Sub(prev)); err != nil {
				return err
			}
		}
		prev = rec.Time
		if rec.Event == "notice" {
			select {
			case r.notices <- StationNotice{Time: rec.Time, User: b.me, Text: rec.Text}:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		ev, err := rec.ClientEvent()
		if err != nil {
			continue // a record this version cannot show
		}
		if f, ok := ev.(client.FrameEvent); ok && r.holds(f) {
			seq := uint64(i + 1)
			if err := b.emit(ctx, client.HeldEvent{Time: f.Time, Seq: seq, Dir: f.Dir, Raw: f.Raw, Kind: f.Kind, Layers: f.Layers}); err != nil {
				return err
			}
			if err := r.waitRelease(ctx); err != nil {
				return err
			}
			if err := b.emit(ctx, client.ReleasedEvent{Time: f.Time, Seq: seq}); err != nil {
				return err
			}
		}
		if s, ok := ev.(client.StatusEvent); ok {
			b.setStatus(s.Status)
		}
		if err := b.emit(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

func (r *Replay) stepping() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mode != client.StepOff
}

// holds reports whether a frame waits for the presenter.
func (r *Replay) holds(f client.FrameEvent) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mode.Holds(f.Kind, client.Classify(f.Kind, f.Layers))
}

// pause waits for the recorded gap, scaled and capped; turning stepping on
// cuts it short.
func (r *Replay) pause(ctx context.Context, gap time.Duration) error {
	if r.opt.Speed <= 0 || gap <= 0 {
		return ctx.Err()
	}
	gap = time.Duration(float64(min(gap, r.opt.MaxGap)) / r.opt.Speed)
	t := time.NewTimer(gap)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return nil
		case <-r.wake:
			if r.stepping() {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitRelease waits until the held frame may go: a release, or stepping
// turned off.
func (r *Replay) waitRelease(ctx context.Context) error {
	for {
		r.mu.Lock()
		if r.mode == client.StepOff || r.credits > 0 {
			if r.credits > 0 {
				r.credits--
			}
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

// Notices delivers the station notices of the transcript.
func (r *Replay) Notices() <-chan StationNotice { return r.notices }

// ReplayClient is one pane's client in a replay: it has the methods of a
// *client.Client that the UI calls (its Backend and Stepper), plays the
// pane's recorded events and sends nothing.
type ReplayClient struct {
	r      *Replay
	me     dimp.ID
	events chan client.Event

	mu     sync.Mutex
	status client.Status
}

func (b *ReplayClient) emit(ctx context.Context, ev client.Event) error {
	select {
	case b.events <- ev:
		return nil
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
