package client

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
)

// Presence.
//
// A client tells its station when its user comes and goes with a `report`
// command (dimples' client sends it to the station; spec/station.md §3.4):
//
//	{"type":136,"command":"report","cmd":"report","title":"online"}
//	{"type":136,"command":"report","cmd":"report","title":"offline"}
//
// online marks the session active (pushes flow; the station answers
// "Online received."), offline inactive (no pushes: messages wait in the
// station's store; no answer). The client reports online after every
// handshake and offline when it stops cleanly; SetPresence reports either
// while connected.

// offlineTimeout bounds the offline report written as the client stops:
// the user is leaving, and a station that does not take the frame at once
// learns the same from the closed connection.
const offlineTimeout = time.Second

// SetPresence reports the user online or offline to the station without
// leaving it: offline, the station pushes nothing and keeps the user's
// messages until it reports online again. It fails when not connected.
func (c *Client) SetPresence(ctx context.Context, online bool) error {
	var err error
	if derr := c.do(ctx, func(l *loop) {
		if l.state != Running || l.station.IsZero() {
			err = ErrNotRunning
			return
		}
		title := dimp.ReportOffline
		if online {
			title = dimp.ReportOnline
		}
		_, err = l.send(l.station, dimp.NewReport(title), false)
	}); derr != nil {
		return derr
	}
	return err
}

// reportOnline reports the user online, after a handshake.
func (l *loop) reportOnline() {
	if _, err := l.send(l.station, dimp.NewReport(dimp.ReportOnline), false); err != nil {
		l.c.emit(l.ctx, errorf("report online: %w", err))
	}
}

// reportOffline writes the offline report straight to the connection as
// the client stops (the loop's context is done, so the writer is not
// waited for), within offlineTimeout. Best effort: a failure is only
// logged.
func (l *loop) reportOffline() {
	if l.conn == nil || l.state != Running || l.stationProfile == nil {
		return
	}
	im := dimp.NewInstantMessage(l.c.me.ID, l.station, dimp.NewReport(dimp.ReportOffline))
	rm, err := l.packer.Seal(im, []*dimp.Profile{l.stationProfile}, dimp.SealOptions{})
	if err == nil {
		var raw []byte
		raw, err = rm.MarshalJSON()
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), offlineTimeout)
			err = l.conn.ws.Write(ctx, websocket.MessageText, raw)
			cancel()
		}
	}
	if err != nil {
		l.c.log.Info("report offline not sent", "err", err)
	}
}
