package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
	"dimtui/workshop"
)

// statusHeight is the status bar's height in lines.
const statusHeight = 2

// statusBar is the two lines at the top of a pane: the connection and the
// handshake, then the session, the station and who I am.
type statusBar struct {
	st      *Styles
	chat    *chatState    // the status it shows
	title   string        // names the pane; "" for the local user's name
	station string        // names the pane's station among several; ""  for the only one
	delay   time.Duration // the workshop's station delays my messages (/delay)
	w       int
	// mouseFree: the terminal has the mouse (ctrl+g), which the bar says.
	mouseFree bool
	// replay is where the replay the pane plays is; nil for a live client.
	replay *workshop.Progress
}

func (b *statusBar) setSize(w, _ int) { b.w = w }

// help: the status bar takes no keys.
func (b *statusBar) help() []key.Binding { return nil }

func (b *statusBar) view() string {
	var notes []string
	if b.mouseFree {
		notes = append(notes, b.st.StepCurrent.Render(" mouse free: drag selects · ctrl+g "))
	}
	if b.delay > 0 {
		// What the workshop's station does to my messages while it lasts.
		notes = append(notes, b.st.StateBusy.Render("▲ delay "+b.delay.String()))
	}
	return strings.Join(renderStatus(b.st, b.chat.status, b.chat.me, b.title, b.station, b.w, b.replay, notes...), "\n")
}

// handshakeSteps are the handshake's steps in the order they happen.
func handshakeSteps() []dimp.HandshakeState {
	return []dimp.HandshakeState{dimp.HandshakeStart, dimp.HandshakeAgain, dimp.HandshakeRestart, dimp.HandshakeSuccess}
}

// renderStatus draws the two-line status bar: the connection state and
// the handshake timeline with the current step marked, then the session
// key, the station (with its name among several) and its address, the
// local user and the round-trip time.
// notes, drawn already, go before the round-trip time. A replay (replay
// not nil) says so instead of the connection's state, shows where it is
// instead of the round-trip time, and says offline and the transcript's
// name instead of the station's address.
func renderStatus(st *Styles, s client.Status, me dimp.ID, title, stationName string, width int, replay *workshop.Progress,
	notes ...string) []string {
	bar := st.StatusBar
	label := func(t string) string { return st.StatusLabel.Render(t) }
	value := func(t string) string { return st.StatusValue.Render(t) }
	sp := bar.Render(" ")

	// Line 1: state badge and timeline.
	badge := st.StateBusy
	switch s.State {
	case client.Running:
		badge = st.StateGood
	case client.Error:
		badge = st.StateBad
	}
	stateText := s.State.String()
	if s.Attempt > 0 && s.State != client.Running {
		stateText += fmt.Sprintf(" · retry %d", s.Attempt)
	}
	var b strings.Builder
	if replay != nil {
		badge, stateText = st.PanelTitle, "REPLAY"
	}
	b.WriteString(badge.Render(stateText))
	timeline := sp + renderTimeline(st, s)
	line1 := b.String() + sp + label("handshake") + timeline
	rtt := label("rtt ") + value("—")
	if s.RTT > 0 {
		rtt = label("rtt ") + value(formatRTT(s.RTT))
	}
	if replay != nil {
		rtt = value(progressText(*replay))
	}
	for _, n := range notes {
		rtt = n + sp + rtt
	}
	if ansi.StringWidth(line1)+ansi.StringWidth(rtt)+2 > width {
		// A narrow bar (panes side by side) keeps every step of the
		// timeline rather than the word "handshake".
		line1 = b.String() + timeline
	}
	line1 = joinEnds(bar, line1, rtt+sp, width)

	// Line 2: session, station, address, me; or the error.
	var parts []string
	if s.State == client.Error && s.Err != nil && !errors.Is(s.Err, client.ErrReconnectAsked) {
		parts = append(parts, st.StepFailed.Render("✗ "+display.Sanitize(s.Err.Error(), false)))
	}
	session := "—"
	if s.Session != "" {
		session = display.ShortHex(s.Session)
	}
	parts = append(parts, label("session ")+value(session))
	station := "—"
	if !s.Station.IsZero() {
		station = display.ShortID(s.Station)
	}
	if stationName != "" {
		// Among several stations (the demo's network), which one.
		station = stationName + " " + station
	}
	parts = append(parts, label("station ")+value(station))
	if replay != nil {
		// First: a narrow bar cuts from the right.
		parts = append([]string{label("offline ") + value(display.Sanitize(replay.Name, false))}, parts...)
	} else {
		parts = append(parts, value(s.URL))
	}
	left := sp + strings.Join(parts, bar.Render("  "))
	who := title
	if who == "" {
		who = display.Name(me)
	}
	right := label("me ") + value(display.Truncate(who, 20)) + sp
	line2 := joinEnds(bar, left, right, width)
	return []string{line1, line2}
}

// renderTimeline draws Start → Again → Restart → Success with the current
// step in brackets; Error is marked after the steps when the connection
// failed.
func renderTimeline(st *Styles, s client.Status) string {
	handshaking := s.State == client.Handshaking || s.State == client.Running
	arrow := st.StepNext.Render(" → ")
	var parts []string
	for _, step := range handshakeSteps() {
		name := step.String()
		switch {
		case !handshaking:
			parts = append(parts, st.StepNext.Render(name))
		case step < s.Handshake:
			parts = append(parts, st.StepDone.Render(name))
		case step == s.Handshake:
			parts = append(parts, st.StepCurrent.Render("["+name+"]"))
		default:
			parts = append(parts, st.StepNext.Render(name))
		}
	}
	out := strings.Join(parts, arrow)
	if s.State == client.Error {
		out += st.StatusBar.Render(" ") + st.StepFailed.Render("[✗ Error]")
	}
	return out
}

// joinEnds puts left and right on one line of width cells filled with the
// bar's background, cutting left when both do not fit.
func joinEnds(bar interface{ Render(...string) string }, left, right string, width int) string {
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if lw+rw+1 > width {
		left = ansi.Truncate(left, max(width-rw-1, 0), "…")
		lw = ansi.StringWidth(left)
		if lw+rw > width {
			return ansi.Truncate(left+right, width, "")
		}
	}
	return left + bar.Render(strings.Repeat(" ", width-lw-rw)) + right
}

// formatRTT writes a round trip as 850 µs, 12 ms or 1.2 s.
func formatRTT(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}
