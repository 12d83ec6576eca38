package workshop

import (
	"bytes"

	"dimtui/client"
)

// Numbers gives every frame of a session one number, the same in every
// place that shows it: each pane's inspector, the step-through panel, the
// notices of held frames, the transcript (JSON Lines and Markdown) and its
// replay, so that a presenter can say "look at frame 12".
//
// A number counts every frame in or out of any pane of the session, in
// the order the program first shows it: when a client holds it (step-
// through), else when it is written or processed. A frame keeps its
// number from held to processed; a frame two panes see (alice's message
// out, then the station's push of it to bob) is two frames, with two
// numbers. A frame that waits for its sender's visa without being held
// is numbered when it is processed, after the answer it waited for. A
// replay's frames carry the numbers their transcript recorded.
//
// Numbers is not safe for concurrent use: the UI numbers the events of
// every pane in its own goroutine, in the order it handles them.
type Numbers struct {
	last int
	held map[heldKey]heldFrame // frames held now, by pane and client sequence
	// released are frames let go whose processing was not reported yet,
	// by pane, oldest first.
	released map[int][]heldFrame
}

type heldKey struct {
	pane int
	seq  uint64
}

type heldFrame struct {
	n   int
	dir client.Direction
	raw []byte
}

// maxReleased bounds the released frames of a pane waiting to be matched:
// a frame whose processing is never reported (its sender's visa never
// came, the client stopped) is forgotten past it.
const maxReleased = 256

// NewNumbers returns the numbering of a new session: its first frame is 1.
func NewNumbers() *Numbers {
	return &Numbers{held: map[heldKey]heldFrame{}, released: map[int][]heldFrame{}}
}

// Number returns ev with its frame number set, for a HeldEvent or a
// FrameEvent of pane; a ReleasedEvent is noted (the frame it lets go keeps
// its number), and any other event is returned as it is. An event that
// carries a number already (a replay's) keeps it, and later frames are
// numbered after it.
func (n *Numbers) Number(pane int, ev client.Event) client.Event {
	switch ev := ev.(type) {
	case client.HeldEvent:
		ev.Number = n.take(ev.Number)
		n.held[heldKey{pane, ev.Seq}] = heldFrame{n: ev.Number, dir: ev.Dir, raw: ev.Raw}
		return ev
	case client.ReleasedEvent:
		k := heldKey{pane, ev.Seq}
		h, ok := n.held[k]
		delete(n.held, k)
		if ok && !ev.Dropped {
			list := append(n.released[pane], h)
			if len(list) > maxReleased {
				list = append(list[:0:0], list[len(list)-maxReleased:]...)
			}
			n.released[pane] = list
		}
		return ev
	case client.FrameEvent:
		if ev.Number == 0 {
			ev.Number = n.matchReleased(pane, ev)
		}
		ev.Number = n.take(ev.Number)
		return ev
	}
	return ev
}

// take returns the number given (and numbers later frames after it), or
// the next one when it is 0.
func (n *Numbers) take(given int) int {
	if given > 0 {
		n.last = max(n.last, given)
		return given
	}
	n.last++
	return n.last
}

// matchReleased returns the number of the released frame ev reports (the
// oldest of pane's with the same direction and bytes, or for a payload of
// several messages the first of them), 0 when it was never held.
func (n *Numbers) matchReleased(pane int, ev client.FrameEvent) int {
	list := n.released[pane]
	for i, h := range list {
		if h.dir == ev.Dir && (bytes.Equal(h.raw, ev.Raw) || partOf(h.raw, ev)) {
			n.released[pane] = append(list[:i:i], list[i+1:]...)
			return h.n
		}
	}
	return 0
}

// partOf reports whether ev is one message of the incoming payload held:
// a JSON object among several in its lines.
func partOf(held []byte, ev client.FrameEvent) bool {
	return ev.Dir == client.In && len(ev.Raw) > 0 && ev.Raw[0] == '{' && len(ev.Raw) < len(held) && bytes.Contains(held, ev.Raw)
}
