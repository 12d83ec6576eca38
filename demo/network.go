package demo

import (
	"fmt"
	"maps"
	"sync"

	"dimtui/dimp"
	"dimtui/mockstation"
	"dimtui/workshop"
)

// The demo's network of stations (--stations): names for its stations,
// what the panes are told of each hop, and /status.

// stationNames names the demo's stations A, B, C by their IDs.
type stationNames struct {
	mu    sync.Mutex
	names map[string]string
}

func (n *stationNames) add(id dimp.ID, name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.names == nil {
		n.names = make(map[string]string)
	}
	n.names[id.String()] = name
}

// byID is a copy of the names, by station ID.
func (n *stationNames) byID() map[string]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return maps.Clone(n.names)
}

// of names a station by its ID: its letter, or its short ID when it is
// not one of the demo's.
func (n *stationNames) of(id string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if name, ok := n.names[id]; ok {
		return name
	}
	if parsed, err := dimp.ParseID(id); err == nil {
		return parsed.Name()
	}
	return id
}

// userName is the name part of a user's ID.
func userName(id string) string {
	if parsed, err := dimp.ParseID(id); err == nil {
		return parsed.Name()
	}
	return id
}

// notice turns what station i did in the network into a notice for the
// panes: a message passed on shows in its sender's pane, one taken from
// another station in its receiver's, a link up or down in every pane.
func (n *stationNames) notice(i int, sn mockstation.Notice) workshop.StationNotice {
	out := workshop.StationNotice{Time: sn.Time, Kind: workshop.NoticeNetwork, Station: StationName(i)}
	peer := "station " + n.of(sn.Station)
	switch sn.Kind {
	case mockstation.NoticeLinkUp:
		out.Text = "linked to " + peer + " (" + sn.Detail + ")"
	case mockstation.NoticeLinkDown:
		out.Text = "link to " + peer + " down: messages for users there wait here"
	case mockstation.NoticePassed:
		out.User, _ = dimp.ParseID(sn.Sender)
		out.Text = fmt.Sprintf("passed %s's message for %s to %s, which stored it", userName(sn.Sender), userName(sn.Receiver), peer)
	case mockstation.NoticeReceived:
		out.User, _ = dimp.ParseID(sn.Receiver)
		out.Text = fmt.Sprintf("took %s's message for %s from %s and stored it", userName(sn.Sender), userName(sn.Receiver), peer)
	case mockstation.NoticeRefused:
		out.Text = fmt.Sprintf("refused a message from %s: %s", peer, sn.Detail)
	}
	return out
}

// statusLines is /status: the station's links and the users it knows to
// be elsewhere.
func statusLines(name string, s mockstation.Status, names *stationNames) []string {
	lines := []string{fmt.Sprintf("station %s (%s): %d users online here, %d messages stored", name, s.Station,
		s.UsersOnline, s.StoredMessages)}
	if len(s.Links) == 0 {
		lines = append(lines, "  no links to other stations")
	}
	for _, l := range s.Links {
		dir := "it linked to this one"
		if l.Dialed {
			dir = "dialed " + l.URL
		}
		lines = append(lines, fmt.Sprintf("  link to station %s (%s), up %s: %d passed, %d taken, %d refused, %d in flight",
			names.of(l.Station), dir, l.Since.Format("15:04:05"), l.Passed, l.Received, l.Refused, l.InFlight))
	}
	for _, u := range s.Elsewhere {
		via := "no link there now: messages wait"
		if u.Route != "" {
			via = "through station " + names.of(u.Route)
		}
		lines = append(lines, fmt.Sprintf("  %s is at station %s (%s)", userName(u.User), names.of(u.Station), via))
	}
	return lines
}
