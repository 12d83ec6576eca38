// Package ui is dimtui's terminal interface, a Bubble Tea program: a status
// bar that follows the connection and the handshake step by step, the
// conversation with scrollback and delivery ticks, a composer with slash
// commands, the contacts online at the station, a form for application
// content, and an inspector that peels every frame Reliable → Secure →
// Instant.
//
// The UI sees the network only through a Backend (a *client.Client, or a
// workshop.ReplayClient playing a transcript back), whose events it reads
// with a re-armed command; every call it makes runs in a tea.Cmd. One
// client's screen is a Pane; App is the root model holding the panes, the
// help overlay and the theme.
//
// Workshop mode (WithWorkshop) is for presenters: several clients side by
// side; step-through, where each client holds every frame until it is
// released and a panel explains the frame held next (what is signed, what
// is encrypted and to whom, what the station checks, what comes next); the
// commands that break the in-process station on purpose; transcripts
// (/export as JSON Lines and Markdown, played back by workshop.Replay);
// and a presenter theme. What the workshop knows without a screen (the
// explanations, the transcript, the replay) is package workshop; this
// package draws it.
package ui

import (
	"context"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/dimp"
)

// Backend is what the UI needs of a client connection. The UI defines it,
// as the one that consumes it: *client.Client implements it, and so does
// workshop.ReplayClient, which plays a pane's recorded events back; tests
// use a fake, and a workshop mode can wrap a client to hold or rewrite
// what passes.
type Backend interface {
	Me() dimp.ID
	Status() client.Status
	Events() <-chan client.Event
	Send(ctx context.Context, to dimp.ID, content dimp.Content) (client.MessageID, error)
	ActiveUsers(ctx context.Context) error
	MarkRead(ctx context.Context, id client.MessageID) error
	Peer(ctx context.Context, id dimp.ID) (*dimp.Profile, error)
	Reconnect(ctx context.Context) error
}

// Options configure a pane.
type Options struct {
	// Context bounds every call the UI makes to the backend; Background
	// when nil.
	Context context.Context
	// Peer is the conversation shown first (the echo bot in the demo).
	Peer dimp.ID
	// Bots are users to mark as bots in the contacts (the echo bot); they
	// are listed first.
	Bots []dimp.ID
	// Logger receives what the UI does not show (failed MarkRead calls...).
	Logger *slog.Logger
	// UsersEvery is how often the contacts ask the station who is online
	// while connected and the contacts show; 0 means 30 s, a negative
	// value never.
	UsersEvery time.Duration
	// HideTimestamps starts with timestamps hidden.
	HideTimestamps bool
	// MaxFrames bounds the inspector's frame list (oldest dropped); 0 means
	// 5000.
	MaxFrames int
	// Title names the pane in its status bar (a user name in a split view);
	// empty: the local user's ID name.
	Title string
	// StationName names the pane's station in its status bar when the
	// demo runs several (A, B); empty: the station's ID alone.
	StationName string
	// StationNames names the demo's stations by ID (without terminal), so
	// that a receipt from another one reads "station B".
	StationNames map[string]string

	// tick makes the command that delivers fn's message after d: the
	// footer's flash expiring, the next "who is online". tea.Tick when
	// nil; tests put their own here, to see the timers set without
	// waiting for them.
	tick func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd
}

func (o *Options) defaults() {
	if o.Context == nil {
		o.Context = context.Background()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.UsersEvery == 0 {
		o.UsersEvery = 30 * time.Second
	}
	if o.MaxFrames <= 0 {
		o.MaxFrames = 5000
	}
	if o.tick == nil {
		o.tick = tea.Tick
	}
}

// PaneID tells the panes of one program apart, so that events and results
// reach the pane they are for.
type PaneID int

// EventMsg carries one client event to the pane it is for. A pane that
// handles an EventMsg re-arms its listener unless Replayed is set: a model
// that intercepts the frame flow (to hold frames until a presenter releases
// them) keeps the pane listening with Pane.Listen and hands the held events
// back later with Replayed set. An App listens for its panes itself, in
// one queue (eventQueue), and sets Replayed on what it hands them.
type EventMsg struct {
	Pane     PaneID
	Event    client.Event
	Closed   bool // the event channel is closed: the client stopped
	Replayed bool // do not re-arm the listener for this one
	queued   bool // from the App's queue, which the App re-arms
}

// Listen returns a command that waits for the next event on ch and returns
// it as an EventMsg for pane id.
func Listen(id PaneID, ch <-chan client.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return EventMsg{Pane: id, Closed: true}
		}
		return EventMsg{Pane: id, Event: ev}
	}
}

// paneMsg is a message for one pane: the answer of something it started
// (a call, a transfer, a read of the history), or its timer.
type paneMsg interface{ paneID() PaneID }

func (m callDoneMsg) paneID() PaneID            { return m.pane }
func (m usersTickMsg) paneID() PaneID           { return m.pane }
func (m flashExpiredMsg) paneID() PaneID        { return m.pane }
func (m transferProgressMsg) paneID() PaneID    { return m.pane }
func (m transferDoneMsg) paneID() PaneID        { return m.pane }
func (m conversationsLoadedMsg) paneID() PaneID { return m.pane }
func (m pageLoadedMsg) paneID() PaneID          { return m.pane }
func (m nameResolvedMsg) paneID() PaneID        { return m.pane }

// callDoneMsg reports a backend call that finished.
type callDoneMsg struct {
	pane PaneID
	what string // for the log and the footer
	err  error
	// flash is shown in the footer when the call succeeded.
	flash string
	// lines are shown in the conversation when the call succeeded (what
	// /status reports).
	lines []string
}

// usersTickMsg asks the pane to refresh who is online.
type usersTickMsg struct{ pane PaneID }

// flashExpiredMsg clears the footer's confirmation.
type flashExpiredMsg struct {
	pane PaneID
	seq  int
}
