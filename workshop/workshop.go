// Package workshop is what dimtui's workshop mode knows without a screen:
//
//   - explanations: what one frame does in the protocol, in plain words
//     (what is signed and with which key, what is encrypted and to whom,
//     what the station checks, what comes next), from the point of view of
//     one client's user and the keys it has seen (Viewpoint.Explain);
//   - frame numbers: Numbers gives every frame of a session one number,
//     the same in each pane's inspector, the step-through panel, the
//     transcript and its replay;
//   - transcripts: a Recorder keeps every event of every pane with each
//     frame's explanation, within a budget of bytes, notes which receipt
//     answered which message sent (answers.go), and writes it as JSON
//     Lines (every record) and Markdown (a readable account, with the
//     answers that really came) for /export; ReadTranscript reads the JSON
//     Lines back;
//   - replay: Replay plays a transcript back offline, one ReplayClient per
//     pane in the place of a *client.Client, holding each frame until it
//     is released when stepping.
//
// The terminal UI (package ui) draws all of it: the step-through panel,
// the slash commands, the panes a replay feeds. This package sees the
// network only through the client's events and frames, and knows nothing
// of the UI: ReplayClient and Replay have the methods of the UI's Backend,
// Stepper and StationControl interfaces, which Go lets them implement
// without naming them.
package workshop

import (
	"time"

	"dimtui/dimp"
)

// StationNotice is something the station did on purpose in a workshop (a
// frame dropped, a session expired, a restart), as a station running in
// the process reports it and a transcript records it.
type StationNotice struct {
	Time time.Time
	User dimp.ID // whose frames; zero for every user
	Text string
	// Kind says what the station did, for what the UI adds to the text (a
	// hint, a badge); NoticeOther for the text alone.
	Kind NoticeKind
	// ToClient: the frame was on its way to the user (NoticeDrop,
	// NoticeCorrupt); else it came from the user.
	ToClient bool
	// Delay is what every message to the user now waits (NoticeDelay).
	Delay time.Duration
	// Station names the station that did it, when the demo runs several
	// (NoticeNetwork); "" for the only one.
	Station string
}

// NoticeKind is what a StationNotice is about.
type NoticeKind int

// What a station notice can be about.
const (
	NoticeOther   NoticeKind = iota
	NoticeDrop               // a chat message lost
	NoticeCorrupt            // a chat message's signature damaged
	NoticeDelay              // the messages to the user delayed, or no longer
	NoticeExpire             // the user's session forgotten
	NoticeRestart            // the station restarting
	NoticeNetwork            // a station passed, took or refused a message, or a link went up or down
)
