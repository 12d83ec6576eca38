package ui

import (
	"context"
	"fmt"
	"strconv"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/workshop"
)

// Stepping through a lesson. f8 lets exactly one held frame go (in
// lesson mode every held frame is a stop, so one stop); f9 runs to the
// next stop: it lets the next frame go whatever it is, then every frame
// held after it, in every pane, as they come, until a milestone is held
// (a handshake step, a chat or app message): that one waits, and so does
// everything held behind it. Receipts and housekeeping on the way go on.

// step lets the next held frame go, and stops a run to the next stop.
func (w *workshopMode) step(a *App) tea.Cmd {
	w.running = false
	return w.release(a, 1)
}

// run lets the next held frame go and runs on to the next milestone. With
// nothing held it waits for one: the frames held before it go as they
// come.
func (w *workshopMode) run(a *App) tea.Cmd {
	w.running = true
	var picked []*heldFrame
	for _, h := range w.queue {
		if !h.asked {
			picked = append(picked, h) // the frame shown next goes, whatever it is
			break
		}
	}
	var head *heldFrame
	if len(picked) > 0 {
		head = picked[0]
	}
	picked = append(picked, w.upToStop(head)...)
	flash := ""
	if w.running {
		flash = runningFlash
	}
	cmd := w.ask(a, picked)
	if flash == "" {
		return cmd
	}
	return tea.Batch(cmd, a.flash(a.panes[a.focused].id, flash, false))
}

// advance, while running, lets go the frames held since, up to the next
// milestone.
func (w *workshopMode) advance(a *App) tea.Cmd {
	if !w.running {
		return nil
	}
	cmd := w.ask(a, w.upToStop(nil))
	if !w.running {
		w.endRunFlash(a)
	}
	return cmd
}

// runningFlash is what the focused pane says while a run goes on.
const runningFlash = "running to the next stop (a handshake step or a chat message)…"

// endRunFlash takes the running flash away once the run has stopped, so
// that the pane does not say it runs while a stop waits.
func (w *workshopMode) endRunFlash(a *App) {
	for _, p := range a.panes {
		if p.flash == runningFlash {
			p.flash = ""
			p.composer.setNote(p.compactNote())
		}
	}
}

// upToStop returns the frames not asked for yet (but skip, about to be)
// that come before the first milestone of the queue. At a milestone the
// run ends: it waits there.
func (w *workshopMode) upToStop(skip *heldFrame) []*heldFrame {
	var out []*heldFrame
	for _, h := range w.queue {
		if h.asked || h == skip {
			continue
		}
		if h.role == client.Milestone {
			w.running = false
			break
		}
		out = append(out, h)
	}
	return out
}

// ask asks the client of each frame, in the order given (the queue's), to
// let its oldest held frame go. Each client lets its own frames go in
// order, so asking in the order of the queue lets exactly these go. Nil
// when there is nothing to ask.
func (w *workshopMode) ask(a *App, frames []*heldFrame) tea.Cmd {
	var steppers []Stepper
	for _, h := range frames {
		p := a.pane(h.pane)
		if p == nil {
			continue
		}
		s, ok := p.b.(Stepper)
		if !ok {
			continue
		}
		h.asked = true
		steppers = append(steppers, s)
	}
	if len(steppers) == 0 {
		return nil
	}
	return a.panes[a.focused].call("release", "", func(ctx context.Context) error {
		for _, s := range steppers {
			if err := s.Release(ctx, 1); err != nil {
				return err
			}
		}
		return nil
	})
}

// modeName is the step mode as the panel names it, with what passes.
func (w *workshopMode) modeName() string {
	if !w.stepping() {
		return "off"
	}
	switch w.mode {
	case client.StepLesson:
		return "lesson (housekeeping passes)"
	case client.StepMessages:
		return "messages (PING, PONG, ACK pass)"
	case client.StepAll:
		return "all"
	}
	return "off"
}

// idleHint is the panel's text while nothing is held.
func (w *workshopMode) idleHint() string {
	what := "Every frame in and out stops here"
	if w.mode == client.StepLesson {
		what = "Each handshake step, chat or app message and its receipts stop here (keep-alive, " +
			"acknowledgements, visa and login broadcasts and who is online pass)"
	}
	return "Nothing is held now. " + what + ", explained, until you let it go: f8 (or Enter on an empty line) " +
		"releases the next, f9 runs to the next handshake step or chat message, f7 turns stepping off."
}

// seekDoneMsg brings the result of a seek in a replay.
type seekDoneMsg struct {
	pane  PaneID
	frame uint64
	specs []PaneSpec // the new panes when the replay started over
	err   error
}

// seekCommand runs /seek N, /seek next, /seek prev.
func (w *workshopMode) seekCommand(a *App, p *Pane, arg string) tea.Cmd {
	var to workshop.Seek
	switch arg {
	case "next", "]":
		to.Stops = 1
	case "prev", "previous", "[":
		to.Stops = -1
	default:
		n, err := strconv.ParseUint(arg, 10, 64)
		if err != nil || n == 0 {
			return p.setFlash("/seek N (a frame number, as #N in the panel), /seek next or /seek prev", true)
		}
		to.Frame = n
	}
	return w.seek(a, p, to)
}

// seek asks the replay to move; the frame it goes to is held, explained.
func (w *workshopMode) seek(a *App, p *Pane, to workshop.Seek) tea.Cmd {
	if w.opt.Seek == nil {
		return p.setFlash("seeking is for replays: dimtui replay FILE.jsonl", true)
	}
	w.running = false
	seek, id, base := w.opt.Seek, p.id, p.opt.Context
	return func() tea.Msg {
		frame, specs, err := seek(base, to)
		return seekDoneMsg{pane: id, frame: frame, specs: specs, err: err}
	}
}

// seekDone shows where a seek went: in new panes when the replay started
// over.
func (w *workshopMode) seekDone(a *App, msg seekDoneMsg) tea.Cmd {
	if msg.err != nil {
		return a.flash(msg.pane, "seek: "+msg.err.Error(), true)
	}
	flash := fmt.Sprintf("frame #%d", msg.frame)
	if len(msg.specs) == 0 {
		return a.flash(msg.pane, flash, false)
	}
	cmd := w.replacePanes(a, msg.specs)
	return tea.Batch(cmd, a.flash(a.panes[0].id, flash+": played again from the start", false))
}
