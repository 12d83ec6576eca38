package workshop

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"dimtui/client"
)

// Seeking in a replay. A presenter moves by the stops of a lesson (the
// frames client.Classify calls stops: handshake steps, chat and app
// messages, their receipts) or to a frame by its number, forward or back.
// Forward, what lies between is played at once; back, the replay starts
// over with fresh clients (the panes are replaced) and plays at once up to
// the frame. Either way the frame is then held, explained, until it is
// released, whatever the step mode.

// errSeek tells Run that a seek came: what it waited for is moot.
var errSeek = errors.New("replay: seek")

// Seek says where a replay moves to: Frame, the number a frame is shown
// with (#12, its number in the session recorded, see Numbers), or, when
// Frame is 0, Stops stops from the one held now (1: the next, -1: the
// previous one).
type Seek struct {
	Frame uint64
	Stops int
}

// Sought is where a seek moved the replay.
type Sought struct {
	// Frame is the number of the frame held now.
	Frame uint64
	// Panes are the fresh clients when the replay started over (a seek
	// back); nil when the panes stay.
	Panes []ReplayPane
}

// seekTo is a seek Run has not taken yet.
type seekTo struct {
	record  int  // the frame record to hold
	restart bool // play from the first record, to the fresh clients
}

// Seek moves the replay (see Seek and Sought). An error says there is no
// such frame, or no stop that way; the replay is then left as it was.
func (r *Replay) Seek(to Seek) (Sought, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	from := r.pos
	if r.seek != nil {
		from = r.seek.record
	}
	target, err := r.resolve(to, from)
	if err != nil {
		return Sought{}, err
	}
	if target == r.pos && r.holding && r.seek == nil {
		return Sought{Frame: uint64(r.numbers[target])}, nil // there already
	}
	restart := r.seek != nil && r.seek.restart
	var panes []ReplayPane
	if !restart && (target < r.pos || (target == r.pos && !r.holding)) {
		// Played already: start over, with clients the UI has not
		// seen, and tell Run to close the old ones.
		for _, b := range r.order {
			close(b.gone)
		}
		r.retired = append(r.retired, r.order...)
		r.newClients()
		restart = true
		panes = r.panesLocked()
	}
	r.seek = &seekTo{record: target, restart: restart}
	r.signal()
	return Sought{Frame: uint64(r.numbers[target]), Panes: panes}, nil
}

// resolve finds the frame record a seek goes to, from record from.
func (r *Replay) resolve(to Seek, from int) (int, error) {
	roles := r.stopRoles()
	if to.Frame > 0 {
		i := slices.Index(r.numbers, int(min(to.Frame, math.MaxInt32)))
		if i < 0 || roles[i] < 0 {
			return 0, fmt.Errorf("no frame #%d in this transcript", to.Frame)
		}
		return i, nil
	}
	step := 1
	if to.Stops < 0 {
		step = -1
	}
	i := from
	for n := max(to.Stops, -to.Stops, 1); n > 0; n-- {
		for i += step; i >= 0 && i < len(roles) && !client.Role(roles[i]).Stop(); i += step {
		}
		if i < 0 || i >= len(roles) {
			if step > 0 {
				return 0, errors.New("no stop after this one: the end of the transcript")
			}
			return 0, errors.New("no stop before this one")
		}
	}
	return i, nil
}

// stopRoles returns each record's role, -1 for a record that is not a
// frame; r.mu is held. The records are read once, at the first seek.
func (r *Replay) stopRoles() []int8 {
	if r.roles != nil {
		return r.roles
	}
	r.roles = make([]int8, len(r.t.Records))
	for i, rec := range r.t.Records {
		r.roles[i] = -1
		if rec.Event != "frame" {
			continue
		}
		if ev, err := rec.ClientEvent(); err == nil {
			if f, ok := ev.(client.FrameEvent); ok {
				r.roles[i] = int8(client.Classify(f.Kind, f.Layers))
			}
		}
	}
	return r.roles
}

// takeSeek returns the seek waiting for Run, if any, and closes the event
// channels of the clients it replaced (Run is their only sender, and it
// sends no more to them).
func (r *Replay) takeSeek() *seekTo {
	r.mu.Lock()
	defer r.mu.Unlock()
	to := r.seek
	r.seek = nil
	if to != nil {
		r.credits = 0 // releases asked for before the seek are moot
	}
	for _, b := range r.retired {
		close(b.events)
	}
	r.retired = nil
	if to != nil && to.restart {
		r.pos, r.holding = -1, false
	}
	return to
}

// seeking reports whether a seek waits for Run.
func (r *Replay) seeking() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seek != nil
}

// waitSeek waits, at the end of the transcript, for a seek.
func (r *Replay) waitSeek(ctx context.Context) error {
	for !r.seeking() {
		select {
		case <-r.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// played notes the record Run plays, and whether it is held.
func (r *Replay) played(i int, holding bool) {
	r.mu.Lock()
	r.pos, r.holding = i, holding
	r.mu.Unlock()
}
