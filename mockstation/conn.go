package mockstation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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

// Bounds of a connection's pipeline (see conn): the frames read and not yet
// handled plus the messages handled and not yet answered. Past either bound
// the reader stops reading until the worker catches up, and TCP slows the
// client down.
const (
	pipelineDepth = 64      // frames and messages
	pipelineBytes = 1 << 20 // their bytes; one bigger frame is still taken
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

// step is what the station answers one message, in the connection's
// order: frames ready to go, and then, once ready, the rest of the answer
// (a routed message's receipt, made when its commit is done).
type step struct {
	ready  bool         // guarded by conn.pmu
	frames []frame      // answers to queue first
	then   func() error // run once ready, in order; nil when frames say it all
	size   int          // bytes of the message the step keeps
}

// conn is one client connection (WebSocket or MTP stream, see transport)
// and, once handshaken, one session of a user. Its goroutines:
//
//   - the reader (the session's own goroutine) reads frames, takes ACKs
//     and hands every other frame to the worker, in order;
//   - the worker, started when there is work and gone when there is none,
//     handles the frames in order: it parses and verifies each message and
//     routes it, queueing the store's write without waiting for the commit,
//     so that the next frames are verified while earlier messages wait for
//     theirs. It then answers the messages strictly in the order they came
//     (a step each): a routed message's receipt goes out only after its
//     commit, and the answers of later messages wait behind it;
//   - the writer, also started on demand, writes the outbox and catches up
//     from the store.
//
// A routed message is pushed to its receiver's sessions by the store's
// committer right after the commit (see route), so pushes to a receiver
// follow the order of the store's IDs.
type conn struct {
	srv    *Server
	tr     transport       // the connection's framing: WebSocket or MTP
	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc
	addr   string       // the client's address, for the log
	lc     *limitedConn // its place under the connection limits; nil outside Serve
	remote []any        // [ip, port] as the station sees the client
	key    string       // the session key: 32 random bytes in hex

	// Owned by the worker (one runs at a time).
	limit     bucket
	held      []held
	finishing bool // answering the head step: its answers go straight to the outbox

	pmu     sync.Mutex    // guards the pipeline below
	inbox   [][]byte      // frames read, not yet handled
	steps   []*step       // messages handled, not yet answered, in order
	pending int           // bytes in inbox and steps
	working bool          // a worker goroutine runs
	failed  error         // the worker closes the connection for this reason
	shut    bool          // the worker has closed it
	changed chan struct{} // closed at the pipeline's next change, for waiters

	mu       sync.Mutex // guards the fields below
	user     dimp.ID    // the handshaken user; zero before DIM!
	profile  *dimp.Profile
	hsTimer  *time.Timer // closes a connection that does not handshake in time
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

// logger is the station's log with the client's address.
func (c *conn) logger() *slog.Logger { return c.srv.log.With("remote", c.addr) }

// closeError ends a connection with a WebSocket close status (an MTP
// connection logs it and closes).
type closeError struct {
	code   websocket.StatusCode
	reason string // as sent: cut to fit a close frame
	full   string // as logged
}

func (e *closeError) Error() string { return fmt.Sprintf("close %d: %s", int(e.code), e.reason) }

func closeWith(code websocket.StatusCode, format string, args ...any) error {
	full := strings.ToValidUTF8(fmt.Sprintf(format, args...), "?")
	reason := full
	if len(reason) > 123 { // the close frame leaves 123 bytes for the reason
		reason = strings.ToValidUTF8(reason[:120], "") + "..."
	}
	return &closeError{code: code, reason: reason, full: full}
}

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

// newConn makes the session of a connection whose framing is tr. The
// session's context is its own: a shutting-down station closes the
// connection politely (going away) instead of cutting the read short.
func (s *Server) newConn(tr transport, addr string) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{srv: s, tr: tr, ctx: ctx, cancel: cancel, addr: addr, remote: remoteAddress(addr),
		limit: newBucket(s.cfg.RateLimit, s.cfg.RateBurst)}
	var key [32]byte
	_, _ = rand.Read(key[:]) // crypto/rand.Read never fails
	c.key = hex.EncodeToString(key[:])
	return c
}

// run is the session: it reads until the connection ends, then cleans up.
func (c *conn) run() {
	s := c.srv
	defer s.sessions.Done()
	defer c.cancel()
	defer c.tr.closeNow()
	s.conns.Add(1)
	defer s.conns.Add(-1)
	c.logger().Debug("connected")

	shutDown := make(chan struct{})
	stopShutdown := context.AfterFunc(s.ctx, func() {
		defer close(shutDown)
		c.drain(time.Second)
		c.tr.close(websocket.StatusGoingAway, "station shutting down")
	})
	defer func() {
		if !stopShutdown() {
			<-shutDown
		}
	}()
	if s.cfg.HandshakeTimeout > 0 && c.lc == nil { // under Serve, the gate keeps the deadline
		c.mu.Lock()
		c.hsTimer = time.AfterFunc(s.cfg.HandshakeTimeout, func() {
			if c.userID().IsZero() {
				c.logger().Info("no handshake in time", "timeout", s.cfg.HandshakeTimeout)
				c.tr.close(websocket.StatusPolicyViolation, "no handshake in "+s.cfg.HandshakeTimeout.String())
			}
		})
		c.mu.Unlock()
		defer c.stopHandshakeTimer()
	}

	err := c.readLoop()
	c.finish(err)
}

// handshaken makes the connection a session: its handshake deadline is
// gone, and the connection limits never evict it.
func (c *conn) handshaken() {
	c.stopHandshakeTimer()
	c.lc.handshaken()
}

// stopHandshakeTimer lets the handshake timer go: the connection handshook
// or ends.
func (c *conn) stopHandshakeTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hsTimer != nil {
		c.hsTimer.Stop()
		c.hsTimer = nil
	}
}

// finish ends the session after the reader stopped: it lets the worker
// handle what was read and answer what was handled (commits in flight are
// never abandoned), stops the writer and unregisters the session. A
// connection the worker closed was logged there.
func (c *conn) finish(err error) {
	c.pmu.Lock()
	failed := c.failed != nil
	c.pmu.Unlock()
	status := websocket.CloseStatus(err)
	switch {
	case failed:
	case c.srv.ctx.Err() != nil:
		// Shutting down: the watcher in run closes the connection.
	case errors.Is(err, websocket.ErrMessageTooBig), errors.Is(err, errMTPTooBig):
		c.logger().Info("frame too big, connection closed", "user", c.userID(), "limit", c.srv.cfg.MaxFrame)
	case errors.Is(err, errMTPStream):
		c.logger().Info("bad MTP stream, connection closed", "user", c.userID(), "err", err)
	case status == websocket.StatusNormalClosure || status == websocket.StatusGoingAway:
		c.logger().Debug("disconnected", "user", c.userID(), "status", int(status))
	default:
		c.logger().Debug("connection lost", "user", c.userID(), "err", err)
	}
	c.settle()
	c.cancel()
	c.mu.Lock()
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	c.writers.Wait()
	c.srv.hub.remove(c)
}

// drain stops taking frames and waits up to d for the writer to send what
// is queued, after the answers still in the pipeline.
func (c *conn) drain(d time.Duration) {
	deadline := time.Now().Add(d)
	c.waitPipeline(deadline, func() bool { return len(c.steps) == 0 })
	c.mu.Lock()
	c.draining = true
	c.catching = false
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		c.writers.Wait() // no writer can start any more: enqueue and kick refuse
		close(done)
	}()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// readLoop reads frames until the connection ends or misbehaves. An ACK
// is taken here at once; every other frame goes to the worker.
func (c *conn) readLoop() error {
	for {
		data, err := c.tr.readPayload()
		if err != nil {
			return err
		}
		if classifyFrame(data) == frameAck && c.handleAck(data[len(prefixAck):]) {
			continue
		}
		if err := c.take(data); err != nil {
			return err
		}
	}
}

// readBuffers hold frames while they are read; each frame is then copied
// out at its exact size. A buffer that grew past keepReadBuffer for a big
// frame is not kept.
var readBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const keepReadBuffer = 64 << 10

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

// wsTransport is the WebSocket framing: one payload per message; the
// station sends text messages.
type wsTransport struct{ ws *websocket.Conn }

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

// take hands a frame to the worker, starting it if needed. While the
// pipeline is full it waits, and the client is not read meanwhile. It
// fails once the worker failed.
func (c *conn) take(data []byte) error {
	c.pmu.Lock()
	for c.failed == nil && (len(c.inbox)+len(c.steps) >= pipelineDepth ||
		c.pending > 0 && c.pending+len(data) > pipelineBytes) {
		ch := c.waitLocked()
		c.pmu.Unlock()
		select {
		case <-ch:
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
		c.pmu.Lock()
	}
	if err := c.failed; err != nil {
		c.pmu.Unlock()
		return err
	}
	c.inbox = append(c.inbox, data)
	c.pending += len(data)
	start := !c.working
	c.working = true
	c.pmu.Unlock()
	if start {
		go c.work()
	}
	return nil
}

// work is the worker (see conn). It answers the oldest message as soon as
// its answer is ready, else handles the next frame; with neither, it
// exits, and the reader or a commit starts it again. Once the connection
// failed, it answers what it handled already and then closes it.
func (c *conn) work() {
	for {
		c.pmu.Lock()
		switch {
		case len(c.steps) > 0 && c.steps[0].ready:
			st := c.steps[0]
			c.pmu.Unlock()
			err := c.answerStep(st)
			c.pmu.Lock()
			c.steps[0] = nil
			c.steps = c.steps[1:]
			if len(c.steps) == 0 {
				c.steps = nil
			}
			c.pending -= st.size
			c.signalLocked()
			c.pmu.Unlock()
			if err != nil {
				c.fail(err)
			}
		case c.failed == nil && len(c.inbox) > 0:
			data := c.inbox[0]
			c.inbox[0] = nil
			c.inbox = c.inbox[1:]
			if len(c.inbox) == 0 {
				c.inbox = nil
			}
			c.pending -= len(data)
			c.signalLocked()
			c.pmu.Unlock()
			if err := c.handleFrame(data); err != nil {
				c.fail(err)
			}
		case c.failed != nil && len(c.steps) == 0 && !c.shut:
			c.shut = true
			err := c.failed
			c.pmu.Unlock()
			c.closeFor(err)
		default:
			c.working = false
			c.signalLocked()
			c.pmu.Unlock()
			return
		}
	}
}

// answerStep sends a step's answers; they go straight to the outbox.
func (c *conn) answerStep(st *step) error {
	c.finishing = true
	defer func() { c.finishing = false }()
	for _, f := range st.frames {
		if err := c.queueReply(f); err != nil {
			return err
		}
	}
	if st.then != nil {
		return st.then()
	}
	return nil
}

// later adds a step to the pipeline; ready reports that its answer can be
// made. Only the worker adds steps.
func (c *conn) later(st *step) {
	c.pmu.Lock()
	c.steps = append(c.steps, st)
	c.pending += st.size
	c.pmu.Unlock()
}

// ready marks st as ready to be answered, starting the worker if it is
// the oldest and no worker runs. The store's committer calls it.
func (c *conn) ready(st *step) {
	c.pmu.Lock()
	st.ready = true
	c.signalLocked()
	start := !c.working && c.steps[0] == st
	if start {
		c.working = true
	}
	c.pmu.Unlock()
	if start {
		go c.work()
	}
}

// fail stops handling frames: the worker answers the messages it handled
// already, then closes the connection as err says (see closeFor).
func (c *conn) fail(err error) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.failed == nil {
		c.failed = err
	}
	for _, data := range c.inbox {
		c.pending -= len(data)
	}
	c.inbox = nil
	c.signalLocked()
}

// closeFor closes the connection for the worker's err: a close error
// first sends what is queued (the answers that explain why), then the
// close status; any other error means the connection is ending already.
func (c *conn) closeFor(err error) {
	var ce *closeError
	if !errors.As(err, &ce) {
		c.tr.closeNow()
		return
	}
	c.logger().Info("closing connection", "user", c.userID(), "code", int(ce.code), "reason", ce.full)
	c.drain(time.Second)
	c.tr.close(ce.code, ce.reason)
}

// settle waits until the pipeline is empty and the worker gone.
func (c *conn) settle() {
	c.waitPipeline(time.Time{}, func() bool { return !c.working && len(c.inbox) == 0 && len(c.steps) == 0 })
}

// waitPipeline waits until cond, called with c.pmu held, holds, or until
// the deadline passes (none when zero).
func (c *conn) waitPipeline(deadline time.Time, cond func() bool) {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	c.pmu.Lock()
	for !cond() {
		ch := c.waitLocked()
		c.pmu.Unlock()
		select {
		case <-ch:
		case <-timeout:
			return
		}
		c.pmu.Lock()
	}
	c.pmu.Unlock()
}

// waitLocked returns a channel closed at the pipeline's next change; c.pmu
// is held.
func (c *conn) waitLocked() <-chan struct{} {
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.changed
}

// signalLocked wakes whoever waits for a change; c.pmu is held.
func (c *conn) signalLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// handleFrame takes one WebSocket message apart as dimples does: control
// payloads, an acknowledgement, or messages, one per line when the payload
// starts with '{'. The worker calls it; an ACK the reader could not match
// comes here too, to be counted.
func (c *conn) handleFrame(data []byte) error {
	if data = c.srv.cfg.Faults.fromClient(c, data); data == nil {
		return nil // lost on purpose (Config.Faults)
	}
	if !c.limit.take() {
		return closeWith(websocket.StatusPolicyViolation, "rate limit exceeded: %g messages/s, burst %d",
			c.srv.cfg.RateLimit, c.srv.cfg.RateBurst)
	}
	switch classifyFrame(data) {
	case frameNothing, frameAck:
		return nil
	case framePing:
		return c.reply(frame{data: payloadPong})
	case frameMessage:
		return c.handlePackage(data)
	}
	first := true
	for line := range messageLines(data) {
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
	signature, ok := ackSignature(body)
	if !ok {
		c.logger().Debug("ignored acknowledgement", "body", truncate(body, 80))
		return false
	}
	return c.ackWritten(signature)
}

// ackWritten acknowledges the stored message signature if it was written
// on this connection and is not acknowledged yet (an ACK: frame, or an MTP
// message response), and reports whether it was.
func (c *conn) ackWritten(signature string) bool {
	c.mu.Lock()
	_, ok := c.unacked[signature]
	c.mu.Unlock()
	if ok {
		c.ack(signature)
	}
	return ok
}

// ack queues the deletion of the stored message signature of the
// session's user; the store commits it with its next commit (see
// store.MessageStore.AckMessageAsync). The user's other sessions, which
// were sent the message too, stop waiting for its acknowledgement.
func (c *conn) ack(signature string) {
	user := c.userID()
	if user.IsZero() {
		return
	}
	c.forgetUnacked(signature)
	receiver := user.WithoutTerminal().String()
	c.srv.hub.forget(receiver, signature, c)
	err := c.srv.store.AckMessageAsync(c.ctx, store.Ack{Receiver: receiver, Signature: signature}, c.srv.ackDone)
	if err != nil && c.ctx.Err() == nil {
		c.srv.acked(false, err)
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

// reply sends one of the station's own frames to this client, after the
// answers to earlier messages: while some still wait for their commit, it
// waits behind them in the pipeline. Only the worker calls it.
func (c *conn) reply(f frame) error {
	if !c.finishing {
		c.pmu.Lock()
		if n := len(c.steps); n > 0 {
			if last := c.steps[n-1]; last.ready && last.then == nil {
				last.frames = append(last.frames, f)
			} else {
				c.steps = append(c.steps, &step{ready: true, frames: []frame{f}})
			}
			c.pmu.Unlock()
			return nil
		}
		c.pmu.Unlock()
	}
	return c.queueReply(f)
}

// queueReply queues a frame of the station's for this client. A client
// that lets replyQueue frames pile up is not reading: it is disconnected.
func (c *conn) queueReply(f frame) error {
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
	dl := &writeDeadline{c: c}
	defer dl.stop()
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
			if err := c.write(f, dl); err != nil {
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
		more, err := c.catchUp(dl)
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
		c.logger().Info("write failed, closing connection", "user", c.userID(), "err", err)
	}
	c.mu.Lock()
	c.writing = false
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	c.cancel()
}

// writeDeadline closes the connection when one write takes longer than
// Config.WriteTimeout: the client does not read. One timer serves a
// writer goroutine's every write, and the writes themselves get no
// context, which would cost a timer and a context registration each.
type writeDeadline struct {
	c *conn
	t *time.Timer
}

func (d *writeDeadline) arm() {
	if d.t == nil {
		d.t = time.AfterFunc(d.c.srv.cfg.WriteTimeout, d.expired)
		return
	}
	d.t.Reset(d.c.srv.cfg.WriteTimeout)
}

func (d *writeDeadline) disarm() { d.t.Stop() }

func (d *writeDeadline) stop() {
	if d.t != nil {
		d.t.Stop()
	}
}

func (d *writeDeadline) expired() {
	d.c.logger().Info("write timed out, closing connection", "user", d.c.userID(), "timeout", d.c.srv.cfg.WriteTimeout)
	d.c.tr.closeNow()
}

// write sends one frame. A stored message is remembered as unacknowledged
// before it goes out: its ACK may come back before Write returns.
func (c *conn) write(f frame, dl *writeDeadline) error {
	if f.id != 0 {
		c.mu.Lock()
		if c.unacked == nil {
			c.unacked = make(map[string]struct{})
		}
		c.unacked[f.sig] = struct{}{}
		c.mu.Unlock()
	}
	data, err := c.srv.cfg.Faults.toClient(c, f)
	if data == nil {
		return err // lost on purpose (Config.Faults)
	}
	dl.arm()
	defer dl.disarm()
	var stored string
	if f.id != 0 {
		stored = f.sig
	}
	return c.tr.writePayload(data, stored)
}

// catchUp writes one page of what waits in the store for the session's
// user after the session's cursor, and reports whether there may be more:
// the writer then sends what the station queued meanwhile (answers to the
// client's own messages) and comes back for the next page. When the store
// has nothing more, the final, empty, read is made under the user's lock,
// where the session switches to live pushes (see hub).
func (c *conn) catchUp(dl *writeDeadline) (more bool, err error) {
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
		if err := c.write(frame{data: m.Data, sig: m.Signature, id: m.ID}, dl); err != nil {
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
