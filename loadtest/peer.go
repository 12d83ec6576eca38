package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
)

// peer is one load-generating connection: a raw DIM client that handshakes
// with dimp alone and then writes pre-sealed frames, or a relay client that
// only says who it is.
type peer struct {
	me     *dimp.Identity
	packer *dimp.Packer
	ws     *websocket.Conn
}

// readFrame reads one frame with a deadline.
func (p *peer) readFrame(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, b, err := p.ws.Read(ctx)
	return b, err
}

func (p *peer) write(ctx context.Context, b []byte) error {
	return p.ws.Write(ctx, websocket.MessageText, b)
}

// handshake connects me to the station and runs the DIM handshake:
// Hello world! (broadcast, meta and visa attached) → DIM? → Hello world!
// with the session key, encrypted to the station → DIM!.
func handshake(ctx context.Context, url string, me *dimp.Identity) (*peer, *dimp.Profile, error) {
	return handshakeWith(ctx, url, me, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
}

// handshakeWith is handshake, dialling with opts.
func handshakeWith(ctx context.Context, url string, me *dimp.Identity, opts *websocket.DialOptions) (*peer, *dimp.Profile, error) {
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("dial: %w", err)
	}
	ws.SetReadLimit(1 << 20)
	p := &peer{me: me, packer: dimp.NewPacker(me), ws: ws}
	hello := dimp.NewHandshake(dimp.HandshakeHello, "")
	hello.Group = dimp.EveryStations
	if err := p.seal(ctx, dimp.AnyStation, hello, nil, true); err != nil {
		ws.CloseNow()
		return nil, nil, err
	}
	var station *dimp.Profile
	for {
		raw, err := p.readFrame(ctx)
		if err != nil {
			ws.CloseNow()
			return nil, nil, fmt.Errorf("handshake: %w", err)
		}
		rm, err := p.packer.Parse(raw)
		if err != nil {
			continue // a control frame
		}
		if station != nil && !rm.Sender.SameAs(station.ID) {
			continue // a broadcast from another user, pushed before DIM!
		}
		if station == nil {
			if station, err = dimp.ProfileFromMessage(rm); err != nil {
				ws.CloseNow()
				return nil, nil, fmt.Errorf("station profile: %w", err)
			}
		}
		im, err := p.packer.Open(rm, station)
		if err != nil {
			ws.CloseNow()
			return nil, nil, fmt.Errorf("open station reply: %w", err)
		}
		hc, ok := im.Content.(*dimp.HandshakeCommand)
		if !ok {
			continue
		}
		switch hc.State() {
		case dimp.HandshakeAgain:
			restart := dimp.NewHandshake(dimp.HandshakeHello, hc.Session)
			if err := p.seal(ctx, station.ID, restart, station, false); err != nil {
				ws.CloseNow()
				return nil, nil, err
			}
		case dimp.HandshakeSuccess:
			return p, station, nil
		default:
			ws.CloseNow()
			return nil, nil, errors.New("handshake: unexpected reply")
		}
	}
}

func (p *peer) seal(ctx context.Context, to dimp.ID, c dimp.Content, prof *dimp.Profile, attach bool) error {
	var profiles []*dimp.Profile
	if prof != nil {
		profiles = []*dimp.Profile{prof}
	}
	rm, err := p.packer.Seal(dimp.NewInstantMessage(p.me.ID, to, c), profiles, dimp.SealOptions{Attach: attach})
	if err != nil {
		return err
	}
	raw, _ := rm.MarshalJSON()
	return p.write(ctx, raw)
}

// relayHello connects to the bare relay and names the connection.
func relayHello(ctx context.Context, url string, me *dimp.Identity) (*peer, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, fmt.Errorf("dial relay: %w", err)
	}
	ws.SetReadLimit(1 << 20)
	p := &peer{me: me, ws: ws}
	if err := p.write(ctx, []byte("HELLO "+me.ID.String())); err != nil {
		ws.CloseNow()
		return nil, err
	}
	return p, nil
}

// jsonField finds the string value of a top-level member in a JSON
// message by text search, as dimples does for ACKs: cheap, and enough for
// frames this tool wrote itself.
func jsonField(raw []byte, name string) []byte {
	key := []byte(`"` + name + `":"`)
	i := bytes.Index(raw, key)
	if i < 0 {
		key = []byte(`"` + name + `": "`)
		if i = bytes.Index(raw, key); i < 0 {
			return nil
		}
	}
	rest := raw[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil
	}
	return rest[:j]
}
