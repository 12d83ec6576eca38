package mockstation

import (
	"container/list"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Connection limits. A connection costs the station a file descriptor and
// some memory from the moment it is accepted; one that never handshakes
// costs it for nothing. Without limits, a few thousand connections that
// only send "DIM", or upgrade to WebSocket and stop, use up the
// descriptors the process may open: the station then accepts no one, not
// even GET /status, and cannot open its database.
//
// So every connection Serve accepts passes a gate (see gate): it holds one
// of at most Config.MaxConnections slots, and it is "handshaking" from its
// accept until its user's handshake succeeds (DIM!), whatever it turns out
// to be: a silent connection, an MTP stream, an HTTP request (GET
// /status too) or a WebSocket. A handshaking connection
//
//   - is closed once Config.HandshakeTimeout has passed since its accept:
//     the wait for its first bytes and the WebSocket upgrade count. An
//     HTTP request for the upload service (an upload or a download, which
//     may take minutes over a slow link) has Config.UploadTimeout from the
//     moment its headers are read instead; once it is answered the
//     connection has HandshakeTimeout again for its next request (see
//     allowTransfer). Its headers must come in time like any request's,
//     so a connection that sends nothing gets no longer than before;
//   - is evicted, oldest first, to make room for a new connection when
//     every slot is taken, or when its address (an IPv4 address, an IPv6
//     /64) already has Config.MaxHandshakingPerAddress handshaking
//     connections. A session is never evicted: the per-address cap counts
//     handshaking connections only, so many users behind one NAT address
//     can be online at once, they only cannot all be handshaking at the
//     same instant.
//
// When every slot holds a session, a new connection is refused: the
// station still reads its request (a few at a time, briefly), answers GET
// /status and refuses a WebSocket upgrade with 503 and a line of text; an
// MTP stream is closed. Past that, it is closed at once.
//
// The number of slots is kept below the process's limit on open files
// (RLIMIT_NOFILE) with room to spare for the database, the log, the
// refused connections being answered and the evicted ones being closed.
const (
	DefaultMaxConnections           = 16384
	DefaultMaxHandshakingPerAddress = 256
)

const (
	// closeGrace is how long an evicted or timed-out WebSocket has to
	// answer the station's close frame before its descriptor is closed.
	closeGrace = time.Second
	// refusedTimeout bounds the wait for the request of a connection that
	// came when every slot held a session.
	refusedTimeout = 2 * time.Second
	// politeWrite bounds writing a goodbye (an HTTP response) to a
	// connection that is being closed.
	politeWrite = 100 * time.Millisecond
	// limitsLogEvery is the least time between two log lines that sum up
	// refused, evicted and timed-out connections.
	limitsLogEvery = 10 * time.Second
	// maxReserve is the most descriptors kept back from the slots.
	maxReserve = 1024
)

// stage is how far a connection has come.
type stage uint8

const (
	stageSniff   stage = iota // its first bytes are awaited
	stageHTTP                 // an HTTP request: GET /status, say
	stageUpgrade              // a WebSocket upgrade under way
	stageMTP                  // an MTP stream before its handshake
	stageWS                   // an upgraded WebSocket before its handshake
	stageSession              // handshaken: never evicted, no deadline
	stageRefused              // came when every slot held a session
)

// Why a connection is closed by the gate.
type goodbye uint8

const (
	byeEvicted     goodbye = iota // every slot taken: the oldest handshaking connection makes room
	byeEvictedAddr                // its address has too many handshaking connections
	byeTimeout                    // no handshake in time
	byeRefused                    // every slot holds a session
)

// gate admits the connections Serve accepts (see the comment above
// DefaultMaxConnections).
type gate struct {
	log         *slog.Logger
	max         int           // slots
	perAddr     int           // handshaking connections per address; no cap when 0
	timeout     time.Duration // to finish the handshake; none when 0
	transfer    time.Duration // for a request to the upload service; 0: timeout
	maxLinger   int           // connections being closed politely at once
	maxOverflow int           // refused connections being answered at once
	nofile      uint64        // the limit on open files; 0 when unknown

	mu       sync.Mutex            // guards the slots and lists below
	open     int                   // connections holding a slot
	pending  list.List             // handshaking connections holding a slot, oldest first
	byAddr   map[string]*list.List // the same, by address
	over     list.List             // refused connections being answered
	lingered int                   // connections being closed politely

	refused, evicted, timedOut atomic.Int64 // since the start
}

// newGate makes the gate of cfg's limits (defaults applied), lowering the
// number of slots to fit under nofile, the limit on open files (0 when
// unknown). It returns the number of slots.
func newGate(cfg Config, nofile uint64, log *slog.Logger) *gate {
	g := &gate{log: log, max: cfg.MaxConnections, perAddr: max(cfg.MaxHandshakingPerAddress, 0),
		byAddr: make(map[string]*list.List), maxLinger: 256, maxOverflow: 64, nofile: nofile}
	if cfg.HandshakeTimeout > 0 {
		g.timeout = cfg.HandshakeTimeout
	}
	if cfg.UploadTimeout > 0 {
		g.transfer = cfg.UploadTimeout
	}
	if nofile > 0 {
		reserve := int(min(nofile/4, maxReserve))
		ceiling := int(min(nofile, 1<<30)) - reserve
		if g.max > ceiling {
			log.Warn("connection cap lowered to fit the open file limit", "asked", g.max, "max_connections", ceiling,
				"open_file_limit", nofile)
			g.max = ceiling
		}
		g.maxLinger = max(min(g.maxLinger, reserve/4), 1)
		g.maxOverflow = max(min(g.maxOverflow, reserve/8), 1)
	}
	g.max = max(g.max, 1)
	return g
}

// limitedConn is a connection that passed the gate. It holds its slot
// until it is closed; Read first returns the bytes read to tell its
// framing (see sniffListener).
type limitedConn struct {
	net.Conn
	g      *gate
	addr   string // the per-address key
	prefix []byte // read already, to be read again

	// Guarded by g.mu.
	stage     stage
	httpState http.ConnState  // while stage is stageHTTP
	slot      bool            // holds a slot
	elem      *list.Element   // in g.pending or g.over
	addrElem  *list.Element   // in g.byAddr[addr]
	timer     *time.Timer     // the handshake deadline
	until     time.Time       // the deadline when it was moved (allowTransfer); zero otherwise
	ws        *websocket.Conn // once upgraded
	lingering bool            // counted in g.lingered until its descriptor closes
	byeLater  goodbye         // why it was let go during its upgrade, when lingering

	closeOnce sync.Once
	closeErr  error
}

// admit lets nc in, evicting whom it must, or refuses it. It returns nil
// when nc was closed at once.
func (g *gate) admit(nc net.Conn) *limitedConn {
	c := &limitedConn{Conn: nc, g: g, addr: addressKey(nc.RemoteAddr())}
	var out []func()
	g.mu.Lock()
	if l := g.byAddr[c.addr]; g.perAddr > 0 && l != nil && l.Len() >= g.perAddr {
		out = append(out, g.dropLocked(l.Front().Value.(*limitedConn), byeEvictedAddr))
	}
	if g.open >= g.max && g.pending.Len() > 0 {
		out = append(out, g.dropLocked(g.pending.Front().Value.(*limitedConn), byeEvicted))
	}
	timeout := g.timeout
	switch {
	case g.open < g.max:
		g.open++
		c.slot = true
		c.elem = g.pending.PushBack(c)
		l := g.byAddr[c.addr]
		if l == nil {
			l = new(list.List)
			g.byAddr[c.addr] = l
		}
		c.addrElem = l.PushBack(c)
	case g.over.Len() < g.maxOverflow:
		c.stage = stageRefused
		c.elem = g.over.PushBack(c)
		timeout = refusedTimeout
	default:
		g.mu.Unlock()
		g.refused.Add(1)
		nc.Close()
		runAll(out)
		return nil
	}
	if timeout <= 0 {
		timeout = sniffTimeout // the first bytes are awaited for a while in any case
	}
	c.timer = time.AfterFunc(timeout, c.expire)
	g.mu.Unlock()
	runAll(out)
	return c
}

func runAll(fs []func()) {
	for _, f := range fs {
		f()
	}
}

// dropLocked takes c out of the gate's lists for the reason why, counts
// it, and returns what closes it, to be run once g.mu is released: a
// WebSocket gets a close frame and an HTTP request not yet answered a
// response saying why, when few others are being closed so; anything else
// (MTP cannot say why) is closed at once.
func (g *gate) dropLocked(c *limitedConn, why goodbye) func() {
	wasSlot, st, httpState, ws := c.slot, c.stage, c.httpState, c.ws
	g.releaseLocked(c)
	if c.timer != nil {
		c.timer.Stop()
	}
	switch {
	case !wasSlot: // a refused connection's time is up
		why = byeRefused
		if httpState == http.StateNew { // it was answered nothing
			g.refused.Add(1)
		}
	case why == byeTimeout:
		g.timedOut.Add(1)
	default:
		g.evicted.Add(1)
	}
	polite := st == stageWS || st == stageUpgrade || (st == stageHTTP && httpState == http.StateNew)
	if !polite || g.lingered >= g.maxLinger {
		return func() { c.Close() }
	}
	g.lingered++
	c.lingering = true
	switch st {
	case stageUpgrade: // upgraded says goodbye once the upgrade is done
		c.byeLater = why
		return func() {}
	case stageWS:
		return func() { c.closeWS(ws, why) }
	}
	text := g.reason(why)
	status := http.StatusServiceUnavailable
	if why == byeTimeout {
		status = http.StatusRequestTimeout
	}
	return func() {
		go func() {
			c.writeHTTP(status, text)
			c.Close()
		}()
	}
}

// closeWS closes ws, which the gate let go, with a close frame that says
// why, and its descriptor closeGrace later at the latest.
func (c *limitedConn) closeWS(ws *websocket.Conn, why goodbye) {
	code := websocket.StatusTryAgainLater
	if why == byeTimeout {
		code = websocket.StatusPolicyViolation
	}
	time.AfterFunc(closeGrace, func() { c.Close() })
	go ws.Close(code, c.g.reason(why))
}

// reason is the text that tells a client why the gate closes it.
func (g *gate) reason(why goodbye) string {
	switch why {
	case byeEvictedAddr:
		return "too many connections from your address waiting for a handshake (" + strconv.Itoa(g.perAddr) + "); try again"
	case byeTimeout:
		return "no handshake in " + g.timeout.String()
	case byeRefused:
		return "station full: " + strconv.Itoa(g.max) + " connections; try again later"
	default:
		return "station full: the oldest connection waiting for a handshake makes room; try again"
	}
}

// releaseLocked gives c's slot back and takes it out of the lists.
func (g *gate) releaseLocked(c *limitedConn) {
	if c.elem != nil {
		if c.slot {
			g.pending.Remove(c.elem)
		} else {
			g.over.Remove(c.elem)
		}
		c.elem = nil
	}
	if c.addrElem != nil {
		l := g.byAddr[c.addr]
		l.Remove(c.addrElem)
		if l.Len() == 0 {
			delete(g.byAddr, c.addr)
		}
		c.addrElem = nil
	}
	if c.slot {
		g.open--
		c.slot = false
	}
}

// expire closes c at its handshake deadline, unless it handshook. With no
// handshake deadline (Config.HandshakeTimeout negative), the timer still
// bounds the wait for the first bytes.
func (c *limitedConn) expire() {
	g := c.g
	g.mu.Lock()
	if wait := time.Until(c.until); wait > 0 && c.timer != nil {
		// The deadline was moved while this call was on its way.
		c.timer.Reset(wait)
		g.mu.Unlock()
		return
	}
	waiting := c.stage == stageSniff || c.stage == stageRefused || (g.timeout > 0 && c.stage != stageSession)
	if !waiting || (!c.slot && c.elem == nil) {
		g.mu.Unlock()
		return
	}
	bye := g.dropLocked(c, byeTimeout)
	g.mu.Unlock()
	bye()
}

// Read returns the bytes read already first.
func (c *limitedConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// Close closes the connection and gives its slot back.
func (c *limitedConn) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.Conn.Close()
		g := c.g
		g.mu.Lock()
		g.releaseLocked(c)
		if c.timer != nil {
			c.timer.Stop()
		}
		if c.lingering {
			c.lingering = false
			g.lingered--
		}
		g.mu.Unlock()
	})
	return c.closeErr
}

// writeHTTP writes a whole HTTP response, status and text, on a
// connection whose request the HTTP server is still reading.
func (c *limitedConn) writeHTTP(status int, text string) {
	c.Conn.SetWriteDeadline(time.Now().Add(politeWrite))
	fmt.Fprintf(c.Conn, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s\n",
		status, http.StatusText(status), len(text)+1, text)
}

// refusedNow reports whether c came when every slot held a session; nil
// (a connection not served by Serve) never did.
func (c *limitedConn) refusedNow() bool {
	if c == nil {
		return false
	}
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	return c.stage == stageRefused
}

// refuse counts c as refused and closes it (an MTP stream over the cap).
func (c *limitedConn) refuse() {
	c.g.refused.Add(1)
	c.Close()
}

// refusedUpgrade counts a WebSocket upgrade refused over the cap and
// returns the text that says why.
func (c *limitedConn) refusedUpgrade() string {
	c.g.refused.Add(1)
	return c.g.reason(byeRefused)
}

// toStage moves c on, from sniffing to HTTP or MTP; false when the gate
// let it go meanwhile (evicted or timed out).
func (c *limitedConn) toStage(st stage) bool {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	if !c.slot {
		return c.stage == stageRefused && c.elem != nil
	}
	c.stage = st
	return true
}

// upgrading notes that a WebSocket upgrade is under way: a connection let
// go meanwhile is closed once it is done (see upgraded).
func (c *limitedConn) upgrading() {
	if c == nil {
		return
	}
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	if c.slot {
		c.stage = stageUpgrade
	}
}

// upgraded notes that c is now the WebSocket ws. It reports false when
// the gate let c go during the upgrade, and closes ws.
func (c *limitedConn) upgraded(ws *websocket.Conn) bool {
	if c == nil {
		return true
	}
	c.g.mu.Lock()
	if c.slot {
		c.stage, c.ws = stageWS, ws
		c.g.mu.Unlock()
		return true
	}
	polite, why := c.lingering, c.byeLater
	c.g.mu.Unlock()
	if polite {
		c.closeWS(ws, why)
	} else {
		ws.CloseNow()
	}
	return false
}

// upgradeFailed notes that the upgrade failed (the HTTP server answered
// it); a connection let go during it is closed.
func (c *limitedConn) upgradeFailed() {
	if c == nil {
		return
	}
	c.g.mu.Lock()
	if c.slot {
		c.stage = stageHTTP
	}
	gone := !c.slot
	c.g.mu.Unlock()
	if gone {
		c.Close()
	}
}

// allowTransfer gives c, whose HTTP request for the upload service has
// been read, the gate's transfer time from now to finish it instead of its
// handshake deadline, and returns what gives it the handshake timeout
// again, from the moment it is called, once the request is answered: time
// to write the answer out and to send another request, no more. It does
// nothing for a connection not served by Serve (nil), one that came when
// the station was full (its time stays short), one the gate let go, or
// when the station has no handshake deadline or no longer transfer time.
// The connection stays one that has not handshaken: it can still be
// evicted to make room, as any other.
func (c *limitedConn) allowTransfer() (restore func()) {
	if c == nil || c.g.timeout <= 0 || c.g.transfer <= c.g.timeout || !c.moveDeadline(c.g.transfer) {
		return func() {}
	}
	return func() { c.moveDeadline(c.g.timeout) }
}

// moveDeadline sets c's deadline to d from now, if c is an HTTP
// connection that holds a slot and has not handshaken.
func (c *limitedConn) moveDeadline(d time.Duration) bool {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	if !c.slot || c.stage != stageHTTP || c.timer == nil {
		return false
	}
	c.until = time.Now().Add(d)
	c.timer.Reset(d)
	return true
}

// handshaken makes c a session: no longer handshaking, never evicted, no
// deadline.
func (c *limitedConn) handshaken() {
	if c == nil {
		return
	}
	g := c.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if !c.slot || c.stage == stageSession {
		return
	}
	c.stage = stageSession
	g.pending.Remove(c.elem)
	c.elem = nil
	l := g.byAddr[c.addr]
	l.Remove(c.addrElem)
	if l.Len() == 0 {
		delete(g.byAddr, c.addr)
	}
	c.addrElem = nil
	c.timer.Stop()
	c.timer = nil // a session lasts: keep nothing it does not need
}

// httpStateChanged follows the HTTP server's state of a connection
// (http.Server.ConnState): a request not yet read can still be answered
// with a status when the connection is evicted.
func (g *gate) httpStateChanged(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*limitedConn)
	if !ok {
		return
	}
	g.mu.Lock()
	c.httpState = state
	g.mu.Unlock()
}

// interruptSniffing ends the wait for first bytes of every connection
// (the listener closes).
func (g *gate) interruptSniffing() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, l := range []*list.List{&g.pending, &g.over} {
		for e := l.Front(); e != nil; e = e.Next() {
			if c := e.Value.(*limitedConn); c.stage == stageSniff || c.stage == stageRefused {
				c.Conn.SetReadDeadline(time.Now())
			}
		}
	}
}

// LimitsStatus is the connection limits and what they did, in GET
// /status.
type LimitsStatus struct {
	MaxConnections           int     `json:"max_connections"`             // connections at once
	MaxHandshakingPerAddress int     `json:"max_handshaking_per_address"` // 0: no cap
	HandshakeTimeoutSeconds  float64 `json:"handshake_timeout_seconds"`   // 0: none
	Open                     int     `json:"open"`                        // connections holding a slot
	Handshaking              int     `json:"handshaking"`                 // of them, not handshaken yet
	Refused                  int64   `json:"refused"`                     // turned away while full of sessions
	Evicted                  int64   `json:"evicted"`                     // closed to make room
	TimedOut                 int64   `json:"timed_out"`                   // closed for no handshake in time
	// OpenFileLimit is the process's limit on open files (RLIMIT_NOFILE),
	// which MaxConnections stays below; 0 when unknown.
	OpenFileLimit uint64 `json:"open_file_limit,omitempty"`
}

func (g *gate) status() LimitsStatus {
	g.mu.Lock()
	open, handshaking := g.open, g.pending.Len()
	g.mu.Unlock()
	return LimitsStatus{MaxConnections: g.max, MaxHandshakingPerAddress: g.perAddr,
		HandshakeTimeoutSeconds: g.timeout.Seconds(), Open: open, Handshaking: handshaking,
		Refused: g.refused.Load(), Evicted: g.evicted.Load(), TimedOut: g.timedOut.Load(), OpenFileLimit: g.nofile}
}

// reportLoop logs, at most every limitsLogEvery, how many connections the
// gate refused, evicted and timed out since the last line: under a flood,
// one line sums up thousands of connections. Once a flood has gone, it
// gives the memory its connections took back to the system (see
// releaseAfterFlood).
func (g *gate) reportLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last LimitsStatus
	var lastLog time.Time
	var peak int
	for {
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		now := g.status()
		peak = releaseAfterFlood(peak, now.Open)
		changed := now.Refused != last.Refused || now.Evicted != last.Evicted || now.TimedOut != last.TimedOut
		if changed && (time.Since(lastLog) >= limitsLogEvery || ctx.Err() != nil) {
			g.log.Warn("connections closed by the station's limits since the last such line",
				"refused", now.Refused-last.Refused, "evicted", now.Evicted-last.Evicted,
				"timed_out", now.TimedOut-last.TimedOut, "open", now.Open, "handshaking", now.Handshaking,
				"max_connections", g.max, "max_handshaking_per_address", g.perAddr)
			last, lastLog = now, time.Now()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// floodDrop is how many connections must have closed since the most open
// seen, and at least half of them, for releaseAfterFlood to act.
const floodDrop = 1024

// releaseAfterFlood returns the memory the Go runtime holds, unused, to
// the system once the connections open have fallen by floodDrop and by
// half from peak; it returns the new peak. Thousands of connections, even
// idle ones, take a few hundred MB of buffers and goroutine stacks; once
// they close, the runtime keeps that memory for minutes before giving it
// back, and the station would look as big as at the flood's height.
func releaseAfterFlood(peak, open int) int {
	switch {
	case open > peak:
		return open
	case peak-open >= floodDrop && open <= peak/2:
		debug.FreeOSMemory()
		return open
	}
	return peak
}

// addressKey is the per-address cap's key for a connection: the IP
// address for IPv4, the /64 prefix for IPv6 (one host easily has a whole
// /64).
func addressKey(a net.Addr) string {
	var ip netip.Addr
	if ta, ok := a.(*net.TCPAddr); ok {
		ip = ta.AddrPort().Addr()
	} else if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		ip = ap.Addr()
	} else {
		return a.String()
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}
