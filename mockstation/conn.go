package mockstation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/mockstation/store"
)

// Queue bounds of a session's outbox. Live pushes from other users stop at
// pushQueue (the session then reads them from the store); the station's own
// answers stop at replyQueue, past which the client is not reading and is
// disconnected.
const (
	pushQueue  = 64
	replyQueue = 1024
	catchPage  = 64 // messages read from the store at a time
	maxHeld    = 32 // messages kept while waiting for the handshake
)

// Control payloads of dimples' WebSocket framing (spec/station.md §1.2).
var (
	payloadPing = []byte("PING")
	payloadPong = []byte("PONG")
	payloadNoop = []byte("NOOP")
	payloadOK   = []byte("OK")
	prefixAck   = []byte("ACK:")
)

// frame is one outgoing WebSocket message. A stored message carries its
// signature and store ID, so that its acknowledgement can be matched.
type frame struct {
	data []byte
	sig  string
	id   int64
}

// held is a message that arrived before the handshake, kept to be handled
// after it.
type held struct {
	rm  *dimp.ReliableMessage
	raw []byte
}

// conn is one WebSocket connection and, once handshaken, one session of a
// user. One goroutine (the HTTP handler's) reads and handles every incoming
// message in order; a writer goroutine, started when there is something to
// write and gone when there is not, writes the outbox and catches up from
// the store.
type conn struct {
	srv    *Server
	ws     *websocket.Conn
	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc
	log    *slog.Logger
	remote []any  // [ip, port] as the station sees the client
	key    string // the session key: 32 random bytes in hex
	limit  *bucket

	// Owned by the reader goroutine.
	held []held

	mu       sync.Mutex // guards the fields below
	user     dimp.ID    // the handshaken user; zero before DIM!
	profile  *dimp.Profile
	queue    []frame
	writing  bool // a writer goroutine is running
	catching bool // the writer should catch up from the store
	draining bool // no new frames: the writer finishes the queue, then stops
	closed   bool // no more writing at all
	writers  sync.WaitGroup
	unacked  map[string]struct{} // signatures of stored messages written, not yet acknowledged

	// Guarded by entry.mu (see hub).
	entry  *userSessions
	active bool
	behind bool
	cursor int64
}

// closeError ends a connection with a WebSocket close status.
type closeError struct {
	code   websocket.StatusCode
	reason string
}

func (e *closeError) Error() string { return fmt.Sprintf("close %d: %s", int(e.code), e.reason) }

func closeWith(code websocket.StatusCode, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	if len(reason) > 123 { // the close frame leaves 123 bytes for the reason
		reason = strings.ToValidUTF8(reason[:120], "") + "..."
	}
	reason = strings.ToValidUTF8(reason, "?")
	return &closeError{code: code, reason: reason}
}

// serveWS upgrades the request and runs the session until the connection
// ends.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !s.track() {
		http.Error(w, "station shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.sessions.Done()
	// No subprotocol, no compression, any Origin: what dimchat's station
	// accepts, so that its browser client can connect from any page.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.log.Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(s.cfg.MaxFrame)
	s.conns.Add(1)
	defer s.conns.Add(-1)

	// The session's context is its own: a shutting-down station closes the
	// connection politely (going away) instead of cutting the read short.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	c := &conn{srv: s, ws: ws, ctx: ctx, cancel: cancel, remote: remoteAddress(r.RemoteAddr),
		log: s.log.With("remote", r.RemoteAddr), limit: newBucket(s.cfg.RateLimit, s.cfg.RateBurst)}
	var key [32]byte
	_, _ = rand.Read(key[:]) // crypto/rand.Read never fails
	c.key = hex.EncodeToString(key[:])
	c.log.Debug("connected")

	shutDown := make(chan struct{})
	stopShutdown := context.AfterFunc(s.ctx, func() {
		defer close(shutDown)
		c.drain(time.Second)
		ws.Close(websocket.StatusGoingAway, "station shutting down")
	})
	defer func() {
		if !stopShutdown() {
			<-shutDown
		}
	}()
	if s.cfg.HandshakeTimeout > 0 {
		t := time.AfterFunc(s.cfg.HandshakeTimeout, func() {
			if c.userID().IsZero() {
				c.log.Info("no handshake in time", "timeout", s.cfg.HandshakeTimeout)
				ws.Close(websocket.StatusPolicyViolation, "no handshake in "+s.cfg.HandshakeTimeout.String())
			}
		})
		defer t.Stop()
	}

	err = c.readLoop()
	c.finish(err)
}

// finish closes the connection as err says, stops the writer and
// unregisters the session. A connection closed by the station first gets
// what was queued for it (the answers that explain why, say).
func (c *conn) finish(err error) {
	var ce *closeError
	status := websocket.CloseStatus(err)
	switch {
	case errors.As(err, &ce):
		c.log.Info("closing connection", "user", c.userID(), "code", int(ce.code), "reason", ce.reason)
		c.drain(time.Second)
		c.ws.Close(ce.code, ce.reason)
	case c.srv.ctx.Err() != nil:
		// Shutting down: the watcher in serveWS closes the connection.
	case errors.Is(err, websocket.ErrMessageTooBig):
		c.log.Info("frame too big, connection closed", "user", c.userID(), "limit", c.srv.cfg.MaxFrame)
	case status == websocket.StatusNormalClosure || status == websocket.StatusGoingAway:
		c.log.Debug("disconnected", "user", c.userID(), "status", int(status))
	default:
		c.log.Debug("connection lost", "user", c.userID(), "err", err)
	}
	c.cancel()
	c.mu.Lock()
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	c.writers.Wait()
	c.srv.hub.remove(c)
}

// drain stops taking frames and waits up to d for the writer to send what
// is queued.
func (c *conn) drain(d time.Duration) {
	c.mu.Lock()
	c.draining = true
	c.catching = false
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		c.writers.Wait() // no writer can start any more: enqueue and kick refuse
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// readLoop reads frames until the connection ends or misbehaves.
func (c *conn) readLoop() error {
	for {
		_, data, err := c.ws.Read(c.ctx)
		if err != nil {
			return err
		}
		if err := c.handleFrame(data); err != nil {
			return err
		}
	}
}

// handleFrame takes one WebSocket message apart as dimples does: control
// payloads, an acknowledgement, or messages, one per line when the payload
// starts with '{'.
func (c *conn) handleFrame(data []byte) error {
	// An acknowledgement of a message the station sent is free; any other
	// frame counts against the rate limit.
	if bytes.HasPrefix(data, prefixAck) && c.handleAck(data[len(prefixAck):]) {
		return nil
	}
	if !c.limit.take() {
		return closeWith(websocket.StatusPolicyViolation, "rate limit exceeded: %g messages/s, burst %d",
			c.srv.cfg.RateLimit, c.srv.cfg.RateBurst)
	}
	if bytes.HasPrefix(data, prefixAck) {
		return nil
	}
	switch {
	case len(data) == 0, bytes.Equal(data, payloadPong), bytes.Equal(data, payloadNoop), bytes.Equal(data, payloadOK):
		return nil
	case bytes.Equal(data, payloadPing):
		return c.reply(frame{data: payloadPong})
	case data[0] != '{':
		return c.handlePackage(data)
	}
	first := true
	for line := range bytes.SplitSeq(data, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !first && !c.limit.take() {
			return closeWith(websocket.StatusPolicyViolation, "rate limit exceeded: %g messages/s, burst %d",
				c.srv.cfg.RateLimit, c.srv.cfg.RateBurst)
		}
		first = false
		if err := c.handlePackage(line); err != nil {
			return err
		}
	}
	return nil
}

// handleAck takes `ACK:{"time":…,"signature":"…"}`, which dimchat's browser
// client sends for every message it receives: a stored message written on
// this connection and acknowledged is deleted from the store. It reports
// whether the ACK named such a message; others are ignored.
func (c *conn) handleAck(body []byte) bool {
	var ack struct {
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal(body, &ack); err != nil || ack.Signature == "" {
		c.log.Debug("ignored acknowledgement", "body", truncate(body, 80))
		return false
	}
	c.mu.Lock()
	_, ok := c.unacked[ack.Signature]
	c.mu.Unlock()
	if ok {
		c.ack(ack.Signature)
	}
	return ok
}

// ack queues the deletion of the stored message signature of the
// session's user (see ackLoop).
func (c *conn) ack(signature string) {
	user := c.userID()
	if user.IsZero() {
		return
	}
	c.forgetUnacked(signature)
	select {
	case c.srv.acks <- store.Ack{Receiver: user.WithoutTerminal().String(), Signature: signature}:
	case <-c.ctx.Done():
	}
}

func (c *conn) forgetUnacked(signature string) {
	c.mu.Lock()
	delete(c.unacked, signature)
	if len(c.unacked) == 0 {
		c.unacked = nil
	}
	c.mu.Unlock()
}

func (c *conn) userID() dimp.ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

// reply queues one of the station's own frames for this client. A client
// that lets replyQueue frames pile up is not reading: it is disconnected.
func (c *conn) reply(f frame) error {
	if !c.enqueue(f, replyQueue) {
		c.mu.Lock()
		ending := c.closed || c.draining
		c.mu.Unlock()
		if ending {
			return errEnding
		}
		return closeWith(websocket.StatusPolicyViolation, "client does not read: %d frames waiting", replyQueue)
	}
	return nil
}

// errEnding: the connection is being closed; nothing more can be sent.
var errEnding = errors.New("connection closing")

// offer queues a frame pushed from elsewhere, without waiting; false when
// the outbox is full or closed.
func (c *conn) offer(f frame) bool { return c.enqueue(f, pushQueue) }

func (c *conn) enqueue(f frame, limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.draining || len(c.queue) >= limit {
		return false
	}
	c.queue = append(c.queue, f)
	c.startWriter()
	return true
}

// kick asks the writer to catch up from the store.
func (c *conn) kick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.draining {
		return
	}
	c.catching = true
	c.startWriter()
}

// startWriter starts the writer goroutine unless it runs; c.mu is held.
func (c *conn) startWriter() {
	if c.writing {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.writeLoop()
}

// writeLoop writes the outbox in order; when it is empty and the session is
// behind, it catches up from the store; then it exits.
func (c *conn) writeLoop() {
	defer c.writers.Done()
	for {
		c.mu.Lock()
		if c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		if len(c.queue) > 0 {
			f := c.queue[0]
			c.queue[0] = frame{}
			c.queue = c.queue[1:]
			if len(c.queue) == 0 {
				c.queue = nil // let the backing array go
			}
			c.mu.Unlock()
			if err := c.write(f); err != nil {
				c.abort(err)
				return
			}
			continue
		}
		if !c.catching || c.draining {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.catching = false
		c.mu.Unlock()
		more, err := c.catchUp()
		if err != nil {
			c.abort(err)
			return
		}
		if more {
			c.mu.Lock()
			c.catching = true
			c.mu.Unlock()
		}
	}
}

// abort ends the connection after a write failed.
func (c *conn) abort(err error) {
	if c.ctx.Err() == nil {
		c.log.Info("write failed, closing connection", "user", c.userID(), "err", err)
	}
	c.mu.Lock()
	c.writing = false
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	c.cancel()
}

// write sends one frame. A stored message is remembered as unacknowledged
// before it goes out: its ACK may come back before Write returns.
func (c *conn) write(f frame) error {
	if f.id != 0 {
		c.mu.Lock()
		if c.unacked == nil {
			c.unacked = make(map[string]struct{})
		}
		c.unacked[f.sig] = struct{}{}
		c.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.srv.cfg.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, f.data)
}

// catchUp writes one page of what waits in the store for the session's
// user after the session's cursor, and reports whether there may be more:
// the writer then sends what the station queued meanwhile (answers to the
// client's own messages) and comes back for the next page. When the store
// has nothing more, the final, empty, read is made under the user's lock,
// where the session switches to live pushes (see hub).
func (c *conn) catchUp() (more bool, err error) {
	e := c.entry
	if e == nil {
		return false, nil
	}
	e.mu.Lock()
	after, run := c.cursor, c.behind && c.active
	e.mu.Unlock()
	if !run { // caught up, or reported offline: it catches up when back online
		return false, nil
	}
	msgs, err := c.srv.store.PendingMessages(c.ctx, e.id, after, catchPage)
	if err != nil {
		return false, err
	}
	if len(msgs) == 0 {
		e.mu.Lock()
		msgs, err = c.srv.store.PendingMessages(c.ctx, e.id, after, catchPage)
		if err == nil && len(msgs) == 0 {
			c.behind = false
		}
		e.mu.Unlock()
		if err != nil || len(msgs) == 0 {
			return false, err
		}
	}
	for _, m := range msgs {
		if err := c.write(frame{data: m.Data, sig: m.Signature, id: m.ID}); err != nil {
			return false, err
		}
		after = m.ID
	}
	e.mu.Lock()
	c.cursor = after
	e.mu.Unlock()
	return true, nil
}

// remoteAddress splits host:port into the [ip, port] a station reports.
func remoteAddress(addr string) []any {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []any{addr, 0}
	}
	p, _ := strconv.Atoi(port)
	return []any{host, p}
}

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

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
