package loadtest

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// Relay is the baseline: a bare WebSocket relay that forwards each frame to
// the connection named by its receiver, with nothing of DIM (no
// verification, no storage, no receipts). The same traffic through it shows
// what the station's DIM work costs.
type Relay struct {
	mu    sync.RWMutex
	conns map[string]*relayConn
}

type relayConn struct {
	ws  *websocket.Conn
	out chan []byte
}

// NewRelay returns an empty relay.
func NewRelay() *Relay { return &Relay{conns: map[string]*relayConn{}} }

// ServeHTTP accepts a WebSocket: the first frame is "HELLO <ID>", every
// later one is forwarded to the receiver it names; ACK: frames are dropped.
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ws, err := websocket.Accept(w, req, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	_, hello, err := ws.Read(ctx)
	if err != nil || !bytes.HasPrefix(hello, []byte("HELLO ")) {
		return
	}
	name := strings.TrimSpace(string(hello[len("HELLO "):]))
	c := &relayConn{ws: ws, out: make(chan []byte, 1024)}
	r.mu.Lock()
	r.conns[name] = c
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		if r.conns[name] == c {
			delete(r.conns, name)
		}
		r.mu.Unlock()
	}()
	go func() {
		for {
			select {
			case b := <-c.out:
				if ws.Write(ctx, websocket.MessageText, b) != nil {
					cancel()
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		if bytes.HasPrefix(b, []byte("ACK:")) {
			continue
		}
		to := jsonField(b, "receiver")
		r.mu.RLock()
		dst := r.conns[string(to)]
		r.mu.RUnlock()
		if dst == nil {
			continue
		}
		select {
		case dst.out <- b:
		case <-ctx.Done():
			return
		}
	}
}
