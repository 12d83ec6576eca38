// Package workshop is what dimtui's workshop mode knows without a screen:
//
//   - explanations: what one frame does in the protocol, in plain words
//     (what is signed and with which key, what is encrypted and to whom,
//     what the station checks, what comes next), from the point of view of
//     one client's user and the keys it has seen (Viewpoint.Explain);
//   - transcripts: a Recorder keeps every event of every pane with each
//     frame's explanation, within a budget of bytes, and writes it as JSON
//     Lines (every record) and Markdown (a readable account) for /export;
//     ReadTranscript reads the JSON Lines back;
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
}
