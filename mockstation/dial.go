package mockstation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	neturl "net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
)

// Dialing a neighbour: the station connects to the neighbour's URL as a
// client would and handshakes as itself (a station identity: its meta and
// visa attached to the first Hello world!, to station@anywhere with the
// group stations@everywhere, as dimchat's bridge does). The neighbour must
// answer as a station, signed by a station meta, and encrypt the session
// key to this station's visa. The link then runs until it ends, and the
// station dials again after a backoff.

// Errors of a link's handshake.
var (
	// ErrNotStation: what answered is not a station identity.
	ErrNotStation    = errors.New("not a station identity")
	errLinkHandshake = errors.New("link handshake failed")
)

// Backoff between attempts to link to a neighbour.
const (
	linkBackoffMin = 500 * time.Millisecond
	linkBackoffMax = 30 * time.Second
)

// runDialer keeps a link to the neighbour at url until ctx ends.
func (s *Server) runDialer(ctx context.Context, url string) {
	backoff := linkBackoffMin
	for ctx.Err() == nil {
		if cut, healed := s.net.cut(); cut {
			select {
			case <-healed:
			case <-ctx.Done():
				return
			}
		}
		start := time.Now()
		err := s.dialLink(ctx, url)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			backoff = linkBackoffMin // it was up a while: try again soon
		}
		s.log.Info("link to neighbour ended", "url", url, "err", err, "retry_in", backoff)
		wait := backoff + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		backoff = min(backoff*2, linkBackoffMax)
	}
}

// dialLink dials url, handshakes and serves the link until it ends.
func (s *Server) dialLink(ctx context.Context, url string) error {
	hctx, cancel := context.WithTimeout(ctx, s.handshakeTimeout())
	defer cancel()
	ws, _, err := websocket.Dial(hctx, url, nil)
	if err != nil {
		return fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(s.cfg.MaxFrame)
	peer, prof, acks, err := s.linkHandshake(hctx, ws)
	if err != nil {
		ws.Close(websocket.StatusPolicyViolation, truncateString(err.Error(), 120))
		return err
	}
	if !s.track() {
		ws.Close(websocket.StatusGoingAway, "station shutting down")
		return nil
	}
	c := s.newConn(wsTransport{ws}, url)
	if err := c.startLink(peer, prof, url, acks); err != nil {
		s.sessions.Done()
		ws.Close(websocket.StatusGoingAway, err.Error())
		return err
	}
	c.run()
	return nil
}

func (s *Server) handshakeTimeout() time.Duration {
	if s.cfg.HandshakeTimeout > 0 {
		return s.cfg.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

// linkHandshake runs the client's side of the handshake as this station
// and returns the neighbour's ID and profile once it says DIM!, and
// whether it acknowledges what it stores (a dimtui station says so in its
// DIM!, as this one does in its second Hello world!).
func (s *Server) linkHandshake(ctx context.Context, ws *websocket.Conn) (dimp.ID, *dimp.Profile, bool, error) {
	hello := dimp.NewHandshake(dimp.HandshakeHello, "")
	hello.Group = dimp.EveryStations
	if err := s.sendHandshake(ctx, ws, dimp.NewInstantMessage(s.me.ID, dimp.AnyStation, hello), nil); err != nil {
		return dimp.ID{}, nil, false, err
	}
	var peer *dimp.Profile
	for range 8 { // DIM?, DIM!, and a few frames of anything else
		_, data, err := ws.Read(ctx)
		if err != nil {
			return dimp.ID{}, nil, false, fmt.Errorf("%w: %w", errLinkHandshake, err)
		}
		switch classifyFrame(data) {
		case frameMessage, frameLines:
		default:
			continue
		}
		rm, err := s.packer.Parse(bytes.TrimSpace(data))
		if err != nil {
			return dimp.ID{}, nil, false, fmt.Errorf("%w: %w", errLinkHandshake, err)
		}
		if rm.Sender.Type() != dimp.Station {
			return dimp.ID{}, nil, false, fmt.Errorf("%w: %s answered", ErrNotStation, rm.Sender)
		}
		if rm.Sender.SameAs(s.me.ID) {
			return dimp.ID{}, nil, false, fmt.Errorf("%w: linked to itself", errLinkHandshake)
		}
		p, err := s.senderProfile(ctx, rm)
		if err == nil && p == nil {
			err = fmt.Errorf("%w: %s attached no meta", dimp.ErrNoVerifyKey, rm.Sender)
		}
		if err != nil {
			return dimp.ID{}, nil, false, fmt.Errorf("%w: %w", errLinkHandshake, err)
		}
		im, err := s.packer.Open(rm, p)
		if err != nil {
			return dimp.ID{}, nil, false, fmt.Errorf("%w: %w", errLinkHandshake, err)
		}
		hc, ok := im.Content.(*dimp.HandshakeCommand)
		if !ok {
			continue
		}
		if rm.Meta != nil || rm.Visa != nil {
			if _, err := s.learn(ctx, p, rm.Meta, rm.Visa); err != nil {
				s.log.Error("store neighbour's meta/visa", "station", rm.Sender, "err", err)
			}
		}
		peer = p
		switch hc.State() {
		case dimp.HandshakeAgain:
			again := dimp.NewHandshake(dimp.HandshakeHello, hc.Session)
			setExtra(again, linkAckField, true)
			im := dimp.NewInstantMessage(s.me.ID, rm.Sender.WithoutTerminal(), again)
			if err := s.sendHandshake(ctx, ws, im, []*dimp.Profile{peer}); err != nil {
				return dimp.ID{}, nil, false, err
			}
		case dimp.HandshakeSuccess:
			return rm.Sender.WithoutTerminal(), peer, saysLinkAck(hc), nil
		}
	}
	return dimp.ID{}, nil, false, fmt.Errorf("%w: no DIM! from the neighbour", errLinkHandshake)
}

// sendHandshake seals a handshake from this station (to a broadcast
// receiver in the clear, else to the neighbour's visa key), with its meta
// and visa attached, and writes it.
func (s *Server) sendHandshake(ctx context.Context, ws *websocket.Conn, im *dimp.InstantMessage, to []*dimp.Profile) error {
	rm, err := s.packer.Seal(im, to, dimp.SealOptions{Attach: true})
	if err != nil {
		return fmt.Errorf("%w: seal: %w", errLinkHandshake, err)
	}
	data, err := rm.MarshalJSON()
	if err != nil {
		return fmt.Errorf("%w: %w", errLinkHandshake, err)
	}
	if err := ws.Write(ctx, websocket.MessageText, data); err != nil {
		return fmt.Errorf("%w: %w", errLinkHandshake, err)
	}
	return nil
}

// truncateString cuts s to at most n bytes (a close reason is at most 123).
func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// ErrNeighbor: a neighbour's address is not a WebSocket URL.
var ErrNeighbor = errors.New("neighbour must be a ws:// or wss:// URL with a host")

// NeighborURL checks a neighbour's address and returns it as the URL to
// dial; HOST:PORT alone is taken as ws://HOST:PORT/.
func NeighborURL(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "ws://" + s + "/"
	}
	u, err := neturl.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %w", ErrNeighbor, s, err)
	}
	if (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return "", fmt.Errorf("%w: %q", ErrNeighbor, s)
	}
	return u.String(), nil
}
