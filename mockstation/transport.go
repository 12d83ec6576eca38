package mockstation

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// transport is a connection's framing, as a session uses it: payloads in,
// payloads out, and closing. Reads come from the session's reader alone,
// writes from one writer goroutine at a time; close and closeNow may come
// from anywhere and end a blocked read or write.
type transport interface {
	// readPayload returns the next payload of the client's.
	readPayload() ([]byte, error)
	// writePayload sends one payload of the station's; stored names the
	// signature of a stored message (empty for anything else), for a
	// framing that acknowledges deliveries itself (MTP's message response;
	// see conn.ackWritten).
	writePayload(data []byte, stored string) error
	// close ends the connection politely, saying why where the framing
	// can (a WebSocket close frame); closeNow ends it at once.
	close(code websocket.StatusCode, reason string)
	closeNow()
}

// readBuffers hold frames while they are read; each frame is then copied
// out at its exact size. A buffer that grew past keepReadBuffer for a big
// frame is not kept.
var readBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const keepReadBuffer = 64 << 10

// wsTransport is the WebSocket framing: one payload per message; the
// station sends text messages.
type wsTransport struct{ ws *websocket.Conn }

// serveWS upgrades the request and starts the session in a goroutine of
// its own. The handler then returns, and net/http lets go of the request
// and of its state for the (hijacked) connection, which a session that
// lasts for hours would otherwise keep.
//
// Over the connection cap (see limits.go) the upgrade is refused with 503
// and a line of text saying why.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	lc, _ := r.Context().Value(limitedKey{}).(*limitedConn)
	if lc.refusedNow() {
		w.Header().Set("Retry-After", "10")
		w.Header().Set("Connection", "close")
		http.Error(w, lc.refusedUpgrade(), http.StatusServiceUnavailable)
		return
	}
	if !s.track() {
		http.Error(w, "station shutting down", http.StatusServiceUnavailable)
		return
	}
	// No subprotocol, no compression, any Origin: what dimchat's station
	// accepts, so that its browser client can connect from any page.
	lc.upgrading()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.log.Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		lc.upgradeFailed()
		s.sessions.Done()
		return
	}
	if !lc.upgraded(ws) {
		s.sessions.Done() // evicted or timed out during the upgrade
		return
	}
	ws.SetReadLimit(s.cfg.MaxFrame)
	c := s.newConn(wsTransport{ws}, r.RemoteAddr)
	c.lc = lc
	go c.run()
}

// readPayload reads one WebSocket message. The read gets no context (which
// would cost a registration per frame): what ends the session closes the
// connection, and that ends the read.
func (t wsTransport) readPayload() ([]byte, error) {
	_, r, err := t.ws.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	buf := readBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= keepReadBuffer {
			readBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

func (t wsTransport) writePayload(data []byte, _ string) error {
	return t.ws.Write(context.Background(), websocket.MessageText, data)
}

func (t wsTransport) close(code websocket.StatusCode, reason string) { t.ws.Close(code, reason) }

func (t wsTransport) closeNow() { t.ws.CloseNow() }

// isUpgrade reports whether r asks for a WebSocket.
func isUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

// headerHasToken reports whether a comma-separated header holds token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
