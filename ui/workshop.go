package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
	"dimtui/workshop"
)

// Stepper is a backend whose frames step-through can hold: *client.Client,
// and the replay of a transcript.
type Stepper interface {
	SetStep(ctx context.Context, mode client.StepMode) error
	Release(ctx context.Context, n int) error
}

// StationControl is the station running in this process, which a workshop
// breaks on purpose to show how the protocol reacts. user is the pane's
// user; toClient chooses the direction (the station's frames to the user,
// or the user's frames to the station).
type StationControl interface {
	// DropNext makes the station lose the next chat message in that
	// direction.
	DropNext(user dimp.ID, toClient bool) error
	// CorruptNext damages the signature of the next chat message in that
	// direction: the station (or the client) refuses it.
	CorruptNext(user dimp.ID, toClient bool) error
	// SetDelay makes the station hold every message from others to the
	// user for d before pushing it (0: none); its own answers go at once.
	SetDelay(user dimp.ID, d time.Duration) error
	// Expire makes the station forget the user's session: it asks DIM?
	// (with force) and holds the user's messages until the new handshake.
	Expire(user dimp.ID) error
	// Restart stops the station and starts it again on the same address
	// and data: clients reconnect and handshake from Start.
	Restart(ctx context.Context) error
	// Notices reports what the station did (a frame dropped, a session
	// expired), for the UI to show.
	Notices() <-chan workshop.StationNotice
	// Partition cuts the links between the stations of the demo (cut
	// true) or heals them: messages for users at another station wait,
	// then flow.
	Partition(cut bool) error
	// StationStatus describes the user's station: its links to other
	// stations and the users it knows to be elsewhere, one per line.
	StationStatus(user dimp.ID) ([]string, error)
}

// A replay stands in for the clients and the station: its clients are
// the panes' backends, itself the station's controls.
var (
	_ Backend        = (*workshop.ReplayClient)(nil)
	_ Stepper        = (*workshop.ReplayClient)(nil)
	_ StationControl = (*workshop.Replay)(nil)
)

// WorkshopOptions turn on workshop mode: step-through with a panel that
// explains each held frame, the fault injection commands, transcripts and
// the presenter theme.
type WorkshopOptions struct {
	// Step is the step-through mode at start (the clients should be made
	// with the same Config.Step, so that their first frame is held).
	Step client.StepMode
	// Presenter starts with the presenter theme.
	Presenter bool
	// Station is the in-process station to break; nil leaves out the fault
	// commands.
	Station StationControl
	// Reset starts over with a fresh station and fresh identities and
	// returns the new clients' panes; nil leaves out /reset.
	Reset func(ctx context.Context) ([]PaneSpec, error)
	// ExportDir is where /export writes when given a bare name; "" is the
	// current directory.
	ExportDir string
	// Finished, when set, is closed when a replay has nothing more to play.
	Finished <-chan struct{}
	// Seek moves a replay to another frame (workshop.Replay.Seek): it
	// returns the number of the frame held then, and the new panes when
	// the replay started over; nil leaves out seeking (] [ and /seek).
	Seek func(ctx context.Context, to workshop.Seek) (uint64, []PaneSpec, error)
	// Now is the clock of file names; time.Now when nil.
	Now func() time.Time
}

// WithWorkshop turns workshop mode on.
func WithWorkshop(o WorkshopOptions) AppOption {
	return func(a *App) {
		if o.Now == nil {
			o.Now = time.Now
		}
		a.ws = &workshopMode{opt: o, mode: o.Step, onMode: o.Step, presenter: o.Presenter, rec: workshop.NewRecorder()}
		if a.ws.onMode == client.StepOff {
			a.ws.onMode = client.StepLesson
		}
		a.keys.setWorkshop(true)
	}
}

// Messages of workshop mode.
type (
	// workshopCommandMsg is a workshop slash command typed in a pane.
	workshopCommandMsg struct {
		pane      PaneID
		name, arg string
	}
	// stationNoticeMsg carries a workshop.StationNotice; ok is false when
	// the station's channel closed.
	stationNoticeMsg struct {
		n  workshop.StationNotice
		ok bool
	}
	// resetDoneMsg brings the panes of a fresh start.
	resetDoneMsg struct {
		pane  PaneID
		specs []PaneSpec
		err   error
	}
	// replayFinishedMsg says the replay has played everything.
	replayFinishedMsg struct{}
)

// workshopMode is workshop mode's state in the App.
type workshopMode struct {
	opt       WorkshopOptions
	mode      client.StepMode // StepOff: not stepping
	onMode    client.StepMode // what the toggle turns on
	queue     []*heldFrame    // frames held by every client, oldest first
	running   bool            // f9: frames are let go up to the next milestone
	rec       *workshop.Recorder
	presenter bool
	full      fullPanel // the panel over the whole screen (f5)
}

// heldFrame is a frame a client holds, as the panel lists it.
type heldFrame struct {
	pane  PaneID
	ev    client.HeldEvent
	role  client.Role           // what it is to a lesson (client.Classify)
	asked bool                  // its release was asked for
	expl  *workshop.Explanation // made once it comes next (workshopMode.sync)
}

// stepping reports whether frames are held.
func (w *workshopMode) stepping() bool { return w.mode != client.StepOff }

// panelShown reports whether the step-through panel is on the screen.
func (w *workshopMode) panelShown() bool { return w.stepping() || len(w.queue) > 0 }

// attach sets the panes up for workshop mode.
func (w *workshopMode) attach(a *App) {
	for _, p := range a.panes {
		p.startWorkshop(w.stepping())
	}
}

// init starts listening to the station and puts the clients in the
// starting step mode.
func (w *workshopMode) init(a *App) tea.Cmd {
	var cmds []tea.Cmd
	if w.opt.Station != nil {
		cmds = append(cmds, listenNotices(w.opt.Station.Notices()))
	}
	if w.opt.Finished != nil {
		done := w.opt.Finished
		cmds = append(cmds, func() tea.Msg { <-done; return replayFinishedMsg{} })
	}
	if w.stepping() {
		cmds = append(cmds, w.setStepCmd(a, w.mode))
	}
	return tea.Batch(cmds...)
}

func listenNotices(ch <-chan workshop.StationNotice) tea.Cmd {
	return func() tea.Msg {
		n, ok := <-ch
		return stationNoticeMsg{n: n, ok: ok}
	}
}

// observe sees every client event before its pane: it keeps the queue of
// held frames and records the transcript. It reports whether the panel
// appeared or went, so that the panes are resized, and while running to
// the next stop lets the frames held go up to it.
func (w *workshopMode) observe(a *App, msg EventMsg) (relayout bool, cmd tea.Cmd) {
	p := a.pane(msg.Pane)
	if p == nil || msg.Event == nil {
		return false, nil
	}
	shown := w.panelShown()
	switch ev := msg.Event.(type) {
	case client.HeldEvent:
		w.queue = append(w.queue, &heldFrame{pane: msg.Pane, ev: ev, role: client.Classify(ev.Kind, ev.Layers)})
		cmd = w.advance(a)
	case client.ReleasedEvent:
		for i, h := range w.queue {
			if h.pane == msg.Pane && h.ev.Seq == ev.Seq {
				w.queue = append(w.queue[:i], w.queue[i+1:]...)
				break
			}
		}
	}
	w.rec.Observe(int(p.id), p.viewpoint(), msg.Event)
	return shown != w.panelShown(), cmd
}

// update handles the workshop's own messages.
func (w *workshopMode) update(a *App, msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case workshopCommandMsg:
		return w.command(a, msg), true
	case stationNoticeMsg:
		if !msg.ok {
			return nil, true
		}
		w.notice(a, msg.n)
		return listenNotices(w.opt.Station.Notices()), true
	case resetDoneMsg:
		if msg.err == nil && len(msg.specs) == 0 {
			msg.err = errors.New("no client to show")
		}
		if msg.err != nil {
			return a.flash(msg.pane, "reset: "+msg.err.Error(), true), true
		}
		cmd := w.replacePanes(a, msg.specs)
		return tea.Batch(cmd, a.flash(a.panes[0].id, "a fresh station and fresh identities", false)), true
	case seekDoneMsg:
		return w.seekDone(a, msg), true
	case replayFinishedMsg:
		for _, p := range a.panes {
			p.notice("end of the transcript", false)
		}
		return nil, true
	}
	return nil, false
}

// replacePanes puts the panes of new clients on the screen (a reset, a
// replay started over), in the current step mode, with a new transcript.
func (w *workshopMode) replacePanes(a *App, specs []PaneSpec) tea.Cmd {
	w.queue, w.running = nil, false
	w.rec = workshop.NewRecorder()
	cmds := []tea.Cmd{a.replacePanes(specs)} // which number their frames from 1 again
	w.attach(a)
	if w.stepping() {
		cmds = append(cmds, w.setStepCmd(a, w.mode))
	}
	return tea.Batch(cmds...)
}

// notice shows what the station did in the pane of the user it concerns
// (every pane when it concerns everyone) and records it.
func (w *workshopMode) notice(a *App, n workshop.StationNotice) {
	for _, p := range a.panes {
		if n.User.IsZero() || n.User.SameAs(p.me) {
			who := "▲ station: "
			if n.Station != "" {
				who = "▲ station " + n.Station + ": "
			}
			p.noticeAt(n.Time, who+n.Text, false)
			w.rec.Notice(int(p.id), p.me, n)
			p.stationDid(n)
		}
	}
}

// handleKey handles the workshop keys; ok is false for other keys.
func (w *workshopMode) handleKey(a *App, k tea.KeyPressMsg) (tea.Cmd, bool) {
	keys := a.keys
	switch {
	case key.Matches(k, keys.StepToggle):
		if w.stepping() {
			return w.setMode(a, client.StepOff), true
		}
		return w.setMode(a, w.onMode), true
	case key.Matches(k, keys.StepNext):
		return w.step(a), true
	case key.Matches(k, keys.StepRun):
		return w.run(a), true
	case key.Matches(k, keys.Presenter):
		w.togglePresenter(a)
		return nil, true
	case key.Matches(k, keys.PanelFull):
		w.toggleFull(a)
		return nil, true
	case w.full.shown:
		return w.fullKey(a, k), true
	case key.Matches(k, keys.SeekNext, keys.SeekPrev) && a.panes[a.focused].composerIdle():
		stops := 1
		if key.Matches(k, keys.SeekPrev) {
			stops = -1
		}
		return w.seek(a, a.panes[a.focused], workshop.Seek{Stops: stops}), true
	case key.Matches(k, keys.Send) && w.stepping() && w.waiting() > 0 && a.panes[a.focused].composerIdle():
		// Enter on an empty line releases the next frame.
		return w.step(a), true
	}
	return nil, false
}

// waiting counts the held frames whose release was not asked for yet.
func (w *workshopMode) waiting() int {
	n := 0
	for _, h := range w.queue {
		if !h.asked {
			n++
		}
	}
	return n
}

// setMode turns step-through on or off for every client.
func (w *workshopMode) setMode(a *App, mode client.StepMode) tea.Cmd {
	shown := w.panelShown()
	w.mode, w.running = mode, false
	if mode != client.StepOff {
		w.onMode = mode
	}
	for _, p := range a.panes {
		p.setStepping(w.stepping())
	}
	if shown != w.panelShown() {
		a.resize()
	}
	flash := "step-through off: every held frame goes on"
	switch mode {
	case client.StepLesson:
		flash = "step-through on (lesson): each stop waits for f8, housekeeping passes"
	case client.StepMessages, client.StepAll:
		flash = "step-through on (" + mode.String() + "): every frame waits for f8"
	}
	return tea.Batch(w.setStepCmd(a, mode), a.flash(a.panes[a.focused].id, flash, false))
}

// setStepCmd tells every client the step mode.
func (w *workshopMode) setStepCmd(a *App, mode client.StepMode) tea.Cmd {
	var steppers []Stepper
	for _, p := range a.panes {
		if s, ok := p.b.(Stepper); ok {
			steppers = append(steppers, s)
		}
	}
	if len(steppers) == 0 {
		return nil
	}
	return a.panes[a.focused].call("step-through", "", func(ctx context.Context) error {
		for _, s := range steppers {
			if err := s.SetStep(ctx, mode); err != nil {
				return err
			}
		}
		return nil
	})
}

// release lets the next n held frames go (n <= 0: all those held now),
// oldest first whichever client holds them.
func (w *workshopMode) release(a *App, n int) tea.Cmd {
	var picked []*heldFrame
	for _, h := range w.queue {
		if h.asked {
			continue
		}
		if n > 0 && len(picked) == n {
			break
		}
		picked = append(picked, h)
	}
	if cmd := w.ask(a, picked); cmd != nil {
		return cmd
	}
	return a.flash(a.panes[a.focused].id, "nothing is held", false)
}

// togglePresenter switches between the normal and the presenter theme.
func (w *workshopMode) togglePresenter(a *App) {
	w.presenter = !w.presenter
	a.applyTheme()
}

// command runs a workshop slash command typed in a pane.
func (w *workshopMode) command(a *App, msg workshopCommandMsg) tea.Cmd {
	p := a.pane(msg.pane)
	if p == nil {
		return nil
	}
	arg := strings.ToLower(strings.TrimSpace(msg.arg))
	switch msg.name {
	case "step":
		switch arg {
		case "":
			if w.stepping() {
				return w.setMode(a, client.StepOff)
			}
			return w.setMode(a, w.onMode)
		default:
			mode, err := client.ParseStepMode(arg)
			if err != nil {
				return p.setFlash(err.Error(), true)
			}
			return w.setMode(a, mode)
		}
	case "run":
		return w.run(a)
	case "next":
		n := 1
		if arg != "" {
			v, err := strconv.Atoi(arg)
			if err != nil || v < 1 {
				return p.setFlash("/next N: N is a number of frames", true)
			}
			n = v
		}
		w.running = false
		return w.release(a, n)
	case "release":
		w.running = false
		return w.release(a, 0)
	case "seek":
		return w.seekCommand(a, p, arg)
	case "presenter":
		w.togglePresenter(a)
		return nil
	case "export":
		return w.export(a, p, msg.arg)
	case "reset":
		if w.opt.Reset == nil {
			return p.setFlash("/reset needs the station in this process (dimtui demo)", true)
		}
		// The pane's context bounds the start over, as it bounds the pane's
		// other calls: the program ending stops it.
		reset, id, base := w.opt.Reset, p.id, p.opt.Context
		return tea.Batch(p.setFlash("starting over…", false), func() tea.Msg {
			ctx, cancel := context.WithTimeout(base, 30*time.Second)
			defer cancel()
			specs, err := reset(ctx)
			return resetDoneMsg{pane: id, specs: specs, err: err}
		})
	}
	return w.fault(p, msg.name, arg)
}

// export writes the transcript as JSON Lines and Markdown beside each other.
func (w *workshopMode) export(a *App, p *Pane, arg string) tea.Cmd {
	base := strings.TrimSpace(arg)
	if base == "" {
		base = "dimtui-" + w.opt.Now().Format("20060102-150405")
	}
	base = strings.TrimSuffix(strings.TrimSuffix(base, ".jsonl"), ".md")
	if !filepath.IsAbs(base) && w.opt.ExportDir != "" && !strings.ContainsRune(base, filepath.Separator) {
		base = filepath.Join(w.opt.ExportDir, base)
	}
	snap := w.rec.Snapshot()
	return p.call("export", fmt.Sprintf("wrote %s.jsonl and %s.md (%s)", base, base, display.Plural(snap.Frames(), "frame")),
		func(context.Context) error { return snap.WriteFiles(base) })
}
