package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"dimtui/workshop"
)

// The break-it commands of workshop mode: /drop, /corrupt, /delay,
// /expire and /restart ask the station in this process to misbehave for
// the pane's user (StationControl), and the pane shows what the station
// did (its StationNotice), what comes of it, and what brings the protocol
// back. With several stations, /partition and /heal cut and restore the
// links between them, and /status shows the user's station's links.

// fault asks the station to break something for the pane's user.
func (w *workshopMode) fault(p *Pane, name, arg string) tea.Cmd {
	st := w.opt.Station
	if st == nil {
		return p.setFlash("/"+name+" needs the station in this process (dimtui demo)", true)
	}
	me := p.me
	toClient := false
	switch arg {
	case "", "out":
	case "in":
		toClient = true
	default:
		if name == "drop" || name == "corrupt" {
			return p.setFlash("/"+name+" [in|out]: in = the station's next message to me, out = my next message", true)
		}
	}
	dir := "my next chat message to the station"
	if toClient {
		dir = "the station's next chat message to me"
	}
	switch name {
	case "drop":
		return p.call("drop", "armed: the station drops "+dir, func(context.Context) error { return st.DropNext(me, toClient) })
	case "corrupt":
		return p.call("corrupt", "armed: the station corrupts the signature of "+dir,
			func(context.Context) error { return st.CorruptNext(me, toClient) })
	case "delay":
		d := time.Duration(0)
		if arg != "off" && arg != "0" {
			v, err := time.ParseDuration(arg)
			if err != nil || v < 0 || v > 5*time.Minute {
				return p.setFlash("/delay DURATION (2s, 500ms, up to 5m) or /delay off", true)
			}
			d = v
		}
		flash := "the station no longer delays the messages to me"
		if d > 0 {
			flash = "the station holds every message to me for " + d.String()
		}
		return p.call("delay", flash, func(context.Context) error { return st.SetDelay(me, d) })
	case "expire":
		return p.call("expire", "the station expired my session", func(context.Context) error { return st.Expire(me) })
	case "restart":
		return p.call("restart", "the station restarted", func(ctx context.Context) error { return st.Restart(ctx) })
	case "partition":
		return p.call("partition", "the links between the stations are cut: messages for users elsewhere wait",
			func(context.Context) error { return st.Partition(true) })
	case "heal":
		return p.call("heal", "the links between the stations are back: what waited flows",
			func(context.Context) error { return st.Partition(false) })
	case "status":
		id := p.id
		return func() tea.Msg {
			lines, err := st.StationStatus(me)
			return callDoneMsg{pane: id, what: "status", err: err, lines: lines}
		}
	}
	return p.setFlash("unknown command /"+name, true)
}

// stationDid follows what the station did to the pane's user: a delay
// shows in the status bar for as long as it lasts, and a lost or refused
// message gets a hint of what brings it back.
func (p *Pane) stationDid(n workshop.StationNotice) {
	switch n.Kind {
	case workshop.NoticeDelay:
		p.status.delay = n.Delay
	case workshop.NoticeDrop, workshop.NoticeCorrupt:
		if hint := p.faultHint(n); hint != "" {
			p.noticeAt(n.Time, hint, false)
		}
	}
}

// faultHint says what comes of a message the station lost or damaged, and
// what brings it back.
func (p *Pane) faultHint(n workshop.StationNotice) string {
	reconnect := p.keys.Reconnect.Help().Key
	switch {
	case n.Kind == workshop.NoticeDrop && !n.ToClient:
		return "my message stays ○: the station never took it, so no receipt comes. " +
			"A new handshake sends it again: " + reconnect + " reconnects, /expire makes the station ask for one."
	case n.Kind == workshop.NoticeDrop:
		return "the station still has the message, unacknowledged: it comes at my next session (" +
			reconnect + " reconnects)."
	case n.Kind == workshop.NoticeCorrupt && n.ToClient:
		return "my client refuses it and does not acknowledge it: the intact copy stays at the station " +
			"and comes at my next session (" + reconnect + " reconnects)."
	}
	return "" // a corrupted message from me: its ✗ says the station refused it
}
