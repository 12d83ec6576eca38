package ui

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
)

// eventQueue brings the events of every pane's client to the App through
// one channel, in the order the clients reported them. A listener per pane
// would hand them over in whichever order its commands came back: a pane
// with three events to report (a message sent, its delivery, its frame)
// would lag behind another pane's one (the frame received), and frames
// would be numbered out of their order — bob's copy before alice's
// message. Here one goroutine per client moves each event into the queue
// as soon as it is reported, and the App takes them one at a time.
type eventQueue struct {
	ch chan EventMsg
}

func newEventQueue() *eventQueue { return &eventQueue{ch: make(chan EventMsg, 256)} }

// follow returns a command that starts moving a pane's client events into
// the queue, then a Closed message when the client stops; ctx ending (the
// program's) stops it.
func (q *eventQueue) follow(ctx context.Context, id PaneID, events <-chan client.Event) tea.Cmd {
	return func() tea.Msg {
		go func() {
			put := func(msg EventMsg) bool {
				select {
				case q.ch <- msg:
					return true
				case <-ctx.Done():
					return false
				}
			}
			for ev := range events {
				if !put(EventMsg{Pane: id, Event: ev, Replayed: true, queued: true}) {
					return
				}
			}
			put(EventMsg{Pane: id, Closed: true, Replayed: true, queued: true})
		}()
		return nil
	}
}

// next returns a command that waits for the next event of any pane; the
// App asks again each time it has handled one.
func (q *eventQueue) next() tea.Cmd {
	return func() tea.Msg { return <-q.ch }
}
