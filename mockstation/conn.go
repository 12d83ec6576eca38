package mockstation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"dimtui/dimp"
)

// conn is one client connection (WebSocket or MTP stream, see transport)
// and, once handshaken, one session of a user. Its goroutines:
//
//   - the reader (the session's own goroutine; reader.go) reads frames,
//     takes ACKs and hands every other frame to the worker, in order;
//   - the worker (pipeline.go), started when there is work and gone when
//     there is none, handles the frames in order: it parses and verifies
//     each message and routes it, queueing the store's write without
//     waiting for the commit, so that the next frames are verified while
//     earlier messages wait for theirs. It then answers the messages
//     strictly in the order they came (a step each): a routed message's
//     receipt goes out only after its commit, and the answers of later
//     messages wait behind it;
//   - the writer (outbox.go), also started on demand, writes the outbox and
//     catches up from the store.
//
// Closing the connection, from any of them or from the station, is in
// closing.go. A routed message is pushed to its receiver's sessions by the
// store's committer right after the commit (see route), so pushes to a
// receiver follow the order of the store's IDs.
//
// Each lock guards one group of fields below and is held only briefly,
// never while reading, writing or waiting for the store. When two are
// taken together, the user's entry.mu (hub) comes before outMu; nothing
// else is locked while pipeMu or sessionMu is held.
type conn struct {
	// Set by newConn, or before the session's goroutines start.
	srv    *Server
	tr     transport       // the connection's framing: WebSocket or MTP
	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc
	addr   string       // the client's address, for the log
	lc     *limitedConn // its place under the connection limits; nil outside Serve
	remote []any        // [ip, port] as the station sees the client
	key    string       // the session key: 32 random bytes in hex

	// Owned by the worker (one runs at a time): no lock.
	limit     *rate.Limiter // messages the client may send (see newMessageLimit)
	held      []held
	finishing bool // answering the head step: its answers go straight to the outbox

	// pipeMu guards the pipeline between the reader, the worker and the
	// store's committer (pipeline.go): the fields below and step.ready.
	// pipeChanged, on pipeMu, is broadcast at every change of them, and
	// when the connection's context ends.
	pipeMu      sync.Mutex
	pipeChanged sync.Cond
	inbox       [][]byte // frames read, not yet handled
	steps       []*step  // messages handled, not yet answered, in order
	pending     int      // bytes in inbox and steps
	working     bool     // a worker goroutine runs
	failed      error    // the worker closes the connection for this reason
	shut        bool     // the worker has closed it

	// sessionMu guards who the connection is a session of.
	sessionMu sync.Mutex
	user      dimp.ID // the handshaken user; zero before DIM!
	profile   *dimp.Profile
	hsTimer   *time.Timer // closes a connection that does not handshake in time

	// outMu guards the outbox and its writer (outbox.go), and the stored
	// messages written and not yet acknowledged (reader.go).
	outMu    sync.Mutex
	queue    []frame
	outWake  chan struct{} // a frame was queued (see waitDue); not guarded
	writing  bool          // a writer goroutine is running
	catching bool          // the writer should catch up from the store
	draining bool          // no new frames: the writer finishes the queue, then stops
	closed   bool          // no more writing at all
	writers  sync.WaitGroup
	unacked  map[string]struct{} // signatures of stored messages written, not yet acknowledged

	// link is set when the session is a link to a neighbour station
	// (link.go): it then carries other stations' traffic, not a user's.
	link atomic.Pointer[link]

	// Guarded by entry.mu (see hub).
	entry  *userSessions
	active bool
	behind bool
	cursor int64
}

// newConn makes the session of a connection whose framing is tr. The
// session's context is its own, not ended by the station's: a
// shutting-down station closes the connection politely (going away, see
// run) instead of cutting the read short.
func (s *Server) newConn(tr transport, addr string) *conn {
	ctx, cancel := context.WithCancel(context.WithoutCancel(s.ctx))
	c := &conn{srv: s, tr: tr, ctx: ctx, cancel: cancel, addr: addr, remote: remoteAddress(addr),
		limit: newMessageLimit(s.cfg.RateLimit, s.cfg.RateBurst)}
	c.pipeChanged.L = &c.pipeMu
	c.outWake = make(chan struct{}, 1)
	// The reader may wait for room in the pipeline when the connection
	// ends: wake it then (see take).
	context.AfterFunc(ctx, c.wakePipelineWaiters)
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
		c.drain(drainTimeout)
		c.tr.close(websocket.StatusGoingAway, "station shutting down")
	})
	defer func() {
		if !stopShutdown() {
			<-shutDown
		}
	}()
	if s.cfg.HandshakeTimeout > 0 && c.lc == nil { // under Serve, the gate keeps the deadline
		c.sessionMu.Lock()
		c.hsTimer = time.AfterFunc(s.cfg.HandshakeTimeout, func() {
			if c.userID().IsZero() {
				c.logger().Info("no handshake in time", "timeout", s.cfg.HandshakeTimeout)
				c.tr.close(websocket.StatusPolicyViolation, "no handshake in "+s.cfg.HandshakeTimeout.String())
			}
		})
		c.sessionMu.Unlock()
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
	c.sessionMu.Lock()
	defer c.sessionMu.Unlock()
	if c.hsTimer != nil {
		c.hsTimer.Stop()
		c.hsTimer = nil
	}
}

// session returns the handshaken user and its profile; zero before DIM!.
func (c *conn) session() (dimp.ID, *dimp.Profile) {
	c.sessionMu.Lock()
	defer c.sessionMu.Unlock()
	return c.user, c.profile
}

// logger is the station's log with the client's address.
func (c *conn) logger() *slog.Logger { return c.srv.log.With("remote", c.addr) }

// userID is the handshaken user; zero before DIM!.
func (c *conn) userID() dimp.ID {
	c.sessionMu.Lock()
	defer c.sessionMu.Unlock()
	return c.user
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
