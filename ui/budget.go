package ui

import (
	"dimtui/client"
)

// What the UI keeps is bounded by bytes, not only by count: a peer can
// send messages of a megabyte through an honest station, and a station
// frames of a megabyte, as fast as the connection carries them. The oldest
// go first, and what is too long for anyone to read in a terminal is kept
// by its head, with a visible mark of what was left out.
const (
	// maxKeptFrame: a longer frame is kept by its head, its size and its
	// SHA-256 (client.FrameEvent.Shrunk); the client reports frames so already.
	maxKeptFrame = client.DefaultFrameHead

	// inspectorBytes bounds the inspector's frames with what was opened
	// of them (estimated by keptCost): about 5,000 ordinary frames of a
	// few kilobytes (the MaxFrames default) or 650 frames cut to 16 KB.
	inspectorBytes = 32 << 20

	// maxKeptText is the most of one message's text a conversation keeps:
	// some 270 lines at 60 columns, pages more than anyone reads in a chat
	// pane; the copy key copies what is kept.
	maxKeptText = 16 << 10

	// conversationBytes bounds a pane's conversations, their texts and
	// their rendered lines (estimated by keptCost): 680 messages of
	// maxKeptText, or some 60,000 ordinary ones.
	conversationBytes = 32 << 20

	// maxKeptValue bounds one JSON string of the cards and receipts kept
	// (a signature or a key is shorter).
	maxKeptValue = 4 << 10
)

// keptCost estimates what keeping n bytes costs: the bytes, about twice as
// many again for what is parsed or rendered from them, and the overhead of
// the structures that hold them.
func keptCost(n int) int { return 3*n + 256 }
